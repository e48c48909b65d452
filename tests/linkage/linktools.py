"""Helpers shared by the linkage tests (imported by name, like tests/simulator's)."""

from __future__ import annotations

from simulator.scenario import Scenario

METHODS = ("deterministic", "splink", "oracle")
CLEAN_HOUSEHOLDS = 4_000
MESSY_HOUSEHOLDS = 8_000


def scenario(n_households: int, seed: int, **sections: object) -> Scenario:
    """A baseline scenario of ``n_households`` with some sections replaced."""
    data = {
        "name": "linkage-test",
        "seed": seed,
        "population": {"n_households": n_households, "households_per_area": 400},
        **sections,
    }
    return Scenario.model_validate(data)
