"""Fixtures of the simulator tests: scenario builders and generated datasets.

Expensive datasets are session-scoped and generated once per test session:

- ``default_data``: the default scenario (every error at its default rate) for
  ``DEFAULT_HOUSEHOLDS`` households in chunks of ``BLOCK_SIZE``;
- ``clean_data``: the same scenario with every error rate 0, smaller.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from simtools import CLEAN_HOUSEHOLDS, DEFAULT_HOUSEHOLDS, build_scenario

from audits.counterfactuals import without_errors
from simulator.schema.scenario import Scenario
from simulator.world.generate import SyntheticData, generate


@pytest.fixture(scope="session")
def make_scenario() -> Callable[..., Scenario]:
    """``build_scenario(n_households, seed, chunk_size=..., **sections)``."""
    return build_scenario


@pytest.fixture(scope="session")
def default_scenario(seed: int) -> Scenario:
    return build_scenario(DEFAULT_HOUSEHOLDS, seed)


@pytest.fixture(scope="session")
def default_data(default_scenario: Scenario) -> SyntheticData:
    return generate(default_scenario)


@pytest.fixture(scope="session")
def clean_scenario(seed: int) -> Scenario:
    return without_errors(build_scenario(CLEAN_HOUSEHOLDS, seed))


@pytest.fixture(scope="session")
def clean_data(clean_scenario: Scenario) -> SyntheticData:
    return generate(clean_scenario)
