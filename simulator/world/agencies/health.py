"""Health: GP registrations, A&E attendances and mental-health contacts (NHS number)."""

from __future__ import annotations

from simulator.schema.agencies import HealthConfig
from simulator.world.agencies.base import (
    EventRule,
    PopulationChunk,
    register_rows,
    source_records,
)
from simulator.world.records import Rows

SOURCE = "health"
RULES = (
    EventRule("ae_attendance", "health", background_who="any"),
    EventRule("mental_health_contact", "health"),
    EventRule("domestic_abuse_ae", "domestic_abuse"),
)


def records(chunk: PopulationChunk, cfg: HealthConfig) -> Rows:
    """Everyone registered with a GP, plus A&E and mental-health events."""
    gp = register_rows(
        chunk, SOURCE, "any", cfg.registration_coverage, "gp_registration"
    )
    return source_records(
        chunk,
        SOURCE,
        RULES,
        cfg.events,
        cfg.visibility_factors,
        cfg.background_factors,
        (gp,),
    )
