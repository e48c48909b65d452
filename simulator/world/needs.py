"""Who has which true need: the chances, the carriers and the harm that follows.

Shared by the population (period 1's needs) and the dynamics (needs that arise in
later periods, :mod:`simulator.world.dynamics`), so both draw from one definition.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.schema.scenario import Scenario
from simulator.world.probability import expit, logit

SCHOOL_AGES = (5, 15)
"""Compulsory school age, inclusive, in whole years at the reference date."""
YOUTH_AGE = 10
"""Age of criminal responsibility in England and Wales."""


def has_member(h_pos: np.ndarray, mask: np.ndarray, n_households: int) -> np.ndarray:
    """Per household: whether any of its people is in ``mask``."""
    return np.bincount(h_pos, weights=mask, minlength=n_households) > 0


def need_probability(
    scenario: Scenario,
    intercept: float,
    need: str,
    dep: np.ndarray,
    lone: np.ndarray,
    has_school: np.ndarray,
) -> np.ndarray:
    """Each household's chance of need ``need`` (0 for education without a pupil).

    The need's calibrated intercept (``Calibration.need_intercepts``) plus the
    deprivation and lone-parent odds ratios of the scenario's ``needs:`` section;
    also the steady level a need returns to over periods
    (:mod:`simulator.world.dynamics`).
    """
    cfg = scenario.needs.need(need)
    p = expit(
        intercept
        + np.log(cfg.deprivation_odds_ratio) * dep
        + np.log(cfg.lone_parent_odds_ratio) * lone
    )
    if need == "education":
        p = np.where(has_school, p, 0.0)
    return p


def harm_probability(
    scenario: Scenario, n_needs: np.ndarray, dep: np.ndarray
) -> np.ndarray:
    """Each household's chance of harm in the follow-up, given its true needs."""
    h = scenario.harm
    if 0 < h.base_probability < 1:
        return expit(
            logit(h.base_probability)
            + np.log(h.odds_ratio_per_need) * n_needs
            + np.log(h.deprivation_odds_ratio) * dep
        )
    return np.full(len(n_needs), float(h.base_probability))


CARRIER_KINDS = {
    "crime_asb": "youth_or_adult",
    "education": "pupil",
    "children_in_need": "child",
    "worklessness": "adult1",
    "health": "any",
}
"""The kind of member (a source's ``Who``) whose mask each need's carrier candidates
are, where it is one: their member pickers are the sources' pickers of that kind
(:class:`simulator.world.agencies.base.PopulationChunk`'s ``pickers``)."""


def carrier_candidates(
    people: pd.DataFrame, h_pos: np.ndarray, n_households: int
) -> dict[str, np.ndarray]:
    """Per need, a mask over people: who may carry its events.

    Domestic abuse falls on the first adult if she is a woman, else any woman, else
    an adult; school problems on pupils; worklessness on the first adult.
    """
    age = people["age"].to_numpy()
    is_child = (people["role"] == "child").to_numpy()
    school = is_child & (age >= SCHOOL_AGES[0]) & (age <= SCHOOL_AGES[1])
    female = (people["sex"] == "F").to_numpy()
    adult = ~is_child
    first_adult = (people["role"] == "adult1").to_numpy()
    victim = np.where(
        first_adult & female,
        2,
        np.where(adult & female, 1, np.where(adult, 0.5, 0)),
    )
    best = np.zeros(n_households)
    np.maximum.at(best, h_pos, victim)
    return {
        "crime_asb": adult | (is_child & (age >= YOUTH_AGE)),
        "education": school,
        "children_in_need": is_child,
        "worklessness": first_adult,
        "health": adult | is_child,
        "domestic_abuse": adult & (victim == best[h_pos]),
    }
