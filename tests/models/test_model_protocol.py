"""The plug-in protocol: built-in models and a plug-in defined here keep it, and
check_model catches models that break it (including ones that read the truth)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.council.models import (
    CriteriaConfig,
    ExternalConfig,
    LearnedConfig,
    ScorecardConfig,
    check_model,
    make_model,
)
from simulator.council.models.external import PluginModel
from simulator.council.models.learned import LearnedModel
from simulator.errors import (
    InputDataError,
    ModelContractError,
    ModelError,
    NotFittedError,
)


class ToyModel:
    """An auditor's model: police incidents above the training mean, weighted."""

    def __init__(self, *, weight: float = 1.0, column: str = "police_incident"):
        self.weight = weight
        self.column = column

    def fit(self, view, labels=None):
        self.mean_ = float(view[self.column].mean())
        return self

    def score(self, view):
        return (self.weight * (view[self.column] - self.mean_)).astype(float)

    def explain(self, view):
        return pd.DataFrame({self.column: self.score(view)})


class SetsStateInInit(ToyModel):
    def __init__(self, *, weight: float = 1.0):
        self.weight = weight
        self.column = "police_incident"
        self.mean_ = 0.0


class FitReturnsNothing(ToyModel):
    def fit(self, view, labels=None):
        super().fit(view, labels)


class ChangesParameters(ToyModel):
    def fit(self, view, labels=None):
        self.weight = 2 * self.weight
        return super().fit(view, labels)


class ReadsTruth(ToyModel):
    def score(self, view):
        truth = view.filter(regex="^true_").sum(axis=1)
        return super().score(view) + truth


class LearnsFromEverything(ToyModel):
    def fit(self, view, labels=None):
        self.columns_ = [c for c in view.columns if c.startswith("true_")]
        self.mean_ = float(view[self.column].mean())
        self.bonus_ = float(len(self.columns_))
        return self

    def score(self, view):
        return super().score(view) + self.bonus_


class Random(ToyModel):
    def score(self, view):
        noise = np.random.default_rng().normal(size=len(view))
        return super().score(view) + noise


class WrongIndex(ToyModel):
    def score(self, view):  # sorted by score: no longer in the view's order
        return super().score(view).sort_values(kind="stable")


class GivesNaN(ToyModel):
    def score(self, view):
        return super().score(view).where(view[self.column] > 0)


def plugin_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


BUILT_IN = {
    "criteria": lambda: make_model(CriteriaConfig()),
    "scorecard": lambda: make_model(ScorecardConfig()),
    "logistic_regression": lambda: make_model(LearnedConfig(), random_state=3),
    "gradient_boosting": lambda: make_model(
        LearnedConfig(estimator="gradient_boosting", params={"max_iter": 10}),
        random_state=3,
    ),
    "plugin": lambda: make_model(ExternalConfig(plugin=plugin_path(ToyModel))),
}


@pytest.mark.parametrize("kind", list(BUILT_IN))
def test_built_in_models_keep_the_protocol(kind, history_cohort):
    check_model(BUILT_IN[kind](), history_cohort.view, history_cohort.labels)


def test_a_plug_in_defined_here_keeps_the_protocol(history_cohort):
    check_model(ToyModel(weight=2.0), history_cohort.view, history_cohort.labels)


def test_a_plug_in_runs_through_make_model(history_cohort, messy_cohort):
    config = ExternalConfig(plugin=plugin_path(ToyModel), params={"weight": 2.0})
    model = make_model(config).fit(history_cohort.view, history_cohort.labels)
    own = ToyModel(weight=2.0).fit(history_cohort.view, history_cohort.labels)
    expected = own.score(messy_cohort.view)
    pd.testing.assert_series_equal(
        model.score(messy_cohort.view), expected.rename("score")
    )
    assert list(model.explain(messy_cohort.view).columns) == ["police_incident"]


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (SetsStateInInit, "__init__ sets attribute(s) column, mean_"),
        (FitReturnsNothing, "fit must return self"),
        (ChangesParameters, "fit changed parameter(s) weight"),
        (ReadsTruth, "scores change when true_/err_ columns are added"),
        (LearnsFromEverything, "model learns from hidden truth columns"),
        (Random, "scoring the same view twice gives different scores"),
        (WrongIndex, "with the view's index"),
        (GivesNaN, "scores are NaN or infinite"),
    ],
)
def test_check_model_catches_broken_models(cls, message, history_cohort):
    with pytest.raises(ModelContractError) as info:
        check_model(cls(), history_cohort.view, history_cohort.labels)
    assert message in str(info.value)
    assert cls.__name__ in str(info.value)


@pytest.mark.parametrize("kind", list(BUILT_IN))
def test_models_refuse_a_view_with_hidden_columns(kind, history_cohort):
    view, labels = history_cohort.view, history_cohort.labels
    leaky = view.assign(true_household_id=np.arange(len(view)))
    with pytest.raises(InputDataError, match="hidden truth column.*true_household_id"):
        BUILT_IN[kind]().fit(leaky, labels)
    model = BUILT_IN[kind]().fit(view, labels)
    with pytest.raises(InputDataError, match="hidden truth column.*true_household_id"):
        model.score(leaky)


