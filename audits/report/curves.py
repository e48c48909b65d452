"""Threshold curves: what the false and true positive rates would be at every cut.

A family is reached by a flag when the highest score of the spine households holding
one of its members is at or above the cut (the audit's ``score`` column), so for a
threshold rule the curves at the scenario's cut equal the audit's rates exactly.
Families with no score (nobody on the spine) are never flagged but stay in the
denominators, as in the audit.

With replicate worlds, :func:`pooled_threshold_curves` evaluates every world on one
grid and pools them as the audit pools its rates: at each cut, the rate of the counts
summed over the worlds, with the smallest and largest world's own rate beside it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from audits.run_tables import FLAGS, RunTables
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
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = np.unique(column.cat.codes.to_numpy())  # the categories present
        seen = {str(c) for c in column.cat.categories[codes[codes >= 0]]}
        return [str(c) for c in column.cat.categories if str(c) in seen]
    return [str(v) for v in sorted(pd.unique(column.dropna()))]


def _at_or_above(sorted_scores: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """How many of ``sorted_scores`` (ascending, finite) are >= each cut."""
    return len(sorted_scores) - np.searchsorted(sorted_scores, cuts, side="left")


def _groups(
    outcomes: pd.DataFrame, group_column: str | None, values: list[str] | None = None
) -> tuple[list[str], np.ndarray]:
    """The group values (in order) and each family's position among them."""
    if group_column is None:
        return [OVERALL], np.zeros(len(outcomes), dtype=np.int64)
    col = outcomes[group_column]
    values = ordered_values(col) if values is None else values
    return values, pd.Index(values).get_indexer(col.astype(str).to_numpy())


