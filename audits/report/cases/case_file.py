"""One chosen household's case file: the family, its council households, its records.

Each case file holds the family as it truly is, the council households (spine
households) its flag came through, and every record counted against them or truly
about the family, with the link that joined it. The tables hold codes and values;
:mod:`~audits.report.cases.explain` words them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.report.cases.evidence import (
    CARRIED,
    DRIVERS,
    linked_records,
    reach,
    register_entries,
)
from audits.report.cases.kinds import (
    CATEGORIES,
    FAMILY,
    HOUSEHOLD,
    MEMBER_ELSEWHERE,
    OTHER_FAMILY,
    OTHER_HOUSEHOLD,
    PLAIN_CATEGORIES,
    RECORDED_AS_MEMBER,
    UNLINKED,
    WRONG_MEMBER,
    CaseFile,
)
from audits.report.cases.select import Examined, examine_cases
from audits.report.inputs import ReportInputs
from audits.run_tables import HOUSEHOLDS, PEOPLE, SPINE
from simulator.vocabulary import NEEDS

FAMILY_COLUMNS = (
    "imd_decile",
    "ethnicity",
    "tenure",
    "lone_parent",
    "n_children",
    "moved_recently",
    "eligible",
    "harm",
)
"""The columns of the truth's households a case file reads (with ``need_*`` and the
audit's target)."""
MEMBER_COLUMNS = ("person_id", "role", "sex", "age", "first_name", "last_name")
"""The columns of the truth's people a case file reads (after the id, shown)."""


def codes(joined: pd.Series) -> list[tuple[str, ...]]:
    """Joined codes as tuples, for the few rows of one case.

    The codes are "; "-joined as :func:`~audits.report.cases.evidence.error_codes`
    makes them.
    """
    return [tuple(s.split("; ")) if s else () for s in joined.astype(str)]


def distinct(groups: pd.Series) -> tuple[str, ...]:
    """The distinct items of some tuples, in first-seen order."""
    return tuple(dict.fromkeys(item for group in groups for item in group))


@dataclass(frozen=True)
class Gathered:
    """What case files show of some families, each table read once for them all.

    Attributes
    ----------
    reached : DataFrame
        :func:`~audits.report.cases.evidence.reach` of (at least) the families.
    register : DataFrame
        :func:`~audits.report.cases.evidence.register_entries` of (at least) the
        council households reached.
    households, people : DataFrame
        The families' rows of the truth (:data:`FAMILY_COLUMNS`, ``need_*`` and the
        audit's target; :data:`MEMBER_COLUMNS` and ``household_id``).
    registered : Series
        The ``true_person_id`` of their members the register holds.
    evidence : DataFrame
        :func:`~audits.report.cases.evidence.linked_records` of (at least) the
        council households reached and the families.
    """

    reached: pd.DataFrame
    register: pd.DataFrame
    households: pd.DataFrame
    people: pd.DataFrame
    registered: pd.Series
    evidence: pd.DataFrame


def gather(
    inputs: ReportInputs, households: np.ndarray, examined: Examined | None = None
) -> Gathered:
    """Read what the case files of ``households`` show, a few filtered reads.

    ``examined``: what choosing them read (:func:`examine_cases`), whose reach,
    register and records hold theirs: taken from it, not read again (a case file
    keeps only its family's rows of each).
    """
    tables = inputs.tables
    target = inputs.scenario.audit.target
    read = [
        c
        for c in tables.columns(HOUSEHOLDS)
        if c in FAMILY_COLUMNS or c.startswith("need_") or c in (target, "household_id")
    ]
    if examined is None:
        reached = reach(inputs, households)
        spine_ids = reached["spine_household_id"].unique()
        register = register_entries(inputs, spine_ids)
        evidence = linked_records(inputs, spine_ids, households)
    else:
        reached, register = examined.reached, examined.register
        evidence = examined.evidence
    people = tables.rows(
        PEOPLE, {"household_id": households}, ["household_id", *MEMBER_COLUMNS]
    )
    return Gathered(
        reached=reached,
        register=register,
        households=tables.rows(HOUSEHOLDS, {"household_id": households}, read),
        people=people,
        registered=tables.rows(  # probed for the few members only
            SPINE, {"true_person_id": people["person_id"]}, ["true_person_id"]
        )["true_person_id"],
        evidence=evidence,
    )


