"""The audit's own tables pooled over its replicate worlds: what a run writes and shows.

With ``audit.replicates`` R > 1 a run has R independent worlds, and a reader should see
the range of worlds, not one world's draw. :func:`pooled_audit` gives the audit with
every table (``metrics_overall``, ``metrics_by_group``, ``rates_overall``,
``disparities``, ``fairness``) pooled over the worlds, by the one pooling rule of
:mod:`audits.replicates` and the intervals of :mod:`audits.pooled`:

- counts (``n``, ``tp``, ...) are summed over the worlds, and every rate, ratio and
  difference is that of the summed counts;
- intervals cover the resampling of families within each world and the variation
  between worlds (:func:`audits.pooled.pool`; ``widened`` says where the second
  widened the first);
- the spread between worlds is each figure's smallest and largest value in a single
  world (``estimate_min``, ``estimate_max``; ``ratio_min`` ... ``diff_max``), with
  ``replicates``, the number of worlds that have the group;
- a group is small (``small_group``, and the one warning naming it) when its
  families summed over the worlds are fewer than ``audit.min_group_size``.

With one world the audit is returned unchanged, so a run without replicates writes
exactly what it always did. Column meanings: docs/audit.md, "Replicates in the main
tables".
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from audits.confusion import FAIRNESS, RATES, fairness, percentile_interval
from audits.disparity import (
    FAIRNESS_COLUMNS,
    OVERALL_COLUMNS,
    TABLE_COLUMNS,
    GroupingCounts,
    small_group_warning,
)
from audits.metrics import AuditMetrics, count_table
from audits.pooled import Pooled, align, pool, widen
from audits.result import AuditResult
from simulator.frames import STRING
from simulator.vocabulary import OVERALL

WORLD_COLUMNS = ("replicates", "estimate_min", "estimate_max", "widened")
"""Columns a pooled rate table adds: worlds with the group, each world's smallest and
largest figure, and whether the between-world part widened the interval."""
VERSUS_WORLD_COLUMNS = ("ratio_min", "ratio_max", "diff_min", "diff_max")
"""Columns the pooled disparity table adds after :data:`WORLD_COLUMNS`: the spread of
each world's own ratio and difference to the reference group."""


def _present(observed: np.ndarray) -> np.ndarray:
    """Worlds that have each group: (R, G, 4) counts to (G,) int64."""
    return (observed.sum(axis=-1) > 0).sum(axis=0).astype(np.int64)


