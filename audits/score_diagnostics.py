"""Score diagnostics by group: ROC AUC, calibration and threshold curves.

Wherever the audited rows carry a score (a run's council scores, ``audit --scores``,
``audit --table --score``), the audit also asks how good the score is in each group,
whatever the cut:

``score_auc``
    ROC AUC per group: the chance that a row with the outcome scores above one
    without it (ties count half), equal to :func:`sklearn.metrics.roc_auc_score` on
    the group's rows (with ``sample_weight`` when there are weights). A group with
    only one class has no AUC: NaN with a ``note`` saying why; the row stays.
``calibration``
    The observed outcome rate by score bin, with counts. The bins are shared by
    every group so groups can be compared bin by bin: the deciles of all the rows'
    finite scores (:data:`CALIBRATION_BINS` quantiles, unweighted; equal quantiles
    merge), or one bin per score value when the score has at most that many values
    (a criteria count). A bin holds the scores from its ``score_low`` up to the
    next bin's (the last bin includes the maximum). Rows without a score (a run's
    families nobody on the register holds) form bin 0, ``no score``. Every row is
    in one bin, so a group's counts sum to its size.
``threshold_curves``
    Selection rate, TPR, FPR, FNR and precision if every row scoring at or above
    the threshold were flagged, at up to :data:`MAX_POINTS` thresholds shared by
    every group (the distinct scores, thinned to evenly spaced ranks). Rows without
    a score are never flagged but stay in the denominators, as in the audit.

Everything is vectorised over rows: one sort of the scores, then for each grouping
a stable sort of the (small-integer) group codes and cumulative sums; the curves
are a two-dimensional histogram (group by threshold bin) summed from the top. No
loop runs over rows or thresholds. Counts are sums of row weights when the audit
has weights (as in ``metrics_by_group``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.confusion import JOIN, Factors, row_cells
from simulator.vocabulary import OVERALL

MAX_POINTS = 400
"""Thresholds evaluated at most per curve (evenly spaced ranks of the distinct
scores beyond that)."""
CALIBRATION_BINS = 10
"""Quantile bins of the calibration table (one per value if the score has fewer)."""
NO_SCORE = "no score"
"""The calibration bin of rows without a score."""
ONE_CLASS = "undefined: every row in this group has {target} = {value}"
"""The note of a group whose AUC is undefined."""
AUC_COLUMNS = ("group", "value", "n", "n_positive", "n_negative", "auc", "note")
CALIBRATION_COLUMNS = (
    "group",
    "value",
    "bin",
    "score_low",
    "score_high",
    "n",
    "n_positive",
    "mean_score",
    "observed_rate",
)
CURVE_COLUMNS = (
    "group",
    "value",
    "threshold",
    "n",
    "n_flagged",
    "selection_rate",
    "tpr",
    "fpr",
    "fnr",
    "precision",
)


@dataclass(frozen=True)
class ScoreDiagnostics:
    """The score's diagnostics, overall then by each grouping.

    Attributes
    ----------
    auc, calibration, curves : DataFrame
        Columns :data:`AUC_COLUMNS`, :data:`CALIBRATION_COLUMNS`,
        :data:`CURVE_COLUMNS`; ``group`` is ``"overall"`` or the grouping's name
        (``"a × b"`` for an intersection), ``value`` the group.
    """

    auc: pd.DataFrame
    calibration: pd.DataFrame
    curves: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by file stem."""
        return {
            "score_auc": self.auc,
            "calibration": self.calibration,
            "threshold_curves": self.curves,
        }


@dataclass(frozen=True)
class _Sorted:
    """The rows in ascending order of score, with what every grouping shares.

    Attributes
    ----------
    order : ndarray
        Row positions by ascending score (no score first, as -inf).
    score, y, w : ndarray
        Score (-inf for none), outcome (0/1) and weight of each row, in that order.
    positive : ndarray of bool
        Whether each row's outcome is 1.
    rank_y : ndarray
        Each row's rank among the distinct scores, times 2, plus its outcome.
    above : ndarray
        How many of the curves' thresholds each score is at or above.
    calibration_bin : ndarray
        Each score's calibration bin (0: no score).
    """

    order: np.ndarray
    score: np.ndarray
    y: np.ndarray
    w: np.ndarray | None
    positive: np.ndarray
    rank_y: np.ndarray
    above: np.ndarray
    calibration_bin: np.ndarray

    def weights(self) -> np.ndarray:
        """The weights, ones without them."""
        return np.ones(len(self.y)) if self.w is None else self.w


