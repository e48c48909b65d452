"""The report of a table audit (``audit --table``): one self-contained HTML file.

A table has real outcomes and decisions and no simulated truth, so the report has
the sections that need only the audit (what was audited, who was flagged and who
wrongly, by group, with intervals; how it was made) and says in plain words which
sections of a run's report it cannot have (:data:`NOT_AVAILABLE`). The rates by
group are the run report's own builders
(:func:`audits.report.sections.flags.grouping_rates`,
:func:`~audits.report.sections.flags.joint_groups`).

To add a section, write a function taking the :class:`~audits.result.AuditResult`
and returning :class:`~audits.report.page.Html`, and add it to
:data:`TABLE_SECTIONS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audits.report.page import (
    Html,
    contents,
    join,
    note,
    p,
    page,
    section,
    tag,
    top,
    ul,
)
from audits.report.render import write_page
from audits.report.sections.common import with_interval
from audits.report.sections.flags import grouping_rates, joint_groups, reference_reason
from audits.report.sections.scores import score_section
from audits.report.sections.transparency import record_html
from audits.report.text import count, group_label, num, pct
from audits.result import AuditResult
from audits.tables import VERSIONED
from simulator.world.generate import package_versions

UNIT = "rows"
"""What one audited row is, in the report's words."""
NOT_AVAILABLE = (
    ("The scenario and the population", "they describe a simulated world"),
    ("Linking the records", "it measures links against a simulated truth"),
    (
        "Why rows were wrongly flagged or missed",
        "the causes of each error are known only in a simulation",
    ),
    ("Case files", "they tell the simulated story of individual families"),
)
"""Sections of a run's report a table audit cannot have, and why."""
TRANSPARENCY = ("transparency", "Transparency record (ATRS)")
"""The anchor and title of the transparency record's section."""


@dataclass(frozen=True)
class TableSection:
    """One section of the table report: its anchor, heading and builder."""

    anchor: str
    title: str
    build: Callable[[AuditResult], Html]


def _decision_words(result: AuditResult) -> str:
    config = result.config
    if getattr(config, "flagged", None):
        return f"the 0/1 decisions in column {config.flagged!r}"
    rule = config.flag.model_dump(exclude_none=True)  # type: ignore[attr-defined]
    ((kind, value),) = rule.items()
    how = {
        "threshold": f"scores at or above {value}",
        "top_percent": f"the highest {value}% of scores",
        "budget": f"the {value} highest scores",
    }[kind]
    return f"flags given to {how} in column {config.score!r}"  # type: ignore[attr-defined]


def source_section(result: AuditResult) -> Html:
    """What was audited: the file, its rows, the columns and what was tolerated."""
    source = result.source or {}
    config = result.config
    where = source.get("file") or "a table given in Python"
    weight = getattr(config, "weight", None)
    items = [
        f"Table: {where} ({count(source.get('rows', 0))} {UNIT}).",
        f"Outcome judged against: column {config.target!r} (1: the case a flag "
        "should find).",
        f"Decisions: {_decision_words(result)}.",
        "Groups compared: "
        + ", ".join(repr(c) for c in config.group_columns)
        + (
            "; jointly: " + ", ".join(source.get("intersections", []))
            if config.intersections
            else ""
        )
        + ".",
        (
            f"Weights: column {weight!r}. Every count is the sum of its rows' "
            "weights; the intervals draw rows, each counting the mean weight of its "
            "group and outcome."
            if weight
            else "Weights: none; every row counts once."
        ),
    ]
    parts: list[object] = [ul(items)]
    notes = source.get("notes", [])
    if notes:
        parts.append(note(tag("strong", "Read with care. "), ul(notes)))
    return join(parts)


def flags_overview(result: AuditResult, unit: str = UNIT) -> Html:
    """The flags overall, then each grouping's rates and the joint groups.

    ``unit`` names one audited row ("rows"; "families" for a run's re-audit).
    """
    o = result.metrics.overall.iloc[0]
    rates = result.disparities.overall.set_index("metric")
    level = f"{result.config.confidence:.0%}"

    def rate(metric: str) -> Html:
        r = rates.loc[metric]
        fmt = (lambda x: num(x, 0)) if metric == "wrongly_flagged_per_10k" else pct
        return with_interval(r["estimate"], r["ci_low"], r["ci_high"], fmt)

    target = result.config.target
    parts: list[object] = [
        p(
            f"Of {count(o['n'])} {unit}, {count(o['n_positive'])} have "
            f"{target} = 1 and {count(o['n_flagged'])} were flagged. "
            f"{count(o['tp'])} flags were right and {count(o['fp'])} wrong (flagged "
            f"with {target} = 0); {count(o['fn'])} {unit} with {target} = 1 were "
            "missed."
        ),
        ul(
            [
                join(["Share flagged: ", rate("selection_rate")], ""),
                join(["Precision (flags that were right): ", rate("precision")], ""),
                join(
                    [f"False positive rate ({target} = 0 but flagged): ", rate("fpr")],
                    "",
                ),
                join([f"True positive rate ({target} = 1 found): ", rate("tpr")], ""),
                join(
                    [
                        f"Wrongly flagged per 10,000 {unit}: ",
                        rate("wrongly_flagged_per_10k"),
                    ],
                    "",
                ),
            ]
        ),
        p(
            f"Intervals are {level} bootstrap confidence intervals "
            f"({count(result.config.n_boot)} resamples of the {unit}): the range a "
            "figure would plausibly take in another sample like this one."
        ),
    ]
    chosen = result.config.reference
    for column in result.config.group_columns:  # a handful of groupings
        reason = reference_reason(chosen, column, "this audit")
        parts += grouping_rates(result, column, reason, unit)
    parts.append(joint_groups(result, unit))
    return join(parts)


