"""Visibility and background rates: what a source records matches its configuration.

Issue #2: observed visibility and background rates match the configured ones within
statistical tolerance, by deprivation decile and by group. A family with the event's
need is seen with probability

    expit(logit(visibility) + log(affluent_visibility_odds_ratio) * affluence(decile)
          + sum of log(factor) over the visibility_factors it belongs to)

and then leaves 1 + Poisson(mean_events - 1) events; a family without the need leaves
Poisson(background_rate * gradient(decile, affluent_background_ratio) * factors *
days / 365) background events. The checks run on police ``incident`` events of a clean
scenario (no errors, so records are neither duplicated nor moved to other people), with
settings chosen so that each check would fail if visibility ignored its odds ratio or
its group factor, or the background ignored its gradient or its group factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from simtools import build_scenario, only_sources

from audits.counterfactuals import without_errors
from simulator.schema.scenario import Scenario
from simulator.world.agencies.police import RULES
from simulator.world.generate import generate
from simulator.world.needs import YOUTH_AGE
from simulator.world.probability import affluence, expit, gradient, logit

N_HOUSEHOLDS = 20_000
EVENT = "incident"
NEED = "crime_asb"
PREVALENCE = 0.3
"""Raised from 5% and made flat over deciles, so decile 10 has ~550 families with
the need (enough to tell visibility 0.2 from 0.5 at 4 sigma)."""

VISIBILITY = 0.5
ODDS_RATIO = 0.25
MEAN_EVENTS = 2.5
VISIBILITY_GROUP = ("ethnicity", "asian", 3.0)
BACKGROUND_RATE = 0.2
BACKGROUND_RATIO = 0.25
BACKGROUND_GROUP = ("tenure", "social_rent", 2.0)


def _factor(group: tuple[str, object, float]) -> dict[str, object]:
    column, value, factor = group
    return {"column": column, "value": value, "factor": factor}


def _scenario(
    n_households: int,
    seed: int,
    incident: dict[str, float],
    visibility_factors: tuple[tuple[str, object, float], ...] = (),
    background_factors: tuple[tuple[str, object, float], ...] = (),
) -> Scenario:
    """Police only, no errors, a common flat need, the given incident settings."""
    return without_errors(
        build_scenario(
            n_households,
            seed,
            needs={
                NEED: {
                    "prevalence": PREVALENCE,
                    "deprivation_odds_ratio": 1.0,
                    "lone_parent_odds_ratio": 1.0,
                }
            },
            agencies={
                **only_sources("police"),
                "police": {
                    "enabled": True,
                    "events": {EVENT: incident},
                    "visibility_factors": [_factor(g) for g in visibility_factors],
                    "background_factors": [_factor(g) for g in background_factors],
                },
            },
        )
    )


@dataclass(frozen=True)
class World:
    """One generated scenario, with incident counts per household."""

    scenario: Scenario
    households: pd.DataFrame
    people: pd.DataFrame
    records: pd.DataFrame
    need_events: np.ndarray
    """Incident rows with ``true_from_need``, per household (households' order)."""
    background_events: np.ndarray
    """Incident rows without ``true_from_need``, per household."""

    @property
    def has_need(self) -> np.ndarray:
        return self.households[f"need_{NEED}"].to_numpy(bool)

    @property
    def decile(self) -> np.ndarray:
        return self.households["imd_decile"].to_numpy()

    def in_group(self, group: tuple[str, object, float]) -> np.ndarray:
        column, value, _ = group
        return (self.households[column] == value).to_numpy()


def _world(scenario: Scenario) -> World:
    data = generate(scenario)
    hh = data.households.reset_index(drop=True)
    records = data.sources["police"]
    incidents = records[records["event_type"] == EVENT]
    pos = np.searchsorted(
        hh["household_id"].to_numpy(), incidents["true_household_id"].to_numpy()
    )
    assert (hh["household_id"].to_numpy()[pos] == incidents["true_household_id"]).all()
    from_need = incidents["true_from_need"].to_numpy(bool)
    n = len(hh)
    return World(
        scenario=scenario,
        households=hh,
        people=data.people,
        records=records,
        need_events=np.bincount(pos[from_need], minlength=n),
        background_events=np.bincount(pos[~from_need], minlength=n),
    )


def _expected_visibility(
    world: World, visibility: float, odds_ratio: float, groups
) -> np.ndarray:
    """Per household: P(seen | need), from the project's probability helpers."""
    log_factor = np.zeros(len(world.households))
    for g in groups:
        log_factor += np.log(g[2]) * world.in_group(g)
    return expit(
        logit(visibility) + np.log(odds_ratio) * affluence(world.decile) + log_factor
    )


def _expected_background(world: World) -> np.ndarray:
    """Per household without the need: expected background incidents."""
    days = world.scenario.time.observation_days
    factor = np.where(world.in_group(BACKGROUND_GROUP), BACKGROUND_GROUP[2], 1.0)
    return (
        BACKGROUND_RATE
        * gradient(world.decile, BACKGROUND_RATIO)
        * factor
        * days
        / 365.0
    )


@pytest.fixture(scope="module")
def world(seed: int) -> World:
    return _world(
        _scenario(
            N_HOUSEHOLDS,
            seed,
            {
                "visibility": VISIBILITY,
                "affluent_visibility_odds_ratio": ODDS_RATIO,
                "mean_events": MEAN_EVENTS,
                "background_rate": BACKGROUND_RATE,
                "affluent_background_ratio": BACKGROUND_RATIO,
            },
            visibility_factors=(VISIBILITY_GROUP,),
            background_factors=(BACKGROUND_GROUP,),
        )
    )


# ------------------------------------------------------------------ the set-up


def test_the_set_up_is_what_the_checks_assume(world: World):
    rule = next(r for r in RULES if r.event_type == EVENT)
    assert rule.need == NEED and rule.on is None and rule.each is None
    police = world.scenario.agencies.police
    cfg = police.events.incident
    assert (cfg.visibility, cfg.affluent_visibility_odds_ratio) == (0.5, 0.25)
    assert (cfg.background_rate, cfg.affluent_background_ratio) == (0.2, 0.25)
    assert cfg.mean_events == MEAN_EVENTS
    assert [(f.column, f.value, f.factor) for f in police.visibility_factors] == [
        VISIBILITY_GROUP
    ]
    # The scenario replaces the default police background factor (black, 1.8).
    assert [(f.column, f.value, f.factor) for f in police.background_factors] == [
        BACKGROUND_GROUP
    ]
    assert world.scenario.time.observation_days == 365
    assert not world.records.filter(like="err_").to_numpy().any()
    # Enough families in every checked cell for the checks to have power.
    need = world.has_need
    assert (need & (world.decile == 10)).sum() > 300
    assert (need & world.in_group(VISIBILITY_GROUP)).sum() > 300


def test_expectations_match_hand_computed_values(world: World):
    """The helpers give what the documented formula gives by hand."""
    deciles = np.array([1, 10, 1, 10])
    asian = np.array([False, False, True, True])
    p = expit(
        logit(VISIBILITY)
        + np.log(ODDS_RATIO) * affluence(deciles)
        + np.log(3.0) * asian
    )
    # Odds 1 in decile 1 (affluence 0); x0.25 in decile 10; x3 for asian families.
    np.testing.assert_allclose(p, [0.5, 0.2, 0.75, 3 * 0.25 / (1 + 3 * 0.25)])
    # 0.2 a year in decile 1, 0.05 in decile 10, twice that in social rent.
    np.testing.assert_allclose(gradient(np.array([1, 10]), 0.25), [1.0, 0.25])


# ------------------------------------------------------------------ visibility


def test_visibility_in_homogeneous_cells(world: World, fuzzy):
    """Share of families with the need that leave an incident, not-asian families."""
    seen = world.need_events > 0
    base = world.has_need & ~world.in_group(VISIBILITY_GROUP)
    for decile, p in ((1, 0.5), (10, 0.2)):
        cell = base & (world.decile == decile)
        fuzzy.assert_proportion(
            seen[cell].sum(), cell.sum(), p, f"visibility, decile {decile}, not asian"
        )


@pytest.mark.parametrize(
    "cell", ["all", "decile 1", "decile 10", "asian", "asian, deciles 1-3"]
)
def test_visibility_against_per_household_expectation(world: World, fuzzy, cell):
    """Seen families = sum of per-family probabilities (Poisson-binomial)."""
    p = _expected_visibility(world, VISIBILITY, ODDS_RATIO, (VISIBILITY_GROUP,))
    asian = world.in_group(VISIBILITY_GROUP)
    mask = {
        "all": np.ones(len(p), bool),
        "decile 1": world.decile == 1,
        "decile 10": world.decile == 10,
        "asian": asian,
        "asian, deciles 1-3": asian & (world.decile <= 3),
    }[cell] & world.has_need
    assert mask.sum() > 100
    fuzzy.assert_expected_count(
        (world.need_events[mask] > 0).sum(),
        p[mask].sum(),
        (p[mask] * (1 - p[mask])).sum(),
        f"families seen, {cell}",
    )


def test_events_per_seen_family(world: World, fuzzy):
    """Seen families leave 1 + Poisson(mean_events - 1) incidents each."""
    counts = world.need_events[world.need_events > 0]
    n = len(counts)
    assert n > 1_000
    fuzzy.assert_expected_count(
        counts.sum(),
        n * MEAN_EVENTS,
        n * (MEAN_EVENTS - 1.0),
        "need incidents of seen families",
    )
    # More than one event is common (P = 1 - exp(-1.5) = 0.78).
    fuzzy.assert_proportion(
        (counts > 1).sum(), n, 1 - np.exp(-(MEAN_EVENTS - 1.0)), "seen families, 2+"
    )


# ------------------------------------------------------------------ background


@pytest.mark.parametrize(
    "cell",
    [
        "decile 1, not social rent",
        "decile 10, not social rent",
        "social rent",
        "social rent, decile 1",
        "all",
    ],
)
def test_background_rate(world: World, fuzzy, cell):
    """Background incidents of families without the need: sum of Poisson means."""
    lam = _expected_background(world)
    social = world.in_group(BACKGROUND_GROUP)
    mask = {
        "decile 1, not social rent": (world.decile == 1) & ~social,
        "decile 10, not social rent": (world.decile == 10) & ~social,
        "social rent": social,
        "social rent, decile 1": social & (world.decile == 1),
        "all": np.ones(len(lam), bool),
    }[cell] & ~world.has_need
    assert mask.sum() > 100
    if cell.startswith("decile 1,"):
        assert (lam[mask] == 0.2).all()  # by hand: 0.2 a year, one year
    if cell.startswith("decile 10,"):
        np.testing.assert_allclose(lam[mask], 0.05)  # 0.2 * 0.25
    if cell == "social rent, decile 1":
        np.testing.assert_allclose(lam[mask], 0.4)  # 0.2 * 2
    fuzzy.assert_expected_count(
        world.background_events[mask].sum(),
        lam[mask].sum(),
        lam[mask].sum(),
        f"background incidents, {cell}",
    )


# ------------------------------------------------------------------ exact rules


def test_need_and_background_events_are_exclusive(world: World):
    """Need events only for families with the need, background only for the others,
    for every police event type."""
    rec = world.records
    assert len(rec) > 0
    hh = world.households.set_index("household_id")
    for need, rows in rec.groupby(rec["true_need"].astype(str)):
        has = hh[f"need_{need}"].reindex(rows["true_household_id"]).to_numpy(bool)
        from_need = rows["true_from_need"].to_numpy(bool)
        assert (has[from_need]).all(), f"{need}: need events without the need"
        assert (~has[~from_need]).all(), f"{need}: background events with the need"
    assert (world.need_events[~world.has_need] == 0).all()
    assert (world.background_events[world.has_need] == 0).all()


def test_events_fall_on_the_right_person(world: World):
    """Need incidents fall on the need's carrier; background incidents on a member
    of the household aged at least YOUTH_AGE or an adult."""
    inc = world.records[world.records["event_type"] == EVENT]
    carrier = world.households.set_index("household_id")[f"carrier_{NEED}"]
    need = inc[inc["true_from_need"]]
    assert (
        need["true_person_id"].to_numpy()
        == carrier.reindex(need["true_household_id"]).to_numpy()
    ).all()
    bg = inc[~inc["true_from_need"]]
    people = world.people.set_index("person_id").reindex(bg["true_person_id"])
    assert (people["household_id"].to_numpy() == bg["true_household_id"]).all()
    assert ((people["role"] != "child") | (people["age"] >= YOUTH_AGE)).all()


# ------------------------------------------------------------------ other settings


@pytest.mark.parametrize(
    ("visibility", "odds_ratio", "group"),
    [
        (0.2, 4.0, ("lone_parent", True, 0.5)),
        (0.9, 0.1, ("imd_quintile", 1, 4.0)),
        (0.05, 1.0, ("tenure", "private_rent", 10.0)),
        (1.0, 0.1, ("ethnicity", "black", 0.2)),
    ],
)
def test_visibility_for_other_settings(seed, fuzzy, visibility, odds_ratio, group):
    """Seen families by decile and group, for other visibilities, odds ratios and
    group factors on columns of other types (bool, int, string)."""
    world = _world(
        _scenario(
            10_000,
            seed,
            {
                "visibility": visibility,
                "affluent_visibility_odds_ratio": odds_ratio,
                "background_rate": 0.0,
            },
            visibility_factors=(group,),
        )
    )
    assert (world.background_events == 0).all()
    p = _expected_visibility(world, visibility, odds_ratio, (group,))
    # By hand, decile 1 outside the group: the configured visibility itself.
    first = (world.decile == 1) & ~world.in_group(group)
    np.testing.assert_allclose(p[first], visibility)
    seen = world.need_events > 0
    cells = {
        "decile 1": world.decile == 1,
        "decile 10": world.decile == 10,
        "group": world.in_group(group),
        "not group": ~world.in_group(group),
    }
    for name, cell in cells.items():
        mask = cell & world.has_need
        assert mask.sum() > 100, name
        fuzzy.assert_expected_count(
            seen[mask].sum(),
            p[mask].sum(),
            (p[mask] * (1 - p[mask])).sum(),
            f"families seen, {name} (visibility {visibility}, OR {odds_ratio})",
        )
