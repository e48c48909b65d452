"""The HTML report of a run: one self-contained file a non-specialist can read.

:func:`render_report` returns the HTML; :func:`write_report` writes ``report.html``.
Both take a :class:`ReportInputs` (plain tables and results; the pipeline builds it
from a run), so the report imports no pipeline module.
Modules: :mod:`~audits.report.text` (words and number formats),
:mod:`~audits.report.charts` (matplotlib figures as inline SVG),
:mod:`~audits.report.curves` (threshold curves), :mod:`~audits.report.cases` (case
files), :mod:`~audits.report.describe` (the scenario in words),
:mod:`~audits.report.page` (the HTML shell) and :mod:`~audits.report.sections` (one
function per section).
"""

from __future__ import annotations

from audits.report.inputs import ReportInputs
from audits.report.render import REPORT, render_report, write_report

__all__ = ["REPORT", "ReportInputs", "render_report", "write_report"]
