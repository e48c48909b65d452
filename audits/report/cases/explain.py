"""Case files in words: record codes as labels, and the explanation paragraph.

Every decision (which record is the example, which sentence applies) reads the case
file's codes and values (:mod:`~audits.report.cases.kinds`); the words are chosen
here, last, so rewording the report changes no logic.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from audits.attribution import CAUSE_LABELS
from audits.report.cases.kinds import (
    FAMILY,
    HOUSEHOLD,
    MEMBER_ELSEWHERE,
    OTHER_FAMILY,
    OTHER_HOUSEHOLD,
    RECORDED_AS_MEMBER,
    UNLINKED,
    WRONG_MEMBER,
    CaseFile,
)
from audits.report.text import (
    count,
    error_label,
    event_label,
    feature_label,
    join_words,
    need_label,
    plural,
)
from simulator.schema.scenario import Scenario

LINKED_TO_WORDS = {
    HOUSEHOLD: "this family's household",
    OTHER_HOUSEHOLD: "another household",
    UNLINKED: "not linked",
}
"""Where a record's link put it (:data:`~audits.report.cases.kinds.LINKED_TO`)."""
ABOUT_WORDS = {
    OTHER_FAMILY: "another family",
    RECORDED_AS_MEMBER: "this family (recorded against another member, and linked "
    "to that member as recorded)",
    WRONG_MEMBER: "this family (linked to the wrong member)",
    MEMBER_ELSEWHERE: "this family (linked to someone in another household)",
    FAMILY: "this family",
}
"""Whose record it truly is (:data:`~audits.report.cases.kinds.ABOUT`)."""


def date_text(value: Any) -> str:
    """A date as "4 Nov 2014"; a missing one as "missing"."""
    date = pd.to_datetime(value)
    return "missing" if pd.isna(date) else f"{date.day}{date.strftime(' %b %Y')}"


def name_text(first: Any, last: Any) -> str:
    """A name as recorded, with its missing parts said."""
    first = "(no first name)" if pd.isna(first) else str(first)
    last = "(no surname)" if pd.isna(last) else str(last)
    return f"{first} {last}"


def event_text(record: pd.Series) -> str:
    """A record's event in words."""
    if record["persistent_absence"]:
        return "persistent school absence"
    return event_label(record["source"], record["event_type"])


def errors_text(errors: tuple[str, ...]) -> str:
    """Data errors (error names) in words, "; "-separated; empty if none."""
    return "; ".join(error_label(e) for e in errors)


def drivers_text(drivers: tuple[str, ...]) -> str:
    """The features that drove a score, in words; empty if none."""
    return join_words([feature_label(d) for d in drivers])


def article(noun: str) -> str:
    """The indefinite article before ``noun``.

    Examples
    --------
    >>> article("out-of-work benefit claim"), article("police incident")
    ('an', 'a')
    """
    return "an" if noun[:1].lower() in "aeiou" or noun.startswith("A&E") else "a"


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


def _record_phrase(record: pd.Series) -> str:
    """A record in words: an event, for whom (as recorded) and when."""
    event = event_text(record)
    name = name_text(record["first_name"], record["last_name"])
    when = date_text(record["event_date"])
    return f"{article(event)} {event} recorded for “{name}” on {when}"


def _with_errors(record: pd.Series) -> str:
    """A record's errors in brackets, to follow its phrase (empty if none)."""
    return f" ({errors_text(record['errors'])})" if record["errors"] else ""


def _needs_text(needs: list[str]) -> str:
    if not needs:
        return "none of the six headline problems"
    words = join_words([need_label(n) for n in needs])
    return f"{plural(len(needs), 'headline problem')} ({words})"


def _truth(case: CaseFile, scenario: Scenario) -> str:
    """The family's true problems and whether it is in the audit's target."""
    f = case.family
    min_needs = scenario.eligibility.min_needs
    truth = f"The {f['surname']} family truly has {_needs_text(f['needs'])}"
    if scenario.audit.target == "eligible":
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
    return f"{truth}, {status}."


