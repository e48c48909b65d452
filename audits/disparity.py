"""Disparities: each group's metrics against a reference group, with bootstrap CIs.

For every grouping (a group column, or an intersection of columns), every group and
every rate of :data:`audits.confusion.RATES`, :func:`disparities` reports the estimate,
its ratio and its difference to the reference group, each with a percentile bootstrap
interval; plus fairlearn's demographic parity difference and ratio and equalized odds
difference of each grouping, with intervals.

The bootstrap resamples households i.i.d. (the audit has one row per true household).
Every metric is a function of each group's confusion counts, so a row resample is
exactly a multinomial draw of the counts over the (group x confusion cell) table; all
resamples of a grouping come from one ``Generator.multinomial`` call and all metrics of
all resamples from array arithmetic (:mod:`audits.confusion`). Intervals are the
``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the resampled
statistic over the resamples where it is defined. A group can be absent from a
resample, or lack positives, so a statistic can be undefined there: those resamples
are counted (``*_boot_undefined``) rather than silently dropped.

Seeds: ``numpy.random.SeedSequence(seed).spawn(1 + number of groupings)``; the first
child draws the overall resamples, the others each grouping's, in order. The spawn
keys are recorded in :attr:`Disparities.seeds`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from audits.confusion import (
    DENOMINATORS,
    FAIRNESS,
    JOIN,
    RATES,
    Cells,
    bootstrap_counts,
    confusion_cells,
    fairness,
    percentile_interval,
    rates,
    totals,
)
from audits.errors import AuditError, AuditWarning
from audits.metrics import groupings
from audits.outcomes import require_columns
from simulator.frames import STRING
from simulator.schema.audit import GroupAudit
from simulator.vocabulary import LEAST_DEPRIVED, OVERALL

TABLE_COLUMNS = (
    "group",
    "value",
    "metric",
    "n",
    "denominator",
    "estimate",
    "ci_low",
    "ci_high",
    "boot_undefined",
    "reference",
    "is_reference",
    "ratio_to_ref",
    "ratio_ci_low",
    "ratio_ci_high",
    "ratio_boot_undefined",
    "diff_to_ref",
    "diff_ci_low",
    "diff_ci_high",
    "diff_boot_undefined",
    "small_group",
)
"""Columns of :attr:`Disparities.table`."""
OVERALL_COLUMNS = (
    "metric",
    "n",
    "denominator",
    "estimate",
    "ci_low",
    "ci_high",
    "boot_undefined",
)
"""Columns of :attr:`Disparities.overall`."""
FAIRNESS_COLUMNS = (
    "group",
    "measure",
    "n_groups",
    "estimate",
    "ci_low",
    "ci_high",
    "boot_undefined",
)
"""Columns of :attr:`Disparities.fairness`."""

_REFERENCE_ABSENT = (
    "reference group {value!r} of {grouping!r} has no households in the audited "
    "data; present: {present}"
)
_REFERENCE_FALLBACK = (
    "the default reference {default!r} of {column!r} has no households in the "
    "audited data{within}; using {used!r} instead, the {how} present "
    "(set audit.reference to choose one)"
)
_SMALL_GROUPS = (
    "{n} group(s) have fewer than min_group_size={size} households{pooled}, so their "
    "estimates and intervals are unreliable: {groups}"
)


@dataclass(frozen=True)
class GroupingCounts:
    """One grouping's confusion counts and the resamples its intervals came from.

    Kept so that figures of several runs can be pooled with the same resamples
    (:mod:`audits.pooled`): the pooled resample of replicates is the sum of their
    own resamples.

    Attributes
    ----------
    values : tuple of str
        Each group's value as text (:meth:`audits.confusion.Cells.values`).
    counts : ndarray of int64, shape (n_groups, 4)
        TP, FP, FN, TN of each group.
    resamples : ndarray of int64, shape (n_boot, n_groups, 4)
        The bootstrap counts of every resample.
    reference : int
        Position of the reference group in ``values`` (0 for overall).
    """

    values: tuple[str, ...]
    counts: np.ndarray
    resamples: np.ndarray
    reference: int = 0


@dataclass(frozen=True)
class Disparities:
    """Group metrics against reference groups, with bootstrap intervals.

    Attributes
    ----------
    table : DataFrame
        One row per grouping, group and rate (columns :data:`TABLE_COLUMNS`):
        ``n`` households in the group, ``denominator`` of the rate, ``estimate`` and
        its interval, the ``reference`` group's value, ``ratio_to_ref`` (estimate /
        reference's) and ``diff_to_ref`` (estimate - reference's) with their
        intervals, how many resamples left each undefined, and ``small_group``
        (fewer than ``min_group_size`` households).
    overall : DataFrame
        Each rate over every household, with its interval (:data:`OVERALL_COLUMNS`).
    fairness : DataFrame
        fairlearn's measures per grouping (:data:`FAIRNESS_COLUMNS`).
    seeds : dict
        The seed, the spawn key of each grouping's stream, ``n_boot`` and
        ``confidence``.
    warnings : tuple of str
        The warnings issued (also raised as :class:`AuditWarning`).
    counts : dict of str to GroupingCounts
        Per grouping label (and ``overall``), the counts and resamples behind the
        intervals, for pooling replicates (not written).
    """

    table: pd.DataFrame
    overall: pd.DataFrame
    fairness: pd.DataFrame
    seeds: dict[str, Any]
    warnings: tuple[str, ...] = field(default=())
    counts: dict[str, GroupingCounts] = field(
        default_factory=dict, compare=False, repr=False
    )


def reference_values(
    cells: Cells, reference: dict[str, Any] | None = None
) -> tuple[object, ...]:
    """The reference group of a grouping: one value per column.

    Parameters
    ----------
    cells : Cells
        Counts per cell of the grouping.
    reference : dict, optional
        Chosen reference value per column.

    Returns
    -------
    tuple
        Per column: the chosen value, else the least deprived (IMD decile 10,
        quintile 5), else the value with the most households (the first on a tie).
        These are the defaults; :func:`choose_reference` falls back from a default
        that is absent from the data.
    """
    reference = reference or {}
    n = totals(cells.counts)["n"]
    out = []
    for j, column in enumerate(cells.columns):  # over columns
        if column in reference:
            out.append(reference[column])
        elif column in LEAST_DEPRIVED:
            out.append(LEAST_DEPRIVED[column])
        else:
            sizes = np.bincount(
                cells.codes[:, j], weights=n, minlength=len(cells.levels[j])
            )
            out.append(cells.levels[j][int(np.argmax(sizes))])
    return tuple(out)


def choose_reference(
    cells: Cells, reference: dict[str, Any] | None = None
) -> tuple[int, tuple[str, ...]]:
    """The reference cell of a grouping, falling back from absent defaults.

    Columns with a chosen value (``reference``) are matched first; a chosen value
    absent from the data is an error. Every other column takes its default
    (:func:`reference_values`) if some cell matching the columns fixed so far has
    it; otherwise, with a warning message, the least deprived value present for a
    deprivation column (the highest IMD decile or quintile), else the value with the
    most households among those cells.

    Parameters
    ----------
    cells : Cells
        Counts per cell of the grouping.
    reference : dict, optional
        Chosen reference value per column.

    Returns
    -------
    ref : int
        The reference cell's position in ``cells``.
    messages : tuple of str
        One per column whose default was absent, naming the column, the default
        and the value used.

    Raises
    ------
    AuditError
        If no cell has the chosen values.
    """
    reference = reference or {}
    defaults = reference_values(cells, reference)
    n = totals(cells.counts)["n"]
    chosen = [j for j, c in enumerate(cells.columns) if c in reference]
    defaulted = [j for j, c in enumerate(cells.columns) if c not in reference]
    candidates = np.ones(len(cells.counts), dtype=bool)
    messages = []
    for j in chosen + defaulted:  # over columns: chosen first, then defaults
        column, levels = cells.columns[j], cells.levels[j]
        matches = [i for i, v in enumerate(levels) if v == defaults[j]]
        hit = candidates & (cells.codes[:, j] == (matches[0] if matches else -1))
        if hit.any():
            candidates = hit
            continue
        if j in chosen or not candidates.any():
            raise AuditError(
                _REFERENCE_ABSENT.format(
                    value=JOIN.join(str(v) for v in defaults),
                    grouping=cells.label,
                    present=cells.values(),
                )
            )
        codes = cells.codes[candidates, j]
        if column in LEAST_DEPRIVED:  # the highest decile or quintile present
            rank = pd.to_numeric(pd.Series(levels, dtype=object), errors="coerce")
            rank = rank.fillna(-np.inf).to_numpy(dtype=float)[codes]
            code, how = int(codes[np.argmax(rank)]), "least deprived"
        else:
            sizes = np.bincount(codes, weights=n[candidates], minlength=len(levels))
            code, how = int(np.argmax(sizes)), "largest group"
        candidates &= cells.codes[:, j] == code
        within = f" (grouping {cells.label!r})" if len(cells.columns) > 1 else ""
        messages.append(
            _REFERENCE_FALLBACK.format(
                default=defaults[j],
                column=column,
                within=within,
                used=levels[code],
                how=how,
            )
        )
    return int(np.flatnonzero(candidates)[0]), tuple(messages)


def _stack(metrics: dict[str, np.ndarray]) -> np.ndarray:
    """Rates as one array, metrics on the second-to-last axis."""
    return np.stack([metrics[m] for m in RATES], axis=-2)


def _vs_reference(values: np.ndarray, ref: int) -> tuple[np.ndarray, np.ndarray]:
    """Ratio and difference to the reference group (last axis is groups)."""
    base = values[..., ref : ref + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(base > 0, values / np.where(base > 0, base, 1.0), np.nan)
    return ratio, values - base


def _grouping_table(
    cells: Cells, boot: np.ndarray, reference: dict[str, Any], confidence: float
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The rows of one grouping, and any reference fallback messages."""
    ref, messages = choose_reference(cells, reference)
    sizes = totals(cells.observed())
    est = _stack(rates(cells.observed()))  # (M, G)
    boot_est = _stack(rates(boot))  # (B, M, G)
    ratio, diff = _vs_reference(est, ref)
    boot_ratio, boot_diff = _vs_reference(boot_est, ref)
    lo, hi, und = percentile_interval(boot_est, confidence)
    r_lo, r_hi, r_und = percentile_interval(boot_ratio, confidence)
    d_lo, d_hi, d_und = percentile_interval(boot_diff, confidence)
    n_metrics, n_groups = est.shape
    labels = np.asarray(cells.values(), dtype=object)
    denominators = np.stack([sizes[DENOMINATORS[m]] for m in RATES])
    is_ref = np.arange(n_groups) == ref
    dtype = _count_dtype(cells)
    table = pd.DataFrame(
        {
            "group": pd.array([cells.label] * est.size, dtype=STRING),
            "value": pd.array(np.tile(labels, n_metrics), dtype=STRING),
            "metric": pd.array(np.repeat(RATES, n_groups), dtype=STRING),
            "n": np.tile(sizes["n"], n_metrics).astype(dtype),
            "denominator": denominators.ravel().astype(dtype),
            "estimate": est.ravel(),
            "ci_low": lo.ravel(),
            "ci_high": hi.ravel(),
            "boot_undefined": und.ravel(),
            "reference": pd.array([labels[ref]] * est.size, dtype=STRING),
            "is_reference": np.tile(is_ref, n_metrics),
            "ratio_to_ref": ratio.ravel(),
            "ratio_ci_low": r_lo.ravel(),
            "ratio_ci_high": r_hi.ravel(),
            "ratio_boot_undefined": r_und.ravel(),
            "diff_to_ref": diff.ravel(),
            "diff_ci_low": d_lo.ravel(),
            "diff_ci_high": d_hi.ravel(),
            "diff_boot_undefined": d_und.ravel(),
        }
    )
    return table, messages


