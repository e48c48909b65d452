"""Errors and warnings raised by the audit."""

from __future__ import annotations

from simulator.errors import LinkauditError


class AuditError(LinkauditError, ValueError):
    """The audit cannot be computed as asked (e.g. a reference group is absent)."""


class AuditWarning(UserWarning):
    """An audit figure is computed but should be read with care (small groups)."""
