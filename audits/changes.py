"""The change of every figure between runs, with the interval of the change.

Runs of the **same world** (the same seed and population, so the same households
with the same truth) are resampled *paired*: one multinomial bootstrap draw of
households (:func:`audits.confusion.bootstrap_counts`) over the joint cells (group,
the confusion cell in each run) serves every such run, so a change is computed on the
same resampled families in each run, and its interval shows how sure the effect of the
settings is on these families. Runs of **different worlds** are resampled
independently.

A run with replicate worlds (``audit.replicates``) is pooled over them by the rule of
:mod:`audits.replicates`: its counts, and its resampled counts resample by resample,
are summed over its worlds, and every rate and change is that of the summed counts.
World *r* of one run is paired with world *r* of another when they hold the same
households. When every run has the same R > 1 worlds, each interval is widened where
the worlds' own figures (and their own changes, world by world) vary more than the
resampling explains (:func:`audits.pooled.widen`), as the audit's own are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.confusion import (
    DENOMINATORS,
    RATES,
    Cells,
    bootstrap_counts,
    confusion_cells,
    confusion_index,
    percentile_interval,
    rates,
    totals,
)
from audits.pooled import widen
from simulator.vocabulary import OVERALL

BASE_NOTE = "base"
"""The ``resampling`` of the base run's rows."""
SAME_WORLD = "paired"
"""The ``resampling`` of a run with the base's households."""
OTHER_WORLD = "independent"
"""The ``resampling`` of a run with other households."""
GAP = "_diff_to_ref"
"""Suffix of a rate's difference to the reference group (``fpr_diff_to_ref``)."""


def same_households(a: pd.DataFrame, b: pd.DataFrame, columns: Sequence[str]) -> bool:
    """Whether two runs' outcomes are the same families with the same truth and groups.

    Both sorted by ``household_id`` (as :func:`read_run` leaves them).
    """
    if len(a) != len(b):
        return False
    return all(
        a[column].reset_index(drop=True).equals(b[column].reset_index(drop=True))
        for column in ("household_id", "y_true", *columns)  # a few columns
    )


def worlds(outcomes: Sequence[pd.DataFrame], columns: Sequence[str]) -> list[int]:
    """Each run's world: the index of the first run with the same households."""
    out: list[int] = []
    for i, frame in enumerate(outcomes):
        out.append(
            next(
                (
                    w
                    for w in sorted(set(out))
                    if same_households(outcomes[w], frame, columns)
                ),
                i,
            )
        )
    return out


COMBO = "_confusion_in_other_runs"
"""A column of the joint cells: each other run's confusion cell, in base 4."""


@dataclass(frozen=True)
class WorldCounts:
    """Confusion counts of the runs of one world, observed and resampled together.

    Attributes
    ----------
    groups : list of str
        The grouping's observed groups.
    observed : ndarray of int64, shape (n_runs, n_groups, 4)
    resampled : ndarray of int64, shape (n_boot, n_runs, n_groups, 4)
        The same resampled households in every run of the world.
    """

    groups: list[str]
    observed: np.ndarray
    resampled: np.ndarray


def joint_cells(frames: Sequence[pd.DataFrame], columns: Sequence[str]) -> Cells:
    """Counts per (group cell, other runs' confusion cells) x the first run's cell.

    The runs must hold the same households in the same order
    (:func:`same_households`); with one run these are its plain confusion cells.
    """
    first = frames[0][[*columns, "y_true", "flagged"]]
    if len(frames) == 1:
        return confusion_cells(first, columns)
    combo = np.zeros(len(first), dtype=np.int64)
    for j, other in enumerate(frames[1:]):  # over runs, not rows
        combo += 4**j * confusion_index(
            other["y_true"].to_numpy(dtype=bool), other["flagged"].to_numpy(dtype=bool)
        )
    return confusion_cells(first.assign(**{COMBO: combo}), [*columns, COMBO])


