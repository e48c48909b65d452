"""The risk-model plug-in protocol, input checks, flag rules, drivers, construction.

A risk model follows scikit-learn's conventions (``sklearn.base.BaseEstimator``):

- ``__init__`` takes keyword parameters and only stores them, under their own names;
- ``fit(view, labels)`` validates, learns (or does nothing) and returns ``self``;
  learned state ends with ``_``;
- ``score(view)`` returns a float :class:`pandas.Series` with the view's index
  (``spine_household_id``), no NaN, the same output every time;
- optionally ``explain(view)``: a DataFrame, same index, one column per feature (or
  problem), of each feature's contribution to the household's score.

Models never read hidden ``true_``/``err_`` columns: the built-in models refuse a
view that has one (:func:`check_view`), and
:func:`simulator.council.models.checks.check_model` tests that a plug-in either
refuses them or ignores them. Scores become flags with :func:`apply_flag_rule`
(a threshold, the top percent, or a budget of families), ties broken by
``spine_household_id``.

Do not inherit scikit-learn's ``ClassifierMixin``: its ``score(X, y)`` means accuracy.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import inspect
import math
import sys
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from simulator.errors import (
    InputDataError,
    ModelContractError,
    ModelError,
    NotFittedError,
)
from simulator.schema.model import FlagRule
from simulator.vocabulary import is_hidden


@runtime_checkable
class RiskModel(Protocol):
    """What every model implements: ``fit`` then ``score`` (see the module docs)."""

    def fit(self, view: pd.DataFrame, labels: pd.Series | None = None) -> Any:
        """Learn from a view and its labels (or do nothing); return ``self``."""
        ...

    def score(self, view: pd.DataFrame) -> pd.Series:
        """A float score per household of ``view``, indexed like it, no NaN."""
        ...


def param_names(cls: type) -> tuple[str, ...]:
    """Names of the keyword parameters of ``cls.__init__``, in order."""
    sig = inspect.signature(cls.__init__)
    return tuple(
        p.name
        for p in list(sig.parameters.values())[1:]
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    )


class ModelBase:
    """A small base class for models: parameters, cloning, view checks.

    Subclasses define ``__init__`` with keyword-only parameters stored under their
    own names, and ``score``; models that learn set ``requires_fit = True`` and raise
    :class:`~simulator.errors.NotFittedError` (via :meth:`_check_fitted`) when
    scored before ``fit``.
    """

    requires_fit: ClassVar[bool] = False
    """True for models that must be fitted before they score."""
    row_wise: ClassVar[bool] = True
    """True when each household's score reads its own view row alone, so the view
    can be scored a batch of rows at a time
    (:func:`simulator.council.flagging.score_view_file`)."""

    def get_params(self) -> dict[str, Any]:
        """The model's parameters, by name."""
        return {k: getattr(self, k) for k in param_names(type(self))}

    def clone(self) -> Self:
        """A new, unfitted model with the same parameters (deep-copied)."""
        return type(self)(**copy.deepcopy(self.get_params()))

    def fit(self, view: pd.DataFrame, labels: pd.Series | None = None) -> Self:
        """Check the view and return ``self``: stateless models learn nothing."""
        check_view(view, type(self).__name__)
        return self

    def score(self, view: pd.DataFrame) -> pd.Series:
        """A float score per household of ``view``; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement score")

    def explain(self, view: pd.DataFrame) -> pd.DataFrame:
        """Each feature's contribution to each household's score.

        The base implementation knows none: a frame with the view's index and no
        columns.
        """
        return pd.DataFrame(index=view.index)

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet. Call 'fit' with the "
                "history cohort's view and observed labels before 'score'."
            )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


# ------------------------------------------------------------------ input checks


def check_view(view: pd.DataFrame, who: str = "model") -> None:
    """Refuse what no model may read: hidden columns, a non-unique index.

    Parameters
    ----------
    view : DataFrame
        A linked family view (:func:`simulator.council.view.build_view`).
    who : str
        Named in the error message.

    Raises
    ------
    InputDataError
        If ``view`` is not a DataFrame, has a ``true_``/``err_`` column, or its index
        has repeated or missing households.
    """
    if not isinstance(view, pd.DataFrame):
        raise InputDataError(
            f"{who}: the view must be a pandas DataFrame, got {type(view).__name__}"
        )
    hidden = [str(c) for c in view.columns if is_hidden(str(c))]
    if hidden:
        raise InputDataError(
            f"{who}: the view has hidden truth column(s) {', '.join(hidden)}; models "
            "never read true_/err_ columns (build the view with "
            "simulator.council.view.build_view, which drops them)"
        )
    if not view.index.is_unique or view.index.hasnans:
        raise InputDataError(
            f"{who}: the view's index ({view.index.name or 'unnamed'}) must hold "
            "each spine household once"
        )


def require_columns(view: pd.DataFrame, columns: Iterable[str], who: str) -> None:
    """Raise one error naming every column ``who`` needs that the view lacks."""
    missing = [c for c in dict.fromkeys(columns) if c not in view.columns]
    if missing:
        raise InputDataError(
            f"{who}: the view has no column(s) {', '.join(missing)} (see "
            "docs/models.md for the view's columns and how to add events)"
        )


def check_labels(labels: pd.Series | None, view: pd.DataFrame, who: str) -> np.ndarray:
    """The labels as a bool array aligned with the view; errors say what is wrong."""
    if labels is None:
        raise InputDataError(f"{who}: fit needs labels (the observed outcome)")
    if not isinstance(labels, pd.Series):
        raise InputDataError(
            f"{who}: labels must be a pandas Series, got {type(labels).__name__}"
        )
    if not labels.index.equals(view.index):
        raise InputDataError(
            f"{who}: labels must have the view's index (one label per spine "
            f"household, same order); got {len(labels)} labels for "
            f"{len(view)} households"
        )
    if labels.isna().any():
        raise InputDataError(f"{who}: {int(labels.isna().sum())} labels are missing")
    return labels.to_numpy(dtype=bool)


def score_index_problem(scores: Any, view: pd.DataFrame) -> str | None:
    """What is wrong with the type or index of ``score``'s result, or None."""
    if not isinstance(scores, pd.Series):
        return f"score must return a pandas Series, got {type(scores).__name__}"
    if not scores.index.equals(view.index):
        return "score must return a Series with the view's index (same order)"
    return None


