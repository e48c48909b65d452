"""The per-period figures of a run over periods, for ``benchmarks.expectations``.

A library file with ``dynamics.periods`` > 1 (feedback-loop, deterrence) quotes
figures from ``periods/``: what happened to families in each period
(``periods/families``) and the audit's rates by deprivation in each period
(``periods/metrics_by_group``). Their counts join the script's long table with
the period in ``part`` (``period 1``, ``period 2``, ...), so they are summed over
worlds, summarised and pooled like every other count; :func:`period_rates` makes
their rates. A run with one period adds nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from audits.confusion import CONFUSION
from audits.periods import FAMILY_COUNTS, FEEDBACK_COUNTS

PERIOD_COUNTS = (*FAMILY_COUNTS, *FEEDBACK_COUNTS)
"""The counts of ``periods/families`` collected (those the run wrote)."""
PERIOD_GROUPS = ("overall", "imd_quintile")
"""The groupings collected per period (the library's headlines are by deprivation)."""


def _part(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the collected groupings, with the period as ``part``."""
    frame = frame[frame["group"].isin(PERIOD_GROUPS)].copy()
    frame["part"] = "period " + frame["period"].astype(str)
    return frame


def _melt(frame: pd.DataFrame, table: str, names: list[str]) -> pd.DataFrame:
    out = frame.melt(["group", "value", "part"], names, "name", "count")
    out.insert(0, "table", table)
    return out


def period_counts(run: Path) -> list[pd.DataFrame]:
    """Long counts (table, group, value, part, name, count) of a run's periods.

    Table ``periods``: :data:`PERIOD_COUNTS` of ``periods/families``; table
    ``periods_audit``: the confusion counts and flags of
    ``periods/metrics_by_group``. Empty for a run without ``periods/``.
    """
    directory = run / "periods"
    if not (directory / "families.csv").exists():
        return []
    families = _part(pd.read_csv(directory / "families.csv", dtype={"value": str}))
    metrics = pd.read_csv(directory / "metrics_by_group.csv", dtype={"value": str})
    metrics = _part(metrics)
    metrics["flagged"] = metrics["tp"] + metrics["fp"]
    names = [c for c in PERIOD_COUNTS if c in families]
    return [
        _melt(families, "periods", names),
        _melt(metrics, "periods_audit", [*CONFUSION, "flagged"]),
    ]


def period_rates(counts: pd.DataFrame) -> pd.DataFrame:
    """Rates of (summed) period counts: KEY, name and rate.

    Per period and deprivation group: ``fpr``, ``tpr``, ``selection_rate`` (share of
    the group flagged) and ``share_of_flags`` (the group's flags over every
    group's). Per period, overall and by group: ``needs_recorded_share`` (true
    needs that left a record) and ``missed_share`` (families in need a flag did not
    reach).
    """
    key = ["table", "group", "value", "part"]
    rows = counts[counts["table"].isin(["periods", "periods_audit"])]
    if rows.empty:
        return pd.DataFrame(columns=[*key, "name", "rate"])
    wide = rows.pivot_table(index=key, columns="name", values="count", aggfunc="sum")
    audit = wide[wide.index.get_level_values("table") == "periods_audit"]
    families = wide[wide.index.get_level_values("table") == "periods"]
    n = audit[list(CONFUSION)].sum(axis=1)
    by_part = audit.groupby(level=["group", "part"])["flagged"].transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        found = {
            "fpr": audit["fp"] / (audit["fp"] + audit["tn"]),
            "tpr": audit["tp"] / (audit["tp"] + audit["fn"]),
            "selection_rate": audit["flagged"] / n,
            "share_of_flags": audit["flagged"] / by_part,
        }
        if not families.empty:
            recorded = families["needs_recorded"] / families["true_needs"]
            found["needs_recorded_share"] = recorded
            found["missed_share"] = families["needs_missed"] / families["in_need"]
    parts = [
        rate.rename("rate").reset_index().assign(name=name)
        for name, rate in found.items()
    ]
    return pd.concat(parts, ignore_index=True)[[*key, "name", "rate"]]
