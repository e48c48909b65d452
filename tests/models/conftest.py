"""Fixtures of the view and model tests: small generated cohorts, made once.

- ``oracle_cohort``: no data errors, full visibility, oracle links (the first rung
  of the attribution ladder, where the criteria must find exactly the eligible);
- ``messy_cohort``: the default scenario (errors, visibility bias), oracle links;
- ``history_cohort``: the default scenario with another seed: what a learned model
  is trained on.

Each carries the truth (``households``, and the spine's hidden ``true_household_id``)
for the tests' assertions only; the code under test gets the council's frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from audits.counterfactuals import without_errors, without_visibility_bias
from simulator.council.view import ViewConfig, build_view, observed_labels
from simulator.schema.population import PopulationConfig
from simulator.schema.scenario import Scenario
from simulator.world.generate import SyntheticData, generate
from simulator.world.true_links import oracle_links

N_HOUSEHOLDS = 3000


@dataclass(frozen=True)
class Cohort:
    """A generated dataset, its links, its view and its observed labels."""

    data: SyntheticData
    links: pd.DataFrame
    view: pd.DataFrame
    labels: pd.Series

    @property
    def scenario(self) -> Scenario:
        return self.data.scenario

    def truth(self) -> pd.DataFrame:
        """The true household of each spine household (test-only: reads truth)."""
        spine = self.data.spine
        true_hh = spine.groupby("spine_household_id")["true_household_id"].agg(
            lambda s: s.mode().iloc[0]
        )
        households = self.data.households.set_index("household_id", drop=False)
        out = households.loc[true_hh.to_numpy()]
        out.index = true_hh.index
        return out


def make_cohort(scenario: Scenario) -> Cohort:
    data = generate(scenario)
    links = oracle_links(data.sources, data.spine)
    ref = scenario.time.reference_date
    view = build_view(
        data.sources,
        data.spine,
        links,
        reference_date=ref,
        deprivation=data.areas,
        config=ViewConfig(),
    )
    labels = observed_labels(
        data.sources, links, reference_date=ref, households=view.index
    )
    return Cohort(data, links, view, labels)


def small(seed: int) -> Scenario:
    return Scenario(
        name="models-test",
        seed=seed,
        population=PopulationConfig(n_households=N_HOUSEHOLDS),
    )


@pytest.fixture(scope="session")
def oracle_cohort(seed: int) -> Cohort:
    return make_cohort(without_visibility_bias(without_errors(small(seed))))


@pytest.fixture(scope="session")
def messy_cohort(seed: int) -> Cohort:
    return make_cohort(small(seed))


@pytest.fixture(scope="session")
def history_cohort(seed: int) -> Cohort:
    return make_cohort(small(seed + 1_000))
