"""The model protocol as named checks, after scikit-learn's estimator checks.

Each ``check_*`` function tests one rule of the protocol (:mod:`.base`) on an
unfitted model, a linked family view and its labels, and raises
:class:`~simulator.errors.ModelContractError` saying what is broken. Each works on
its own copy of the model, so the checks are independent: one broken rule does not
hide another. :func:`model_checks` yields them as ``(name, check)`` pairs to
parametrise a test over, as scikit-learn's ``parametrize_with_checks`` does;
:func:`check_model` runs them all and raises one error listing every failed check
by name.

The rules:

- ``check_has_fit_and_score``: the model has ``fit`` and ``score`` methods (when it
  has not, :func:`check_model` runs no other check);
- ``check_init_stores_parameters``: ``__init__`` stores each keyword parameter under
  its own name;
- ``check_init_sets_only_parameters``: ``__init__`` sets nothing else (no learned
  ``*_`` attribute before ``fit``);
- ``check_fit_returns_self``: ``fit(view, labels)`` returns the model itself;
- ``check_fit_keeps_parameters``: ``fit`` leaves the parameters unchanged;
- ``check_score_index``: ``score(view)`` returns a Series with the view's index;
- ``check_scores_finite``: the scores are numbers, none NaN or infinite;
- ``check_score_repeatable``: scoring the same view twice gives the same scores;
- ``check_fresh_copy_same_scores``: a fresh copy built from the parameters and
  fitted on the same data scores the same (same seed, same output);
- ``check_fit_idempotent``: fitting twice on the same data scores as fitting once;
- ``check_hidden_columns_at_score`` and ``check_hidden_columns_at_fit``: hidden
  ``true_``/``err_`` columns added to the view (one holding the labels themselves)
  are refused with an error naming them, or ignored: the scores do not change;
- ``check_explain_index``: ``explain(view)``, if the model has it, returns a
  DataFrame with the view's index.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from simulator.council.models.base import (
    RiskModel,
    param_names,
    score_index_problem,
    score_value_problem,
)
from simulator.errors import LinkauditError, ModelContractError

Check = Callable[[Any, pd.DataFrame, pd.Series], None]
"""A check: ``check(model, view, labels)`` returns None or raises
:class:`~simulator.errors.ModelContractError`."""

HIDDEN_COLUMNS = ("true_label", "err_noise")
"""The hidden columns the checks add to the view: the labels, and noise."""


# ---------------------------------------------------------------------- helpers


def _fail(model: Any, problem: str) -> ModelContractError:
    return ModelContractError(type(model).__name__, [problem])


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # arrays and frames compare element-wise
        return False


def _same_scores(a: Any, b: Any) -> bool:
    """Whether two results of ``score`` are identical (NaN equal to NaN)."""
    try:
        return pd.Series(a).equals(pd.Series(b))
    except Exception:  # not something a Series can hold: compare as objects
        return _same(a, b)


def _require_same_scores(model: Any, expected: Any, got: Any, problem: str) -> None:
    """Fail with ``problem`` unless two results of ``score`` are identical."""
    if not _same_scores(expected, got):
        raise _fail(model, problem)


def _copy(model: Any) -> Any:
    """An independent copy of ``model``, so a check never changes the caller's."""
    return copy.deepcopy(model)


def _fresh(model: Any) -> Any:
    """A new model built from ``model``'s parameters, as the pipeline clones one."""
    try:
        params = {k: copy.deepcopy(getattr(model, k)) for k in param_names(type(model))}
        return type(model)(**params)
    except Exception as e:
        raise _fail(
            model,
            f"cannot build a fresh copy from its parameters: {type(e).__name__}: {e}",
        ) from e


def _fit(model: Any, view: pd.DataFrame, labels: pd.Series) -> Any:
    """``model.fit(view, labels)``; the check fails when ``fit`` raises."""
    try:
        return model.fit(view, labels)
    except Exception as e:
        raise _fail(model, f"fit failed: {type(e).__name__}: {e}") from e


def _score(model: Any, view: pd.DataFrame, step: str = "score") -> Any:
    """``model.score(view)``; the check fails when ``score`` raises."""
    try:
        return model.score(view)
    except Exception as e:
        raise _fail(model, f"{step} failed: {type(e).__name__}: {e}") from e


def _fitted_scores(model: Any, view: pd.DataFrame, labels: pd.Series) -> Any:
    """The scores of a copy of ``model`` fitted on ``view``."""
    fitted = _copy(model)
    _fit(fitted, view, labels)
    return _score(fitted, view)