def score_value_problem(scores: pd.Series) -> str | None:
    """What is wrong with the values of some scores (not numbers, NaN), or None."""
    try:
        values = scores.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as e:
        return f"scores are not numbers ({e})"
    bad = ~np.isfinite(values)
    if bad.any():
        return (
            f"{int(bad.sum())} scores are NaN or infinite, e.g. household "
            f"{scores.index[np.flatnonzero(bad)[0]]}"
        )
    return None


def check_scores(scores: Any, view: pd.DataFrame, who: str) -> pd.Series:
    """Scores as float64 with the view's index; an error says what is wrong."""
    problem = score_index_problem(scores, view) or score_value_problem(scores)
    if problem:
        raise ModelContractError(who, [problem])
    return pd.Series(scores.to_numpy(dtype=np.float64), index=view.index, name="score")


# --------------------------------------------------------------------- flag rules


def ranking(scores: pd.Series) -> np.ndarray:
    """Positions of ``scores`` from highest to lowest; ties by the lower household id.

    Parameters
    ----------
    scores : Series
        Finite scores indexed by ``spine_household_id``.

    Returns
    -------
    numpy.ndarray
        ``order[0]`` is the position of the highest-ranked household.
    """
    values = scores.to_numpy(dtype=np.float64)
    ids = scores.index.to_numpy()
    return np.lexsort((ids, -values))


def _finite(scores: pd.Series) -> pd.Series:
    if not isinstance(scores, pd.Series):
        raise InputDataError(f"scores must be a pandas Series, got {type(scores)}")
    values = scores.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise InputDataError("scores must be finite numbers (no NaN or infinity)")
    if not scores.index.is_unique:
        raise InputDataError("scores must have one row per spine household")
    return scores


def n_flagged(rule: FlagRule, n: int) -> int | None:
    """How many households a ``top_percent`` or ``budget`` rule flags out of ``n``.

    ``top_percent`` flags ``floor(top_percent / 100 * n)`` households, computed on
    the decimal value written (so 29% of 100 is 29, not 28); ``budget`` flags
    ``min(budget, n)``. A ``threshold`` rule returns None (it depends on the scores).

    Examples
    --------
    >>> n_flagged(FlagRule(top_percent=29), 100), n_flagged(FlagRule(budget=7), 5)
    (29, 5)
    """
    if rule.budget is not None:
        return min(rule.budget, n)
    if rule.top_percent is not None:
        return math.floor(Fraction(repr(rule.top_percent)) * n / 100)
    return None


