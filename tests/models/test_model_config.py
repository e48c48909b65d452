"""The scenario's model section: one kind at a time, defaults, and refused typos."""

from __future__ import annotations

import doctest
import importlib

import pytest
from pydantic import Field, TypeAdapter, ValidationError

from simulator.council.models import (
    CriteriaConfig,
    ExternalConfig,
    FlagRule,
    Indicator,
    LearnedConfig,
    ModelConfig,
    ScorecardConfig,
    ScoreItem,
    make_model,
)
from simulator.council.view import ViewConfig
from simulator.schema.model import DEFAULT_TOP_PERCENT
from simulator.schema.section import Section

ADAPTER = TypeAdapter(ModelConfig)


class Holder(Section):
    """How the scenario holds the sections (``model`` and ``view`` fields)."""

    model: ModelConfig = Field(default_factory=CriteriaConfig)
    view: ViewConfig = Field(default_factory=ViewConfig)


@pytest.mark.parametrize(
    ("data", "cls", "model"),
    [
        ({"kind": "criteria"}, CriteriaConfig, "CriteriaModel"),
        ({"kind": "scorecard", "threshold": 5}, ScorecardConfig, "ScorecardModel"),
        ({"kind": "learned"}, LearnedConfig, "LearnedModel"),
        ({"kind": "external", "scores": "s.csv"}, ExternalConfig, "ScoreFileModel"),
        ({"kind": "external", "skops": "m.skops"}, ExternalConfig, "SkopsModel"),
        ({"kind": "external", "plugin": "pkg.mod:Cls"}, ExternalConfig, "PluginModel"),
    ],
)
def test_the_kind_chooses_the_section_and_the_model(data, cls, model):
    config = ADAPTER.validate_python(data)
    assert type(config) is cls
    assert type(make_model(config)).__name__ == model
    again = ADAPTER.validate_python(config.model_dump(mode="json"))
    assert again == config
    assert Holder.model_validate({"model": data}).model == config


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "oracle"}, "does not match any of the expected tags"),
        ({"kind": "criteria", "min_problem": 2}, "Extra inputs are not permitted"),
        ({"kind": "criteria", "min_problems": 7}, "less than or equal to 6"),
        ({"kind": "learned", "estimator": "xgboost"}, "or 'module:Class'"),
        (
            {"kind": "criteria", "flag": {"budget": 10, "top_percent": 5}},
            "exactly one of threshold, top_percent or budget",
        ),
    ],
)
def test_mistakes_are_refused(data, message):
    with pytest.raises(ValidationError, match=message):
        ADAPTER.validate_python(data)


def test_default_flag_rules():
    assert CriteriaConfig(min_problems=3).flag_rule() == FlagRule(threshold=3)
    assert ScorecardConfig(threshold=9).flag_rule() == FlagRule(threshold=9)
    assert LearnedConfig().flag_rule() == FlagRule(top_percent=DEFAULT_TOP_PERCENT)
    assert ExternalConfig(scores="a.csv").flag_rule() == FlagRule(
        top_percent=DEFAULT_TOP_PERCENT
    )
    given = FlagRule(budget=250)
    assert CriteriaConfig(flag=given).flag_rule() == given


def test_the_default_section_is_the_programme_rule():
    holder = Holder()
    assert holder.model == CriteriaConfig(min_problems=2)
    assert holder.model.indicators.education.persistent_absence


def test_items_and_indicators_are_validated():
    with pytest.raises(ValidationError, match="at least one event"):
        Indicator()
    with pytest.raises(ValidationError, match="between must be"):
        ScoreItem(feature="imd_decile", points=1, between=(3, 1))
    with pytest.raises(ValidationError, match="features scored twice: lone_adult"):
        ScorecardConfig(
            items=(
                ScoreItem(feature="lone_adult", points=1),
                ScoreItem(feature="lone_adult", points=2),
            )
        )


@pytest.mark.parametrize(
    "module",
    [
        "simulator.council.view",
        "simulator.council.models.base",
        "simulator.council.models.criteria",
        "simulator.council.models.scorecard",
        "simulator.council.models.flags",
    ],
)
def test_docstring_examples_run(module):
    result = doctest.testmod(
        importlib.import_module(module),
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
    )
    assert result.attempted > 0 and result.failed == 0
