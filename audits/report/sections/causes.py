"""Why families were wrongly flagged or missed: the attribution ladder.

With replicate worlds, the ladder is run in every world and the counts shown are the
mean per world with the smallest and largest world in brackets
(:mod:`audits.pooled_attribution`).
"""

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
from audits.report.text import (
    RUNG_DESCRIPTIONS,
    group_label,
    plural,
    pooled_count,
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
            f"{CAUSE_LABELS[c]} {pooled_count(row, c)}"
            for c in CAUSE_LABELS
            if row.get(c, 0) > 0
        ]
        lead = (
            f"Of the {plural(int(row['total']), 'family', 'families')} {words}"
            if a.worlds == 1
            else f"Families {words}, {pooled_count(row, 'total')} per world"
        )
        sentences.append(f"{lead}: " + (", ".join(pieces) if pieces else "none") + ".")
    grouping = (
        "imd_quintile"
        if (a.counts["group"] == "imd_quintile").any()
        else next((g for g in a.counts["group"] if g != OVERALL), None)
    )
    ladder = [
        [
            CAUSE_LABELS.get(str(r["rung"]), str(r["rung"])),
            RUNG_DESCRIPTIONS.get(str(r["rung"]), ""),
            pooled_count(r, "flagged"),
            pooled_count(r, "false_positives"),
            pooled_count(r, "false_negatives"),
        ]
        for _, r in a.flagged_by_rung.iterrows()  # five rungs
    ]
    return join(
        [
            *_worlds_note(a.worlds),
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
                f"families and by {group_label(grouping or 'group')}"
                + (
                    "; bars are the mean per world, the whisker the smallest to "
                    "largest world's total."
                    if a.worlds > 1
                    else "."
                ),
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


def _worlds_note(worlds: int) -> list[Html]:
    """How counts pooled over several worlds read (nothing for one world)."""
    if worlds <= 1:
        return []
    return [
        note(
            f"The ladder was run in each of the {worlds} simulated worlds pooled "
            "in this report, each with its own families. Counts are the mean per "
            "world, with the smallest and largest world in brackets; each world's "
            "own counts are in attribution/counts_by_world.csv. The case files "
            "below are families of the first world."
        )
    ]