def thresholds(sorted_scores: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """The distinct finite values of ascending scores, thinned to ``max_points``.

    Examples
    --------
    >>> thresholds(np.array([-np.inf, 0.0, 1.0, 1.0, 2.0])).tolist()
    [0.0, 1.0, 2.0]
    """
    finite = sorted_scores[np.isfinite(sorted_scores)]
    if not len(finite):
        return finite
    distinct = finite[np.r_[True, finite[1:] != finite[:-1]]]
    if len(distinct) <= max_points:
        return distinct
    pos = np.linspace(0, len(distinct) - 1, max_points).round().astype(np.int64)
    return distinct[np.unique(pos)]


def _small_codes(codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Codes in the narrowest integer type (numpy's stable sort is a radix sort)."""
    for dtype in (np.uint8, np.uint16):
        if n_groups <= np.iinfo(dtype).max:
            return codes.astype(dtype)
    return codes


def _run_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of ``values`` over the runs starting at ``starts`` (cumulative sums)."""
    total = np.r_[0.0, np.cumsum(values, dtype=np.float64)]
    return np.diff(total[np.r_[starts, len(values)]])


def group_auc(rows: _Sorted, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """ROC AUC of each group (NaN where a group has one class).

    ``codes`` are the groups of the sorted rows. A stable sort by group keeps each
    group's rows in score order; for each run of tied scores in a group, its
    positives beat the group's negatives below it and tie with its own (half),
    which is the area under scikit-learn's ROC curve. Only one array is gathered
    in group order: each row's rank of score and outcome packed in one integer.
    """
    # one group is already in score order; codes are small ints: a radix sort
    one = n_groups == 1
    perm = np.arange(len(codes)) if one else np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=n_groups)
    packed = rows.rank_y[perm]
    group_start = np.zeros(len(packed), dtype=bool)
    group_start[np.cumsum(sizes)[:-1][sizes[1:] > 0]] = True
    rank = packed >> 1
    starts = np.flatnonzero(np.r_[True, (rank[1:] != rank[:-1]) | group_start[1:]])
    y = (packed & 1).astype(np.float64)
    if rows.w is None:
        run_pos = _run_sums(y, starts)
        run_n = np.diff(np.r_[starts, len(y)]).astype(np.float64)
    else:
        w = rows.w[perm]
        run_pos = _run_sums(w * y, starts)
        run_n = _run_sums(w, starts)
    # summed apart, not ``run_n - run_pos``: a one-class group's rounding
    # residue would count as negatives and give it an AUC
    run_neg = run_n - run_pos if rows.w is None else _run_sums(w * (1 - y), starts)
    run_group = np.repeat(np.arange(n_groups), sizes)[starts]
    neg_total = np.bincount(run_group, weights=run_neg, minlength=n_groups)
    pos_total = np.bincount(run_group, weights=run_pos, minlength=n_groups)
    before = np.cumsum(run_neg) - run_neg  # negatives in earlier runs, any group
    offset = np.r_[0.0, np.cumsum(neg_total)][:-1]
    below = before - offset[run_group]
    wins = np.bincount(
        run_group, weights=run_pos * (below + run_neg / 2), minlength=n_groups
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            (pos_total > 0) & (neg_total > 0), wins / (pos_total * neg_total), np.nan
        )


def calibration_bins(sorted_scores: np.ndarray, bins: int = CALIBRATION_BINS):
    """Lower bounds and highest scores of the calibration bins.

    Parameters
    ----------
    sorted_scores : ndarray
        All rows' scores, ascending, -inf for none.
    bins : int
        Quantile bins (one per value if the score has at most ``bins`` values).

    Returns
    -------
    tuple of ndarray
        ``low`` (ascending, unique) and ``high``: bin k holds scores in
        ``[low[k], low[k + 1])``, the last up to the maximum, ``high[k]`` the
        highest score in it.

    Examples
    --------
    >>> low, high = calibration_bins(np.array([0.0, 0.0, 1.0, 3.0]))
    >>> low.tolist(), high.tolist()
    ([0.0, 1.0, 3.0], [0.0, 1.0, 3.0])
    """
    finite = sorted_scores[np.isfinite(sorted_scores)]
    if not len(finite):
        return finite, finite
    distinct = finite[np.r_[True, finite[1:] != finite[:-1]]]
    if len(distinct) <= bins:
        low = distinct
    else:
        pos = (np.arange(bins) * len(finite)) // bins
        low = np.unique(finite[pos])
    nxt = np.searchsorted(finite, low[1:], side="left")
    high = np.r_[finite[nxt - 1], finite[-1]]
    return low, high


def _sums(key: np.ndarray, size: int, rows: _Sorted) -> tuple[np.ndarray, ...]:
    """Counts (weighted with weights) and positives of each ``key``.

    Unweighted, the positives are counted (the rows with ``y`` 1), not summed: the
    same whole numbers, a faster pass.
    """
    if rows.w is None:
        n = np.bincount(key, minlength=size).astype(np.float64)
        pos = np.bincount(key[rows.positive], minlength=size).astype(np.float64)
        return n, pos
    n = np.bincount(key, weights=rows.w, minlength=size)
    return n, np.bincount(key, weights=rows.w * rows.y, minlength=size)


def _from_top(counts: np.ndarray) -> np.ndarray:
    """Per row of ``counts`` (group by bin), the sum of the bins above each bin."""
    return np.cumsum(counts[:, ::-1], axis=1)[:, ::-1][:, 1:]


def _rate(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den``, NaN where ``den`` is 0, flattened."""
    den = np.broadcast_to(den, num.shape)
    safe = np.where(den > 0, den, 1.0)
    return np.where(den > 0, num / safe, np.nan).ravel()


def _curves_table(
    rows: _Sorted, codes: np.ndarray, n_groups: int, grid: np.ndarray
) -> dict[str, np.ndarray]:
    """Rates if rows at or above each threshold of ``grid`` were flagged, per group.

    A two-dimensional histogram (group by how many thresholds a score reaches),
    summed from the top: no loop over thresholds.
    """
    width = len(grid) + 1
    key = codes.astype(np.int64) * width + rows.above
    n, pos = _sums(key, n_groups * width, rows)
    n, pos = n.reshape(n_groups, width), pos.reshape(n_groups, width)
    n_total, pos_total = n.sum(axis=1, keepdims=True), pos.sum(axis=1, keepdims=True)
    flagged, tp = _from_top(n), _from_top(pos)
    return {
        "threshold": np.tile(grid, n_groups),
        "n": np.repeat(n_total.ravel(), len(grid)),
        "n_flagged": flagged.ravel(),
        "selection_rate": _rate(flagged, n_total),
        "tpr": _rate(tp, pos_total),
        "fpr": _rate(flagged - tp, n_total - pos_total),
        "fnr": _rate(pos_total - tp, pos_total),
        "precision": _rate(tp, flagged),
    }


def _calibration_table(
    rows: _Sorted, codes: np.ndarray, n_groups: int, low: np.ndarray, high: np.ndarray
) -> dict[str, np.ndarray]:
    """Counts, positives and mean score per group and bin (bin 0: no score)."""
    width = len(low) + 1
    key = codes.astype(np.int64) * width + rows.calibration_bin
    n, pos = _sums(key, n_groups * width, rows)
    scored = np.where(np.isfinite(rows.score), rows.score, 0.0)
    total = np.bincount(
        key,
        weights=scored if rows.w is None else rows.w * scored,
        minlength=len(n),
    )
    keep = n > 0
    bins = np.tile(np.arange(width), n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(bins == 0, np.nan, total / n)
        rate = pos / n
    return {
        "group_code": np.repeat(np.arange(n_groups), width)[keep],
        "bin": bins[keep],
        "score_low": np.r_[np.nan, low][bins][keep],
        "score_high": np.r_[np.nan, high][bins][keep],
        "n": n[keep],
        "n_positive": pos[keep],
        "mean_score": mean[keep],
        "observed_rate": rate[keep],
    }


def _sorted_rows(
    score: np.ndarray, y: np.ndarray, w: np.ndarray | None
) -> tuple[_Sorted, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The rows by ascending score, the curves' grid and the calibration bins."""
    filled = np.where(np.isfinite(score), score, -np.inf)
    order = np.argsort(filled)  # ties: every figure sums over a run of them
    s = filled[order]
    grid = thresholds(s)
    low, high = calibration_bins(s)
    calibration_bin = np.where(np.isfinite(s), np.searchsorted(low, s, side="right"), 0)
    y_sorted = y[order]
    rank = np.cumsum(np.r_[False, s[1:] != s[:-1]])
    small = np.int32 if 2 * len(s) + 1 < np.iinfo(np.int32).max else np.int64
    rows = _Sorted(
        order=order,
        score=s,
        y=y_sorted,
        w=None if w is None else w[order],
        positive=y_sorted > 0,
        rank_y=(rank.astype(small) << 1) | y_sorted.astype(small),
        above=np.searchsorted(grid, s, side="right").astype(np.int32),  # -inf: 0
        calibration_bin=calibration_bin.astype(np.int32),
    )
    return rows, grid, (low, high)


def _count(values: np.ndarray, weighted: bool) -> np.ndarray:
    """Counts as integers without weights (as in ``metrics_by_group``)."""
    return values if weighted else values.round().astype(np.int64)


def score_diagnostics(
    outcomes: pd.DataFrame,
    column_sets: Sequence[tuple[str, ...]],
    *,
    target: str = "y_true",
    weight: str | None = None,
    no_curves: Collection[tuple[str, ...]] = (),
) -> ScoreDiagnostics:
    """ROC AUC, calibration and threshold curves, overall and by group.

    Parameters
    ----------
    outcomes : DataFrame
        The audited rows: ``score`` (NaN: none), ``y_true`` and the group columns.
    column_sets : sequence of tuple of str
        The groupings (``config.column_sets()``).
    target : str
        What ``y_true`` is called, for the notes.
    weight : str, optional
        A column of row weights.
    no_curves : collection of tuple of str
        Groupings of ``column_sets`` whose threshold curves nobody reads (each
        world's, :mod:`audits.pooled_scores`): none of their rows in ``curves``.

    Returns
    -------
    ScoreDiagnostics

    Examples
    --------
    >>> o = pd.DataFrame({"score": [0.1, 0.4, 0.35, 0.8], "y_true": [0, 0, 1, 1],
    ...                   "g": ["a", "a", "b", "b"]})
    >>> score_diagnostics(o, [("g",)]).auc[["value", "auc", "note"]]
         value   auc                                               note
    0  overall  0.75
    1        a   NaN  undefined: every row in this group has y_true = 0
    2        b   NaN  undefined: every row in this group has y_true = 1
    """
    score = outcomes["score"].to_numpy(dtype=float, na_value=np.nan)
    y = outcomes["y_true"].to_numpy(dtype=bool).astype(np.float64)
    w = None if weight is None else outcomes[weight].to_numpy(dtype=float)
    rows, grid, (low, high) = _sorted_rows(score, y, w)
    parts: tuple[list[pd.DataFrame], ...] = ([], [], [])
    factors: Factors = {}  # each column factorised once, whatever its groupings
    for columns in [(), *column_sets]:  # a handful of groupings, not rows
        codes, values = row_cells(outcomes, columns, factors)
        label = JOIN.join(columns) if columns else OVERALL
        codes = _small_codes(codes, len(values))[rows.order]  # sorted rows' groups
        k = len(values)
        n, pos = _sums(codes, k, rows)
        auc = pd.DataFrame(
            {
                "group": label,
                "value": values,
                "n": n,
                "n_positive": pos,
                "n_negative": n - pos,
                "auc": group_auc(rows, codes, k),
            }
        )
        auc["note"] = np.where(
            auc["auc"].notna(),
            "",
            ONE_CLASS.format(target=target, value=0),
        )
        auc.loc[auc["auc"].isna() & (pos > 0), "note"] = ONE_CLASS.format(
            target=target, value=1
        )
        cal = _calibration_table(rows, codes, k, low, high)
        cal["value"] = np.asarray(values, dtype=object)[cal.pop("group_code")]
        parts[0].append(auc)
        parts[1].append(pd.DataFrame({"group": label, **cal}))
        if columns not in no_curves:
            curves = _curves_table(rows, codes, k, grid)
            curves["value"] = np.repeat(np.asarray(values, dtype=object), len(grid))
            parts[2].append(pd.DataFrame({"group": label, **curves}))
    tables = [pd.concat(t, ignore_index=True) for t in parts]
    for table in tables:
        for col in ("n", "n_positive", "n_negative", "n_flagged"):
            if col in table:
                table[col] = _count(table[col].to_numpy(), weight is not None)
    return ScoreDiagnostics(
        auc=tables[0][list(AUC_COLUMNS)],
        calibration=tables[1][list(CALIBRATION_COLUMNS)],
        curves=tables[2][list(CURVE_COLUMNS)],
    )