def _count_dtype(cells: Cells) -> type:
    """int64 for row counts, float64 for weighted counts."""
    return np.int64 if cells.weighted is None else np.float64


def _fairness_table(cells: Cells, boot: np.ndarray, confidence: float) -> pd.DataFrame:
    point = fairness(cells.observed())  # as fairlearn computes them (a test checks)
    resampled = fairness(boot)  # each (B,)
    samples = np.stack([resampled[m] for m in FAIRNESS], axis=1)  # (B, 3)
    lo, hi, und = percentile_interval(samples, confidence)
    return pd.DataFrame(
        {
            "group": pd.array([cells.label] * len(FAIRNESS), dtype=STRING),
            "measure": pd.array(list(FAIRNESS), dtype=STRING),
            "n_groups": np.full(len(FAIRNESS), len(cells.counts), dtype=np.int64),
            "estimate": [float(point[m]) for m in FAIRNESS],
            "ci_low": lo,
            "ci_high": hi,
            "boot_undefined": und,
        }
    )


def _overall_table(cells: Cells, boot: np.ndarray, confidence: float) -> pd.DataFrame:
    sizes = totals(cells.observed())
    est = _stack(rates(cells.observed()))[:, 0]
    lo, hi, und = percentile_interval(_stack(rates(boot))[..., 0], confidence)
    dtype = _count_dtype(cells)
    return pd.DataFrame(
        {
            "metric": pd.array(list(RATES), dtype=STRING),
            "n": np.full(len(RATES), sizes["n"].sum(), dtype=dtype),
            "denominator": np.array(
                [sizes[DENOMINATORS[m]].sum() for m in RATES], dtype=dtype
            ),
            "estimate": est,
            "ci_low": lo,
            "ci_high": hi,
            "boot_undefined": und,
        }
    )


