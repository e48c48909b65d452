"""A table audit's directory: the audit's tables, ``summary.json`` and ``report.html``.

The same files as a run's audit directory (:func:`audits.tables.write_audit`:
metrics_overall, metrics_by_group, rates_overall, disparities and fairness as CSV
and Parquet, summary.json) plus report.html (:mod:`audits.report.table_page`) and
the transparency record (transparency.json and transparency.md,
:func:`audits.transparency.table_record`), written atomically with ``manifest.json``
last. The table itself is not copied.
"""

from __future__ import annotations

from pathlib import Path

from audits.report.render import REPORT
from audits.report.table_page import write_table_report
from audits.result import AuditResult
from audits.tables import write_audit
from audits.transparency import table_record
from audits.transparency_files import write_transparency

KIND = "linkaudit audit of a table (real records)"
"""The ``kind`` of a table audit's manifest."""


def write_table_audit(
    result: AuditResult, out_dir: str | Path, *, overwrite: bool = False
) -> Path:
    """Write a table audit into ``out_dir`` atomically, report included.

    Parameters
    ----------
    result : AuditResult
        From :func:`audits.table.audit_table`.
    out_dir : str or Path
        The directory to create (or replace, with ``overwrite``).
    overwrite : bool
        Replace an existing linkaudit output.

    Returns
    -------
    Path
        ``out_dir``.
    """
    record = table_record(result)

    def report(directory: Path) -> dict[str, int]:
        write_table_report(result, directory, transparency=record)
        return {REPORT: 1} | write_transparency(record, directory)

    return write_audit(result, out_dir, overwrite=overwrite, kind=KIND, extra=report)
