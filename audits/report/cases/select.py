"""Choosing case files to teach: one telling family for each cause that occurs.

The rule (docs/audit.md, "Case files"): for each kind of error the attribution found
(wrongly flagged, and missed, by each cause: linkage, data errors, the council's
register, visibility, the model itself), in display order, one family is chosen:

1. the families of that kind are put in the run's shuffled order (a hash of the
   household id and the scenario's seed, :func:`shuffled`: not by number, and the
   same for the same run); for visibility, families in the most deprived areas come
   first, as that is where it bites; the first :data:`~.kinds.CANDIDATES` are
   examined;
2. families whose records show the cause come first (a telling example);
3. among those, the family least like the ones already chosen: fewest earlier case
   files in its deprivation quintile plus fewest of its ethnicity, so the case files
   spread across groups;
4. then the shuffled order.

Without an attribution, the same rule picks one wrongly flagged and one missed
family.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def shuffled(household_id: np.ndarray, seed: int) -> np.ndarray:
    """A deterministic pseudo-random rank key per household (splitmix64's mix).

    Examples
    --------
    >>> key = shuffled(np.arange(4), 2024)
    >>> bool((np.sort(key) != key).any()), bool((key == shuffled(np.arange(4), 2024)).all())
    (True, True)
    """  # noqa: E501
    with np.errstate(over="ignore"):
        z = np.asarray(household_id, dtype=np.uint64) + np.uint64(seed % 2**63)
        z = z * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _candidates(inputs: ReportInputs, categories: tuple[Category, ...]) -> pd.DataFrame:
    """The first :data:`CANDIDATES` households of each category, in shuffled order.

    With the ``quintile`` and ``ethnicity`` of each (for spreading the choice).
    """
    assert inputs.audit is not None and inputs.audit.outcomes is not None
    h = _wrong(inputs)
    h["_key"] = shuffled(h["household_id"].to_numpy(), inputs.scenario.seed)
    h = h.sort_values("_key", kind="stable")
    outcomes = inputs.audit.outcomes.set_index("household_id")
    for column in ("imd_decile", "imd_quintile", "ethnicity"):
        h[column] = (
            h["household_id"].map(outcomes[column]).to_numpy()
            if column in outcomes
            else 0
        )
    parts = []
    for c in categories:  # a handful of categories
        mask = h["error"].eq(c.error)
        if c.causes is not None:
            mask &= h["cause"].isin(c.causes)
        rows = h[mask]
        if c.deprived_first:
            rows = rows.sort_values(["imd_decile", "_key"], kind="stable")
        parts.append(
            rows.head(CANDIDATES)
            .drop(columns=["_key", "imd_decile"])
            .rename(columns={"imd_quintile": "quintile"})
            .assign(category=c.key)
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
    lost = set(arrived.index.get_level_values("true_household_id")[~arrived.to_numpy()])
    return {
        "fn_linkage": lost,
        "fn_data_error": lost,
        "fn_visibility": set(candidates["household_id"])
        - set(own["true_household_id"]),
        "fn_model": set(own["true_household_id"]) - lost,
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
    """Per category, in display order: telling first, then least like those chosen.

    ``candidates`` are in each category's examination order (shuffled), which breaks
    the remaining ties.
    """
    ranked = candidates.assign(
        _t=~telling.to_numpy(), _order=np.arange(len(candidates))
    )
    chosen: list[int] = []
    for _, rows in ranked.groupby("category", sort=False):  # a handful of kinds
        picked = ranked.loc[chosen]
        rows = rows[~rows["household_id"].isin(picked["household_id"])]
        if rows.empty:
            continue
        alike = rows["quintile"].map(picked["quintile"].value_counts()).fillna(0)
        alike += rows["ethnicity"].map(picked["ethnicity"].value_counts()).fillna(0)
        best = rows.assign(_alike=alike.to_numpy()).sort_values(
            ["_t", "_alike", "_order"], kind="stable"
        )
        chosen.append(best.index[0])
    return ranked.loc[chosen].drop(columns=["_t", "_order"])


@dataclass(frozen=True)
class Examined:
    """What choosing read of the candidate families, case files' reads of the chosen.

    Each table holds (at least) the rows a case file of any candidate shows, so
    case files of the chosen take theirs from it rather than read the run's tables
    again (:func:`~audits.report.cases.case_file.gather`).

    Attributes
    ----------
    reached : DataFrame
        :func:`~audits.report.cases.evidence.reach` of the candidates.
    register : DataFrame
        :func:`~audits.report.cases.evidence.register_entries` of the council
        households reached.
    evidence : DataFrame
        :func:`~audits.report.cases.evidence.linked_records` of those council
        households and the candidates.
    """

    reached: pd.DataFrame
    register: pd.DataFrame
    evidence: pd.DataFrame


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
    return examine_cases(inputs)[0]


def examine_cases(inputs: ReportInputs) -> tuple[pd.DataFrame, Examined | None]:
    """:func:`select_cases`, and what it read of the candidates (None if none)."""
    categories = CATEGORIES if inputs.attribution is not None else PLAIN_CATEGORIES
    candidates = _candidates(inputs, categories)
    columns = ["category", "household_id", "error", "cause"]
    if candidates.empty:
        return candidates[columns], None
    households = candidates["household_id"].unique()
    reached = reach(inputs, households)
    spine_households = reached["spine_household_id"].unique()
    records = linked_records(inputs, spine_households, households)
    people = register_entries(inputs, spine_households)
    telling = _evidence(candidates, reached, records, people)
    chosen = _choose(candidates, telling)
    examined = Examined(reached=reached, register=people, evidence=records)
    return chosen[columns].reset_index(drop=True), examined
