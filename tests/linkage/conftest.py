"""Fixtures of the linkage tests: generated datasets and their links, made once.

- ``clean_data``: the baseline scenario with every error rate 0;
- ``messy_data``: the baseline scenario with its default errors;
- ``links_of(data, method)``: cached links of a dataset by a method.

Linkage tests are parametrised over the method (deterministic, splink, oracle), as
Splink parametrises its tests over backends.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from linktools import CLEAN_HOUSEHOLDS, MESSY_HOUSEHOLDS, links_by, scenario

from audits.counterfactuals import without_errors
from simulator.world.generate import SyntheticData, generate


@pytest.fixture(scope="session")
def clean_data(seed: int) -> SyntheticData:
    return generate(without_errors(scenario(CLEAN_HOUSEHOLDS, seed)))


@pytest.fixture(scope="session")
def messy_data(seed: int) -> SyntheticData:
    return generate(scenario(MESSY_HOUSEHOLDS, seed))


@pytest.fixture(scope="session")
def links_of() -> Callable[[SyntheticData, str], pd.DataFrame]:
    cache: dict[tuple[int, str], pd.DataFrame] = {}

    def get(data: SyntheticData, method: str) -> pd.DataFrame:
        key = (id(data), method)
        if key not in cache:
            cache[key] = links_by(data, method)
        return cache[key]

    return get
