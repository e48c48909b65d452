"""Render a run as one self-contained HTML file (``report.html``)."""

from __future__ import annotations

from pathlib import Path

from audits.report.page import join, page, tag
from audits.report.sections import build_sections, glance
from simulator.pipeline.run import Run

REPORT = "report.html"
"""The report's file name inside a run directory."""


def render_report(run: Run) -> str:
    """The report of a run, as a complete HTML document.

    Parameters
    ----------
    run : Run
        A run from :func:`simulator.pipeline.run.run`; sections whose inputs are
        missing (no audit, no attribution) say so.

    Returns
    -------
    str
        One self-contained HTML document: inline CSS and SVG charts, no scripts and
        no external URLs. The same run gives the same string.
    """
    title = f"linkaudit report: {run.scenario.name}"
    header = tag(
        "header",
        join(
            [
                tag("h1", title),
                tag(
                    "p",
                    "What happens when a council links family records and lets a "
                    "model flag \u201ctroubled\u201d households: a simulation in "
                    "which the truth is known.",
                    class_="subtitle",
                ),
            ]
        ),
        class_="top",
    )
    footer = tag(
        "footer",
        "Made by linkaudit from a simulation. Every person and family in this "
        "report is synthetic.",
    )
    return str(page(title, join([header, glance(run), build_sections(run), footer])))


def write_report(run: Run, directory: str | Path) -> Path:
    """Write ``report.html`` (and nothing else) into ``directory``.

    Parameters
    ----------
    run : Run
    directory : str or Path
        An existing directory (for a run, the pipeline's temporary run directory).

    Returns
    -------
    Path
        The report's path.
    """
    path = Path(directory) / REPORT
    path.write_text(render_report(run), encoding="utf-8", newline="\n")
    return path