def _linked_in(other: pd.DataFrame) -> str:
    """Other families' records linked to this one, with one example."""
    row = other.sort_values("background", kind="stable").iloc[0]
    via = f" by the match key “{row['match_key']}”" if row["match_key"] else ""
    whose = (
        "is about someone in another family"
        if len(other) == 1
        else "are about people in other families"
    )
    return (
        f"{plural(len(other), 'record')} counted against it {whose}: for "
        f"example {_record_phrase(row)}, linked to this family{via} because "
        "the identities looked alike."
    )


def _shared_address(top: pd.Series) -> str:
    """Another family held at the same council household, and why."""
    people = plural(int(top["n_other_family"]), "person", "people")
    if "stale_address" in top["own_errors"]:
        where = (
            "The council's register still holds this family at an "
            f"out-of-date address, where it also holds {people} from another "
            "family"
        )
    elif "stale_address" in top["other_errors"]:
        where = (
            f"The council's register holds {people} from another family at "
            "this family's address, where their entries have an out-of-date "
            "address"
        )
    else:
        why = (
            f" (their register entries show: {errors_text(top['other_errors'])})"
            if top["other_errors"]
            else ""
        )
        where = (
            f"The council's register holds {people} from another family at "
            f"this family's address{why}"
        )
    return (
        f"{where}, so the other family's records were counted against this "
        "household and the flag reaches both families."
    )


def _seen_more(background: pd.DataFrame, decile: int) -> str:
    """Events recorded with no problem behind them: who agencies see."""
    one = len(background) == 1
    words = [event_text(r) for _, r in background.iterrows()]  # one family's records
    kinds = join_words(list(dict.fromkeys(words))[:3])
    return (
        f"{plural(len(background), 'event')} counted against it ({kinds}) "
        f"{'was' if one else 'were'} recorded with no true problem behind "
        f"{'it' if one else 'them'}. Agencies see some families more than "
        "others: police patrols, A&E use and benefit checks are more "
        "frequent in deprived areas (this family lives in an area of "
        f"deprivation decile {decile}, where 1 is the most deprived)."
    )


def _wrongly_flagged(case: CaseFile, scenario: Scenario) -> list[str]:
    """Why a family not in the target was flagged, from its records' codes."""
    recs = case.records
    here = recs[recs["linked_to"] == HOUSEHOLD]
    top = case.spine.iloc[0] if len(case.spine) else None
    reason = (
        f" because its linked records showed {drivers_text(top['drivers'])}"
        if top is not None and top["drivers"]
        else ""
    )
    sentences = [f"Yet the council flagged the household it holds them in{reason}."]
    other = here[here["about"] == OTHER_FAMILY]
    background = here[here["background"] & (here["about"] != OTHER_FAMILY)]
    shared = top is not None and top["n_other_family"] > 0
    errored = here[here["errors"].map(bool)]
    key = case.category.key
    if key in ("fp_linkage", "fp") and len(other):
        sentences.append(_linked_in(other))
    if key in ("fp_data_error", "fp") and shared:
        sentences.append(_shared_address(top))
    if key == "fp_data_error" and len(errored) and not shared:
        row = errored.iloc[0]
        sentences.append(
            f"Records carry errors: for example {_record_phrase(row)}"
            f"{_with_errors(row)}."
        )
    if key in ("fp_visibility", "fp") and len(background):
        sentences.append(_seen_more(background, case.family["imd_decile"]))
    if key == "fp_model":
        sentences.append(
            "Even with every true problem recorded and nothing else, the model "
            "flags this family: what the model looks for is not exactly what the "
            "audit judges it against."
        )
    if len(sentences) == 1 and case.cause is not None:
        moved = scenario.model.flag_rule().threshold is None
        sentences.append(
            "None of the records counted against it shows the cause directly: "
            + (
                "the imperfection changed other households' records, and with "
                "them which households made the cut."
                if moved
                else "the imperfection changed which of its records were counted."
            )
        )
    return sentences


