"""Choosing case files: for each kind of error, one telling family.

For each kind of error the attribution found (a wrong flag caused by linkage, by a
data error, by visibility or by the model; a family missed because its records did
not reach it, or because its problems were never seen), one family is chosen
deterministically: the first by ``household_id`` whose records show the error, else
the first of its kind (for visibility, families in the most deprived areas are
examined first, as that is where it bites). Without an attribution, the first wrongly
flagged and the first missed family.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.report.cases.evidence import linked_records, reach, register_entries
from audits.report.cases.kinds import (
    CANDIDATES,
    CATEGORIES,
    PLAIN_CATEGORIES,
    Category,
)
from audits.report.inputs import ReportInputs


def _wrong(inputs: ReportInputs) -> pd.DataFrame:
    """Every wrongly flagged or missed household.

    Columns ``household_id``, ``error`` and ``cause`` (empty without an attribution).
    """
    assert inputs.audit is not None and inputs.audit.outcomes is not None
    if inputs.attribution is not None:
        h = inputs.attribution.households[["household_id", "error", "cause"]].copy()
        h["error"] = h["error"].astype(str)
        h["cause"] = h["cause"].astype(str)
        return h
    o = inputs.audit.outcomes
    y = o["y_true"].to_numpy(bool)
    f = o["flagged"].to_numpy(bool)
    wrong = y != f
    return pd.DataFrame(
        {
            "household_id": o["household_id"].to_numpy()[wrong],
            "error": np.where(f[wrong], "false_positive", "false_negative"),
            "cause": "",
        }
    )


def _candidates(inputs: ReportInputs, categories: tuple[Category, ...]) -> pd.DataFrame:
    """The first :data:`CANDIDATES` households of each category, by id."""
    assert inputs.audit is not None and inputs.audit.outcomes is not None
    h = _wrong(inputs).sort_values("household_id", kind="stable")
    outcomes = inputs.audit.outcomes
    if "imd_decile" in outcomes:
        decile = outcomes.set_index("household_id")["imd_decile"]
        h["_decile"] = h["household_id"].map(decile).to_numpy()
    else:
        h["_decile"] = 0
    parts = []
    for c in categories:  # a handful of categories
        mask = h["error"].eq(c.error)
        if c.causes is not None:
            mask &= h["cause"].isin(c.causes)
        rows = h[mask]
        if c.deprived_first:
            rows = rows.sort_values(["_decile", "household_id"], kind="stable")
        parts.append(
            rows.head(CANDIDATES).drop(columns="_decile").assign(category=c.key)
        )
    return pd.concat(parts, ignore_index=True)


def _wrong_flag_evidence(
    reached: pd.DataFrame, records: pd.DataFrame, people: pd.DataFrame
) -> dict[str, set]:
    """Wrongly flagged households whose flagged records show each cause."""
    # Records counted against a flagged spine household reaching each family.
    flagged = reached[reached["flagged"]][["household_id", "spine_household_id"]]
    counted = records[records["counted"]].merge(flagged, on="spine_household_id")
    other_family = (
        counted["true_household_id"].to_numpy() != counted["household_id"].to_numpy()
    )
    false_link = (
        counted["linked_true_person"].to_numpy(dtype=float, na_value=np.nan)
        != counted["true_person_id"].to_numpy()
    )
    background = ~counted["true_from_need"].fillna(False).to_numpy(bool)
    has_error = counted["has_error"].to_numpy(bool)
    ids = counted["household_id"]
    by_kind = {
        "fp_linkage": set(ids[other_family & false_link]),
        "fp_visibility": set(ids[background & ~other_family]),
        "fp_data_error": set(ids[other_family | has_error]),
    }
    shared = people.merge(flagged, on="spine_household_id")
    by_kind["fp_data_error"] |= set(
        shared.loc[
            shared["true_household_id"].ne(shared["household_id"]), "household_id"
        ]
    )
    return by_kind


def _missed_evidence(
    candidates: pd.DataFrame, reached: pd.DataFrame, records: pd.DataFrame
) -> dict[str, set]:
    """Missed households whose records show each cause."""
    # One of their own counted records reached none of their spine households
    # (unlinked, or linked elsewhere).
    own = records[records["counted"] & records["true_from_need"].fillna(False)]
    own = own.merge(
        reached[["household_id", "spine_household_id"]].rename(
            columns={"spine_household_id": "own_spine"}
        ),
        left_on="true_household_id",
        right_on="household_id",
        how="left",
    )
    own["arrived"] = own["spine_household_id"].astype("float").to_numpy() == own[
        "own_spine"
    ].to_numpy(dtype=float)
    arrived = own.groupby(["source", "record_id", "true_household_id"])["arrived"].any()
    return {
        "fn_records": set(
            arrived.index.get_level_values("true_household_id")[~arrived.to_numpy()]
        ),
        "fn_visibility": set(candidates["household_id"])
        - set(own["true_household_id"]),
    }


def _evidence(
    candidates: pd.DataFrame,
    reached: pd.DataFrame,
    records: pd.DataFrame,
    people: pd.DataFrame,
) -> pd.Series:
    """Per (category, household): True where its records show the error."""
    by_kind = _wrong_flag_evidence(reached, records, people)
    by_kind |= _missed_evidence(candidates, reached, records)
    keys = candidates["category"].to_numpy()
    hid = candidates["household_id"].to_numpy()
    telling = np.zeros(len(candidates), dtype=bool)
    for kind, members in by_kind.items():  # a handful of categories
        in_kind = keys == kind
        telling[in_kind] = np.isin(hid[in_kind], list(members))
    return pd.Series(telling, index=candidates.index)


def _choose(candidates: pd.DataFrame, telling: pd.Series) -> pd.DataFrame:
    """Per category, the first telling household, else the first one."""
    ranked = candidates.assign(_t=~telling.to_numpy())
    ranked["_order"] = np.arange(len(ranked))
    ranked = ranked.sort_values(["category", "_t", "_order"], kind="stable")
    first = ranked.drop_duplicates("category")
    order = {c: i for i, c in enumerate(dict.fromkeys(candidates["category"]))}
    return first.sort_values("category", key=lambda s: s.map(order)).drop(
        columns=["_t", "_order"]
    )


def select_cases(inputs: ReportInputs) -> pd.DataFrame:
    """The households chosen for case files, one per category present.

    Parameters
    ----------
    inputs : ReportInputs
        An audited run's (``audit.outcomes`` kept); with an attribution, the
        categories of :data:`CATEGORIES`, else :data:`PLAIN_CATEGORIES`.

    Returns
    -------
    DataFrame
        ``category``, ``household_id``, ``error``, ``cause``, in display order.
    """
    categories = CATEGORIES if inputs.attribution is not None else PLAIN_CATEGORIES
    candidates = _candidates(inputs, categories)
    if candidates.empty:
        return candidates[["category", "household_id", "error", "cause"]]
    households = candidates["household_id"].unique()
    reached = reach(inputs, households)
    spine_households = reached["spine_household_id"].unique()
    records = linked_records(inputs, spine_households, households)
    people = register_entries(inputs, spine_households)
    telling = _evidence(candidates, reached, records, people)
    chosen = _choose(candidates, telling)
    return chosen[["category", "household_id", "error", "cause"]].reset_index(drop=True)
