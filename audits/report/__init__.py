"""The HTML report of a run: one self-contained file a non-specialist can read.

:func:`render_report` returns the HTML; :func:`write_report` writes ``report.html``.
Both take a :class:`ReportInputs` (plain tables and results; the pipeline builds it
from a run), so the report imports no pipeline module.
Modules: :mod:`~audits.report.inputs` (what the report reads),
:mod:`~audits.report.render` (the page), :mod:`~audits.report.sections` (one module
per concept, one function per section), :mod:`~audits.report.cases` (case files:
chosen and gathered as codes, worded last), :mod:`~audits.report.charts` (matplotlib
figures as inline SVG, one module per chart kind), :mod:`~audits.report.curves`
(threshold curves), :mod:`~audits.report.describe` (the scenario in words),
:mod:`~audits.report.text` (words and number formats) and
:mod:`~audits.report.page` (the HTML shell); :mod:`~audits.report.compare_page`
(``compare.html``) and :mod:`~audits.report.sweep_chart` (a sweep's chart) are the
other pages and charts built on them.
"""

from __future__ import annotations

from audits.report.inputs import ReportInputs
from audits.report.render import REPORT, render_report, write_report

__all__ = ["REPORT", "ReportInputs", "render_report", "write_report"]