def _family(
    inputs: ReportInputs, known: Gathered, hid: int
) -> tuple[dict, pd.DataFrame]:
    """The family as it truly is, and its members."""
    target = inputs.scenario.audit.target
    household = known.households[known.households["household_id"] == hid].iloc[0]
    people = known.people[known.people["household_id"].to_numpy() == hid]
    members = people[list(MEMBER_COLUMNS[1:])].reset_index(drop=True)
    members["on_register"] = people["person_id"].isin(known.registered).to_numpy()
    first_adult = people[people["role"] == "adult1"]
    surname = str((first_adult if len(first_adult) else people)["last_name"].iloc[0])
    family = {
        "surname": surname,
        "imd_decile": int(household["imd_decile"]),
        "ethnicity": str(household["ethnicity"]),
        "tenure": str(household["tenure"]),
        "lone_parent": bool(household["lone_parent"]),
        "n_children": int(household["n_children"]),
        "n_adults": int((people["role"] != "child").sum()),
        "moved_recently": bool(household["moved_recently"]),
        "needs": [n for n in NEEDS if bool(household.get(f"need_{n}", False))],
        "eligible": bool(household["eligible"]),
        "harm": bool(household["harm"]),
        "in_target": bool(household[target]),
    }
    return family, members


def _spine(known: Gathered, reached: pd.DataFrame, hid: int) -> pd.DataFrame:
    """The council households holding the family: who else is there, which errors."""
    spine_ids = reached["spine_household_id"].to_numpy()
    register = known.register
    register = register[register["spine_household_id"].isin(spine_ids).to_numpy()]
    register["other"] = register["true_household_id"] != hid
    register["errors"] = codes(register["error_codes"])
    per_spine = register.groupby("spine_household_id").agg(
        n_people=("spine_person_id", "size"), n_other_family=("other", "sum")
    )
    drivers = [c for c in DRIVERS if c in reached]
    spine = reached.assign(
        drivers=[
            tuple(d for d in row if isinstance(d, str) and d)
            for row in reached[drivers].itertuples(index=False)  # one or two rows
        ]
    )[["spine_household_id", "score", "flagged", "drivers"]]
    spine = spine.merge(per_spine.reset_index(), on="spine_household_id", how="left")
    for column, rows in (  # errors on others' and on the family's own entries
        ("other_errors", register["other"]),
        ("own_errors", ~register["other"]),
    ):
        errors = {  # one or two spine households
            spine_id: distinct(group)
            for spine_id, group in register[rows].groupby("spine_household_id")[
                "errors"
            ]
        }
        spine[column] = [errors.get(i, ()) for i in spine["spine_household_id"]]
    return spine.reset_index(drop=True)


