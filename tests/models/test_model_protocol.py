"""The plug-in protocol: built-in models and a plug-in defined here pass every named
check, and each check catches a model broken its way (including ones that read the
truth); check_model lists every failed check by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from simulator.council.models import (
    CriteriaConfig,
    ExternalConfig,
    LearnedConfig,
    ScorecardConfig,
    check_model,
    make_model,
    model_checks,
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


class NoScore:
    def __init__(self, *, weight: float = 1.0):
        self.weight = weight

    def fit(self, view, labels=None):
        return self


class ForgetsParameters(ToyModel):
    weight = 1.0  # a class default, so it still scores

    def __init__(self, *, weight: float = 1.0, column: str = "police_incident"):
        self.column = column


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


class UnseededFit(ToyModel):
    def fit(self, view, labels=None):
        self.offset_ = np.random.default_rng().normal()
        return super().fit(view, labels)

    def score(self, view):
        return super().score(view) + self.offset_


class Accumulates(ToyModel):
    def fit(self, view, labels=None):
        self.fits_ = getattr(self, "fits_", 0) + 1
        return super().fit(view, labels)

    def score(self, view):
        return super().score(view) + self.fits_


class ExplainsAnotherIndex(ToyModel):
    def explain(self, view):
        return super().explain(view).iloc[::-1]  # households in reverse


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


CHECKS = dict(model_checks())


@pytest.mark.parametrize("name", list(CHECKS))
@pytest.mark.parametrize("kind", list(BUILT_IN))
def test_built_in_models_pass_every_check(kind, name, history_cohort):
    with threadpool_limits(1):  # one thread: the shared test machine is small
        CHECKS[name](BUILT_IN[kind](), history_cohort.view, history_cohort.labels)


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


BROKEN = {
    "check_has_fit_and_score": (NoScore, "it has no fit and score methods"),
    "check_init_stores_parameters": (
        ForgetsParameters,
        "__init__ does not store parameter(s) weight",
    ),
    "check_init_sets_only_parameters": (
        SetsStateInInit,
        "__init__ sets attribute(s) column, mean_",
    ),
    "check_fit_returns_self": (FitReturnsNothing, "fit must return self"),
    "check_fit_keeps_parameters": (
        ChangesParameters,
        "fit changed parameter(s) weight",
    ),
    "check_score_index": (WrongIndex, "with the view's index"),
    "check_scores_finite": (GivesNaN, "scores are NaN or infinite"),
    "check_score_repeatable": (
        Random,
        "scoring the same view twice gives different scores",
    ),
    "check_fresh_copy_same_scores": (
        UnseededFit,
        "a fresh copy fitted on the same data scores differently",
    ),
    "check_fit_idempotent": (Accumulates, "fitting twice on the same data changes"),
    "check_hidden_columns_at_score": (
        ReadsTruth,
        "scores change when true_/err_ columns are added",
    ),
    "check_hidden_columns_at_fit": (
        LearnsFromEverything,
        "model learns from hidden truth columns",
    ),
    "check_explain_index": (
        ExplainsAnotherIndex,
        "explain must return a DataFrame with the view's index",
    ),
}


def test_every_check_has_a_model_broken_its_way():
    assert list(BROKEN) == list(CHECKS)


@pytest.mark.parametrize("name", list(BROKEN))
def test_each_check_catches_a_model_broken_its_way(name, history_cohort):
    cls, message = BROKEN[name]
    view, labels = history_cohort.view, history_cohort.labels
    with pytest.raises(ModelContractError) as info:
        CHECKS[name](cls(), view, labels)
    assert message in str(info.value) and cls.__name__ in str(info.value)
    with pytest.raises(ModelContractError) as info:
        check_model(cls(), view, labels)
    assert any(p.startswith(f"{name}: ") and message in p for p in info.value.problems)


@pytest.mark.parametrize("name", list(BROKEN))
def test_the_toy_model_passes_the_check_its_broken_copy_fails(name, history_cohort):
    CHECKS[name](ToyModel(), history_cohort.view, history_cohort.labels)


class BrokenTwice(FitReturnsNothing, ReadsTruth):
    pass


def test_check_model_lists_every_failed_check_by_name(history_cohort):
    with pytest.raises(ModelContractError) as info:
        check_model(BrokenTwice(), history_cohort.view, history_cohort.labels)
    failed = {p.partition(":")[0] for p in info.value.problems}
    assert failed == {"check_fit_returns_self", "check_hidden_columns_at_score"}
    assert str(info.value).startswith("BrokenTwice breaks the model protocol")


def test_check_model_runs_nothing_else_without_fit_and_score(history_cohort):
    with pytest.raises(ModelContractError) as info:
        check_model(NoScore(), history_cohort.view, history_cohort.labels)
    assert info.value.problems == [
        "check_has_fit_and_score: it has no fit and score methods"
    ]


def test_the_checks_leave_the_model_unfitted(history_cohort):
    model = ToyModel(weight=3.0)
    check_model(model, history_cohort.view, history_cohort.labels)
    assert vars(model) == {"weight": 3.0, "column": "police_incident"}


def test_the_models_page_lists_every_check():
    page = (Path(__file__).parents[2] / "docs" / "models.md").read_text()
    assert [name for name in CHECKS if f"`{name}`" not in page] == []


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