def scores_section(result: AuditResult) -> Html:
    """AUC, calibration and threshold curves by group, or why there are none.

    The charts are of the first three group columns.
    """
    flag = getattr(result.config, "flag", None)
    threshold = getattr(flag, "threshold", None)
    cut = float("nan") if threshold is None else float(threshold)
    return score_section(result, UNIT, result.config.group_columns[:3], cut)


def left_out(intro: str, sections: Sequence[tuple[str, str]]) -> Html:
    """Why a report leaves out some sections of a run's report: each title and why."""
    return join([p(intro), ul(f"{title}: {why}." for title, why in sections)])


def not_available_section(result: AuditResult) -> Html:
    """The run report's sections this report cannot have, said plainly."""
    return left_out(
        "This audit is of a table of real outcomes and decisions. Nothing in "
        "it is simulated, so there is no hidden truth behind the rows, and "
        "the sections of a simulation's report that need one are left out:",
        NOT_AVAILABLE,
    )


def about_table_section(result: AuditResult) -> Html:
    """How the audit was made: seed, resamples, software, warnings."""
    versions = ", ".join(f"{k} {v}" for k, v in package_versions(VERSIONED).items())
    parts: list[object] = [
        p(
            f"Bootstrap seed {result.seed}, {count(result.config.n_boot)} resamples, "
            f"{result.config.confidence:.0%} intervals. The same table, options and "
            "seed give the same report, byte for byte; the tables behind every "
            "figure are beside this file (metrics_by_group, disparities, "
            "metrics_overall, rates_overall, fairness; summary.json)."
        ),
        p(f"Software: {versions}."),
    ]
    if result.disparities.warnings:
        parts += [tag("h3", "Warnings from the audit"), ul(result.disparities.warnings)]
    return join(parts)


TABLE_SECTIONS = (
    TableSection("table", "What was audited", source_section),
    TableSection("flags", "Who was flagged, and who wrongly", flags_overview),
    TableSection("scores", "How well the score ranks, by group", scores_section),
    TableSection("not-here", "What this report cannot show", not_available_section),
    TableSection("about", "About this audit", about_table_section),
)
"""The table report's sections, in order."""


def render_table_report(
    result: AuditResult, transparency: Mapping[str, Any] | None = None
) -> str:
    """The report of a table audit, as a complete HTML document.

    Parameters
    ----------
    result : AuditResult
        From :func:`audits.table.audit_table`.
    transparency : mapping, optional
        The audit's transparency record (:func:`audits.transparency.table_record`),
        shown as a section before "About this audit".

    Returns
    -------
    str
        One self-contained HTML document (inline CSS and SVG, no scripts); the same
        result gives the same string.
    """
    source = (result.source or {}).get("file") or "a table"
    title = f"linkaudit table audit: {Path(source).name}"
    groups = ", ".join(
        group_label(" × ".join(c)) for c in result.config.column_sets()[:3]
    )
    header = top(
        title,
        f"Decisions judged against real outcomes, by {groups}"
        f"{' and more' if len(result.config.column_sets()) > 3 else ''}.",
    )
    sections = [(s.anchor, s.title, s.build(result)) for s in TABLE_SECTIONS]
    if transparency is not None:
        sections.insert(-1, (*TRANSPARENCY, record_html(transparency)))
    toc = contents((anchor, title) for anchor, title, _ in sections)
    body = [section(*s) for s in sections]
    footer = tag("footer", "Made by linkaudit from a table of real records.")
    return str(page(title, join([header, toc, *body, footer])))


def write_table_report(
    result: AuditResult,
    directory: str | Path,
    transparency: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``report.html`` into ``directory`` (an existing directory).

    ``transparency``, if given, is the audit's transparency record
    (:func:`render_table_report`).

    Returns
    -------
    Path
        The report's path.
    """
    return write_page(render_table_report(result, transparency), directory)
