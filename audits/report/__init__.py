"""The HTML report of a run: one self-contained file a non-specialist can read.

:func:`render_report` returns the HTML; :func:`write_report` writes ``report.html``.
Modules: :mod:`~audits.report.text` (words and number formats),
:mod:`~audits.report.charts` (matplotlib figures as inline SVG),
:mod:`~audits.report.curves` (threshold curves), :mod:`~audits.report.cases` (case
files), :mod:`~audits.report.describe` (the scenario in words),
:mod:`~audits.report.page` (the HTML shell) and :mod:`~audits.report.sections` (one
function per section).
"""

from __future__ import annotations

from audits.report.render import REPORT, render_report, write_report

__all__ = ["REPORT", "render_report", "write_report"]