class Spy(ToyModel):
    seen: list[str] = []

    def fit(self, view, labels=None):
        Spy.seen.extend(view.columns)
        return super().fit(view, labels)

    def score(self, view):
        Spy.seen.extend(view.columns)
        return super().score(view)


def test_a_plug_in_never_sees_hidden_columns(history_cohort):
    view, labels = history_cohort.view, history_cohort.labels
    model = make_model(ExternalConfig(plugin=plugin_path(Spy)))
    with pytest.raises(InputDataError):
        model.fit(view.assign(err_name_typo=True), labels)
    model.fit(view, labels)
    with pytest.raises(InputDataError):
        model.score(view.assign(true_need=1.0))
    assert Spy.seen and not [c for c in Spy.seen if c.startswith(("true_", "err_"))]


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        ("no_such_module_xyz:Model", "cannot import 'no_such_module_xyz:Model'"),
        ("numpy:NoSuchClass", "numpy has no 'NoSuchClass'"),
        ("numpy:pi", "is not a class"),
        ("collections:OrderedDict", "does not implement the model protocol"),
    ],
)
def test_a_bad_plug_in_is_refused(plugin, message, history_cohort):
    model = make_model(ExternalConfig(plugin=plugin))
    with pytest.raises(ModelError, match=message):
        model.fit(history_cohort.view, history_cohort.labels)


def test_learned_model_scores_only_after_fit(history_cohort, messy_cohort):
    model = make_model(LearnedConfig(), random_state=0)
    with pytest.raises(NotFittedError, match="Call 'fit'") as info:
        model.score(messy_cohort.view)
    assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)
    model.fit(history_cohort.view, history_cohort.labels)
    scores = model.score(messy_cohort.view)
    assert scores.index.equals(messy_cohort.view.index)
    assert ((scores > 0) & (scores < 1)).all()
    # it learns something: the label is commoner among its top tenth
    top = scores >= scores.quantile(0.9)
    assert messy_cohort.labels[top].mean() > messy_cohort.labels.mean()


def test_learned_model_is_seeded(history_cohort):
    view, labels = history_cohort.view, history_cohort.labels
    config = LearnedConfig(
        estimator="gradient_boosting",
        params={"max_iter": 10, "early_stopping": True, "validation_fraction": 0.3},
    )
    a = make_model(config, random_state=1).fit(view, labels).score(view)
    b = make_model(config, random_state=1).fit(view, labels).score(view)
    c = make_model(config, random_state=2).fit(view, labels).score(view)
    pd.testing.assert_series_equal(a, b)
    assert not np.array_equal(a.to_numpy(), c.to_numpy())


def test_learned_explanations_are_exact_for_logistic_regression(history_cohort):
    view, labels = history_cohort.view, history_cohort.labels
    model = make_model(LearnedConfig(), random_state=0).fit(view, labels)
    contributions = model.explain(view.iloc[:50])
    scaler, lr = model.estimator_[0], model.estimator_[-1]
    x = view.iloc[:50][list(model.features_)].to_numpy(float)
    reference = (model.reference_ - scaler.mean_) / scaler.scale_
    expected = lr.coef_[0] * ((x - scaler.mean_) / scaler.scale_ - reference)
    np.testing.assert_allclose(contributions.to_numpy(), expected, atol=1e-6)


def test_learned_config_refuses_modules_outside_the_allow_list():
    with pytest.raises(ValueError, match="not in an allowed module"):
        LearnedConfig(estimator="os:system")
    # the model itself checks too, whatever built it
    model = LearnedModel(estimator="os:system")
    with pytest.raises(ModelError, match="may only be imported from"):
        model.fit(pd.DataFrame({"x": [0.0, 1.0]}), pd.Series([False, True]))


def test_learned_model_errors_are_clear(history_cohort):
    view, labels = history_cohort.view, history_cohort.labels
    with pytest.raises(ModelError, match="not a classifier with fit and predict_proba"):
        make_model(LearnedConfig(estimator="sklearn.svm:LinearSVC")).fit(view, labels)
    with pytest.raises(ModelError, match="every observed label is False"):
        make_model(LearnedConfig()).fit(view, labels & False)
    with pytest.raises(InputDataError, match="labels must have the view's index"):
        make_model(LearnedConfig()).fit(view, labels.iloc[1:])
    with pytest.raises(InputDataError, match="no column.*nope"):
        make_model(LearnedConfig(features=("nope",))).fit(view, labels)


def test_plugin_model_checks_the_scores_it_is_given(history_cohort):
    model = PluginModel(plugin=plugin_path(WrongIndex))
    model.fit(history_cohort.view, history_cohort.labels)
    with pytest.raises(ModelContractError, match="view's index"):
        model.score(history_cohort.view)
