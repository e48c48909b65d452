"""Benefits: out-of-work and housing benefit claims by adults (NI number)."""

from __future__ import annotations

from simulator.schema.agencies import BenefitsConfig
from simulator.world.agencies.base import EventRule, PopulationChunk, source_records
from simulator.world.records import Rows

SOURCE = "benefits"
RULES = (
    EventRule("out_of_work_benefit", "worklessness", background_who="adult1"),
    EventRule("housing_benefit", "worklessness", background_who="adult1"),
)


def records(chunk: PopulationChunk, cfg: BenefitsConfig) -> Rows:
    """Benefit claims in the observation window."""
    return source_records(
        chunk, SOURCE, RULES, cfg.events, cfg.visibility_factors, cfg.background_factors
    )
