"""Confusion counts per group cell, and every audit metric as a function of them.

Each metric of the audit is a function of a group's four confusion counts (TP, FP, FN,
TN), so a table of counts per group cell is all the bootstrap needs:
:func:`bootstrap_counts` resamples households by drawing multinomial counts over the
(group cell x confusion cell) table, and :func:`rates` turns counts (observed or
resampled, any leading shape) into metrics with array arithmetic.

Conventions: the positive class is the audit target (``y_true``) and the prediction
is whether a flag reached the family (``flagged``). A rate whose denominator is zero
is undefined and returned as NaN (scikit-learn and fairlearn return 0 for a
single-class group; we do not, so an empty group never looks perfect).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.outcomes import PER, require_columns
from simulator.errors import InputDataError
from simulator.vocabulary import OVERALL
from simulator.vocabulary import RATES as RATES  # the audit's rates, in report order

CONFUSION = ("tp", "fp", "fn", "tn")
"""The confusion cells, in the order of the last axis of every counts array."""
DENOMINATORS = {
    "selection_rate": "n",
    "tpr": "n_positive",
    "fpr": "n_negative",
    "fnr": "n_positive",
    "precision": "n_flagged",
    "wrongly_flagged_per_10k": "n",
}
"""The count each rate divides by (NaN where it is zero)."""
FAIRNESS = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
)
"""fairlearn's summary measures of a whole grouping, in report order."""
JOIN = " × "
"""Separator of column names and of values in an intersection's labels."""

_MISSING_GROUP_VALUES = (
    "group column {column!r} has {n} missing value(s); every household needs a group"
)


@dataclass(frozen=True)
class Cells:
    """Confusion counts per observed cell of some group columns.

    Attributes
    ----------
    columns : tuple of str
        The group columns.
    levels : tuple of tuple
        Each column's observed values, in sorted (or category) order.
    codes : ndarray of int64, shape (n_cells, n_columns)
        Each cell's position in each column's ``levels``; cells in lexicographic
        order of codes.
    counts : ndarray of int64, shape (n_cells, 4)
        TP, FP, FN, TN of each cell (:data:`CONFUSION`): rows.
    weighted : ndarray of float64, shape (n_cells, 4), or None
        With row weights, the sum of the weights in each cell and confusion cell
        (the weighted counts the audit reports); None without weights.
    """

    columns: tuple[str, ...]
    levels: tuple[tuple[object, ...], ...]
    codes: np.ndarray
    counts: np.ndarray
    weighted: np.ndarray | None = None

    def observed(self) -> np.ndarray:
        """The counts the audit reports: weighted if there are weights, else rows."""
        return self.counts if self.weighted is None else self.weighted

    def scale(self, resampled: np.ndarray) -> np.ndarray:
        """Resampled row counts as the counts the audit reports.

        Without weights, the resampled counts themselves. With weights, each
        resampled row count times the mean weight of its cell's observed rows: a
        resample drawing a cell's rows ``k`` times counts ``k`` times their mean
        weight, so the observed data give back the weighted counts exactly, and the
        spread between resamples comes from the rows drawn, not from the weights
        within a cell.

        Parameters
        ----------
        resampled : ndarray, shape (..., n_cells, 4)
            Row counts (:func:`bootstrap_counts` of :attr:`counts`).

        Returns
        -------
        ndarray
            Same shape; int64 without weights, float64 with them.
        """
        if self.weighted is None:
            return resampled
        mean = np.where(self.counts > 0, divide(self.weighted, self.counts), 0.0)
        return resampled * mean

    @property
    def label(self) -> str:
        """The grouping's name: the column, or ``"a × b"`` for an intersection."""
        return JOIN.join(self.columns)

    def values(self) -> list[str]:
        """Each cell's value as text: ``"white"``, or ``"1 × white"``."""
        parts = [
            np.asarray([str(v) for v in lv], dtype=object)[self.codes[:, j]]
            for j, lv in enumerate(self.levels)
        ]
        if not parts:
            return [OVERALL] * len(self.counts)
        out = parts[0]
        for p in parts[1:]:
            out = out + JOIN + p
        return list(out)

    def cell_values(self) -> list[tuple[object, ...]]:
        """Each cell's values as a tuple of the columns' own values."""
        return [
            tuple(self.levels[j][c] for j, c in enumerate(row))
            for row in self.codes.tolist()
        ]


