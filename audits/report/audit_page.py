"""The report of a run's re-audit (``audit RUN_DIR``, ``audit --scores``).

A re-audit judges a run's flags (or a vendor's scores) against the dataset's
simulated truth with new audit settings (``--set audit.target=harm``, another flag
rule), but it does not link records or explain errors again, so its report has the
table report's audit sections (:mod:`audits.report.table_page`: who was flagged
and who wrongly, by group with intervals; how the score ranks) and says in plain
words which sections of a run's report it cannot have (:data:`RUN_NOT_HERE`,
:data:`SCORES_NOT_HERE`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from audits.report.page import Html, contents, join, p, page, section, tag, top, ul
from audits.report.render import write_page
from audits.report.sections.scores import score_section
from audits.report.table_page import flags_overview, left_out
from audits.report.text import count
from audits.result import AuditResult
from audits.tables import VERSIONED
from simulator.world.generate import package_versions

UNIT = "families"
"""What one audited row is: a true household."""
RUN_NOT_HERE = (
    (
        "Linking the records",
        "the links were made once, by the run; its own report.html measures them",
    ),
    (
        "Why families were wrongly flagged or missed",
        "the attribution explains the run's own audit, not this re-audit's settings",
    ),
    ("Case files", "they follow the run's own audit; see the run's report.html"),
)
"""Sections of a run's report that a re-audit of the run cannot have, and why."""
SCORES_NOT_HERE = (
    (
        "Linking the records",
        "the scores came from outside linkaudit, so there are no council links to "
        "measure",
    ),
    (
        "Why families were wrongly flagged or missed",
        "the attribution needs the council's own links and model features, which a "
        "score file does not have",
    ),
    ("Case files", "they need the council's links and features too"),
)
"""Sections a score file's audit cannot have, and why."""


def _source(result: AuditResult, origin: str) -> Html:
    scenario = result.scenario or {}
    return ul(
        [
            f"What was audited: {origin}.",
            f"Scenario: {scenario.get('name', 'unnamed')}.",
            f"Outcome judged against: {result.config.target} (a family's flag is "
            "right when it has it).",
            "Groups compared: "
            + ", ".join(" × ".join(c) for c in result.config.column_sets())
            + ".",
        ]
    )


def _not_here(not_here: Sequence[tuple[str, str]]) -> Html:
    return left_out(
        "This is an audit of flags already made, against the dataset's simulated "
        "truth. It does not link records or explain errors again, so these sections "
        "of a run's report are left out:",
        not_here,
    )


def _about(result: AuditResult) -> Html:
    versions = ", ".join(f"{k} {v}" for k, v in package_versions(VERSIONED).items())
    return join(
        [
            p(
                f"Bootstrap seed {result.seed}, {count(result.config.n_boot)} "
                f"resamples, {result.config.confidence:.0%} intervals. The same "
                "inputs, settings and seed give the same report, byte for byte; the "
                "tables behind every figure are beside this file (summary.json "
                "lists them)."
            ),
            p(f"Software: {versions}."),
        ]
    )


def render_audit_report(
    result: AuditResult, origin: str, not_here: Sequence[tuple[str, str]]
) -> str:
    """The report of a re-audit, as a complete HTML document.

    Parameters
    ----------
    result : AuditResult
        The re-audit.
    origin : str
        What was audited and how its scores became flags, in words (the run
        directory or the score file, and the flag rule).
    not_here : sequence of (str, str)
        The run report's sections this report leaves out, and why.

    Returns
    -------
    str
        One self-contained HTML document; the same inputs give the same string.
    """
    name = (result.scenario or {}).get("name", "a run")
    title = f"linkaudit audit: {name}"
    parts = (
        ("audited", "What was audited", _source(result, origin)),
        ("flags", "Who was flagged, and who wrongly", flags_overview(result, UNIT)),
        (
            "scores",
            "How well the score ranks, by group",
            score_section(result, UNIT, result.config.group_columns[:1]),
        ),
        ("not-here", "What this report cannot show", _not_here(not_here)),
        ("about", "About this audit", _about(result)),
    )
    header = top(
        title,
        "Flags judged against a simulation's hidden truth, by group, with new audit "
        "settings.",
    )
    toc = contents((anchor, heading) for anchor, heading, _ in parts)
    body = [section(anchor, heading, content) for anchor, heading, content in parts]
    footer = tag(
        "footer",
        "Made by linkaudit from a simulation. Every family in this report is "
        "synthetic.",
    )
    return str(page(title, join([header, toc, *body, footer])))


def write_audit_report(
    result: AuditResult,
    directory: str | Path,
    origin: str,
    not_here: Sequence[tuple[str, str]],
) -> Path:
    """Write ``report.html`` of a re-audit into ``directory``; its path."""
    return write_page(render_audit_report(result, origin, not_here), directory)
