"""Linking the records: its quality overall, per source, by group; its causes."""

from __future__ import annotations

import pandas as pd

from audits.report import charts
from audits.report.inputs import ReportInputs
from audits.report.page import (
    Html,
    figure,
    join,
    p,
    table,
    tag,
)
from audits.report.text import (
    SIDE_LABELS,
    SOURCE_LABELS,
    count,
    error_label,
    pct,
)


def _quality_row(label: str, r: pd.Series) -> list[object]:
    """One row of the linkage table: records, linkable, false, missed, rates."""
    return [
        label,
        count(r["n_records"]),
        count(r["n_linkable"]),
        count(r["n_false"]),
        count(r["n_missed"]),
        pct(r["precision"], 2),
        pct(r["recall"], 2),
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


def linkage_section(inputs: ReportInputs) -> Html:
    """Linkage quality overall, per source and by group, and its main causes."""
    q = inputs.link_quality
    o = q.overall.iloc[0]
    per_source = [
        _quality_row(SOURCE_LABELS.get(str(src), str(src)), r)
        for src, r in q.by_source.iterrows()  # a handful of sources
    ]
    per_source.append(_quality_row("all sources", o))
    cause_rows = _cause_rows(q.causes)
    return join(
        [
            p(
                "Before any model runs, the council links every agency's records to "
                "its own register of families (the spine). A record linked to the "
                "wrong person adds someone else's events to a family (a false link); "
                "a record not linked to its person hides them (a missed link)."
            ),
            p(
                f"Of {count(o['n_linkable'])} records whose person is on the register, "
                f"{count(o['n_correct'])} were linked to the right person "
                f"(recall {pct(o['recall'], 2)}); {count(o['n_false'])} records were "
                f"linked to the wrong person and {count(o['n_missed'])} were missed. "
                f"{pct(o['precision'], 2)} of all links made were right (precision)."
            ),
            table(
                [
                    "source",
                    "records",
                    "linkable",
                    "false links",
                    "missed links",
                    "precision",
                    "recall",
                ],
                per_source,
                numeric=range(1, 7),
                row_classes=[None] * (len(per_source) - 1) + ["reference"],
            ),
            figure(
                charts.linkage_chart(q.by_group),
                "for families in each group, the share of their records that "
                "could have been linked but were not (left) and the share of links "
                "that went to the wrong person (right).",
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
