"""Threshold curves: what the false and true positive rates would be at every cut.

A family is reached by a flag when the highest score of the spine households holding
one of its members is at or above the cut (the audit's ``score`` column), so for a
threshold rule the curves at the scenario's cut equal the audit's rates exactly.
Families with no score (nobody on the spine) are never flagged but stay in the
denominators, as in the audit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.score_diagnostics import MAX_POINTS
from audits.score_diagnostics import thresholds as sorted_thresholds
from simulator.council.models import FlagRule
from simulator.vocabulary import OVERALL


def thresholds(scores: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """The distinct finite scores, thinned to ``max_points`` quantiles if more.

    Examples
    --------
    >>> thresholds(np.array([2.0, 0.0, np.nan, 2.0, 1.0])).tolist()
    [0.0, 1.0, 2.0]
    """
    return sorted_thresholds(np.sort(scores[np.isfinite(scores)]), max_points)


def ordered_values(column: pd.Series) -> list[str]:
    """A group column's values present, as text, in their natural order.

    Categories keep their declared order; numbers and booleans sort by value.

    Examples
    --------
    >>> ordered_values(pd.Series([10, 2, 2])), ordered_values(pd.Series([True, False]))
    (['2', '10'], ['False', 'True'])
    """
    present = column.dropna()
    if isinstance(column.dtype, pd.CategoricalDtype):
        seen = set(present.astype(str))
        return [str(c) for c in column.cat.categories if str(c) in seen]
    return [str(v) for v in sorted(pd.unique(present))]


def _at_or_above(sorted_scores: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """How many of ``sorted_scores`` (ascending, finite) are >= each cut."""
    return len(sorted_scores) - np.searchsorted(sorted_scores, cuts, side="left")


def threshold_curves(
    outcomes: pd.DataFrame,
    group_column: str | None,
    cuts: np.ndarray | None = None,
) -> pd.DataFrame:
    """False and true positive rates against the score threshold, by group.

    Parameters
    ----------
    outcomes : DataFrame
        The audit's outcomes (one row per true household): ``score``, ``y_true``
        and ``group_column``.
    group_column : str or None
        The grouping; None for every family together (``value`` ``"overall"``).
    cuts : array, optional
        Thresholds to evaluate; by default :func:`thresholds` of the scores.

    Returns
    -------
    DataFrame
        ``value``, ``threshold``, ``fpr``, ``tpr``, ``n_negative``, ``n_positive``;
        a rate whose denominator is 0 is NaN.

    Examples
    --------
    >>> o = pd.DataFrame({"score": [0.0, 1.0, 2.0, np.nan],
    ...                   "y_true": [False, False, True, True]})
    >>> threshold_curves(o, None)[["threshold", "fpr", "tpr"]].values.tolist()
    [[0.0, 1.0, 0.5], [1.0, 0.5, 0.5], [2.0, 0.0, 0.5]]
    """
    score = outcomes["score"].to_numpy(dtype=float, na_value=np.nan)
    y = outcomes["y_true"].to_numpy(dtype=bool)
    grid = thresholds(score) if cuts is None else np.asarray(cuts, dtype=float)
    if group_column is None:
        codes = np.zeros(len(outcomes), dtype=np.int64)
        values: list[str] = [OVERALL]
    else:
        col = outcomes[group_column]
        values = ordered_values(col)
        codes = pd.Index(values).get_indexer(col.astype(str).to_numpy())
    finite = np.isfinite(score)
    parts = []
    for i, value in enumerate(values):  # a handful of groups, not rows
        in_group = codes == i
        neg, pos = in_group & ~y, in_group & y
        n_neg, n_pos = int(neg.sum()), int(pos.sum())
        fp = _at_or_above(np.sort(score[neg & finite]), grid)
        tp = _at_or_above(np.sort(score[pos & finite]), grid)
        with np.errstate(divide="ignore", invalid="ignore"):
            parts.append(
                pd.DataFrame(
                    {
                        "value": value,
                        "threshold": grid,
                        "fpr": np.where(n_neg > 0, fp / max(n_neg, 1), np.nan),
                        "tpr": np.where(n_pos > 0, tp / max(n_pos, 1), np.nan),
                        "n_negative": n_neg,
                        "n_positive": n_pos,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def actual_cut(flags: pd.DataFrame, rule: FlagRule) -> float:
    """The score at which the scenario's flag rule cut.

    Parameters
    ----------
    flags : DataFrame
        The flags table: ``score`` and ``flagged``.
    rule : FlagRule
        The scenario's flag rule.

    Returns
    -------
    float
        The rule's threshold; for a top-percent or budget rule, the lowest score
        flagged (NaN if nothing was flagged).

    Examples
    --------
    >>> f = pd.DataFrame({"score": [0.9, 0.4, 0.1], "flagged": [True, True, False]})
    >>> actual_cut(f, FlagRule(budget=2)), actual_cut(f, FlagRule(threshold=0.5))
    (0.4, 0.5)
    """
    if rule.threshold is not None:
        return float(rule.threshold)
    flagged = flags["flagged"].to_numpy(dtype=bool)
    if not flagged.any():
        return float("nan")
    return float(flags["score"].to_numpy(dtype=float)[flagged].min())