def curve_counts(
    outcomes: pd.DataFrame,
    group_column: str | None,
    cuts: np.ndarray,
    values: list[str] | None = None,
) -> pd.DataFrame:
    """Families at or above each cut, by group: the counts behind the curves.

    Returns
    -------
    DataFrame
        ``value``, ``threshold``, ``fp`` and ``tp`` (families not in / in the
        target scoring at least the cut), ``n_negative``, ``n_positive``; one row
        per group value of ``values`` (default: those present) and cut.
    """
    score = outcomes["score"].to_numpy(dtype=float, na_value=np.nan)
    y = outcomes["y_true"].to_numpy(dtype=bool)
    values, codes = _groups(outcomes, group_column, values)
    finite = np.isfinite(score)
    parts = []
    for i, value in enumerate(values):  # a handful of groups, not rows
        in_group = codes == i
        neg, pos = in_group & ~y, in_group & y
        parts.append(
            pd.DataFrame(
                {
                    "value": value,
                    "threshold": cuts,
                    "fp": _at_or_above(np.sort(score[neg & finite]), cuts),
                    "tp": _at_or_above(np.sort(score[pos & finite]), cuts),
                    "n_negative": int(neg.sum()),
                    "n_positive": int(pos.sum()),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _rates(counts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """FPR and TPR of curve counts; NaN where the denominator is 0."""
    n_neg = counts["n_negative"].to_numpy()
    n_pos = counts["n_positive"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        fpr = np.where(n_neg > 0, counts["fp"] / np.maximum(n_neg, 1), np.nan)
        tpr = np.where(n_pos > 0, counts["tp"] / np.maximum(n_pos, 1), np.nan)
    return fpr, tpr


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
    if cuts is None:
        cuts = thresholds(outcomes["score"].to_numpy(dtype=float, na_value=np.nan))
    counts = curve_counts(outcomes, group_column, np.asarray(cuts, dtype=float))
    fpr, tpr = _rates(counts)
    return counts.assign(fpr=fpr, tpr=tpr)[
        ["value", "threshold", "fpr", "tpr", "n_negative", "n_positive"]
    ]


def pooled_threshold_curves(
    worlds: Sequence[pd.DataFrame],
    group_column: str | None,
    cuts: np.ndarray | Sequence[np.ndarray] | None = None,
) -> pd.DataFrame:
    """Threshold curves pooled over worlds: rates of the summed counts, and spread.

    Parameters
    ----------
    worlds : sequence of DataFrame
        Each world's audit outcomes (replicate 0 first), as
        :func:`threshold_curves` reads them.
    group_column : str or None
        The grouping; None for every family together.
    cuts : array, or one array per world, optional
        The thresholds, the same for every world (default: :func:`thresholds` of
        every world's scores together); or one array per world, of equal length,
        the ``i``-th cuts of the worlds pooled into row ``i`` (each world at its
        own cut; ``threshold`` is then the first world's).

    Returns
    -------
    DataFrame
        :func:`threshold_curves`'s columns (the rates and counts over every
        world: ``fpr`` is the summed wrong flags over the summed families not in
        the target), then ``fpr_low``, ``fpr_high``, ``tpr_low``, ``tpr_high``
        (the smallest and largest world's own rate, NaN ignored) and ``worlds``.
        One world pools to its own curves, low and high equal to them.

    Examples
    --------
    >>> a = pd.DataFrame({"score": [0.0, 1.0], "y_true": [False, False]})
    >>> b = pd.DataFrame({"score": [1.0, 1.0, 0.0], "y_true": [False, False, True]})
    >>> c = pooled_threshold_curves([a, b], None)
    >>> c[["threshold", "fpr", "fpr_low", "fpr_high"]].values.tolist()
    [[0.0, 1.0, 1.0, 1.0], [1.0, 0.75, 0.5, 1.0]]
    """
    if cuts is None:
        scores = [o["score"].to_numpy(dtype=float, na_value=np.nan) for o in worlds]
        cuts = thresholds(np.concatenate(scores))
    per_world = (
        [np.asarray(c, dtype=float) for c in cuts]
        if len(cuts) and np.ndim(cuts[0]) == 1
        else [np.asarray(cuts, dtype=float)] * len(worlds)
    )
    values = None
    if group_column is not None:
        values = ordered_values(pd.concat([o[group_column] for o in worlds]))
    counts = [
        curve_counts(o, group_column, c, values)
        for o, c in zip(worlds, per_world, strict=True)
    ]
    summed = counts[0].copy()
    for name in ("fp", "tp", "n_negative", "n_positive"):  # four columns
        summed[name] = np.sum([c[name].to_numpy() for c in counts], axis=0)
    fpr, tpr = _rates(summed)
    rates = np.array([_rates(c) for c in counts])  # world, (fpr, tpr), row
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: a group's NaN
        low, high = np.nanmin(rates, axis=0), np.nanmax(rates, axis=0)
    return summed.assign(
        fpr=fpr,
        tpr=tpr,
        fpr_low=low[0],
        fpr_high=high[0],
        tpr_low=low[1],
        tpr_high=high[1],
        worlds=len(worlds),
    )[
        [
            "value",
            "threshold",
            "fpr",
            "tpr",
            "n_negative",
            "n_positive",
            "fpr_low",
            "fpr_high",
            "tpr_low",
            "tpr_high",
            "worlds",
        ]
    ]


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
    return _lowest_flagged(flags)


def _lowest_flagged(flags: pd.DataFrame) -> float:
    """The lowest score flagged (NaN if nothing was flagged)."""
    flagged = flags["flagged"].to_numpy(dtype=bool)
    if not flagged.any():
        return float("nan")
    return float(flags["score"].to_numpy(dtype=float)[flagged].min())


def run_cut(tables: RunTables, rule: FlagRule) -> float:
    """:func:`actual_cut` of a run's flags table, read a batch at a time."""
    if rule.threshold is not None:
        return float(rule.threshold)
    lows = [_lowest_flagged(b) for b in tables.batches(FLAGS, ["score", "flagged"])]
    return min((x for x in lows if not np.isnan(x)), default=float("nan"))
