"""Why families were wrongly flagged or missed: the attribution ladder."""

from __future__ import annotations

from audits.attribution import CAUSE_LABELS
from audits.report import charts
from audits.report.inputs import ReportInputs
from audits.report.page import (
    Html,
    figure,
    join,
    note,
    p,
    table,
    tag,
    ul,
)
from audits.report.sections.common import one_world_note
from audits.report.text import (
    RUNG_DESCRIPTIONS,
    count,
    group_label,
    plural,
)
from simulator.vocabulary import OVERALL


def attribution_section(inputs: ReportInputs) -> Html:
    """The causes of wrong flags and missed families, and the ladder."""
    if inputs.attribution is None:
        return note(
            "This run was made without the attribution (the counterfactual re-runs), "
            "so the causes of errors are not known. Run it with attribution to fill "
            "this section.",
            kind="warning",
        )
    a = inputs.attribution
    totals = a.counts[a.counts["group"] == OVERALL].set_index("error")
    sentences = []
    for kind, words in (
        ("false_positive", "wrongly flagged"),
        ("false_negative", "missed"),
    ):
        if kind not in totals.index:
            continue
        row = totals.loc[kind]
        pieces = [
            f"{CAUSE_LABELS[c]} {count(row[c])}"
            for c in CAUSE_LABELS
            if row.get(c, 0) > 0
        ]
        sentences.append(
            f"Of the {plural(int(row['total']), 'family', 'families')} {words}: "
            + (", ".join(pieces) if pieces else "none")
            + "."
        )
    grouping = (
        "imd_quintile"
        if (a.counts["group"] == "imd_quintile").any()
        else next((g for g in a.counts["group"] if g != OVERALL), None)
    )
    ladder = [
        [
            CAUSE_LABELS.get(str(r["rung"]), str(r["rung"])),
            RUNG_DESCRIPTIONS.get(str(r["rung"]), ""),
            count(r["flagged"]),
            count(r["false_positives"]),
            count(r["false_negatives"]),
        ]
        for _, r in a.flagged_by_rung.iterrows()  # five rungs
    ]
    return join(
        [
            *one_world_note(
                inputs,
                "These causes and counts are for",
                "the ladder of re-runs is made for the first world only",
            ),
            p(
                "Why was each family wrongly flagged or missed? The simulation is "
                "run again with the same families, adding one imperfection at a "
                "time: first perfect records (only the model can err), then the "
                "people missing from the council's register, then who agencies see "
                "(visibility), then data errors, then the council's own linkage. "
                "Each error is put down to the first step at which it appears, so "
                "the causes add up to the totals."
            ),
            ul(sentences),
            figure(
                charts.attribution_chart(a.counts, grouping),
                "how many families were wrongly flagged (left) and missed (right), "
                "split by the first imperfection that produced the error, for all "
                f"families and by {group_label(grouping or 'group')}.",
                "the longest colour in a bar is the main cause for that group. "
                "Visibility bias (orange) means the error comes from who agencies "
                "see and record, not from any mistake in the data.",
            ),
            tag("h3", "The ladder: how the totals build up"),
            table(
                [
                    "step",
                    "what the model sees",
                    "flagged",
                    "wrongly flagged",
                    "missed",
                ],
                ladder,
                numeric=[2, 3, 4],
            ),
        ]
    )