def small_group_warning(table: pd.DataFrame, size: int, worlds: int = 1) -> str:
    """The warning naming every group with fewer than ``size`` households.

    Parameters
    ----------
    table : DataFrame
        A disparity table (``group``, ``value``, ``n``, ``small_group``).
    size : int
        ``audit.min_group_size``.
    worlds : int
        Replicate worlds the table pools (``n`` is then summed over them).

    Returns
    -------
    str
        Empty when no group is small. The first ten groups are named with their
        ``n``, then how many more.
    """
    small = table.loc[table["small_group"], ["group", "value", "n"]].drop_duplicates()
    if small.empty:
        return ""
    shown = [f"{g}={v} (n={n})" for g, v, n in small.itertuples(index=False)]
    more = f", and {len(shown) - 10} more" if len(shown) > 10 else ""
    pooled = f" over the {worlds} worlds pooled" if worlds > 1 else ""
    return _SMALL_GROUPS.format(
        n=len(shown), size=size, pooled=pooled, groups=", ".join(shown[:10]) + more
    )


def disparities(
    outcomes: pd.DataFrame, config: GroupAudit, seed: int, weight: str | None = None
) -> Disparities:
    """Every group's rates against its reference group, with bootstrap intervals.

    Parameters
    ----------
    outcomes : DataFrame
        One row per true household (:func:`audits.outcomes.household_outcomes`),
        or per row of a table (:mod:`audits.table`).
    config : GroupAudit
        Groupings (``group_columns`` then ``intersections``), ``reference``,
        ``n_boot``, ``confidence`` and ``min_group_size``.
    seed : int
        Seed of the bootstrap streams (non-negative).
    weight : str, optional
        A column of row weights: counts are weighted (:func:`confusion_cells`) and
        each resample's counts are its rows drawn times their cell's mean weight
        (:meth:`audits.confusion.Cells.scale`); ``small_group`` compares the
        weighted ``n`` with ``min_group_size``.

    Returns
    -------
    Disparities

    Raises
    ------
    AuditError
        If a reference group chosen in ``config.reference`` has no households.
    InputDataError
        If a column is missing or has missing values.

    Warns
    -----
    AuditWarning
        If a default reference group has no households (the least deprived group
        present, or the largest, is used instead: see :func:`choose_reference`;
        the table's ``reference`` column gives the one used), or if a group has
        fewer than ``min_group_size`` households.
    """
    sets = groupings(config.group_columns, config.intersections)
    require_columns(outcomes, ["y_true", "flagged", *config.columns()], "outcomes")
    children = np.random.SeedSequence(seed).spawn(1 + len(sets))
    n_boot, confidence = config.n_boot, config.confidence

    everyone = confusion_cells(outcomes, (), weight)
    boot = everyone.scale(
        bootstrap_counts(everyone.counts, n_boot, np.random.default_rng(children[0]))
    )
    overall = _overall_table(everyone, boot, confidence)
    kept = {
        OVERALL: GroupingCounts(tuple(everyone.values()), everyone.observed(), boot)
    }
    tables, measures, issued = [], [], []
    for columns, child in zip(sets, children[1:], strict=True):  # over groupings
        cells = confusion_cells(outcomes, columns, weight)
        boot = cells.scale(
            bootstrap_counts(cells.counts, n_boot, np.random.default_rng(child))
        )
        rows, fallbacks = _grouping_table(cells, boot, config.reference, confidence)
        values = tuple(cells.values())
        ref = values.index(str(rows["reference"].iloc[0])) if len(rows) else 0
        kept[cells.label] = GroupingCounts(values, cells.observed(), boot, ref)
        tables.append(rows)
        measures.append(_fairness_table(cells, boot, confidence))
        for message in fallbacks:
            warnings.warn(message, AuditWarning, stacklevel=2)
            issued.append(message)
    table = pd.concat(tables, ignore_index=True)
    table["small_group"] = table["n"].to_numpy() < config.min_group_size

    message = small_group_warning(table, config.min_group_size)
    if message:
        warnings.warn(message, AuditWarning, stacklevel=2)
        issued.append(message)

    seeds = {
        "seed": int(seed),
        "method": "multinomial bootstrap over (group x confusion) cells, "
        "percentile intervals",
        "n_boot": int(n_boot),
        "confidence": float(confidence),
        "streams": {
            label: list(child.spawn_key)
            for label, child in zip(
                [OVERALL, *(JOIN.join(s) for s in sets)], children, strict=True
            )
        },
    }
    return Disparities(
        table=table[list(TABLE_COLUMNS)],
        overall=overall,
        fairness=pd.concat(measures, ignore_index=True),
        seeds=seeds,
        warnings=tuple(issued),
        counts=kept,
    )


def comparison(
    table: pd.DataFrame, group: str, value: str, metric: str
) -> dict[str, Any] | None:
    """One row of a disparity table as a plain dict, or None if absent.

    Parameters
    ----------
    table : DataFrame
        :attr:`Disparities.table`.
    group, value, metric : str
        The grouping label, the group's value text and the rate.

    Returns
    -------
    dict or None
        JSON-able values (NaN as None).
    """
    rows = table[
        (table["group"] == group)
        & (table["value"] == value)
        & (table["metric"] == metric)
    ]
    if rows.empty:
        return None
    out: dict[str, Any] = {}
    for key, v in rows.iloc[0].items():
        if isinstance(v, float | np.floating):
            out[str(key)] = None if np.isnan(v) else float(v)
        elif isinstance(v, np.integer):
            out[str(key)] = int(v)
        elif isinstance(v, np.bool_):
            out[str(key)] = bool(v)
        else:
            out[str(key)] = v
    return out
