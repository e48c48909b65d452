"""Corrupting a source's records: every error kind in order, each one logged."""

from __future__ import annotations

import numpy as np

from simulator.schema.agencies import ErrorMultiplier, ErrorRates
from simulator.world.agencies.base import PopulationChunk
from simulator.world.corruption.kinds import (
    APPLY,
    CARRIED,
    CHANGES,
    ERRORS,
    HOUSEHOLD_LEVEL,
    error_applies,
)
from simulator.world.corruption.source_rows import SourceRows
from simulator.world.records import Rows


def corrupt(
    records: Rows,
    chunk: PopulationChunk,
    source: str,
    rates: ErrorRates,
    multipliers: tuple[ErrorMultiplier, ...] = (),
) -> Rows:
    """Return a corrupted copy of a source's records with one ``err_<name>`` per error.

    ``records`` must be sorted by ``true_household_id`` and hold the true identity of
    ``true_person_id`` (as made by the agency modules); they are not changed. The
    copy also has :data:`~simulator.world.corruption.kinds.CARRIED`: whose identity
    each row ends up carrying. An error that changes only fields ``records`` lack
    (a lean scratch world's: :attr:`PopulationChunk.unattached`) is not drawn:
    each error draws from its own streams, so no other draw moves; its trail and
    :data:`CARRIED` are then as if it hit nothing.
    """
    r = SourceRows(records, chunk, source, ("corruption", source))
    r.rows[CARRIED] = np.asarray(r.rows["true_person_id"], dtype=np.int64).copy()
    flags: dict[str, np.ndarray] = {}
    for error in ERRORS:
        base = getattr(rates, error)
        if (
            base <= 0
            or not error_applies(error, source)
            or len(r.rows) == 0
            or (CHANGES[error] and not any(c in r.rows for c in CHANGES[error]))
        ):
            flags[error] = np.zeros(len(r.rows), bool)
            continue
        if error in HOUSEHOLD_LEVEL:
            u = chunk.streams("corruption", source, error).random(chunk.h_counts)[
                r.h_pos
            ]
        else:
            u = r.uniforms(error)
        hit = u < r.rates(error, base, multipliers)
        touched = APPLY[error](r, hit)
        if error == "duplicate":
            flags = {k: np.repeat(v, 1 + hit) for k, v in flags.items()}
        flags[error] = touched
    out = r.rows
    for error in ERRORS:
        out[f"err_{error}"] = flags[error]
    return out
