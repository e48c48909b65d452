"""The council's family index (the spine): people from its own registers.

Spine households are formed later, over the whole population, by grouping people on
the address the council holds
(:func:`simulator.world.generate.assign_spine_households`).
"""

from __future__ import annotations

from simulator.schema.agencies import SpineConfig
from simulator.world.agencies.base import PopulationChunk, register_rows, with_identity
from simulator.world.records import Rows, Strings

SOURCE = "spine"


def records(chunk: PopulationChunk, cfg: SpineConfig) -> Rows:
    """One row per person on the council's registers, with identity as held."""
    rows = register_rows(chunk, SOURCE, "any", cfg.coverage, "council_register")
    rows = Rows({"source": Strings.constant(SOURCE, len(rows)), **rows.columns})
    return with_identity(chunk, rows, SOURCE)
