"""Case files: a few synthetic families wrongly flagged or missed, and why.

The teaching part of the report. For each kind of error the attribution found (a
wrong flag caused by linkage, by a data error, by visibility or by the model; a family
missed because its records did not reach it, or because its problems were never
seen), one family is chosen deterministically: the first by ``household_id`` whose
records show the error, else the first of its kind (for visibility, families in the
most deprived areas are examined first, as that is where it bites).

Each case file holds the family as it truly is, the council household (spine
household) the flag reached it through, the records counted against that household
(which of them are about someone else, which carry errors, which were recorded with no
problem behind them), the link that joined each record, the model's reasons, and a
plain-language explanation.

Everything is computed with joins over the few households considered; nothing loops
over households or records.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from audits.attribution import CAUSE_LABELS
from audits.report.curves import actual_cut
from audits.report.inputs import ReportInputs
from audits.report.text import (
    count,
    error_label,
    event_label,
    feature_label,
    join_words,
    need_label,
    plural,
)
from simulator.schema.scenario import NEEDS

CANDIDATES = 200
"""Households of each kind examined for a telling example (the first by id)."""
MAX_RECORDS = 20
"""Records listed in a case file at most (the most telling first)."""


@dataclass(frozen=True)
class Category:
    """A kind of case file: which error, which causes, and its title."""

    key: str
    error: str
    causes: tuple[str, ...] | None
    title: str
    deprived_first: bool = False
    """Examine families in the most deprived areas first (then by id)."""


CATEGORIES = (
    Category(
        "fp_linkage",
        "false_positive",
        ("linkage",),
        "Wrongly flagged: another family's records were linked to this one",
    ),
    Category(
        "fp_data_error",
        "false_positive",
        ("data_error",),
        "Wrongly flagged: an error in the records",
    ),
    Category(
        "fp_visibility",
        "false_positive",
        ("visibility",),
        "Wrongly flagged: seen more often than other families",
        deprived_first=True,
    ),
    Category(
        "fp_model",
        "false_positive",
        ("model",),
        "Wrongly flagged by the model itself",
    ),
    Category(
        "fn_records",
        "false_negative",
        ("linkage", "data_error"),
        "Missed: its records did not reach it",
    ),
    Category(
        "fn_visibility",
        "false_negative",
        ("visibility", "model"),
        "Missed: its problems were never seen",
    ),
)
"""Case-file kinds, in the order shown, when the run has an attribution."""
PLAIN_CATEGORIES = (
    Category("fp", "false_positive", None, "Wrongly flagged"),
    Category("fn", "false_negative", None, "Missed"),
)
"""Case-file kinds without an attribution (causes unknown)."""


@dataclass(frozen=True)
class CaseFile:
    """One synthetic family wrongly flagged or missed, with the evidence.

    Attributes
    ----------
    category : Category
    household_id : int
    cause : str or None
        The attribution's cause (a rung), if known.
    family : dict
        The family as it truly is: ``surname``, ``imd_decile``, ``ethnicity``,
        ``tenure``, ``lone_parent``, ``n_children``, ``moved_recently``, ``needs``
        (list of need names), ``eligible``, ``harm``, ``in_target``.
    members : DataFrame
        The family's people: ``role``, ``sex``, ``age``, ``first_name``,
        ``last_name``.
    spine : DataFrame
        The council households holding its members: ``spine_household_id``,
        ``score``, ``flagged``, ``reason`` (the model's drivers, in words),
        ``n_people``, ``n_other_family`` (people from other families held there),
        ``other_errors`` (errors on those people's register entries) and
        ``own_errors`` (errors on the family's own entries).
    records : DataFrame
        Records counted against those households, or truly about the family:
        ``source``, ``event``, ``date``, ``name``, ``dob`` (as recorded),
        ``where`` (where the link put it), ``match_key``, ``about`` (whose record
        it truly is), ``background`` (recorded with no problem behind it),
        ``errors`` (data errors on the record, in words), ``telling``.
    n_records_hidden : int
        Records left out of ``records`` (beyond :data:`MAX_RECORDS`).
    register_rows : int
        Register rows (GP registrations, school census) linked to the households
        and not listed.
    explanation : str
        A paragraph in plain words (not yet escaped).
    """

    category: Category
    household_id: int
    cause: str | None
    family: dict
    members: pd.DataFrame
    spine: pd.DataFrame
    records: pd.DataFrame
    n_records_hidden: int
    register_rows: int
    explanation: str


def _candidates(inputs: ReportInputs, categories: tuple[Category, ...]) -> pd.DataFrame:
    """The first :data:`CANDIDATES` households of each category, by id."""
    assert inputs.audit is not None and inputs.audit.outcomes is not None
    if inputs.attribution is not None:
        h = inputs.attribution.households[["household_id", "error", "cause"]].copy()
        h["error"] = h["error"].astype(str)
        h["cause"] = h["cause"].astype(str)
    else:
        o = inputs.audit.outcomes
        y = o["y_true"].to_numpy(bool)
        f = o["flagged"].to_numpy(bool)
        wrong = y != f
        h = pd.DataFrame(
            {
                "household_id": o["household_id"].to_numpy()[wrong],
                "error": np.where(f[wrong], "false_positive", "false_negative"),
                "cause": "",
            }
        )
    h = h.sort_values("household_id", kind="stable")
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


def _reach(inputs: ReportInputs, households: np.ndarray) -> pd.DataFrame:
    """(household_id, spine_household_id) pairs with the spine household's flag."""
    spine = inputs.spine
    rows = spine[spine["true_household_id"].isin(households)]
    pairs = (
        rows[["true_household_id", "spine_household_id"]]
        .drop_duplicates()
        .rename(columns={"true_household_id": "household_id"})
    )
    flags = inputs.flags
    cols = ["spine_household_id", "score", "flagged"] + [
        c for c in ("driver_1", "driver_2", "driver_3") if c in flags
    ]
    return pairs.merge(flags[cols], on="spine_household_id", how="left").assign(
        flagged=lambda d: d["flagged"].fillna(False).astype(bool)
    )


RECORD_COLUMNS = (
    "record_id",
    "event_type",
    "event_date",
    "first_name",
    "last_name",
    "dob",
    "true_person_id",
    "true_household_id",
    "true_from_need",
    "true_need",
)


def _records(
    inputs: ReportInputs, spine_households: np.ndarray, households: np.ndarray
) -> pd.DataFrame:
    """Records linked to ``spine_households`` or truly about ``households``.

    One row per record with its link, whether the view counts it (an event in the
    observation window, or a persistently absent pupil), and a text of its errors.
    """
    links = inputs.links
    scenario = inputs.scenario
    events = set(scenario.view.events)
    reference = np.datetime64(scenario.time.reference_date, "s")
    parts = []
    for source, frame in inputs.sources.items():  # a handful of sources
        linked_ids = links.loc[
            links["source"].eq(source).to_numpy()
            & links["spine_household_id"].isin(spine_households).to_numpy(),
            "record_id",
        ]
        mask = frame["record_id"].isin(linked_ids) | frame["true_household_id"].isin(
            households
        )
        if not mask.any():
            continue
        rows = frame.loc[mask]
        keep = [c for c in RECORD_COLUMNS if c in rows] + [
            c for c in rows.columns if c.startswith("err_") or c == "absence_rate"
        ]
        rows = rows[keep].copy()
        rows.insert(0, "source", source)
        kind = source + "." + rows["event_type"].astype(str)
        dates = rows["event_date"].to_numpy("datetime64[s]")
        in_window = ~np.isnat(dates) & (dates <= reference)
        absence = (
            rows["absence_rate"].to_numpy(dtype=float, na_value=np.nan)
            if "absence_rate" in rows
            else np.full(len(rows), np.nan)
        )
        persistent = absence >= scenario.view.persistent_absence
        rows["counted"] = in_window & (kind.isin(events).to_numpy() | persistent)
        rows["persistent_absence"] = persistent
        err_cols = [c for c in rows.columns if c.startswith("err_")]
        names = pd.Index([error_label(c) + "; " for c in err_cols])
        rows["errors"] = (
            rows[err_cols].astype(bool).dot(names).str.removesuffix("; ")
            if err_cols
            else ""
        )
        parts.append(rows.drop(columns=err_cols + ["absence_rate"], errors="ignore"))
    if not parts:
        return pd.DataFrame(columns=["source", *RECORD_COLUMNS, "counted", "errors"])
    records = pd.concat(parts, ignore_index=True)
    link_cols = ["source", "record_id", "spine_person_id", "spine_household_id"]
    link_cols += ["match_key"]
    records = records.merge(
        links[link_cols].astype({"source": str}), on=["source", "record_id"], how="left"
    )
    spine = inputs.spine.set_index("spine_person_id")["true_person_id"]
    linked_person = records["spine_person_id"].map(spine)
    records["linked_true_person"] = linked_person.astype("Int64")
    return records


def _spine_people(inputs: ReportInputs, spine_households: np.ndarray) -> pd.DataFrame:
    """Register entries of the given spine households, with their errors in words."""
    spine = inputs.spine
    rows = spine[spine["spine_household_id"].isin(spine_households)]
    err_cols = [c for c in rows.columns if c.startswith("err_")]
    names = pd.Index([error_label(c) + "; " for c in err_cols])
    out = rows[
        ["spine_person_id", "spine_household_id", "true_person_id", "true_household_id"]
    ].copy()
    out["errors"] = (
        rows[err_cols].astype(bool).dot(names).str.removesuffix("; ")
        if err_cols
        else ""
    )
    return out


def _evidence(
    candidates: pd.DataFrame,
    reach: pd.DataFrame,
    records: pd.DataFrame,
    people: pd.DataFrame,
) -> pd.Series:
    """Per (category, household): True where its records show the error."""
    # Records counted against a flagged spine household reaching each family.
    flagged = reach[reach["flagged"]][["household_id", "spine_household_id"]]
    counted = records[records["counted"]].merge(flagged, on="spine_household_id")
    other_family = (
        counted["true_household_id"].to_numpy() != counted["household_id"].to_numpy()
    )
    false_link = (
        counted["linked_true_person"].to_numpy(dtype=float, na_value=np.nan)
        != counted["true_person_id"].to_numpy()
    )
    background = ~counted["true_from_need"].fillna(False).to_numpy(bool)
    has_error = counted["errors"].ne("").to_numpy()
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
    # Missed families: one of their own counted records reached none of their
    # spine households (unlinked, or linked elsewhere).
    own = records[records["counted"] & records["true_from_need"].fillna(False)]
    own = own.merge(
        reach[["household_id", "spine_household_id"]].rename(
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
    by_kind["fn_records"] = set(
        arrived.index.get_level_values("true_household_id")[~arrived.to_numpy()]
    )
    by_kind["fn_visibility"] = set(candidates["household_id"]) - set(
        own["true_household_id"]
    )
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
        An audited run (``inputs.audit.outcomes`` kept); with an attribution, the
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
    reach = _reach(inputs, households)
    records = _records(inputs, reach["spine_household_id"].unique(), households)
    people = _spine_people(inputs, reach["spine_household_id"].unique())
    telling = _evidence(candidates, reach, records, people)
    chosen = _choose(candidates, telling)
    return chosen[["category", "household_id", "error", "cause"]].reset_index(drop=True)


# -------------------------------------------------------------- describing a case


def _date(values: pd.Series) -> pd.Series:
    """Dates as "4 Nov 2014"; missing as "missing"."""
    dates = pd.to_datetime(values)
    text = dates.dt.day.astype("Int64").astype(str) + dates.dt.strftime(" %b %Y")
    return text.where(dates.notna(), "missing").astype(object)


def _reason(reach: pd.DataFrame) -> pd.Series:
    cols = [c for c in ("driver_1", "driver_2", "driver_3") if c in reach]
    if not cols:
        return pd.Series("", index=reach.index, dtype=object)
    words = reach[cols].apply(lambda s: s.map(feature_label, na_action="ignore"))
    return words.apply(
        lambda r: join_words([w for w in r if isinstance(w, str) and w]), axis=1
    ).astype(object)


def _distinct(texts: pd.Series) -> str:
    """The distinct "; "-separated items of some texts, in first-seen order."""
    items = [w for w in "; ".join(texts.astype(str)).split("; ") if w]
    return "; ".join(dict.fromkeys(items))


def _names(first: pd.Series, last: pd.Series) -> pd.Series:
    return (
        first.astype(object).fillna("(no first name)").astype(str)
        + " "
        + last.astype(object).fillna("(no surname)").astype(str)
    )


def describe_case(inputs: ReportInputs, chosen: pd.Series) -> CaseFile:
    """The case file of one chosen household (a row of :func:`select_cases`)."""
    categories = {c.key: c for c in (*CATEGORIES, *PLAIN_CATEGORIES)}
    category = categories[chosen["category"]]
    hid = int(chosen["household_id"])
    cause = chosen["cause"] or None
    data = inputs
    household = data.households[data.households["household_id"] == hid].iloc[0]
    people = data.people[data.people["household_id"] == hid]
    members = people[["role", "sex", "age", "first_name", "last_name"]].reset_index(
        drop=True
    )
    needs = [n for n in NEEDS if bool(household.get(f"need_{n}", False))]
    target = inputs.scenario.audit.target
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
        "needs": needs,
        "eligible": bool(household["eligible"]),
        "harm": bool(household["harm"]),
        "in_target": bool(household[target]),
    }

    reach = _reach(inputs, np.array([hid]))
    if category.error == "false_positive":
        reach = reach[reach["flagged"]]
    reach = reach.sort_values(["score", "spine_household_id"], ascending=[False, True])
    spine_ids = reach["spine_household_id"].to_numpy()
    register = _spine_people(inputs, spine_ids)
    register["other"] = register["true_household_id"] != hid
    per_spine = register.groupby("spine_household_id").agg(
        n_people=("spine_person_id", "size"), n_other_family=("other", "sum")
    )
    spine = reach.assign(reason=_reason(reach).to_numpy())[
        ["spine_household_id", "score", "flagged", "reason"]
    ].merge(per_spine.reset_index(), on="spine_household_id", how="left")
    for column, rows in (  # errors on others' and on the family's own entries
        ("other_errors", register["other"]),
        ("own_errors", ~register["other"]),
    ):
        errors = (
            register[rows].groupby("spine_household_id")["errors"].agg(_distinct)
            if rows.any()
            else pd.Series(dtype=object)
        )
        mapped = spine["spine_household_id"].map(errors)
        spine[column] = mapped.astype(object).where(mapped.notna(), "")

    records = _records(inputs, spine_ids, np.array([hid]))
    about_family = records["true_household_id"].to_numpy() == hid
    to_here = records["spine_household_id"].isin(spine_ids).to_numpy()
    linked = records["spine_household_id"].notna().to_numpy()
    register_rows = int((to_here & ~records["counted"].to_numpy()).sum())
    keep = records["counted"].to_numpy() & (to_here | about_family)
    records, about_family, to_here, linked = (
        records[keep].reset_index(drop=True),
        about_family[keep],
        to_here[keep],
        linked[keep],
    )
    right_person = (
        records["linked_true_person"].to_numpy(dtype=float, na_value=np.nan)
        == records["true_person_id"].to_numpy()
    )
    background = ~records["true_from_need"].fillna(False).to_numpy(bool)
    where = np.select(
        [to_here, linked],
        ["this family's household", "another household"],
        "not linked",
    )
    about = np.select(
        [~about_family, to_here & ~right_person, linked & ~to_here],
        [
            "another family",
            "this family (linked to the wrong member)",
            "this family (linked to someone in another household)",
        ],
        "this family",
    )
    telling = (~about_family) | (background & about_family) | ~to_here
    event = records["source"].astype(str) + "." + records["event_type"].astype(str)
    labels = event.map(
        lambda e: event_label(*e.split(".", 1))  # distinct event kinds
    )
    labels = labels.where(
        ~records["persistent_absence"].to_numpy(bool), "persistent school absence"
    )
    table = pd.DataFrame(
        {
            "source": records["source"].to_numpy(),
            "event": labels.to_numpy(),
            "date": _date(records["event_date"]).to_numpy(),
            "name": _names(records["first_name"], records["last_name"]).to_numpy(),
            "dob": _date(records["dob"]).to_numpy(),
            "where": where,
            "match_key": records["match_key"].astype(object).fillna("").to_numpy(),
            "about": about,
            "background": background,
            "errors": records["errors"].astype(str).to_numpy(),
            "telling": telling,
            "need": records["true_need"].astype(object).fillna("").to_numpy(),
            "_date": records["event_date"].to_numpy(),
        }
    )
    rank = np.select(  # the evidence first: others' records, then no-problem events
        [table["about"].eq("another family"), table["background"], table["telling"]],
        [0, 1, 2],
        3,
    )
    table = (
        table.assign(_rank=rank)
        .sort_values(["_rank", "_date"], kind="stable")
        .drop(columns=["_date", "_rank"])
    )
    case = CaseFile(
        category=category,
        household_id=hid,
        cause=cause,
        family=family,
        members=members,
        spine=spine.reset_index(drop=True),
        records=table.reset_index(drop=True),
        n_records_hidden=max(len(table) - MAX_RECORDS, 0),
        register_rows=register_rows,
        explanation="",
    )
    case = _with_explanation(case, inputs)  # from every record, before the cut
    return replace(
        case,
        records=case.records.head(MAX_RECORDS).drop(columns="need"),
    )


def case_files(inputs: ReportInputs) -> list[CaseFile]:
    """The report's case files (at most one per category), in display order.

    Parameters
    ----------
    inputs : ReportInputs
        An audited run that kept its outcomes.

    Returns
    -------
    list of CaseFile
        Empty if the run has no audit outcomes or no family was wrongly flagged or
        missed.
    """
    if inputs.audit is None or inputs.audit.outcomes is None:
        return []
    chosen = select_cases(inputs)
    return [describe_case(inputs, row) for _, row in chosen.iterrows()]  # ≤ 6 cases


# ------------------------------------------------------------------ explanation


def _needs_text(needs: list[str]) -> str:
    if not needs:
        return "none of the six headline problems"
    words = join_words([need_label(n) for n in needs])
    return f"{plural(len(needs), 'headline problem')} ({words})"


def article(noun: str) -> str:
    """The indefinite article before ``noun``.

    Examples
    --------
    >>> article("out-of-work benefit claim"), article("police incident")
    ('an', 'a')
    """
    return "an" if noun[:1].lower() in "aeiou" or noun.startswith("A&E") else "a"


def _record_phrase(row: pd.Series) -> str:
    """A record in words: an event, for whom (as recorded) and when."""
    event = row["event"]
    return f"{article(event)} {event} recorded for “{row['name']}” on {row['date']}"


def _with_explanation(case: CaseFile, inputs: ReportInputs) -> CaseFile:
    f = case.family
    target = inputs.scenario.audit.target
    min_needs = inputs.scenario.eligibility.min_needs
    recs = case.records
    name = f"The {f['surname']} family"
    truth = f"{name} truly has {_needs_text(f['needs'])}"
    if target == "eligible":
        status = (
            f"so it is eligible (the programme needs at least {min_needs})"
            if f["in_target"]
            else f"fewer than the {min_needs} that make a family eligible"
        )
    else:
        status = (
            "and it came to harm in the follow-up period"
            if f["in_target"]
            else "and it did not come to harm in the follow-up period"
        )
    sentences = [f"{truth}, {status}."]
    here = recs[recs["where"] == "this family's household"]
    if case.category.error == "false_positive":
        top = case.spine.iloc[0] if len(case.spine) else None
        reason = (
            f" because its linked records showed {top['reason']}"
            if top is not None and top["reason"]
            else ""
        )
        sentences.append(
            f"Yet the council flagged the household it holds them in{reason}."
        )
        other = here[here["about"] == "another family"]
        background = here[here["background"] & (here["about"] != "another family")]
        shared = top is not None and top["n_other_family"] > 0
        errored = here[here["errors"] != ""]
        key = case.category.key
        said = len(sentences)
        if key in ("fp_linkage", "fp") and len(other):
            row = other.sort_values("background", kind="stable").iloc[0]
            via = f" by the match key “{row['match_key']}”" if row["match_key"] else ""
            whose = (
                "is about someone in another family"
                if len(other) == 1
                else "are about people in other families"
            )
            sentences.append(
                f"{plural(len(other), 'record')} counted against it {whose}: for "
                f"example {_record_phrase(row)}, linked to this family{via} because "
                "the identities looked alike."
            )
        if key in ("fp_data_error", "fp") and shared:
            stale = error_label("stale_address")
            people = plural(int(top["n_other_family"]), "person", "people")
            if stale in top["own_errors"]:
                where = (
                    "The council's register still holds this family at an "
                    f"out-of-date address, where it also holds {people} from another "
                    "family"
                )
            elif stale in top["other_errors"]:
                where = (
                    f"The council's register holds {people} from another family at "
                    "this family's address, where their entries have an out-of-date "
                    "address"
                )
            else:
                why = (
                    f" (their register entries show: {top['other_errors']})"
                    if top["other_errors"]
                    else ""
                )
                where = (
                    f"The council's register holds {people} from another family at "
                    f"this family's address{why}"
                )
            sentences.append(
                f"{where}, so the other family's records were counted against this "
                "household and the flag reaches both families."
            )
        if key == "fp_data_error" and len(errored) and not shared:
            row = errored.iloc[0]
            sentences.append(
                f"Records carry errors: for example {_record_phrase(row)} "
                f"({row['errors']})."
            )
        if key in ("fp_visibility", "fp") and len(background):
            one = len(background) == 1
            kinds = join_words(list(dict.fromkeys(background["event"]))[:3])
            sentences.append(
                f"{plural(len(background), 'event')} counted against it ({kinds}) "
                f"{'was' if one else 'were'} recorded with no true problem behind "
                f"{'it' if one else 'them'}. Agencies see some families more than "
                "others: police patrols, A&E use and benefit checks are more "
                "frequent in deprived areas (this family lives in an area of "
                f"deprivation decile {f['imd_decile']}, where 1 is the most "
                "deprived)."
            )
        if key == "fp_model":
            sentences.append(
                "Even with every true problem recorded and nothing else, the model "
                "flags this family: what the model looks for is not exactly what the "
                "audit judges it against."
            )
        if len(sentences) == said and case.cause is not None:
            moved = inputs.scenario.model.flag_rule().threshold is None
            sentences.append(
                "None of the records counted against it shows the cause directly: "
                + (
                    "the imperfection changed other households' records, and with "
                    "them which households made the cut."
                    if moved
                    else "the imperfection changed which of its records were counted."
                )
            )
    else:
        top = case.spine.iloc[0] if len(case.spine) else None
        if top is None:
            sentences.append(
                "Nobody in the family is on the council's register, so no flag "
                "could reach it."
            )
        else:
            cut = actual_cut(inputs.flags, inputs.scenario.model.flag_rule())
            sentences.append(
                f"The council did not flag it: its household scored "
                f"{top['score']:.3g}, below the cut of {cut:.3g}."
            )
        own = recs[recs["about"] != "another family"]
        own_need = own[~own["background"]]
        lost = own_need[own_need["where"] != "this family's household"]
        if len(lost):
            row = lost.iloc[0]
            sentences.append(
                f"{plural(len(lost), 'record')} of its problems never reached its "
                f"household: for example {_record_phrase(row)} was "
                f"{'not linked' if row['where'] == 'not linked' else 'linked to another household'}"  # noqa: E501
                f"{' (' + row['errors'] + ')' if row['errors'] else ''}."
            )
        unseen = [n for n in f["needs"] if n not in set(own_need["need"])]
        if not f["needs"]:
            sentences.append(
                "It has none of the problems the records can show: harm can come to "
                "a family that no record points to."
            )
        elif unseen and len(unseen) == len(f["needs"]):
            sentences.append(
                "None of its problems left a record at any agency, so its records "
                "showed none of them."
            )
        elif unseen:
            words = join_words([need_label(n) for n in unseen])
            sentences.append(
                f"Its {words} left no record at any agency, so the linked records "
                "showed too few problems."
            )
        if len(case.spine) > 1:
            sentences.append(
                f"The council holds its members at {count(len(case.spine))} "
                "addresses, so its records were split between households."
            )
        elif not len(lost) and not unseen and f["needs"]:
            errored = own_need[own_need["errors"] != ""]
            example = (
                f": for example {_record_phrase(errored.iloc[0])} "
                f"({errored.iloc[0]['errors']})"
                if len(errored)
                else ""
            )
            sentences.append(
                "Its problems were recorded and reached its household, but not in "
                f"the form the model counts{example}."
            )
    if case.cause is not None:
        sentences.append(
            "In the attribution's re-runs (adding one imperfection at a time), this "
            f"{'wrong flag' if case.category.error == 'false_positive' else 'miss'}"
            f" first appears with {CAUSE_LABELS.get(case.cause, case.cause)}."
        )
    return replace(case, explanation=" ".join(sentences))


def member_summary(members: pd.DataFrame) -> str:
    """The family's make-up, such as "2 adults and 3 children (aged 11, 8 and 6)".

    Examples
    --------
    >>> m = pd.DataFrame({"role": ["adult1", "child", "child"], "age": [40, 9, 4]})
    >>> member_summary(m)
    '1 adult and 2 children (aged 9 and 4)'
    """
    adults = int((members["role"] != "child").sum())
    children = members.loc[members["role"] == "child", "age"].astype(int)
    text = plural(adults, "adult")
    if len(children):
        ages = join_words([str(a) for a in sorted(children.tolist(), reverse=True)])
        text += f" and {plural(len(children), 'child', 'children')} (aged {ages})"
    return text


__all__ = [
    "CATEGORIES",
    "CaseFile",
    "Category",
    "case_files",
    "describe_case",
    "member_summary",
    "select_cases",
]