def _spread(per_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest defined value over the worlds (leading axis)."""
    return np.fmin.reduce(per_world, axis=0), np.fmax.reduce(per_world, axis=0)


def _grouping_table(
    label: str, parts: Sequence[GroupingCounts], p: Pooled, min_group_size: int
) -> pd.DataFrame:
    """One grouping's pooled disparity rows (:data:`TABLE_COLUMNS` and spreads)."""
    _, observed, _, _ = align(parts)
    n_metrics, n_groups = p.estimate.shape
    labels = np.asarray(p.values, dtype=object)
    n = observed.sum(axis=(0, 2))
    is_ref = np.arange(n_groups) == p.reference

    def tile(x: np.ndarray) -> np.ndarray:
        return np.tile(x, n_metrics)

    est_lo, est_hi = _spread(p.per_replicate_estimate)
    ratio_lo, ratio_hi = _spread(p.per_replicate_ratio)
    diff_lo, diff_hi = _spread(p.per_replicate_diff)
    table = pd.DataFrame(
        {
            "group": pd.array([label] * p.estimate.size, dtype=STRING),
            "value": pd.array(tile(labels), dtype=STRING),
            "metric": pd.array(np.repeat(RATES, n_groups), dtype=STRING),
            "n": tile(n).astype(np.int64),
            "denominator": p.denominator.ravel(),
            "estimate": p.estimate.ravel(),
            "ci_low": p.ci_low.ravel(),
            "ci_high": p.ci_high.ravel(),
            "boot_undefined": p.boot_undefined.ravel(),
            "reference": pd.array(tile(labels[[p.reference] * n_groups]), dtype=STRING),
            "is_reference": tile(is_ref),
            "ratio_to_ref": p.ratio.ravel(),
            "ratio_ci_low": p.ratio_ci_low.ravel(),
            "ratio_ci_high": p.ratio_ci_high.ravel(),
            "ratio_boot_undefined": p.ratio_undefined.ravel(),
            "diff_to_ref": p.diff.ravel(),
            "diff_ci_low": p.diff_ci_low.ravel(),
            "diff_ci_high": p.diff_ci_high.ravel(),
            "diff_boot_undefined": p.diff_undefined.ravel(),
            "small_group": tile(n < min_group_size),
            "replicates": tile(_present(observed)),
            "estimate_min": est_lo.ravel(),
            "estimate_max": est_hi.ravel(),
            "widened": p.widened.any(axis=0).ravel(),
            "ratio_min": ratio_lo.ravel(),
            "ratio_max": ratio_hi.ravel(),
            "diff_min": diff_lo.ravel(),
            "diff_max": diff_hi.ravel(),
        }
    )
    return table[[*TABLE_COLUMNS, *WORLD_COLUMNS, *VERSUS_WORLD_COLUMNS]]


def _overall_table(parts: Sequence[GroupingCounts], p: Pooled) -> pd.DataFrame:
    """The overall rates pooled (:data:`OVERALL_COLUMNS` and :data:`WORLD_COLUMNS`)."""
    _, observed, _, _ = align(parts)
    low, high = _spread(p.per_replicate_estimate[..., 0])
    return pd.DataFrame(
        {
            "metric": pd.array(list(RATES), dtype=STRING),
            "n": np.full(len(RATES), int(observed.sum()), dtype=np.int64),
            "denominator": p.denominator[:, 0],
            "estimate": p.estimate[:, 0],
            "ci_low": p.ci_low[:, 0],
            "ci_high": p.ci_high[:, 0],
            "boot_undefined": p.boot_undefined[:, 0],
            "replicates": np.full(len(RATES), len(parts), dtype=np.int64),
            "estimate_min": low,
            "estimate_max": high,
            "widened": p.widened[0, :, 0],
        }
    )[[*OVERALL_COLUMNS, *WORLD_COLUMNS]]


def _fairness_table(
    label: str, parts: Sequence[GroupingCounts], confidence: float
) -> pd.DataFrame:
    """The fairness measures of the summed counts, with intervals across worlds."""
    _, observed, resampled, _ = align(parts)
    summed = observed.sum(axis=0)

    def stacked(counts: np.ndarray) -> np.ndarray:
        measures = fairness(counts)
        return np.stack([measures[m] for m in FAIRNESS], axis=-1)

    point, boot, per_world = (
        stacked(summed),
        stacked(resampled.sum(axis=0)),
        stacked(observed),
    )
    low, high, undefined = percentile_interval(boot, confidence)
    low, high, widened = widen(point, low, high, boot, per_world)
    world_lo, world_hi = _spread(per_world)
    k = len(FAIRNESS)
    return pd.DataFrame(
        {
            "group": pd.array([label] * k, dtype=STRING),
            "measure": pd.array(list(FAIRNESS), dtype=STRING),
            "n_groups": np.full(k, int((summed.sum(axis=-1) > 0).sum()), np.int64),
            "estimate": point,
            "ci_low": np.clip(low, 0.0, 1.0),
            "ci_high": np.clip(high, 0.0, 1.0),
            "boot_undefined": undefined,
            "replicates": np.full(k, len(parts), dtype=np.int64),
            "estimate_min": world_lo,
            "estimate_max": world_hi,
            "widened": widened,
        }
    )[[*FAIRNESS_COLUMNS, *WORLD_COLUMNS]]


def _metrics_table(label: str, parts: Sequence[GroupingCounts]) -> pd.DataFrame:
    """The summed counts and their rates (:data:`audits.metrics.COLUMNS`, worlds)."""
    values, observed, _, _ = align(parts)
    table = count_table(observed.sum(axis=0), label, values)
    table["replicates"] = _present(observed)
    return table


class _LastPooled:
    """The last audit pooled and its pooled audit (a one-entry cache by identity).

    A run's writing asks for the same pooled audit about a dozen times (the audit's
    files, the transparency record, each section of the report), and pooling costs
    as much as the rest of the tables. The audit is held by a weak reference, so a
    new audit at a reused address is not mistaken for it, and the pooled audit (which
    shares the worlds' outcomes) is dropped when the audit goes; an
    :class:`AuditResult` is frozen, so its pooled tables cannot go stale.
    """

    audit: weakref.ref[AuditResult] | None = None
    pooled: AuditResult | None = None

    @classmethod
    def get(cls, result: AuditResult) -> AuditResult | None:
        """The pooled audit of ``result`` if it was the last one pooled."""
        held = cls.audit() if cls.audit is not None else None
        return cls.pooled if held is result else None

    @classmethod
    def put(cls, result: AuditResult, pooled: AuditResult) -> None:
        """Remember ``pooled`` as the pooled audit of ``result``."""
        cls.audit, cls.pooled = weakref.ref(result, cls._forget), pooled

    @classmethod
    def _forget(cls, gone: weakref.ref[AuditResult]) -> None:
        if cls.audit is gone:
            cls.audit, cls.pooled = None, None


def pooled_audit(result: AuditResult) -> AuditResult:
    """The audit with every table pooled over its replicate worlds.

    Parameters
    ----------
    result : AuditResult
        Replicate 0, with the other worlds' audits in ``replicates``.

    Returns
    -------
    AuditResult
        ``result`` itself when it has one world. Otherwise ``metrics`` and the
        ``table``, ``overall``, ``fairness`` and ``warnings`` of ``disparities`` are
        pooled over the worlds (see the module docstring; each table gains
        :data:`WORLD_COLUMNS`, the disparity table :data:`VERSUS_WORLD_COLUMNS` too);
        ``counts``, ``seeds``, ``outcomes`` and ``replicates`` stay replicate 0's, so
        the headline (:func:`audits.headline.headline` of ``worlds``) pools the same
        worlds, and pooling again gives the same tables. Asked again for the same
        ``result``, the same object (callers must not change its tables).
    """
    if not result.replicates:
        return result
    cached = _LastPooled.get(result)
    if cached is None:
        cached = _pool_audit(result)
        _LastPooled.put(result, cached)
    return cached


def _pool_audit(result: AuditResult) -> AuditResult:
    """:func:`pooled_audit` of an audit with replicate worlds, computed."""
    config, worlds = result.config, result.worlds
    confidence = float(config.confidence)
    kept = [w.disparities.counts for w in worlds]
    by_label = {  # overall, then every grouping
        label: [c[label] for c in kept if label in c] for label in kept[0]
    }
    pooled = {label: pool(parts, confidence) for label, parts in by_label.items()}
    groupings = [label for label in by_label if label != OVERALL]
    table = pd.concat(
        [
            _grouping_table(g, by_label[g], pooled[g], config.min_group_size)
            for g in groupings
        ],
        ignore_index=True,
    )
    metrics = AuditMetrics(
        overall=_metrics_table(OVERALL, by_label[OVERALL]),
        by_group=pd.concat(
            [_metrics_table(g, by_label[g]) for g in groupings], ignore_index=True
        ),
    )
    own = small_group_warning(result.disparities.table, config.min_group_size)
    small = small_group_warning(table, config.min_group_size, len(worlds))
    messages = [m for m in result.disparities.warnings if m not in (own, small)]
    disparities = replace(
        result.disparities,
        table=table,
        overall=_overall_table(by_label[OVERALL], pooled[OVERALL]),
        fairness=pd.concat(
            [_fairness_table(g, by_label[g], confidence) for g in groupings],
            ignore_index=True,
        ),
        warnings=(*messages, *([small] if small else [])),
    )
    return replace(result, metrics=metrics, disparities=disparities)