def _factorize(values: pd.Series, column: str) -> tuple[np.ndarray, tuple]:
    codes, uniques = pd.factorize(values, sort=True)
    missing = int((codes < 0).sum())
    if missing:
        raise InputDataError(_MISSING_GROUP_VALUES.format(column=column, n=missing))
    return codes.astype(np.int64), tuple(pd.Index(uniques).tolist())


Factors = dict[str, tuple[np.ndarray, tuple]]
"""Columns' factorisations (codes and sorted levels), by column, of the same rows."""


def _cell_key(
    outcomes: pd.DataFrame, columns: tuple[str, ...], known: Factors | None = None
) -> tuple[np.ndarray, tuple[int, ...], list[tuple[np.ndarray, tuple]]]:
    """Each row's cell as one integer, the columns' sizes and their factorisations.

    Cells are numbered in lexicographic order of the columns' codes. A column
    factorised before is taken from ``known`` (which this fills).
    """
    known = {} if known is None else known
    for c in columns:
        if c not in known:
            known[c] = _factorize(outcomes[c], c)
    factors = [known[c] for c in columns]
    dims = tuple(max(len(lv), 1) for _, lv in factors)
    key = np.zeros(len(outcomes), dtype=np.int64)
    for (codes, _), d in zip(factors, dims, strict=True):  # over columns, not rows
        key = key * d + codes
    return key, dims, factors


def row_cells(
    outcomes: pd.DataFrame, columns: Sequence[str], known: Factors | None = None
) -> tuple[np.ndarray, list[str]]:
    """Each row's position among the observed cells of ``columns``, and the cells.

    The cells are in the order of :func:`confusion_cells` (lexicographic order of
    the columns' sorted values), so position ``i`` is row ``i`` of its tables.

    Parameters
    ----------
    outcomes : DataFrame
    columns : sequence of str
        Group columns; empty puts every row in one cell (``"overall"``).
    known : dict, optional
        The columns factorised by earlier calls on the same ``outcomes``, filled
        here: a column in several groupings is factorised once.

    Returns
    -------
    codes : ndarray of int64
    values : list of str
        Each cell's value as text (:meth:`Cells.values`).

    Examples
    --------
    >>> row_cells(pd.DataFrame({"g": ["b", "a", "b"]}), ["g"])
    (array([1, 0, 1]), ['a', 'b'])
    """
    columns = tuple(columns)
    key, dims, factors = _cell_key(outcomes, columns, known)
    size = int(np.prod(dims, dtype=np.float64))
    if size <= 50_000_000:  # a dense lookup: no sort of the rows
        present = np.bincount(key, minlength=size) > 0
        cells = np.flatnonzero(present)
        codes = (np.cumsum(present) - 1)[key]
    else:
        cells, codes = np.unique(key, return_inverse=True)
    found = Cells(
        columns=columns,
        levels=tuple(lv for _, lv in factors),
        codes=np.stack(np.unravel_index(cells, dims), axis=1)
        if columns
        else np.zeros((len(cells), 0), dtype=np.int64),
        counts=np.zeros((len(cells), 4), dtype=np.int64),
    )
    return codes.astype(np.int64).ravel(), found.values()