def _with_hidden_columns(view: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """``view`` with a ``true_label`` column (the labels) and an ``err_noise`` one."""
    return view.assign(
        true_label=labels.to_numpy(dtype=np.float64),
        err_noise=np.random.default_rng(0).normal(size=len(view)),
    )


def _refused(error: Exception) -> bool:
    """Whether ``error`` refuses the hidden columns by name."""
    return isinstance(error, LinkauditError | ValueError) and any(
        c in str(error) for c in HIDDEN_COLUMNS
    )


# ----------------------------------------------------------------- the checks


def check_has_fit_and_score(model: Any, view: pd.DataFrame, labels: pd.Series) -> None:
    """The model has ``fit`` and ``score`` methods."""
    if not isinstance(model, RiskModel):
        raise _fail(model, "it has no fit and score methods")


def check_init_stores_parameters(
    model: Any, view: pd.DataFrame, labels: pd.Series
) -> None:
    """``__init__`` stores each keyword parameter under its own name."""
    attrs = set(vars(model))
    if missing := [p for p in param_names(type(model)) if p not in attrs]:
        raise _fail(
            model,
            f"__init__ does not store parameter(s) {', '.join(missing)} under their "
            "own names",
        )


def check_init_sets_only_parameters(
    model: Any, view: pd.DataFrame, labels: pd.Series
) -> None:
    """``__init__`` sets no attribute but the parameters (no learned state)."""
    if extra := sorted(set(vars(model)) - set(param_names(type(model)))):
        raise _fail(
            model,
            f"__init__ sets attribute(s) {', '.join(extra)} that are not parameters "
            "(set learned state, ending in '_', in fit)",
        )


def check_fit_returns_self(model: Any, view: pd.DataFrame, labels: pd.Series) -> None:
    """``fit(view, labels)`` returns the model itself."""
    model = _copy(model)
    if _fit(model, view, labels) is not model:
        raise _fail(model, "fit must return self")


def check_fit_keeps_parameters(
    model: Any, view: pd.DataFrame, labels: pd.Series
) -> None:
    """``fit`` leaves every parameter as ``__init__`` stored it."""
    model = _copy(model)
    params = param_names(type(model))
    before = {p: getattr(model, p, None) for p in params}
    _fit(model, view, labels)
    if changed := [p for p in params if not _same(getattr(model, p, None), before[p])]:
        raise _fail(model, f"fit changed parameter(s) {', '.join(changed)}")


def check_score_index(model: Any, view: pd.DataFrame, labels: pd.Series) -> None:
    """``score(view)`` returns a pandas Series with the view's index, same order."""
    if problem := score_index_problem(_fitted_scores(model, view, labels), view):
        raise _fail(model, f"score: {problem}")


def check_scores_finite(model: Any, view: pd.DataFrame, labels: pd.Series) -> None:
    """The scores are numbers, none NaN or infinite."""
    scores = _fitted_scores(model, view, labels)
    if not isinstance(scores, pd.Series):
        problem = score_index_problem(scores, view)
    else:
        problem = score_value_problem(scores)
    if problem:
        raise _fail(model, f"score: {problem}")


def check_score_repeatable(model: Any, view: pd.DataFrame, labels: pd.Series) -> None:
    """Scoring the same view twice gives the same scores."""
    model = _copy(model)
    _fit(model, view, labels)
    first = _score(model, view)
    again = _score(model, view, "scoring again")
    _require_same_scores(
        model, first, again, "scoring the same view twice gives different scores"
    )


def check_fresh_copy_same_scores(
    model: Any, view: pd.DataFrame, labels: pd.Series
) -> None:
    """A fresh copy built from the parameters, fitted on the same data, scores the same.

    This is "same seed, same output": the pipeline builds a new model for each
    counterfactual re-run, so randomness must come from a parameter.
    """
    fresh = _fresh(model)
    first = _fitted_scores(model, view, labels)
    _fit(fresh, view, labels)
    _require_same_scores(
        model,
        first,
        _score(fresh, view, "a fresh copy"),
        "a fresh copy fitted on the same data scores differently (seed any "
        "randomness from a parameter such as random_state)",
    )


def check_fit_idempotent(model: Any, view: pd.DataFrame, labels: pd.Series) -> None:
    """Fitting twice on the same data gives the scores of fitting once."""
    model = _copy(model)
    _fit(model, view, labels)
    once = _score(model, view)
    _fit(model, view, labels)
    _require_same_scores(
        model,
        once,
        _score(model, view, "score after fitting twice"),
        "fitting twice on the same data changes the scores (fit must start "
        "afresh, not add to what an earlier fit learned)",
    )


_REFUSED = object()


def _unless_refused(model: Any, call: Callable[[], Any], doing: str) -> Any:
    """``call()``; a marker if it refused the hidden columns by name; else a failure.

    ``doing`` names what ``call`` does with a view holding hidden columns ("scoring
    a view", "fitting on a view").
    """
    try:
        return call()
    except Exception as e:
        if _refused(e):
            return _REFUSED
        raise _fail(
            model,
            f"{doing} with hidden true_/err_ columns must be refused with an error "
            f"naming them, or the columns ignored; got {type(e).__name__}: {e}",
        ) from e


def check_hidden_columns_at_score(
    model: Any, view: pd.DataFrame, labels: pd.Series
) -> None:
    """Hidden ``true_``/``err_`` columns at ``score``: refused by name, or ignored."""
    model = _copy(model)
    _fit(model, view, labels)
    first = _score(model, view)
    leaky = _with_hidden_columns(view, labels)
    leaked = _unless_refused(model, lambda: model.score(leaky), "scoring a view")
    if leaked is not _REFUSED:
        _require_same_scores(
            model,
            first,
            leaked,
            "scores change when true_/err_ columns are added to the view: the "
            "model reads hidden truth columns",
        )


def check_hidden_columns_at_fit(
    model: Any, view: pd.DataFrame, labels: pd.Series
) -> None:
    """Hidden ``true_``/``err_`` columns at ``fit``: refused by name, or ignored."""
    first = _fitted_scores(model, view, labels)
    model = _copy(model)
    leaky = _with_hidden_columns(view, labels)
    if (
        _unless_refused(model, lambda: model.fit(leaky, labels), "fitting on a view")
        is _REFUSED
    ):
        return
    leaked = _score(model, view, "scoring after fitting with hidden columns")
    _require_same_scores(
        model,
        first,
        leaked,
        "fitting on a view with true_/err_ columns changes the scores: the "
        "model learns from hidden truth columns",
    )


def check_explain_index(model: Any, view: pd.DataFrame, labels: pd.Series) -> None:
    """``explain(view)``, if the model has it: a DataFrame with the view's index."""
    model = _copy(model)
    explain = getattr(model, "explain", None)
    if not callable(explain):
        return
    _fit(model, view, labels)
    try:
        contributions = explain(view)
    except Exception as e:
        raise _fail(model, f"explain failed: {type(e).__name__}: {e}") from e
    if not isinstance(contributions, pd.DataFrame) or not (
        contributions.index.equals(view.index)
    ):
        raise _fail(model, "explain must return a DataFrame with the view's index")


CHECKS: tuple[Check, ...] = (
    check_has_fit_and_score,
    check_init_stores_parameters,
    check_init_sets_only_parameters,
    check_fit_returns_self,
    check_fit_keeps_parameters,
    check_score_index,
    check_scores_finite,
    check_score_repeatable,
    check_fresh_copy_same_scores,
    check_fit_idempotent,
    check_hidden_columns_at_score,
    check_hidden_columns_at_fit,
    check_explain_index,
)
"""Every check, in the order :func:`check_model` runs them."""


def model_checks() -> Iterator[tuple[str, Check]]:
    """Every check as a ``(name, check)`` pair, to parametrise a test over.

    Examples
    --------
    >>> [name for name, _ in model_checks()][:2]
    ['check_has_fit_and_score', 'check_init_stores_parameters']

    In a test module (``view`` and ``labels`` from your fixtures)::

        @pytest.mark.parametrize(("name", "check"), model_checks())
        def test_my_model(name, check, view, labels):
            check(MyModel(), view, labels)
    """
    for check in CHECKS:
        yield check.__name__, check


def check_model(model: Any, view: pd.DataFrame, labels: pd.Series) -> None:
    """Run every check on a model; raise one error listing each failed check.

    Run it on your own model class before handing it to linkaudit (``kind:
    external``). The checks are listed in the module docs; each runs on its own
    copy of ``model``, so the error lists every broken rule, each line starting
    with the name of the check that found it. When the model has no ``fit`` and
    ``score`` methods, no other check runs.

    Parameters
    ----------
    model : object
        An unfitted model.
    view : DataFrame
        A linked family view.
    labels : Series of bool
        Labels for ``view`` (e.g. :func:`simulator.council.view.observed_labels`).

    Raises
    ------
    ModelContractError
        Listing every failed check by name, with what it found.
    """
    problems: list[str] = []
    for name, check in model_checks():
        try:
            check(model, view, labels)
        except ModelContractError as e:
            problems.extend(f"{name}: {p}" for p in e.problems)
        except Exception as e:  # a check should not raise anything else
            problems.append(f"{name}: {type(e).__name__}: {e}")
        if problems and check is check_has_fit_and_score:
            break  # nothing else can run on an object with no fit and score
    if problems:
        raise ModelContractError(type(model).__name__, problems)
