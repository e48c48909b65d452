"""linkaudit's audit: flags compared with the synthetic truth.

The public names load lazily, so importing one audit module does not import
the others (the report and its plotting libraries, for one).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "AuditConfig": "simulator.schema.audit",
    "AuditError": "audits.errors",
    "AuditWarning": "audits.errors",
    "household_outcomes": "audits.outcomes",
    "wrongly_flagged_per_10k": "audits.outcomes",
    "AuditMetrics": "audits.metrics",
    "audit_metrics": "audits.metrics",
    "Disparities": "audits.disparity",
    "disparities": "audits.disparity",
    "AuditResult": "audits.result",
    "run_audit": "audits.result",
    "audit_table": "audits.table",
    "write_table_audit": "audits.table_files",
    "pool_replicates": "audits.replicates",
    "audit_tables": "audits.tables",
    "audit_summary": "audits.tables",
    "write_audit": "audits.tables",
    "write_audit_files": "audits.tables",
}

__all__ = [
    "AuditConfig",
    "AuditError",
    "AuditMetrics",
    "AuditResult",
    "AuditWarning",
    "Disparities",
    "audit_metrics",
    "audit_summary",
    "audit_table",
    "audit_tables",
    "disparities",
    "household_outcomes",
    "pool_replicates",
    "run_audit",
    "wrongly_flagged_per_10k",
    "write_audit",
    "write_audit_files",
    "write_table_audit",
]

if TYPE_CHECKING:
    from audits.disparity import Disparities, disparities
    from audits.errors import AuditError, AuditWarning
    from audits.metrics import AuditMetrics, audit_metrics
    from audits.outcomes import household_outcomes, wrongly_flagged_per_10k
    from audits.replicates import pool_replicates
    from audits.result import AuditResult, run_audit
    from audits.table import audit_table
    from audits.table_files import write_table_audit
    from audits.tables import (
        audit_summary,
        audit_tables,
        write_audit,
        write_audit_files,
    )
    from simulator.schema.audit import AuditConfig


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'audits' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
