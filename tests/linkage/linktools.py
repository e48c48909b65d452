"""Helpers shared by the linkage tests (imported by name, like tests/simulator's)."""

from __future__ import annotations

import pandas as pd

from simulator.council.linkage import link
from simulator.schema.linkage import LinkageConfig
from simulator.schema.scenario import Scenario
from simulator.world.generate import SyntheticData
from simulator.world.true_links import oracle_links

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


def links_by(data: SyntheticData, method: str, seed: int = 7) -> pd.DataFrame:
    """Links of a dataset by a method: the council's, or the true links (oracle)."""
    if method == "oracle":
        return oracle_links(data.sources, data.spine)
    return link(data.sources, data.spine, LinkageConfig(method=method), seed=seed)
