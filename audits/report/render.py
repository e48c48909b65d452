"""Render a run as one self-contained HTML file (``report.html``)."""

from __future__ import annotations

from pathlib import Path

from audits.report.inputs import ReportInputs
from audits.report.page import join, page, tag, top
from audits.report.sections import build_sections, glance

REPORT = "report.html"
"""The report's file name inside a run directory."""


def render_report(inputs: ReportInputs) -> str:
    """The report of a run, as a complete HTML document.

    Parameters
    ----------
    inputs : ReportInputs
        What the report shows (the pipeline builds it from a run:
        :func:`simulator.pipeline.output.report_inputs`); sections whose inputs are
        missing (no audit, no attribution) say so.

    Returns
    -------
    str
        One self-contained HTML document: inline CSS and SVG charts, no scripts and
        no external URLs. The same inputs give the same string.
    """
    title = f"linkaudit report: {inputs.scenario.name}"
    header = top(
        title,
        "What happens when a council links family records and lets a model flag "
        "\u201ctroubled\u201d households: a simulation in which the truth is known.",
    )
    footer = tag(
        "footer",
        "Made by linkaudit from a simulation. Every person and family in this "
        "report is synthetic.",
    )
    return str(
        page(title, join([header, glance(inputs), build_sections(inputs), footer]))
    )


def write_report(inputs: ReportInputs, directory: str | Path) -> Path:
    """Write ``report.html`` (and nothing else) into ``directory``.

    Parameters
    ----------
    inputs : ReportInputs
    directory : str or Path
        An existing directory (for a run, the pipeline's temporary run directory).

    Returns
    -------
    Path
        The report's path.
    """
    return write_page(render_report(inputs), directory)


def write_page(html: str, directory: str | Path) -> Path:
    """Write a rendered report as ``report.html`` in ``directory``; its path."""
    path = Path(directory) / REPORT
    path.write_text(html, encoding="utf-8", newline="\n")
    return path
