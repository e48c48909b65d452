"""What the explorer shows at one point of its grid, and the families it follows.

``linkaudit explore`` (:mod:`simulator.pipeline.explore`) runs a scenario at every
point of a grid of settings; this module turns each run into what the page shows:

* :func:`point_numbers`: flagged, wrongly flagged and missed, overall and by the
  headline's grouping, pooled over the point's replicate worlds with their intervals
  (:func:`audits.pooled_tables.pooled_audit`, the tables the run's report and
  ``audit/`` files show) and the headline comparison
  (:func:`audits.tables.headline_block`);
* :func:`family_fates`: every family of the point's first world, what happened to it
  (left alone, rightly flagged, wrongly flagged, missed) and the records the council
  counted against it, by kind and by whose record it really is (the case files'
  joins, :mod:`audits.report.cases.evidence`);
* :func:`choose_families` and :func:`follow_families`: across the grid, the families
  whose fate changes, and at each point what changed for them.

Every point keeps the base scenario's seed, so its first world holds the same
families (:mod:`simulator.pipeline.grid`): a family is followed by its id.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from audits.pooled_tables import pooled_audit
from audits.report.cases.evidence import linked_records, reach
from audits.report.cases.select import shuffled
from audits.report.inputs import ReportInputs
from audits.report.text import event_label, group_label, plural, value_label
from audits.result import AuditResult
from audits.run_tables import PEOPLE, SPINE
from audits.tables import headline_block
from simulator.vocabulary import DEPRIVATION

SHOWN_RATES = ("selection_rate", "fpr", "wrongly_flagged_per_10k", "fnr")
"""The rates shown at each point: flagged, wrongly flagged (of families not in
need, and per 10,000 families) and missed (of families in need)."""
COUNTS = ("n", "n_positive", "n_flagged", "fp", "fn")
"""The counts shown at each point, summed over its worlds."""
FATES = {
    "left_alone": "left alone",
    "rightly_flagged": "flagged, and in need",
    "wrongly_flagged": "wrongly flagged",
    "missed": "missed",
}
"""What can happen to a family, in words."""
FAMILY_COLUMNS = ("imd_quintile", "ethnicity", "tenure")
"""A followed family's facts shown beside its name."""
FOLLOWED = 3
"""Families followed across the grid (at most)."""