def _unseen(needs: list[str], recorded: set[str]) -> str | None:
    """The family's problems no agency recorded, in a sentence (None: all were)."""
    unseen = [n for n in needs if n not in recorded]
    if not needs:
        return (
            "It has none of the problems the records can show: harm can come to "
            "a family that no record points to."
        )
    if unseen and len(unseen) == len(needs):
        return (
            "None of its problems left a record at any agency, so its records "
            "showed none of them."
        )
    if unseen:
        words = join_words([need_label(n) for n in unseen])
        return (
            f"Its {words} left no record at any agency, so the linked records "
            "showed too few problems."
        )
    return None


def _missed(case: CaseFile, cut: float) -> list[str]:
    """Why a family in the target was not flagged, from its records' codes."""
    f = case.family
    recs = case.records
    top = case.spine.iloc[0] if len(case.spine) else None
    if top is None:
        sentences = [
            "Nobody in the family is on the council's register, so no flag "
            "could reach it."
        ]
    else:
        sentences = [
            f"The council did not flag it: its household scored "
            f"{top['score']:.3g}, below the cut of {cut:.3g}."
        ]
    own = recs[recs["about"] != OTHER_FAMILY]
    own_need = own[~own["background"]]
    lost = own_need[own_need["linked_to"] != HOUSEHOLD]
    if len(lost):
        row = lost.iloc[0]
        went = (
            "not linked"
            if row["linked_to"] == UNLINKED
            else ("linked to another household")
        )
        sentences.append(
            f"{plural(len(lost), 'record')} of its problems never reached its "
            f"household: for example {_record_phrase(row)} was {went}"
            f"{_with_errors(row)}."
        )
    off = case.members[~case.members["on_register"].to_numpy(bool)]
    if len(off) and len(lost):
        names = join_words([str(n) for n in off["first_name"]])
        sentences.append(
            f"{names} {'is' if len(off) == 1 else 'are'} not on the council's "
            "register at all, so nothing recorded about "
            f"{'them' if len(off) > 1 else 'that person'} can reach the family."
        )
    unseen = _unseen(f["needs"], set(own_need["need"]))
    if unseen:
        sentences.append(unseen)
    if len(case.spine) > 1:
        sentences.append(
            f"The council holds its members at {count(len(case.spine))} "
            "addresses, so its records were split between households."
        )
    elif not len(lost) and unseen is None and f["needs"]:
        errored = own_need[own_need["errors"].map(bool)]
        example = (
            f": for example {_record_phrase(errored.iloc[0])}"
            f"{_with_errors(errored.iloc[0])}"
            if len(errored)
            else ""
        )
        sentences.append(
            "Its problems were recorded and reached its household, but not in "
            f"the form the model counts{example}."
        )
    return sentences


def explanation(case: CaseFile, scenario: Scenario, cut: float) -> str:
    """A case file's paragraph in plain words (not yet escaped).

    Parameters
    ----------
    case : CaseFile
    scenario : Scenario
        The run's scenario: the audit's target, the eligibility rule, the flag rule.
    cut : float
        The score at which the council's flag rule cut
        (:func:`~audits.report.curves.actual_cut`).

    Returns
    -------
    str
        The truth about the family, why the council flagged or missed it (from
        every record of the case, not only those listed), and the attribution's
        cause if known.
    """
    sentences = [_truth(case, scenario)]
    if case.wrongly_flagged:
        sentences += _wrongly_flagged(case, scenario)
    else:
        sentences += _missed(case, cut)
    if case.cause is not None:
        sentences.append(
            "In the attribution's re-runs (adding one imperfection at a time), this "
            f"{'wrong flag' if case.wrongly_flagged else 'miss'}"
            f" first appears with {CAUSE_LABELS.get(case.cause, case.cause)}."
        )
    return " ".join(sentences)