def confusion_index(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Position of each row's confusion cell in :data:`CONFUSION` (TP 0 ... TN 3).

    Parameters
    ----------
    y_true, y_pred : ndarray of bool
        The truth and the prediction.

    Returns
    -------
    ndarray of int64
    """
    t = np.asarray(y_true, dtype=bool)
    p = np.asarray(y_pred, dtype=bool)
    return 2 * (~p).astype(np.int64) + (~t).astype(np.int64)


def confusion_cells(
    outcomes: pd.DataFrame, columns: Sequence[str], weight: str | None = None
) -> Cells:
    """Count TP, FP, FN and TN in every observed cell of ``columns``.

    Parameters
    ----------
    outcomes : DataFrame
        One row per household with ``y_true``, ``flagged`` and the group columns
        (:func:`audits.outcomes.household_outcomes`).
    columns : sequence of str
        Group columns; empty gives one cell for everyone.
    weight : str, optional
        A column of non-negative row weights: the cells' weighted counts are kept
        too (:attr:`Cells.weighted`).

    Returns
    -------
    Cells
        Only cells with at least one household.

    Raises
    ------
    InputDataError
        If a column is absent or has missing values.
    """
    columns = tuple(columns)
    extra = [] if weight is None else [weight]
    require_columns(outcomes, ["y_true", "flagged", *columns, *extra], "outcomes")
    conf = confusion_index(
        outcomes["y_true"].to_numpy(dtype=bool),
        outcomes["flagged"].to_numpy(dtype=bool),
    )
    key, dims, factors = _cell_key(outcomes, columns)
    size = int(np.prod(dims, dtype=np.float64))
    if size * 4 <= 50_000_000:
        slot, n_slots = key * 4 + conf, size * 4
        flat = np.bincount(slot, minlength=n_slots).reshape(size, 4)
        cells = np.flatnonzero(flat.sum(axis=1))
        rows = cells
    else:  # too many possible cells for a dense table: count the observed ones
        cells, inverse = np.unique(key, return_inverse=True)
        slot, n_slots = inverse * 4 + conf, len(cells) * 4
        flat = np.bincount(slot, minlength=n_slots).reshape(-1, 4)
        rows = np.arange(len(cells))
    counts = flat[rows]
    weighted = None
    if weight is not None:
        w = outcomes[weight].to_numpy(dtype=np.float64)
        sums = np.bincount(slot, weights=w, minlength=n_slots).reshape(-1, 4)
        weighted = sums[rows]
    codes = (
        np.stack(np.unravel_index(cells, dims), axis=1)
        if columns
        else np.zeros((len(cells), 0), dtype=np.int64)
    )
    return Cells(
        columns=columns,
        levels=tuple(lv for _, lv in factors),
        codes=codes.astype(np.int64),
        counts=counts.astype(np.int64),
        weighted=weighted,
    )


def divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` as float, NaN where ``den`` is not positive (undefined)."""
    num, den = np.broadcast_arrays(np.asarray(num, float), np.asarray(den, float))
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


def totals(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Group sizes from confusion counts (last axis :data:`CONFUSION`).

    Parameters
    ----------
    counts : ndarray, shape (..., 4)

    Returns
    -------
    dict of str to ndarray
        ``n``, ``n_positive``, ``n_negative`` and ``n_flagged``, each of shape (...).
    """
    tp, fp, fn, tn = np.moveaxis(np.asarray(counts), -1, 0)
    return {
        "n": tp + fp + fn + tn,
        "n_positive": tp + fn,
        "n_negative": fp + tn,
        "n_flagged": tp + fp,
    }


def fractions(counts: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each rate of :data:`RATES` as its numerator and denominator counts.

    A rate is ``numerator / denominator``; pooled over replicates it is the sum of
    the numerators over the sum of the denominators (:mod:`audits.replicates`).

    Parameters
    ----------
    counts : ndarray, shape (..., 4)
        TP, FP, FN, TN along the last axis.

    Returns
    -------
    dict of str to (ndarray, ndarray)
        Each of shape (...): (TP + FP, n), (TP, TP + FN), (FP, FP + TN),
        (FN, TP + FN), (TP, TP + FP) and (10,000 FP, n).
    """
    tp, fp, fn, _tn = np.moveaxis(np.asarray(counts), -1, 0)
    size = totals(counts)
    return {
        "selection_rate": (size["n_flagged"], size["n"]),
        "tpr": (tp, size["n_positive"]),
        "fpr": (fp, size["n_negative"]),
        "fnr": (fn, size["n_positive"]),
        "precision": (tp, size["n_flagged"]),
        "wrongly_flagged_per_10k": (PER * fp, size["n"]),
    }


def rates(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Every rate of :data:`RATES` from confusion counts, NaN where undefined.

    Parameters
    ----------
    counts : ndarray, shape (..., 4)
        TP, FP, FN, TN along the last axis; any leading shape (groups, resamples,
        replicates).

    Returns
    -------
    dict of str to ndarray of float
        Each of shape (...): selection rate (TP + FP) / n, TPR TP / (TP + FN), FPR
        FP / (FP + TN), FNR FN / (TP + FN), precision TP / (TP + FP), and wrongly
        flagged per 10,000 families 10,000 FP / n (:func:`fractions`).
    """
    return {m: divide(num, den) for m, (num, den) in fractions(counts).items()}


def fairness(counts: np.ndarray) -> dict[str, np.ndarray]:
    """The summary measures of fairlearn for a grouping, from its groups' counts.

    Computed as ``fairlearn.metrics`` computes them (``method="between_groups"``,
    ``agg="worst_case"``): over the groups present (n > 0), the demographic parity
    difference max - min of the selection rates and its ratio min / max, and the
    equalized odds difference, the larger of the ranges of TPR and FPR. As in
    fairlearn, a present group without positives (negatives) counts as a TPR (FPR)
    of 0.

    Parameters
    ----------
    counts : ndarray, shape (..., n_groups, 4)

    Returns
    -------
    dict of str to ndarray of float
        Each of shape (...); NaN if no group is present (and the ratio if every
        selection rate is 0).
    """
    counts = np.asarray(counts, dtype=float)
    if counts.shape[-2] == 0:
        return {name: np.full(counts.shape[:-2], np.nan) for name in FAIRNESS}
    tp, fp, _fn, _tn = np.moveaxis(counts, -1, 0)
    size = totals(counts)
    present = size["n"] > 0
    zero = np.zeros_like(tp)
    sel = np.where(present, divide(size["n_flagged"], size["n"]), np.nan)
    tpr = np.where(
        present,
        np.where(size["n_positive"] > 0, divide(tp, size["n_positive"]), zero),
        np.nan,
    )
    fpr = np.where(
        present,
        np.where(size["n_negative"] > 0, divide(fp, size["n_negative"]), zero),
        np.nan,
    )

    def spread(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.fmax.reduce(x, axis=-1), np.fmin.reduce(x, axis=-1)

    sel_max, sel_min = spread(sel)
    tpr_max, tpr_min = spread(tpr)
    fpr_max, fpr_min = spread(fpr)
    return {
        "demographic_parity_difference": sel_max - sel_min,
        "demographic_parity_ratio": divide(sel_min, sel_max),
        "equalized_odds_difference": np.fmax(tpr_max - tpr_min, fpr_max - fpr_min),
    }


def bootstrap_counts(
    counts: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Resample households with replacement, as multinomial counts over cells.

    Drawing ``n`` households i.i.d. from the observed ones and counting them by
    (group cell, confusion cell) is exactly a multinomial draw with ``n`` trials and
    the observed shares as probabilities, so one call replaces ``n_boot`` row
    resamples, whatever the number of households.

    Parameters
    ----------
    counts : ndarray of int, shape (..., n_cells, 4)
        Observed counts; leading axes are independent datasets.
    n_boot : int
        Number of resamples.
    rng : numpy.random.Generator
        The stream to draw from.

    Returns
    -------
    ndarray of int64, shape (n_boot, ..., n_cells, 4)
    """
    counts = np.asarray(counts, dtype=np.int64)
    lead, cell_shape = counts.shape[:-2], counts.shape[-2:]
    flat = counts.reshape(*lead, -1)
    n = flat.sum(axis=-1)
    p = divide(flat, n[..., None])
    p = np.where(np.isnan(p), 0.0, p)
    if flat.shape[-1] == 0:
        return np.zeros((n_boot, *counts.shape), dtype=np.int64)
    draws = rng.multinomial(n, p, size=(n_boot, *lead))
    return draws.reshape(n_boot, *lead, *cell_shape)


def percentile_interval(
    samples: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile interval over the defined (non-NaN) resamples.

    Parameters
    ----------
    samples : ndarray, shape (n_boot, ...)
        A statistic in each resample; NaN where it is undefined in that resample.
    confidence : float
        Coverage, e.g. 0.95 for the 2.5% and 97.5% quantiles.

    Returns
    -------
    low, high : ndarray of float, shape (...)
        NaN where every resample is undefined (or there are none).
    undefined : ndarray of int64, shape (...)
        How many resamples left the statistic undefined (reported, not hidden).
    """
    samples = np.asarray(samples, dtype=float)
    undefined = np.isnan(samples).sum(axis=0).astype(np.int64)
    shape = samples.shape[1:]
    if samples.shape[0] == 0:
        nan = np.full(shape, np.nan)
        return nan, nan.copy(), undefined
    alpha = (1.0 - confidence) / 2.0
    low = np.full(shape, np.nan)
    high = np.full(shape, np.nan)
    levels = [alpha, 1.0 - alpha]
    full = undefined == 0
    some = (undefined > 0) & (undefined < samples.shape[0])
    # An infinite resample (the audit's ratios are NaN over a zero rate, but a
    # caller's statistic may be inf) makes numpy interpolate inf - inf and warn;
    # the quantile is kept as numpy defines it, without the warning.
    with np.errstate(invalid="ignore"):
        if full.any():  # one vectorised call for every statistic defined throughout
            q = np.quantile(samples[:, full], levels, axis=0)
            low[full], high[full] = q[0], q[1]
        if some.any():  # nanquantile loops over these in Python: only those with gaps
            q = np.nanquantile(samples[:, some], levels, axis=0)
            low[some], high[some] = q[0], q[1]
    return low, high, undefined
