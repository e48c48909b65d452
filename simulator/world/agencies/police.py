"""Police: incidents, anti-social behaviour, domestic-abuse call-outs (no id)."""

from __future__ import annotations

from simulator.schema.agencies import PoliceConfig
from simulator.world.agencies.base import EventRule, PopulationChunk, source_records
from simulator.world.records import Rows

SOURCE = "police"
RULES = (
    EventRule("incident", "crime_asb", background_who="youth_or_adult"),
    EventRule("anti_social_behaviour", "crime_asb", background_who="youth_or_adult"),
    EventRule("domestic_abuse_callout", "domestic_abuse", background_who="adult"),
)


def records(chunk: PopulationChunk, cfg: PoliceConfig) -> Rows:
    """Police events about family members in the observation window."""
    return source_records(
        chunk, SOURCE, RULES, cfg.events, cfg.visibility_factors, cfg.background_factors
    )
