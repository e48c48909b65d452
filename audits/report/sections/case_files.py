"""Case files: a few synthetic families behind the numbers, as the report shows them.

The families are chosen and gathered by :mod:`audits.report.cases`; this module
lays them out.
"""

from __future__ import annotations

import pandas as pd

from audits.report.cases import CATEGORIES, CaseFile, case_files
from audits.report.cases.explain import (
    ABOUT_WORDS,
    LINKED_TO_WORDS,
    date_text,
    drivers_text,
    errors_text,
    event_text,
    explanation,
    member_summary,
    name_text,
)
from audits.report.cases.kinds import HOUSEHOLD, OTHER_FAMILY
from audits.report.curves import run_cut
from audits.report.inputs import ReportInputs
from audits.report.page import (
    Html,
    join,
    note,
    p,
    table,
    tag,
)
from audits.report.sections.common import (
    SYNTHETIC_NOTE,
    no_audit,
    one_world_note,
)
from audits.report.text import (
    NEED_LABELS,
    SEX_LABELS,
    SOURCE_LABELS,
    count,
    num,
    plural,
    value_label,
)


def _family_card(case: CaseFile, inputs: ReportInputs) -> Html:
    f = case.family
    needs = [NEED_LABELS.get(n, n) for n in f["needs"]]
    target = inputs.scenario.audit.target
    facts = [
        ("family", member_summary(case.members)),
        ("area", f"deprivation decile {f['imd_decile']} (1 = most deprived)"),
        ("home", value_label("tenure", f["tenure"])),
        ("ethnicity", value_label("ethnicity", f["ethnicity"])),
        ("lone parent", "yes" if f["lone_parent"] else "no"),
        ("moved last year", "yes" if f["moved_recently"] else "no"),
        ("true problems", ", ".join(needs) if needs else "none"),
        (
            "in truth",
            ("eligible" if f["eligible"] else "not eligible")
            + ("; came to harm" if f["harm"] else "; no harm"),
        ),
        (
            "the council",
            "flagged it" if case.wrongly_flagged else "missed it",
        ),
    ]
    if target == "harm":
        facts[7] = ("in truth", facts[7][1] + " (the audit's target is harm)")
    dl = tag(
        "dl",
        join(join([tag("dt", k), tag("dd", v)], "") for k, v in facts),
        class_="facts",
    )
    members = table(
        ["member", "sex", "age", "name (synthetic)", "on the council's register"],
        [
            [
                "child" if r["role"] == "child" else "adult",
                SEX_LABELS.get(str(r["sex"]), str(r["sex"])),
                count(r["age"]),
                f"{r['first_name']} {r['last_name']}",
                "yes" if r["on_register"] else "no",
            ]
            for _, r in case.members.iterrows()  # a family's members
        ],
        numeric=[2],
    )
    return tag("div", join([dl, members]), class_="card")


def _spine_table(case: CaseFile) -> Html:
    if case.spine.empty:
        return p("Nobody in this family is on the council's register.")
    rows = [
        [
            f"#{int(r['spine_household_id'])}",
            count(r["n_people"]),
            count(r["n_other_family"]),
            num(r["score"], 2),
            "yes" if r["flagged"] else "no",
            drivers_text(r["drivers"]) or "–",
        ]
        for _, r in case.spine.iterrows()  # one or two households
    ]
    return table(
        [
            "council household",
            "people held there",
            "of them from another family",
            "score",
            "flagged",
            "the model's reasons",
        ],
        rows,
        numeric=[1, 2, 3],
    )


