"""The audit of a run over periods: one row per period and group, as tidy tables.

``periods/metrics_by_group``
    The audit's confusion counts and rates (:func:`audits.metrics.audit_metrics`),
    overall and by group, for each period; period 1's rows are the single run's
    ``audit/metrics_overall`` and ``audit/metrics_by_group``.
``periods/families``
    What happened to the families, overall and by each group column: families in
    need whom a flag reached (``needs_met``) or did not (``needs_missed``), true
    needs and those that reached any record, families deterred (by their own flag,
    or only by their neighbours'), records per family,
    flags carried over from the period before, needs that resolved (on their own
    or with support) or arose on the way into the period, and families flagged only
    because the council's past flags counted (``dynamics.history``). With the
    feedback's attribution (:mod:`simulator.pipeline.periods`),
    :data:`FEEDBACK_COUNTS` follow: wrong flags and missed families present with
    feedback and absent in the same period run without it (docs/audit.md).

Reads the truth (it is the audit side); :mod:`simulator.pipeline.periods` makes the
facts each period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.metrics import audit_metrics
from simulator.frames import STRING
from simulator.schema.audit import GroupAudit
from simulator.vocabulary import NEEDS, OVERALL

METRICS = "periods/metrics_by_group"
FAMILIES = "periods/families"

FAMILY_COUNTS = (
    "flagged",
    "in_need",
    "needs_met",
    "needs_missed",
    "true_needs",
    "needs_recorded",
    "deterred",
    "neighbours_deterred",
    "records",
    "need_records",
    "flags_carried_over",
    "needs_resolved",
    "needs_resolved_by_support",
    "needs_arisen",
    "flagged_by_history",
)
"""The summed columns of ``periods/families``, after ``period``, ``group``,
``value`` and ``n`` (families); ``records_per_family`` follows them."""
FEEDBACK_COUNTS = (
    "wrongly_flagged",
    "wrongly_flagged_by_feedback",
    "missed_by_feedback",
)
"""The columns the feedback's attribution adds after ``records_per_family``:
families wrongly flagged, those wrongly flagged only because of feedback (not
flagged in the same period run without it), and families in need missed only
because of it (flagged without it)."""


@dataclass(frozen=True)
class PeriodFacts:
    """One period's families, one entry per true household in the truth's order.

    Attributes
    ----------
    period : int
        1, 2, ...
    outcomes : DataFrame
        The period's household outcomes (:func:`audits.outcomes.household_outcomes`).
    sources : mapping of str to DataFrame
        The period's agency records (with the hidden ``true_*`` columns).
    flagged_before : ndarray of bool
        Whether a flag reached the family in the period before.
    deterred : ndarray of bool
        Whether a flag of its own deters it from seeking help this period.
    neighbours : ndarray of bool
        Whether flags of other families in its area deter it (and none of its own).
    resolved, supported, arisen : ndarray of int
        Needs that resolved on their own, resolved with support, or arose on the
        way into this period (zeros in period 1).
    by_history : ndarray of bool
        Whether a flag reached the family only because the council's past flags
        counted in its score (``dynamics.history``).
    unfed : ndarray of bool or None
        Whether a flag would reach the family in the same period run without
        feedback (None: not asked for).
    """

    period: int
    outcomes: pd.DataFrame
    sources: Mapping[str, pd.DataFrame]
    flagged_before: np.ndarray
    deterred: np.ndarray
    neighbours: np.ndarray
    resolved: np.ndarray
    supported: np.ndarray
    arisen: np.ndarray
    by_history: np.ndarray
    unfed: np.ndarray | None = None


def period_metrics(outcomes: pd.DataFrame, config: GroupAudit, period: int):
    """The audit's metric table of one period: overall, then by group.

    Returns
    -------
    DataFrame
        ``period`` then the columns of :data:`audits.metrics.COLUMNS`.
    """
    m = audit_metrics(
        outcomes,
        group_columns=config.group_columns,
        intersections=config.intersections,
    )
    table = pd.concat([m.overall, m.by_group], ignore_index=True)
    table.insert(0, "period", np.int64(period))
    return table


def record_counts(
    sources: Mapping[str, pd.DataFrame], household_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per household: records, records left by a true need, true needs recorded.

    ``household_ids`` must be sorted (the truth's order). A need is recorded if at
    least one source holds a record it left (harm's follow-up referrals are not a
    need).
    """
    n = len(household_ids)
    frames = [
        f[["true_household_id", "true_need", "true_from_need"]]
        for f in sources.values()
    ]
    if not frames:
        zeros = np.zeros(n, np.int64)
        return zeros, zeros, zeros
    rows = pd.concat(frames, ignore_index=True)
    pos = np.searchsorted(household_ids, rows["true_household_id"].to_numpy())
    from_need = rows["true_from_need"].to_numpy(dtype=bool)
    records = np.bincount(pos, minlength=n)
    need_records = np.bincount(pos, weights=from_need, minlength=n).astype(np.int64)
    is_need = from_need & rows["true_need"].isin(NEEDS).to_numpy()
    pairs = pd.DataFrame({"pos": pos[is_need], "need": rows["true_need"][is_need]})
    distinct = pairs.drop_duplicates()["pos"].to_numpy()
    recorded = np.bincount(distinct, minlength=n)
    return records.astype(np.int64), need_records, recorded.astype(np.int64)


