"""Linking the records: its quality overall, per source, by group; its causes."""

from __future__ import annotations

import pandas as pd

from audits.pooled_links import pool_quality, rate_range
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
)
from audits.report.sections.common import one_world_note
from audits.report.text import (
    SIDE_LABELS,
    SOURCE_LABELS,
    count,
    error_label,
    interval,
    pct,
)


def _quality_row(label: str, r: pd.Series) -> list[object]:
    """One row of the linkage table: counts of records and links, then rates."""
    return [
        label,
        count(r["n_records"]),
        count(r["n_linkable"]),
        count(r["n_false"]),
        count(r["n_missed"]),
        count(r["n_wrong_subject"]),
        pct(r["precision"], 2),
        pct(r["recall"], 2),
        pct(r["subject_precision"], 2),
    ]


def _cause_rows(causes: pd.DataFrame) -> list[list[object]]:
    """The ten data errors behind the most false and missed links."""
    causes = causes.assign(total=causes["n_false"] + causes["n_missed"])
    causes = causes.sort_values(
        ["total", "cause", "side"], ascending=[False, True, True], kind="stable"
    ).head(10)
    return [
        [
            error_label(str(r["cause"])),
            SIDE_LABELS.get(str(r["side"]), str(r["side"])),
            count(r["n_false"]),
            count(r["n_missed"]),
        ]
        for _, r in causes.iterrows()  # ten rows
    ]


def _pooled_note(inputs: ReportInputs) -> list[Html]:
    """How the links were pooled over the worlds (nothing with one world).

    A run that measured only its first world's links (the report's inputs carry
    no other world's) says so, as the other one-world parts do.
    """
    n = 1 + len(inputs.link_quality_worlds)
    if n == 1:
        return one_world_note(
            inputs,
            "This section's link counts, table and chart show",
            "the links' quality against the truth was measured for the first "
            "world only",
        )
    worlds = (inputs.link_quality, *inputs.link_quality_worlds)
    spread = rate_range(worlds)
    ranges = ", ".join(
        f"{label} {interval(spread.at[rate, 'min'], spread.at[rate, 'max'])}"
        for rate, label in (
            ("precision", "precision"),
            ("recall", "recall"),
            ("subject_precision", "subject precision"),
        )
    )
    return [
        note(
            f"Pooled over {n} simulated worlds: every link count in this section "
            "is summed over the worlds, and precision, recall and subject precision "
            "are those of the summed counts. From one world to another they ranged "
            f"over {ranges}. The linkage/ files are the first world's."
        )
    ]


def linkage_section(inputs: ReportInputs) -> Html:
    """Linkage quality overall, per source and by group, and its main causes.

    Pooled over the replicate worlds when the inputs carry their link quality.
    """
    q = pool_quality((inputs.link_quality, *inputs.link_quality_worlds))
    o = q.overall.iloc[0]
    per_source = [
        _quality_row(SOURCE_LABELS.get(str(src), str(src)), r)
        for src, r in q.by_source.iterrows()  # a handful of sources
    ]
    per_source.append(_quality_row("all sources", o))
    cause_rows = _cause_rows(q.causes)
    return join(
        [
            *_pooled_note(inputs),
            p(
                "Before any model runs, the council links every agency's records to "
                "its own register of families (the spine). A linker sees the "
                "identity a record carries (name, date of birth, numbers): a record "
                "linked to another identity adds someone else's events to a family "
                "(a false link); a record not linked to its identity hides them (a "
                "missed link). A record made against the wrong member of a family "
                "carries that member's identity: linking it there is the linker "
                "doing its job on wrong data, so it is counted as a data error "
                "(wrong subject), not as a linkage error."
            ),
            p(
                f"Of {count(o['n_linkable'])} records whose identity is on the "
                f"register, {count(o['n_correct'])} were linked to that identity "
                f"(recall {pct(o['recall'], 2)}); {count(o['n_false'])} records were "
                f"linked to another identity and {count(o['n_missed'])} were missed. "
                f"{pct(o['precision'], 2)} of all links made were to the identity "
                f"the record carries (precision). Of those, "
                f"{count(o['n_wrong_subject'])} carried another person's identity "
                "(a data error): counting them, "
                f"{pct(o['subject_precision'], 2)} of links reached the person the "
                "event truly concerns (subject precision)."
            ),
            table(
                [
                    "source",
                    "records",
                    "linkable",
                    "false links",
                    "missed links",
                    "wrong subject (data error)",
                    "precision",
                    "recall",
                    "subject precision",
                ],
                per_source,
                numeric=range(1, 9),
                row_classes=[None] * (len(per_source) - 1) + ["reference"],
            ),
            figure(
                charts.linkage_chart(q.by_group),
                "for families in each group, the share of their records that "
                "could have been linked but were not (left) and the share of links "
                "that went to another identity than the record carries (right).",
                "longer bars mean the council's linked picture of those families is "
                "less complete (left) or more polluted by other people's records "
                "(right). These are counts over every record, with no interval.",
            ),
            tag("h3", "What caused the false and missed links"),
            p(
                "Each wrong or missed link is traced to the data errors on the "
                "record and on the register entries involved; one link can involve "
                "several errors."
            ),
            table(
                ["error", "where", "false links", "missed links"],
                cause_rows,
                numeric=[2, 3],
            )
            if cause_rows
            else p("No link was wrong or missed."),
        ]
    )
