"""The lesson's two families: one wrongly flagged and one missed, from the case files.

The families are the report's own case files (chosen by
:func:`audits.report.cases.select_cases`, worded by
:mod:`audits.report.cases.explain`): the lesson shows the wrongly flagged family of
the most common cause of wrong flags, and the missed family of the most common cause
of misses, so its story is the typical one.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from audits.report.cases import (
    CATEGORIES,
    PLAIN_CATEGORIES,
    CaseFile,
    Category,
    Examined,
    describe_case,
    examine_cases,
    gather,
)
from audits.report.cases.explain import (
    ABOUT_WORDS,
    LINKED_TO_WORDS,
    date_text,
    errors_text,
    event_text,
    explanation,
    member_summary,
)
from audits.report.cases.kinds import HOUSEHOLD, OTHER_FAMILY
from audits.report.curves import run_cut
from audits.report.inputs import ReportInputs
from audits.report.text import NEED_LABELS, SOURCE_LABELS, value_label

LESSON_RECORDS = 4
"""Records listed per family in the lesson (the most telling first)."""


@dataclass(frozen=True)
class Story:
    """One family's story as the lesson page shows it (plain text, escaped later)."""

    wrongly_flagged: bool
    surname: str
    title: str
    explanation: str
    facts: list[tuple[str, str]]
    records: list[dict[str, str]]
    more_records: int


def most_common_causes(inputs: ReportInputs) -> dict[str, list[str]]:
    """Per error, the attribution's causes from most to least common overall."""
    if inputs.attribution is None:
        return {}
    h = inputs.attribution.households
    ranked = h.groupby(["error", "cause"], observed=True).size().reset_index(name="n")
    ranked = ranked.sort_values(["error", "n", "cause"], ascending=[True, False, True])
    return {e: list(part["cause"]) for e, part in ranked.groupby("error")}


def _first_of_causes(
    part: pd.DataFrame, order: list[str], kinds: dict[str, Category]
) -> pd.DataFrame:
    """The first row whose kind covers the most common cause possible."""
    for cause in order:  # five causes at most
        covers = [cause in (kinds[k].causes or ()) for k in part["category"]]
        if any(covers):
            return part[covers].head(1)
    return part.head(1)


def lesson_cases(inputs: ReportInputs) -> pd.DataFrame:
    """The two chosen households: a wrong flag, then a miss (either may be absent).

    Each is the case file of its error's most common cause that has one (else the
    first case file of that error). Columns as :func:`select_cases`.
    """
    return _lesson_choice(inputs)[0]


def _lesson_choice(inputs: ReportInputs) -> tuple[pd.DataFrame, Examined | None]:
    """:func:`lesson_cases`, and what choosing the case files read."""
    chosen, examined = examine_cases(inputs)
    causes = most_common_causes(inputs)
    kinds = {c.key: c for c in (*CATEGORIES, *PLAIN_CATEGORIES)}
    parts = [
        _first_of_causes(chosen[chosen["error"] == error], causes.get(error, []), kinds)
        for error in ("false_positive", "false_negative")
    ]
    return pd.concat(parts).reset_index(drop=True), examined


def _without_prefix(title: str) -> str:
    """A kind's title without its "Wrongly flagged: " or "Missed: " (the badge).

    Examples
    --------
    >>> _without_prefix("Missed: its problems were never seen")
    'Its problems were never seen'
    """
    head, sep, rest = title.partition(": ")
    text = rest if sep and head in ("Wrongly flagged", "Missed") else title
    return text[:1].upper() + text[1:]


def _facts(case: CaseFile) -> list[tuple[str, str]]:
    f = case.family
    needs = [NEED_LABELS.get(n, n) for n in f["needs"]]
    return [
        ("Who lives there", member_summary(case.members)),
        (
            "Where",
            f"an area of deprivation decile {f['imd_decile']} "
            "(1 = the poorest tenth of areas)",
        ),
        ("Home", value_label("tenure", f["tenure"])),
        ("Moved in the last year", "yes" if f["moved_recently"] else "no"),
        ("Its real problems", ", ".join(needs) if needs else "none"),
    ]


def _records(case: CaseFile) -> list[dict[str, str]]:
    rows = []
    for _, r in case.records.head(LESSON_RECORDS).iterrows():  # at most 4 records
        where = LINKED_TO_WORDS[r["linked_to"]]
        rows.append(
            {
                "source": SOURCE_LABELS.get(r["source"], r["source"]),
                "event": event_text(r),
                "date": date_text(r["event_date"]),
                "whose": (
                    "this family, with no real problem behind it"
                    if r["background"] and r["about"] != OTHER_FAMILY
                    else ABOUT_WORDS[r["about"]]
                ),
                "where": where,
                "reached": "yes" if r["linked_to"] == HOUSEHOLD else "no",
                "errors": errors_text(r["errors"]) or "none",
                "other": "yes" if r["about"] == OTHER_FAMILY else "",
            }
        )
    return rows


def stories(inputs: ReportInputs) -> list[Story]:
    """The lesson's families, wrongly flagged first; empty without an audit."""
    if inputs.audit is None or inputs.audit.outcomes is None:
        return []
    cut = run_cut(inputs.tables, inputs.scenario.model.flag_rule())
    out = []
    chosen, examined = _lesson_choice(inputs)
    known = gather(inputs, chosen["household_id"].to_numpy(), examined)  # both
    for _, row in chosen.iterrows():  # two families
        case = describe_case(inputs, row, known)
        out.append(
            Story(
                wrongly_flagged=case.wrongly_flagged,
                surname=str(case.family["surname"]),
                title=_without_prefix(case.category.title),
                explanation=explanation(case, inputs.scenario, cut),
                facts=_facts(case),
                records=_records(case),
                more_records=max(len(case.records) - LESSON_RECORDS, 0),
            )
        )
    return out