def apply_flag_rule(scores: pd.Series, rule: FlagRule) -> pd.Series:
    """Turn scores into flags.

    Parameters
    ----------
    scores : Series
        Finite scores indexed by ``spine_household_id``.
    rule : FlagRule
        ``threshold``: flag scores at or above it; ``top_percent``: flag the
        ``floor(top_percent% of n)`` highest; ``budget``: flag the ``min(budget, n)``
        highest. Ties at the cut are broken by the lower ``spine_household_id``, so
        flags depend only on the scores and the ids.

    Returns
    -------
    Series of bool
        Same index as ``scores``, named ``flagged``.

    Examples
    --------
    >>> s = pd.Series([0.2, 0.9, 0.9, 0.1], index=pd.Index([4, 3, 1, 2]))
    >>> apply_flag_rule(s, FlagRule(budget=1)).tolist()
    [False, False, True, False]
    >>> apply_flag_rule(s, FlagRule(threshold=0.2)).tolist()
    [True, True, True, False]
    """
    _finite(scores)
    k = n_flagged(rule, len(scores))
    if k is None:
        flags = scores.to_numpy(dtype=np.float64) >= rule.threshold
    else:
        flags = np.zeros(len(scores), dtype=bool)
        flags[ranking(scores)[:k]] = True
    return pd.Series(flags, index=scores.index, name="flagged")


# ------------------------------------------------------------------------ drivers


def drivers(contributions: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """The features that raised each household's score most.

    Parameters
    ----------
    contributions : DataFrame
        One column per feature, one row per household (``explain(view)``).
    top : int
        How many drivers to keep.

    Returns
    -------
    DataFrame
        Same index; ``driver_1`` .. ``driver_<top>`` (feature names, largest
        positive contribution first, ties in column order; missing where fewer
        features contributed positively) and ``contribution_1`` .. (their values).

    Examples
    --------
    >>> c = pd.DataFrame({"a": [1.0, 0.0], "b": [2.0, 0.0]})
    >>> drivers(c, top=2)[["driver_1", "driver_2"]].values.tolist()
    [['b', 'a'], [nan, nan]]
    """
    names = np.asarray([str(c) for c in contributions.columns], dtype=object)
    values = contributions.to_numpy(dtype=np.float64, na_value=0.0)
    n, m = values.shape
    out: dict[str, Any] = {}
    order = np.argsort(-values, axis=1, kind="stable")[:, :top] if m else None
    for i in range(top):
        if order is not None and i < m:
            v = np.take_along_axis(values, order[:, i : i + 1], axis=1)[:, 0]
            name = np.where(v > 0, names[order[:, i]], None)
            v = np.where(v > 0, v, np.nan)
        else:
            name, v = np.full(n, None, dtype=object), np.full(n, np.nan)
        out[f"driver_{i + 1}"] = pd.array(name, dtype="str")
        out[f"contribution_{i + 1}"] = v
    cols = [f"driver_{i + 1}" for i in range(top)]
    cols += [f"contribution_{i + 1}" for i in range(top)]
    return pd.DataFrame(out, index=contributions.index)[cols]


# ------------------------------------------------------------------ construction


@contextlib.contextmanager
def _searching(directory: str | Path | None) -> Iterator[None]:
    """``directory`` at the end of ``sys.path`` for the duration (nothing shadowed)."""
    entry = None if directory is None else str(Path(directory).resolve())
    added = entry is not None and entry not in sys.path
    if added:
        sys.path.append(entry)  # type: ignore[arg-type]
    try:
        yield
    finally:
        if added:
            sys.path.remove(entry)  # type: ignore[arg-type]


def import_object(
    path: str,
    allowed: Iterable[str] | None = None,
    search_path: str | Path | None = None,
) -> Any:
    """Import ``"package.module:Name"``, optionally only from allowed module prefixes.

    Parameters
    ----------
    path : str
        ``"module:attribute"``.
    allowed : iterable of str, optional
        Module prefixes (``"sklearn."``) the module must start with; None allows any.
    search_path : str or Path, optional
        A directory also searched, after everything on ``sys.path`` (the scenario
        file's directory, so a plug-in can sit beside it).

    Raises
    ------
    ModelError
        If the path is malformed, not allowed, or cannot be imported.
    """
    module, sep, name = path.partition(":")
    if not sep or not module or not name:
        raise ModelError(f"expected an import path 'package.module:Name', got {path!r}")
    if allowed is not None:
        prefixes = tuple(allowed)
        if not (module + ".").startswith(prefixes):
            raise ModelError(
                f"{path!r}: models may only be imported from modules starting with "
                f"{', '.join(repr(p) for p in prefixes)}; an auditor's own model "
                "belongs in kind: external"
            )
    try:
        with _searching(search_path):
            mod = importlib.import_module(module)
    except ImportError as e:
        raise ModelError(f"cannot import {path!r}: {e}") from e
    try:
        return getattr(mod, name)
    except AttributeError:
        raise ModelError(f"cannot import {path!r}: {module} has no {name!r}") from None


def resolve_model_path(path: str, base_dir: str | Path | None) -> Path:
    """A model file's path; a relative one is taken from ``base_dir``."""
    p = Path(path).expanduser()
    return p if p.is_absolute() or base_dir is None else Path(base_dir) / p
