"""Inaccuracy: errors each source makes in its own copy of a record, all logged.

Errors are applied in the order of :data:`ERRORS`
(:data:`simulator.vocabulary.ERROR_NAMES`, also the field order of
:class:`~simulator.schema.scenario.ErrorRates`). Each draws once per row from its own
stream (``corruption/<source>/<error>``), so changing one rate never reshuffles another.
A hit only counts where the error can change something (a nickname needs a name that
has one; a stale address needs a family that moved), and ``err_<name>`` is True
exactly on the rows the error changed.

The package: :mod:`.string_edits` (the edit tables and vectorised string edits),
:mod:`.source_rows` (the rows being corrupted and the truth they may consult),
:mod:`.kinds` (one function per error kind, the ordered registry) and :mod:`.apply`
(:func:`corrupt`, which runs them).
"""

from __future__ import annotations

from simulator.world.corruption.apply import corrupt
from simulator.world.corruption.kinds import (
    APPLY,
    CARRIED,
    ERRORS,
    HOUSEHOLD_LEVEL,
    error_applies,
)

__all__ = ["APPLY", "CARRIED", "ERRORS", "HOUSEHOLD_LEVEL", "corrupt", "error_applies"]