def _marginal(weights: np.ndarray, target: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum weights (..., m) of joint cells into (..., n_groups, 4) by ``target``.

    ``target`` is each joint cell's (group, confusion cell) as ``4 * group + cell``;
    sorting by it makes every sum one contiguous ``np.add.reduceat`` slice.
    """
    order = np.argsort(target, kind="stable")
    sorted_target = target[order]
    starts = np.flatnonzero(np.r_[True, sorted_target[1:] != sorted_target[:-1]])
    out = np.zeros((*weights.shape[:-1], n_groups * 4), dtype=np.int64)
    if len(order):
        out[..., sorted_target[starts]] = np.add.reduceat(
            weights[..., order], starts, axis=-1
        )
    return out.reshape(*weights.shape[:-1], n_groups, 4)


def world_counts(
    frames: Sequence[pd.DataFrame],
    columns: Sequence[str],
    n_boot: int,
    rng: np.random.Generator,
) -> WorldCounts:
    """Observed and resampled counts per group of each run of one world.

    One multinomial draw over the joint cells (:func:`joint_cells`,
    :func:`audits.confusion.bootstrap_counts`) resamples households once for every
    run, so changes between these runs are paired household by household.
    """
    cells = joint_cells(frames, columns)
    g = len(columns)
    grouped = Cells(
        cells.columns[:g], cells.levels[:g], cells.codes[:, :g], cells.counts
    )
    labels = grouped.values() if columns else [OVERALL] * len(cells.counts)
    index, groups = pd.factorize(np.asarray(labels, dtype=object))
    n_groups = len(groups)
    draws = np.concatenate(
        [cells.counts[None], bootstrap_counts(cells.counts, n_boot, rng)]
    )
    first = _marginal(
        draws.reshape(len(draws), -1),
        (index[:, None] * 4 + np.arange(4)).ravel(),
        n_groups,
    )
    per_run = [first]
    if len(frames) > 1:
        combo = np.asarray(cells.levels[-1], dtype=np.int64)[cells.codes[:, -1]]
        households = draws.sum(axis=-1)
        per_run += [
            _marginal(households, index * 4 + (combo // 4**j) % 4, n_groups)
            for j in range(len(frames) - 1)
        ]
    stacked = np.stack(per_run, axis=1)
    return WorldCounts([str(x) for x in groups], stacked[0], stacked[1:])


def _align(
    parts: Sequence[tuple[list[int], WorldCounts]], n_runs: int, n_boot: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Every world's counts on the union of groups (base world's order first)."""
    groups = list(dict.fromkeys(g for _, w in parts for g in w.groups))
    observed = np.zeros((n_runs, len(groups), 4), dtype=np.int64)
    resampled = np.zeros((n_boot, n_runs, len(groups), 4), dtype=np.int64)
    for members, w in parts:  # over worlds
        pos = np.asarray([groups.index(g) for g in w.groups], dtype=np.int64)
        rows = np.asarray(members)
        observed[np.ix_(rows, pos)] = w.observed
        resampled[:, rows[:, None], pos[None, :]] = w.resampled
    return groups, observed, resampled


def stack_worlds(
    runs: Sequence[Sequence[pd.DataFrame]],
) -> tuple[list[pd.DataFrame], list[int]]:
    """Every world of every run in one list, and the run of each.

    Each run's world 0 first (in run order), then each run's other worlds: the
    ``outcomes`` and ``run_of`` of :func:`grouping_changes`.
    """
    units = [worlds_[0] for worlds_ in runs]
    run_of = list(range(len(runs)))
    for i, worlds_ in enumerate(runs):  # over runs
        units += list(worlds_[1:])
        run_of += [i] * (len(worlds_) - 1)
    return units, run_of


def _by_run(
    run_of: Sequence[int], n_runs: int, observed: np.ndarray, resampled: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Sum the worlds' counts of each run; each world's own counts as (R, runs, ...).

    ``observed`` is (worlds, groups, 4) and ``resampled`` (B, worlds, groups, 4), a
    world being one replicate of one run. The third result is None unless every run
    has the same number R > 1 of worlds (the spread between worlds is then known).
    """
    run_of = np.asarray(run_of, dtype=np.int64)
    member = (run_of[None, :] == np.arange(n_runs)[:, None]).astype(np.int64)
    summed = np.einsum("ru,ugc->rgc", member, observed)
    summed_boot = np.einsum("ru,bugc->brgc", member, resampled)
    sizes = member.sum(axis=1)
    if sizes.min() < 2 or sizes.min() != sizes.max():
        return summed, summed_boot, None
    order = np.argsort(run_of, kind="stable").reshape(n_runs, -1)  # (runs, R)
    return summed, summed_boot, observed[order.T]


def grouping_changes(
    outcomes: Sequence[pd.DataFrame],
    labels: Sequence[str],
    columns: Sequence[str],
    world_of: Sequence[int],
    *,
    n_boot: int,
    confidence: float,
    rng: np.random.Generator,
    reference: str | None = None,
    run_of: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Every rate per group of one grouping in each run, and its change from run 0.

    Parameters
    ----------
    outcomes : sequence of DataFrame
        Each run's household outcomes, sorted by ``household_id``; with
        ``run_of``, each world of each run (replicate 0 of every run first).
    labels : sequence of str
        The runs' names.
    columns : sequence of str
        The grouping's columns; empty for every family together.
    world_of : sequence of int
        Each entry's world (:func:`worlds`): entries of one world are resampled
        together.
    n_boot : int
        Resamples (0: no intervals).
    confidence : float
        Coverage of the percentile intervals.
    rng : numpy.random.Generator
    reference : str, optional
        The grouping's reference group: each rate's difference to it (metric
        ``<rate>_diff_to_ref``, the gap between groups) is compared as well, for
        every other group.
    run_of : sequence of int, optional
        The run of each entry of ``outcomes``: a run's figures are pooled over its
        entries (its replicate worlds). Default: one entry per run.

    Returns
    -------
    DataFrame
        One row per run x metric x group: ``run``, ``group``, ``metric``, ``n``,
        ``denominator``, ``estimate``, ``ci_low``, ``ci_high``, ``boot_undefined``,
        ``change`` (minus run 0's estimate; NaN for run 0), ``change_ci_low``,
        ``change_ci_high``, ``change_boot_undefined`` (resamples where either rate
        is undefined) and ``resampling`` (``base``, ``paired`` or ``independent``).
    """
    run_of = list(range(len(outcomes))) if run_of is None else list(run_of)
    members = {w: [i for i, x in enumerate(world_of) if x == w] for w in world_of}
    parts = [
        (m, world_counts([outcomes[i] for i in m], columns, n_boot, rng))
        for m in members.values()
    ]
    groups, observed, resampled = _align(parts, len(outcomes), n_boot)
    observed, resampled, own = _by_run(run_of, len(labels), observed, resampled)
    point, boot, size = rates(observed), rates(resampled), totals(observed)
    per_world = None if own is None else rates(own)
    first = [run_of.index(i) for i in range(len(labels))]  # each run's world 0
    kinds = [
        BASE_NOTE if i == 0 else SAME_WORLD if w == world_of[0] else OTHER_WORLD
        for i, w in enumerate(world_of[j] for j in first)
    ]
    frame = _Rows(labels, groups, kinds, size["n"], confidence)
    frames = [
        frame(
            metric,
            point[metric],
            boot[metric],
            size[DENOMINATORS[metric]],
            None if per_world is None else per_world[metric],
        )
        for metric in RATES  # six metrics, each over every run and group at once
    ]
    if reference in groups:
        r = groups.index(reference)
        others = np.repeat(np.arange(len(groups)) != r, len(labels))

        def gap(x: np.ndarray) -> np.ndarray:
            return x - x[..., r : r + 1]

        frames += [
            frame(
                f"{metric}{GAP}",
                gap(point[metric]),
                gap(boot[metric]),
                size[DENOMINATORS[metric]],
                None if per_world is None else gap(per_world[metric]),
            )[others]
            for metric in RATES
        ]
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class _Rows:
    """Builds the rows of one figure: each run's estimate and change, per group."""

    labels: Sequence[str]
    groups: Sequence[str]
    kinds: Sequence[str]
    n: np.ndarray
    confidence: float

    def __call__(
        self,
        metric: str,
        point: np.ndarray,
        boot: np.ndarray,
        denominator: np.ndarray,
        per_world: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """Rows in (group, run) order, so each run's row sits beside the base's.

        ``point`` and ``denominator`` have shape (runs, groups), ``boot`` (resamples,
        runs, groups), ``per_world`` (worlds, runs, groups): each world's own figure,
        to widen the intervals where worlds vary more than resampling explains.
        """
        k, n_groups = len(self.labels), len(self.groups)

        def rows(values: np.ndarray) -> np.ndarray:  # (..., k, n_groups) to rows
            return np.swapaxes(values, -1, -2).reshape(*values.shape[:-2], -1)

        low, high, undefined = percentile_interval(boot, self.confidence)
        change, boot_change = point - point[:1], boot - boot[:, :1]
        c_low, c_high, c_undefined = percentile_interval(boot_change, self.confidence)
        if per_world is not None:  # between worlds, as audits.pooled does
            low, high, _ = widen(point, low, high, boot, per_world)
            world_change = per_world - per_world[:, :1]
            c_low, c_high, _ = widen(change, c_low, c_high, boot_change, world_change)
            if metric in RATES:
                low = np.clip(low, 0.0, None)
        base = np.tile(np.arange(k) == 0, n_groups)
        return pd.DataFrame(
            {
                "run": np.tile(np.asarray(self.labels, dtype=object), n_groups),
                "group": np.repeat(np.asarray(self.groups, dtype=object), k),
                "metric": metric,
                "n": rows(self.n),
                "denominator": rows(denominator),
                "estimate": rows(point),
                "ci_low": rows(low),
                "ci_high": rows(high),
                "boot_undefined": rows(undefined),
                "change": np.where(base, np.nan, rows(change)),
                "change_ci_low": np.where(base, np.nan, rows(c_low)),
                "change_ci_high": np.where(base, np.nan, rows(c_high)),
                "change_boot_undefined": np.where(base, 0, rows(c_undefined)),
                "resampling": np.tile(np.asarray(self.kinds, dtype=object), n_groups),
            }
        )


def side_by_side(
    tables: Sequence[pd.DataFrame | None],
    labels: Sequence[str],
    keys: Sequence[str],
    metrics: Sequence[str],
) -> pd.DataFrame:
    """A table of each run in long form, with each figure's change from run 0's.

    Parameters
    ----------
    tables : sequence of DataFrame or None
        One per run; None where the run lacks the table (left out).
    labels : sequence of str
        The runs' names.
    keys : sequence of str
        The columns that identify a row (those absent from a table are left out).
    metrics : sequence of str
        The columns compared (those present).

    Returns
    -------
    DataFrame
        ``run``, the keys, ``metric``, ``estimate`` and ``change`` (NaN for run 0,
        and where run 0 has no such row).
    """
    long = []
    for table, label in zip(tables, labels, strict=True):  # over runs
        if table is None:
            continue
        ids = [k for k in keys if k in table.columns]
        values = [m for m in metrics if m in table.columns]
        part = table.melt(
            id_vars=ids, value_vars=values, var_name="metric", value_name="estimate"
        )
        long.append(part.assign(run=label, estimate=part["estimate"].astype(float)))
    if not long:
        return pd.DataFrame(columns=["run", *keys, "metric", "estimate", "change"])
    frame = pd.concat(long, ignore_index=True)
    ids = [k for k in keys if k in frame.columns]
    # Each row beside the same row of the other runs, in run order.
    frame["_row"] = frame.groupby([*ids, "metric"], sort=False, dropna=False).ngroup()
    frame["_run"] = frame["run"].map({label: i for i, label in enumerate(labels)})
    frame = frame.sort_values(["_row", "_run"], kind="stable", ignore_index=True)
    frame = frame.drop(columns=["_row", "_run"])
    if tables[0] is None:
        return frame.assign(change=np.nan)
    base = long[0][[*ids, "metric", "estimate"]].rename(columns={"estimate": "base"})
    frame = frame.merge(base, on=[*ids, "metric"], how="left", sort=False)
    change = frame["estimate"] - frame["base"]
    return frame.drop(columns="base").assign(
        change=change.where(frame["run"] != labels[0])
    )
