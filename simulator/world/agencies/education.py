"""Education: the pupil census with each pupil's absence rate, and exclusions (UPN)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from simulator.schema.agencies import EducationConfig
from simulator.world.agencies.base import (
    EventRule,
    PopulationChunk,
    register_rows,
    source_records,
)
from simulator.world.records import Rows, Strings

SOURCE = "education"
RULES = (
    EventRule("suspension", "education", background_who="pupil"),
    EventRule("permanent_exclusion", "education", background_who="pupil"),
)
# Absence as a share of sessions: Beta(education.absence_without_need), by default
# Beta(2, 60) (mean 3.2%; about 1 pupil in 80 reaches 10%), for pupils without the
# need; threshold + 0.4 * Beta(2, 5) for the pupil whose absence is the family's need.
# Both are assumptions.
_ABSENCE_NEED = (2.0, 5.0)


def records(chunk: PopulationChunk, cfg: EducationConfig) -> Rows:
    """Every school-age child on a roll (census row with absence), plus exclusions."""
    census = register_rows(chunk, SOURCE, "pupil", cfg.census_coverage, "pupil_census")
    carriers = chunk.households["carrier_education"].to_numpy()
    hids = census["true_household_id"]
    counts = chunk.counts(hids)
    base = chunk.streams("events", SOURCE, "absence").beta(
        counts, *cfg.absence_without_need
    )
    need = cfg.persistent_absence + 0.4 * chunk.streams(
        "events", SOURCE, "absence_need"
    ).beta(counts, *_ABSENCE_NEED)
    h_pos = chunk.household_positions(hids)
    is_carrier = census["true_person_id"] == carriers[h_pos]
    census["absence_rate"] = np.round(np.where(is_carrier, need, base), 4)
    census["true_from_need"] = is_carrier
    census["true_need"] = Strings(
        np.where(is_carrier, 0, -1), pa.array(["education"], pa.large_string())
    )
    return source_records(
        chunk,
        SOURCE,
        RULES,
        cfg.events,
        cfg.visibility_factors,
        cfg.background_factors,
        (census,),
    )