def _records(
    evidence: pd.DataFrame, spine_ids: np.ndarray, hid: int
) -> tuple[pd.DataFrame, int]:
    """The family's counted records, the evidence first, and its register rows.

    ``evidence`` is :func:`~audits.report.cases.evidence.linked_records` of (at
    least) ``spine_ids`` and the family: its other rows are left out here.
    """
    about_family = evidence["true_household_id"].to_numpy() == hid
    to_here = evidence["spine_household_id"].isin(spine_ids).to_numpy()
    mine = about_family | to_here
    records = evidence[mine].reset_index(drop=True)
    about_family, to_here = about_family[mine], to_here[mine]
    linked = records["spine_household_id"].notna().to_numpy()
    counted = records["counted"].to_numpy(dtype=bool)  # typed when there are none
    register_rows = int((to_here & ~counted).sum())
    keep = counted & (to_here | about_family)
    records, about_family, to_here, linked = (
        records[keep].reset_index(drop=True),
        about_family[keep],
        to_here[keep],
        linked[keep],
    )
    linked_person = records["linked_true_person"].to_numpy(dtype=float, na_value=np.nan)
    right_person = linked_person == records["true_person_id"].to_numpy()
    carried = records.get(CARRIED, records["true_person_id"]).to_numpy()
    as_recorded = (linked_person == carried) & ~right_person
    background = ~records["true_from_need"].fillna(False).to_numpy(bool)
    table = pd.DataFrame(
        {
            "source": records["source"].astype(str).to_numpy(),
            "event_type": records["event_type"].astype(str).to_numpy(),
            "persistent_absence": records["persistent_absence"].to_numpy(bool),
            "event_date": records["event_date"].to_numpy(),
            "first_name": records["first_name"].to_numpy(),
            "last_name": records["last_name"].to_numpy(),
            "dob": records["dob"].to_numpy(),
            "linked_to": np.select(
                [to_here, linked], [HOUSEHOLD, OTHER_HOUSEHOLD], UNLINKED
            ),
            "match_key": records["match_key"].astype(object).fillna("").to_numpy(),
            "about": np.select(
                [
                    ~about_family,
                    to_here & as_recorded,
                    to_here & ~right_person,
                    linked & ~to_here,
                ],
                [OTHER_FAMILY, RECORDED_AS_MEMBER, WRONG_MEMBER, MEMBER_ELSEWHERE],
                FAMILY,
            ),
            "background": background,
            "errors": codes(records["error_codes"]),
            "telling": (~about_family) | (background & about_family) | ~to_here,
            "need": records["true_need"].astype(object).fillna("").to_numpy(),
        }
    )
    rank = np.select(  # the evidence first: others' records, then no-problem events
        [table["about"].eq(OTHER_FAMILY), table["background"], table["telling"]],
        [0, 1, 2],
        3,
    )
    table = table.assign(_rank=rank).sort_values(["_rank", "event_date"], kind="stable")
    return table.drop(columns="_rank").reset_index(drop=True), register_rows


def describe_case(
    inputs: ReportInputs, chosen: pd.Series, known: Gathered | None = None
) -> CaseFile:
    """The case file of one chosen household (a row of :func:`select_cases`).

    ``known``: :func:`gather` of the family (or of more: of all the chosen families,
    as :func:`case_files` reads them in one pass); read here if not given.
    """
    categories = {c.key: c for c in (*CATEGORIES, *PLAIN_CATEGORIES)}
    category = categories[chosen["category"]]
    hid = int(chosen["household_id"])
    if known is None:
        known = gather(inputs, np.array([hid]))
    family, members = _family(inputs, known, hid)
    reached = known.reached[known.reached["household_id"].to_numpy() == hid]
    if category.error == "false_positive":
        reached = reached[reached["flagged"]]
    reached = reached.sort_values(
        ["score", "spine_household_id"], ascending=[False, True]
    )
    spine = _spine(known, reached, hid)
    spine_ids = reached["spine_household_id"].to_numpy()
    evidence = known.evidence
    records, register_rows = _records(evidence, spine_ids, hid)
    return CaseFile(
        category=category,
        household_id=hid,
        cause=chosen["cause"] or None,
        family=family,
        members=members,
        spine=spine,
        records=records,
        register_rows=register_rows,
    )


def case_files(inputs: ReportInputs) -> list[CaseFile]:
    """The report's case files (at most one per category), in display order.

    Parameters
    ----------
    inputs : ReportInputs
        An audited run's, with its outcomes kept.

    Returns
    -------
    list of CaseFile
        Empty if the run has no audit outcomes or no family was wrongly flagged or
        missed.
    """
    if inputs.audit is None or inputs.audit.outcomes is None:
        return []
    chosen, examined = examine_cases(inputs)
    known = gather(inputs, chosen["household_id"].to_numpy(), examined)  # all at once
    return [  # ≤ 6 cases
        describe_case(inputs, row, known) for _, row in chosen.iterrows()
    ]
