"""Stand-ins for the costly parts of a command that a test does not read."""

from __future__ import annotations

from pathlib import Path

import pytest


def one_line_report(
    what: object, directory: str | Path, *details: object, **options: object
) -> Path:
    """A one-line report.html, written in place of the rendered report."""
    path = Path(directory) / "report.html"
    path.write_text("<!DOCTYPE html>\n", encoding="utf-8")
    return path


def stub_reports(patch: pytest.MonkeyPatch) -> None:
    """Every command writes :func:`one_line_report`: a run's report, a re-audit's
    or score file's audit page and a table audit's page."""
    patch.setattr("audits.report.write_report", one_line_report)
    patch.setattr("audits.report.audit_page.write_audit_report", one_line_report)
    patch.setattr("audits.table_files.write_table_report", one_line_report)