def family_rows(facts: PeriodFacts) -> pd.DataFrame:
    """One row per true household of a period: its group columns and 0/1 counts."""
    o = facts.outcomes
    flagged = o["flagged"].to_numpy(dtype=bool)
    in_need = o["y_true"].to_numpy(dtype=bool)
    records, need_records, recorded = record_counts(
        facts.sources, o["household_id"].to_numpy()
    )
    counts = {
        "flagged": flagged,
        "in_need": in_need,
        "needs_met": in_need & flagged,
        "needs_missed": in_need & ~flagged,
        "true_needs": o["n_needs"].to_numpy(),
        "needs_recorded": recorded,
        "deterred": facts.deterred,
        "neighbours_deterred": facts.neighbours,
        "records": records,
        "need_records": need_records,
        "flags_carried_over": flagged & facts.flagged_before,
        "needs_resolved": facts.resolved,
        "needs_resolved_by_support": facts.supported,
        "needs_arisen": facts.arisen,
        "flagged_by_history": facts.by_history,
    }
    if facts.unfed is not None:
        unfed = np.asarray(facts.unfed, bool)
        counts["wrongly_flagged"] = flagged & ~in_need
        counts["wrongly_flagged_by_feedback"] = flagged & ~in_need & ~unfed
        counts["missed_by_feedback"] = in_need & ~flagged & unfed
    frame = pd.DataFrame({k: np.asarray(v).astype(np.int64) for k, v in counts.items()})
    return frame


def period_families(facts: PeriodFacts, config: GroupAudit) -> pd.DataFrame:
    """What happened to the families of one period, overall and by group column.

    Returns
    -------
    DataFrame
        ``period``, ``group``, ``value``, ``n`` then :data:`FAMILY_COUNTS` (sums)
        and ``records_per_family``.
    """
    rows = family_rows(facts)
    parts = [rows.sum().to_frame().T.assign(group=OVERALL, value=OVERALL, n=len(rows))]
    for column in config.group_columns:
        values = facts.outcomes[column]
        summed = rows.groupby(values.to_numpy(), sort=True).sum()
        sizes = values.value_counts().reindex(summed.index).to_numpy()
        parts.append(
            summed.reset_index(drop=True).assign(
                group=column, value=[str(v) for v in summed.index], n=sizes
            )
        )
    table = pd.concat(parts, ignore_index=True)
    table["group"] = pd.array(table["group"], dtype=STRING)
    table["value"] = pd.array(table["value"], dtype=STRING)
    table["n"] = table["n"].astype(np.int64)
    table.insert(0, "period", np.int64(facts.period))
    table["records_per_family"] = table["records"] / table["n"]
    extra = [c for c in FEEDBACK_COUNTS if c in table]
    return table[
        ["period", "group", "value", "n", *FAMILY_COUNTS, "records_per_family", *extra]
    ]
