"""Pooling replicate runs: the mean and spread of each figure across seeds.

A scenario can ask for ``audit.replicates`` runs with different seeds (the pipeline
runs them). The bootstrap interval of one run says how much a figure would move if
the same world's households were sampled again; the spread across replicates says how
much it moves when the whole world (population, records, errors, linkage) is drawn
again. :func:`pool_replicates` reports, per figure, the number of replicates where it
is defined, its mean, standard deviation (``ddof=1``; NaN for one replicate), minimum
and maximum, and the mean of the replicates' interval bounds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from audits.confusion import RATES
from audits.errors import AuditError
from audits.metrics import COUNT_COLUMNS
from audits.result import AuditResult

SPREAD = ("replicates", "mean", "sd", "min", "max")
"""Columns of the spread of one figure across replicates."""
_NO_RESULTS = "pool_replicates needs at least one audit result, got none"
_MIXED_AUDITS = (
    "replicates must share one audit configuration (target, groupings, n_boot, "
    "confidence); result {index} differs from result 0"
)


def _spread(frame: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    grouped = frame.groupby(keys, sort=False, observed=True)[column]
    out = grouped.agg(["count", "mean", "std", "min", "max"])
    out.columns = list(SPREAD)
    return out


def _stack(
    results: Sequence[AuditResult], pick: Callable[[AuditResult], pd.DataFrame]
) -> pd.DataFrame:
    parts = [pick(r).assign(replicate=i) for i, r in enumerate(results)]
    return pd.concat(parts, ignore_index=True)


def _check(results: Sequence[AuditResult]) -> None:
    if not results:
        raise AuditError(_NO_RESULTS)

    def key(r: AuditResult) -> tuple:
        c = r.config
        return (c.target, c.group_columns, c.intersections, c.n_boot, c.confidence)

    first = key(results[0])
    for i, r in enumerate(results[1:], start=1):
        if key(r) != first:
            raise AuditError(_MIXED_AUDITS.format(index=i))


def pool_replicates(results: Sequence[AuditResult]) -> dict[str, pd.DataFrame]:
    """The mean and spread across replicate runs of every audit figure.

    Parameters
    ----------
    results : sequence of AuditResult
        One audit per replicate run, all with the same audit configuration.

    Returns
    -------
    dict of str to DataFrame
        ``metrics``: per ``group``, ``value`` (``overall``/``all`` included) and
        ``metric`` (counts and rates), the spread columns :data:`SPREAD`.
        ``disparities``: per ``group``, ``value``, ``metric``, ``reference`` and
        ``statistic`` (``estimate``, ``ratio_to_ref``, ``diff_to_ref``), the spread
        plus ``mean_ci_low`` and ``mean_ci_high``. ``fairness``: per ``group`` and
        ``measure``, the same. ``seeds``: each replicate's seeds.

    Raises
    ------
    AuditError
        If ``results`` is empty or the configurations differ.
    """
    _check(results)
    metrics = _stack(
        results,
        lambda r: pd.concat([r.metrics.overall, r.metrics.by_group], ignore_index=True),
    ).melt(
        id_vars=["group", "value", "replicate"],
        value_vars=[*COUNT_COLUMNS, *RATES],
        var_name="metric",
        value_name="figure",
    )
    pooled_metrics = _spread(metrics, ["group", "value", "metric"], "figure")

    keys = ["group", "value", "metric", "reference"]
    table = _stack(results, lambda r: r.disparities.table)
    parts = []
    for statistic, low, high in (
        ("estimate", "ci_low", "ci_high"),
        ("ratio_to_ref", "ratio_ci_low", "ratio_ci_high"),
        ("diff_to_ref", "diff_ci_low", "diff_ci_high"),
    ):  # over the three statistics
        spread = _spread(table, keys, statistic)
        bounds = table.groupby(keys, sort=False, observed=True)[[low, high]].mean()
        bounds.columns = ["mean_ci_low", "mean_ci_high"]
        parts.append(spread.join(bounds).assign(statistic=statistic).reset_index())
    pooled_disparities = pd.concat(parts, ignore_index=True)
    pooled_disparities = pooled_disparities[
        [*keys, "statistic", *SPREAD, "mean_ci_low", "mean_ci_high"]
    ]

    fair = _stack(results, lambda r: r.disparities.fairness)
    fkeys = ["group", "measure"]
    bounds = fair.groupby(fkeys, sort=False, observed=True)[
        ["ci_low", "ci_high"]
    ].mean()
    bounds.columns = ["mean_ci_low", "mean_ci_high"]
    pooled_fairness = _spread(fair, fkeys, "estimate").join(bounds).reset_index()

    seeds = pd.DataFrame(
        {
            "replicate": np.arange(len(results), dtype=np.int64),
            "audit_seed": [r.seed for r in results],
            "scenario_seed": [
                (r.scenario or {}).get("seed", r.seeds.get("scenario")) for r in results
            ],
        }
    )
    return {
        "metrics": pooled_metrics.reset_index(),
        "disparities": pooled_disparities,
        "fairness": pooled_fairness,
        "seeds": seeds,
    }