def _records_table(case: CaseFile) -> Html:
    r = case.shown_records
    if r.empty:
        return p("No event was recorded about this family or linked to its household.")
    body = []
    classes = []
    for _, x in r.iterrows():  # at most MAX_RECORDS records of one case
        if x["about"] == OTHER_FAMILY:
            about: object = join(
                [tag("span", "another family", class_="tag other"), "someone else"],
                " ",
            )
        elif x["background"]:
            about = join(
                [
                    tag("span", "no problem", class_="tag background"),
                    "this family, with no true problem behind it",
                ],
                " ",
            )
        else:
            about = ABOUT_WORDS[x["about"]]
        linked_to = LINKED_TO_WORDS[x["linked_to"]]
        where: object = (
            f"{linked_to} (key: {x['match_key']})" if x["match_key"] else linked_to
        )
        lost = x["linked_to"] != HOUSEHOLD and x["about"] != OTHER_FAMILY
        if lost:
            where = join([tag("span", "did not reach it", class_="tag lost"), where])
        body.append(
            [
                SOURCE_LABELS.get(x["source"], x["source"]),
                event_text(x),
                date_text(x["event_date"]),
                f"{name_text(x['first_name'], x['last_name'])}, "
                + (
                    "no date of birth"
                    if pd.isna(x["dob"])
                    else f"born {date_text(x['dob'])}"
                ),
                where,
                about,
                errors_text(x["errors"]) or "–",
            ]
        )
        classes.append(
            "other" if x["about"] == OTHER_FAMILY else "lost" if lost else None
        )
    parts = [
        table(
            [
                "source",
                "event",
                "date",
                "recorded as",
                "linked to",
                "whose record it truly is",
                "data errors on the record",
            ],
            body,
            row_classes=classes,
            class_="records",
        )
    ]
    extra = []
    if case.n_records_hidden:
        extra.append(f"{plural(case.n_records_hidden, 'more record')} not listed.")
    if case.register_rows:
        extra.append(
            f"{plural(case.register_rows, 'register row')} (GP registrations, school "
            "census entries) also linked to the household; they describe who lives "
            "there and are not events."
        )
    if extra:
        parts.append(p(" ".join(extra), class_="small"))
    return join(parts)


def _case(case: CaseFile, inputs: ReportInputs, number: int, cut: float) -> Html:
    kind = "fp" if case.wrongly_flagged else "fn"
    label = "wrongly flagged" if kind == "fp" else "missed"
    heading = join(
        [
            tag("span", "synthetic", class_="tag synthetic"),
            tag("span", label, class_=f"tag {kind}"),
            f"Case {number}: the {case.family['surname']} family. "
            f"{case.category.title}",
        ],
        "",
    )
    return tag(
        "article",
        join(
            [
                tag("h3", heading),
                tag("p", explanation(case, inputs.scenario, cut), class_="explain"),
                tag("h4", "The family as it truly is"),
                _family_card(case, inputs),
                tag("h4", "How the council holds it"),
                _spine_table(case),
                tag(
                    "h4",
                    "The records counted against it"
                    if kind == "fp"
                    else "Its records, and where they went",
                ),
                _records_table(case),
            ]
        ),
        class_="case",
        id=f"case-{case.category.key.replace('_', '-')}",
    )


def cases_section(inputs: ReportInputs) -> Html:
    """A handful of synthetic families wrongly flagged or missed, and why."""
    if inputs.audit is None or inputs.audit.outcomes is None:
        return no_audit()
    cases = inputs.ahead["cases"] if "cases" in inputs.ahead else case_files(inputs)
    intro = [
        p(
            "Numbers hide people. These are a few of the synthetic families behind "
            "them: for each kind of error, one family whose records show it, chosen "
            "to spread across areas and groups (the rule is in the audit guide). "
            "Each case shows the family as it truly is, the "
            "household the council holds it in, and the records that were counted "
            "against that household: which of them are about someone else, which "
            "carry errors, and which were recorded with no problem behind them."
        ),
        note(tag("strong", "Synthetic families. "), Html(SYNTHETIC_NOTE)),
        *one_world_note(
            inputs,
            "These families are from",
            "a case file follows one family through its records",
        ),
    ]
    if not cases:
        return join([*intro, p("No family was wrongly flagged or missed in this run.")])
    present = {c.category.key for c in cases}
    absent = [
        c.title for c in CATEGORIES if c.key not in present and inputs.attribution
    ]
    cut = run_cut(inputs.tables, inputs.scenario.model.flag_rule())
    body = [_case(c, inputs, i + 1, cut) for i, c in enumerate(cases)]
    if absent:
        body.append(
            p(
                "This run has no family of the other kinds ("
                + "; ".join(a[0].lower() + a[1:] for a in absent)
                + "), so they have no case file.",
                class_="small",
            )
        )
    return join([*intro, *body])