def _number(x: Any) -> float | None:
    """A JSON number: None for a missing or undefined one."""
    if x is None or pd.isna(x):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _rates(rows: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    """``{metric: {estimate, low, high}}`` of a disparity table's rows."""
    return {
        str(r["metric"]): {
            "estimate": _number(r["estimate"]),
            "low": _number(r["ci_low"]),
            "high": _number(r["ci_high"]),
        }
        for _, r in rows[rows["metric"].isin(SHOWN_RATES)].iterrows()  # a few rows
    }


def _counts(row: pd.Series) -> dict[str, int]:
    return {c: int(row[c]) for c in COUNTS}


def point_numbers(audit: AuditResult, grouping: str) -> dict[str, Any]:
    """The numbers of one point, pooled over its worlds, JSON-able.

    Parameters
    ----------
    audit : AuditResult
        The point's audit (replicate 0, its other worlds in ``replicates``).
    grouping : str
        The grouping shown group by group (the headline's).

    Returns
    -------
    dict
        ``worlds``; ``overall``: the counts (:data:`COUNTS`, summed over worlds)
        and ``rates`` (:data:`SHOWN_RATES`, each ``estimate``, ``low``, ``high``);
        ``groups``: the same per value of ``grouping`` in order, with its
        ``value``, ``label``, ``is_reference`` and ``small_group``; ``headline``:
        the summary's headline block (question and comparison).
    """
    pooled = pooled_audit(audit)
    d, m = pooled.disparities, pooled.metrics
    table = d.table[d.table["group"] == grouping]
    by_group = m.by_group[m.by_group["group"] == grouping].set_index("value")
    groups = []
    for value, rows in table.groupby("value", sort=False):  # a handful of groups
        first = rows.iloc[0]
        groups.append(
            {
                "value": str(value),
                "label": value_label(grouping, value),
                "is_reference": bool(first["is_reference"]),
                "small_group": bool(first["small_group"]),
                **_counts(by_group.loc[value]),
                "rates": _rates(rows),
            }
        )
    block = headline_block(pooled)
    return {
        "worlds": len(audit.worlds),
        "overall": {**_counts(m.overall.iloc[0]), "rates": _rates(d.overall)},
        "groups": groups,
        "headline": _plain(block),
    }


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers and NaN as None."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _number(value)
    return value


def family_fates(inputs: ReportInputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every family of the first world: its fate, and the records counted against it.

    Returns
    -------
    fates : DataFrame
        One row per family: ``household_id``, ``fate`` (a key of :data:`FATES`),
        ``score``, ``surname`` and :data:`FAMILY_COLUMNS`.
    records : DataFrame
        ``household_id``, ``kind`` (the record's event in words), ``theirs``
        (the record is truly about the family, not another family's linked to it
        by mistake) and ``n``: the records the council linked to the family's
        register entry and counted in its view.
    """
    assert inputs.audit is not None and inputs.audit.outcomes is not None
    o = inputs.audit.outcomes
    flagged = o["flagged"].to_numpy(dtype=bool)
    need = o["y_true"].to_numpy(dtype=bool)
    fate = np.select(
        [flagged & need, flagged & ~need, ~flagged & need],
        ["rightly_flagged", "wrongly_flagged", "missed"],
        "left_alone",
    )
    people = pd.concat(
        inputs.tables.batches(PEOPLE, ["person_id", "household_id", "last_name"])
    ).sort_values("person_id", kind="stable")
    surname = people.drop_duplicates("household_id").set_index("household_id")
    fates = o[["household_id", *FAMILY_COLUMNS]].assign(
        fate=fate,
        score=o["score"].to_numpy(dtype=float),
        surname=o["household_id"].map(surname["last_name"]).fillna("").to_numpy(),
    )
    return fates.reset_index(drop=True), _counted(inputs)


def _counted(inputs: ReportInputs) -> pd.DataFrame:
    """Records counted in the view, per family they were linked to, kind and whose."""
    spine = pd.concat(
        inputs.tables.batches(SPINE, ["spine_household_id", "true_household_id"])
    )
    spine_households = spine["spine_household_id"].unique()
    records = linked_records(inputs, spine_households, np.array([], dtype=np.int64))
    records = records[
        records["counted"].astype(bool) & records["spine_household_id"].notna()
    ]
    pairs = reach(inputs, spine["true_household_id"].unique())
    linked = records.merge(
        pairs[["household_id", "spine_household_id"]], on="spine_household_id"
    )
    kinds = linked[["source", "event_type"]].astype(str).drop_duplicates()
    words = {  # a few dozen kinds
        (s, e): event_label(s, e) for s, e in kinds.itertuples(index=False)
    }
    keys = pd.MultiIndex.from_frame(linked[["source", "event_type"]].astype(str))
    kind = np.where(
        linked["persistent_absence"].to_numpy(dtype=bool),
        "persistent school absence",
        keys.map(words).to_numpy(dtype=object),
    )
    theirs = linked["true_household_id"].to_numpy() == linked["household_id"].to_numpy()
    return (
        pd.DataFrame(
            {
                "household_id": linked["household_id"].to_numpy(),
                "kind": kind,
                "theirs": theirs,
            }
        )
        .groupby(["household_id", "kind", "theirs"], sort=True)
        .size()
        .rename("n")
        .reset_index()
    )


def choose_families(
    fates: Sequence[pd.DataFrame], seed: int, grouping: str, n: int = FOLLOWED
) -> list[int]:
    """The families to follow: those whose fate changes across the grid.

    The rule: families are taken in an order shuffled by the scenario's seed
    (:func:`audits.report.cases.select.shuffled`, as the report's case files are);
    first one wrongly flagged at some point and left alone at another, then one
    missed at some point and rightly flagged at another, then more of the first
    kind, each from a group (of ``grouping``) not yet shown when there is one.

    Parameters
    ----------
    fates : sequence of DataFrame
        :func:`family_fates`'s first table at each point, in order.
    seed : int
        The scenario's seed.
    grouping : str
        The grouping choices are spread over.
    n : int
        At most this many families.

    Returns
    -------
    list of int
        Household ids; fewer than ``n`` (or none) when fewer change fate.
    """
    wide = pd.concat(
        [f.set_index("household_id")["fate"] for f in fates], axis=1, join="inner"
    )
    seen = {k: wide.eq(k).any(axis=1) for k in FATES}
    kinds = [
        seen["wrongly_flagged"] & seen["left_alone"],
        seen["missed"] & seen["rightly_flagged"],
    ]
    ids = wide.index.to_numpy()
    order = np.argsort(shuffled(ids, seed), kind="stable")
    group = fates[0].set_index("household_id")[grouping].reindex(wide.index)
    chosen: list[int] = []
    for kind in [*kinds, kinds[0], kinds[0]][:n]:
        candidates = [ids[i] for i in order if kind.iloc[i] and ids[i] not in chosen]
        shown = {group.loc[h] for h in chosen}
        fresh = [h for h in candidates if group.loc[h] not in shown]
        pick = (fresh or candidates)[:1]
        chosen += [int(h) for h in pick]
    return chosen


@dataclass(frozen=True)
class FamilyAtPoint:
    """A followed family at one point: its fate and what the council counted."""

    fate: str
    score: float | None
    records: list[str]
    change: str


@dataclass(frozen=True)
class Family:
    """A family followed across the grid (plain text, escaped by the template)."""

    household_id: int
    name: str
    facts: str
    across: str
    points: list[FamilyAtPoint]


def _record_lines(rows: pd.DataFrame, own: str = "") -> list[str]:
    """Counted records in words, another family's marked (and its own by ``own``)."""
    return [
        f"{plural(int(r.n), str(r.kind) + ' record')}"
        + (own if r.theirs else " (another family's, linked to it by mistake)")
        for r in rows.itertuples(index=False)  # a family's few kinds
    ]


def _across(kinds: Sequence[str]) -> str:
    """A family's fates across the grid: "wrongly flagged at 3 of 8 settings, ..."."""
    n = len(kinds)
    parts = [
        f"{words} at {sum(k == fate for k in kinds)} of {n} settings"
        for fate, words in FATES.items()
        if fate in kinds
    ]
    return "Across the grid: " + ", ".join(parts) + "."


def _facts(first: pd.Series) -> str:
    """Where the family lives and who it is, in words (deprivation named)."""
    words = []
    for column in FAMILY_COLUMNS:
        if column in first.index:
            value = value_label(column, first[column])
            words.append(
                f"{group_label(column)} {value}" if column in DEPRIVATION else value
            )
    return ", ".join(words)


def _change(here: pd.DataFrame, there: pd.DataFrame, where: str) -> str:
    """What the council counted here and not at the contrast point, in words."""
    key = ["kind", "theirs"]
    both = here.merge(there, on=key, how="outer", suffixes=("", "_there")).fillna(0)
    more = both[both["n"] > both["n_there"]].assign(n=lambda d: d["n"] - d["n_there"])
    fewer = both[both["n"] < both["n_there"]].assign(n=lambda d: d["n_there"] - d["n"])
    if more.empty and fewer.empty:
        return (
            f"The council counted the same records as {where}: the setting itself "
            "changed its decision."
        )
    parts = []
    own = " (truly about this family)"
    if not more.empty:
        parts.append(f"more than {where}: " + "; ".join(_record_lines(more, own)))
    if not fewer.empty:
        parts.append(f"fewer than {where}: " + "; ".join(_record_lines(fewer, own)))
    return "Counted " + ", and ".join(parts) + "."


def follow_families(
    chosen: Sequence[int],
    fates: Sequence[pd.DataFrame],
    records: Sequence[pd.DataFrame],
    labels: Sequence[str],
) -> list[Family]:
    """Each chosen family at every point: fate, records and what made the difference.

    The contrast point is the first point at which the family was left alone (or,
    for a family never left alone, missed); at every point where its fate differs,
    ``change`` says which counted records it gained or lost against that point.

    Parameters
    ----------
    chosen : sequence of int
        :func:`choose_families`.
    fates, records : sequence of DataFrame
        :func:`family_fates` at each point, in order.
    labels : sequence of str
        Each point's settings in words (``path = value, ...``).
    """
    families = []
    for hid in chosen:  # a few families
        at = [f.set_index("household_id").loc[hid] for f in fates]
        own = [
            r[r["household_id"] == hid].drop(columns="household_id") for r in records
        ]
        kinds = [a["fate"] for a in at]
        contrast = next(
            (i for i, k in enumerate(kinds) if k == "left_alone"),
            next((i for i, k in enumerate(kinds) if k == "missed"), 0),
        )
        where = f"at {labels[contrast]} (where it was {FATES[kinds[contrast]]})"
        families.append(
            Family(
                household_id=int(hid),
                name=f"The {at[0]['surname'] or 'unnamed'} family",
                facts=_facts(at[0]),
                across=_across(kinds),
                points=[
                    FamilyAtPoint(
                        fate=kinds[i],
                        score=_number(at[i]["score"]),
                        records=_record_lines(own[i]),
                        change=""
                        if kinds[i] == kinds[contrast]
                        else _change(own[i], own[contrast], where),
                    )
                    for i in range(len(at))
                ],
            )
        )
    return families
