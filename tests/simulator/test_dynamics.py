"""The world between periods: needs move on, support resolves, flags shift records."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.rng import BLOCK_SIZE
from simulator.schema.scenario import Scenario
from simulator.vocabulary import NEEDS
from simulator.world.dynamics import (
    family_factor,
    next_needs,
    period_scenario,
    period_seed,
    record_shifts,
    steady_chance,
)
from simulator.world.generate import SyntheticData, generate, records_again
from simulator.world.needs import has_member, need_probability
from simulator.world.population import Calibration
from simulator.world.probability import affluence

HOUSEHOLDS = 3_000


def scenario(seed: int, **dynamics: object) -> Scenario:
    return Scenario.model_validate(
        {
            "seed": seed,
            "population": {"n_households": HOUSEHOLDS, "households_per_area": 100},
            "dynamics": {"periods": 2, **dynamics},
        }
    )


@functools.cache
def world(seed: int) -> SyntheticData:
    return generate(scenario(seed))


def moved(seed: int, flagged: np.ndarray, period: int = 2, **dynamics: object):
    s = scenario(seed, **dynamics)
    data = world(seed)
    common = family_factor(s, data.households["household_id"].to_numpy())
    return next_needs(
        data.households,
        data.people,
        flagged,
        period_scenario(s, period),
        Calibration.from_scenario(s),
        common,
    )


def needs(households: pd.DataFrame) -> np.ndarray:
    return households[[f"need_{n}" for n in NEEDS]].to_numpy(dtype=bool)


def test_period_one_is_the_scenario_itself(seed):
    s = scenario(seed)
    assert period_scenario(s, 1) is s
    seeds = {period_seed(seed, p) for p in range(1, 11)}
    assert len(seeds) == 10  # every period draws its own world


def test_the_family_factor_is_the_populations(seed):
    """Given its factor, a family's needs are what the population drew: those
    with a high factor-given chance have the need far more often."""
    s = scenario(seed)
    data = world(seed)
    hh = data.households
    common = family_factor(s, hh["household_id"].to_numpy())
    cal = Calibration.from_scenario(s)
    dep = 1.0 - affluence(hh["imd_decile"].to_numpy())
    school = np.ones(len(hh), bool)
    p = need_probability(
        s, cal.need_intercepts["health"], "health", dep, hh["lone_parent"], school
    )
    q = steady_chance(p, common, s.needs.correlation)
    has = hh["need_health"].to_numpy()
    assert q[has].mean() > 1.5 * q[~has].mean()
    # and the chance given the factor averages back to the chance itself
    assert abs(q.mean() - p.mean()) < 0.02


def test_without_feedback_needs_stay_as_likely(seed, fuzzy):
    """Five periods on, each need's count is within binomial tolerance of the
    families' steady chances, and as many families are in need as in period 1."""
    s = scenario(seed)
    data = world(seed)
    hh, people = data.households, data.people
    cal = Calibration.from_scenario(s)
    common = family_factor(s, hh["household_id"].to_numpy())
    none = np.zeros(len(hh), bool)
    start = int(hh["eligible"].sum())
    for period in range(2, 7):
        hh = next_needs(
            hh, people, none, period_scenario(s, period), cal, common
        ).households
    dep = 1.0 - affluence(hh["imd_decile"].to_numpy())
    h_pos = np.searchsorted(hh["household_id"], people["household_id"])
    age = people["age"].to_numpy()
    pupil = (people["role"] == "child").to_numpy() & (age >= 5) & (age <= 15)
    school = has_member(h_pos, pupil, len(hh))
    for need in NEEDS:
        p = need_probability(
            s, cal.need_intercepts[need], need, dep, hh["lone_parent"], school
        )
        q = steady_chance(p, common, s.needs.correlation)
        expected, sd = q.sum(), np.sqrt((q * (1 - q)).sum())
        assert abs(hh[f"need_{need}"].sum() - expected) < 4 * sd + 1, need
    share = start / len(hh)
    tol = fuzzy.tolerance(share, len(hh)) * np.sqrt(2) * len(hh)
    assert abs(int(hh["eligible"].sum()) - start) < tol


@settings(max_examples=15, deadline=None)
@given(
    probability=st.floats(0.05, 1.0),
    flag_share=st.floats(0.0, 0.5),
    flag_seed=st.integers(0, 2**32 - 1),
)
def test_support_only_resolves_needs_of_flagged_families(
    probability, flag_share, flag_seed
):
    seed = 42
    n = HOUSEHOLDS
    flagged = np.random.default_rng(flag_seed).random(n) < flag_share
    off = moved(seed, flagged)
    on = moved(
        seed, flagged, support={"enabled": True, "resolve_probability": probability}
    )
    before, without, with_support = (
        needs(world(seed).households),
        needs(off.households),
        needs(on.households),
    )
    assert not (with_support & ~without).any()  # support never adds a need
    changed = (with_support != without).any(axis=1)
    assert not changed[~flagged].any()  # nor touches an unflagged family
    assert (on.supported[~flagged] == 0).all()
    assert on.supported.sum() == (without & ~with_support).sum()
    assert off.supported.sum() == 0
    assert (on.arisen == off.arisen).all() and (on.resolved == off.resolved).all()
    if probability == 1.0:
        assert not (with_support & before)[flagged].any()
    carriers = on.households[[f"carrier_{k}" for k in NEEDS]].to_numpy()
    assert ((carriers >= 0) <= with_support).all()  # a carrier only with the need


def test_record_shifts_off_changes_nothing(seed):
    hh = world(seed).households
    times = np.ones(len(hh), np.int64)
    shifts, deterred, neighbours = record_shifts(hh, times, scenario(seed).dynamics)
    assert shifts is None
    assert not deterred.any() and not neighbours.any()


@given(flag_share=st.floats(0.0, 1.0), flag_seed=st.integers(0, 2**32 - 1))
@settings(max_examples=25, deadline=None)
def test_deterrence_only_lowers_the_chance_of_being_seen(flag_share, flag_seed):
    hh = world(42).households
    times = (np.random.default_rng(flag_seed).random(len(hh)) < flag_share) * 2
    dyn = scenario(42, deterrence={"enabled": True}).dynamics
    shifts, deterred, neighbours = record_shifts(hh, times, dyn)
    assert shifts is not None
    assert set(shifts.visibility) == set(dyn.deterrence.sources)
    assert not shifts.background  # help-seeking, not background events
    shift = shifts.visibility["health"]
    assert (shift <= 0).all()
    assert np.allclose(shift[times > 0], np.log(dyn.deterrence.odds_ratio))
    assert (deterred == (times > 0)).all()
    assert not (deterred & neighbours).any()
    area = hh["area_id"].to_numpy()
    flagged_areas = np.unique(area[times > 0])
    assert (shift[~np.isin(area, flagged_areas)] == 0).all()


def test_surveillance_follows_each_past_flag_and_the_areas_flags(seed):
    hh = world(seed).households
    rng = np.random.default_rng(seed)
    times = rng.integers(0, 3, len(hh))
    dyn = scenario(seed, surveillance={"enabled": True}).dynamics
    shifts, _, _ = record_shifts(hh, times, dyn)
    assert shifts is not None
    watch = dyn.surveillance
    area = hh["area_id"].to_numpy()
    for source in watch.sources:
        vis = shifts.visibility[source] - np.log(watch.visibility_odds_ratio) * times
        bg = shifts.background[source] - np.log(watch.background_ratio) * times
        assert np.allclose(vis, bg)  # the area's part, the same for both
        per_area = pd.Series(vis).groupby(area).agg(["min", "max"])
        assert np.allclose(per_area["min"], per_area["max"])  # one value per area
        flags_per_area = pd.Series(times).groupby(area).mean()
        order = np.argsort(flags_per_area.to_numpy())
        assert (np.diff(per_area["min"].to_numpy()[order]) >= -1e-12).all()


def test_deterrence_lowers_recorded_not_true_needs(seed):
    """The same period's world recorded with and without deterrence: the truth is
    the same table, and every need that reaches a record under deterrence reaches
    one without it, but fewer reach any."""
    s = scenario(seed, deterrence={"enabled": True, "odds_ratio": 0.2})
    data = world(seed)
    hh = data.households
    times = (np.random.default_rng(seed).random(len(hh)) < 0.3).astype(np.int64)
    shifts, deterred, _ = record_shifts(hh, times, s.dynamics)
    later = period_scenario(s, 2)
    plain = records_again(later, hh, data.people)
    deterred_records = records_again(later, hh, data.people, shifts)

    def recorded(sources: dict[str, pd.DataFrame]) -> set[tuple[int, str]]:
        rows = pd.concat(
            [
                f.loc[f["true_from_need"], ["true_household_id", "true_need"]]
                for f in sources.values()
            ]
        )
        rows = rows[rows["true_need"].isin(NEEDS)]
        return set(map(tuple, rows.drop_duplicates().to_numpy().tolist()))

    seen_plain, seen_deterred = recorded(plain), recorded(deterred_records)
    assert seen_deterred < seen_plain
    lost = {h for h, _ in seen_plain - seen_deterred}
    ids = hh["household_id"].to_numpy()
    exposed = set(ids[deterred]) | set(ids[shifts.visibility["health"] < 0])
    assert lost <= exposed  # only deterred families' needs go unrecorded


@pytest.mark.parametrize("period", [2, 3])
def test_later_periods_are_the_same_population(seed, period):
    data = world(seed)
    out = moved(seed, np.zeros(HOUSEHOLDS, bool), period).households
    same = [
        c for c in data.households.columns if not c.startswith(("need_", "carrier_"))
    ]
    same = [c for c in same if c not in ("n_needs", "eligible", "harm")]
    pd.testing.assert_frame_equal(out[same], data.households[same])
    assert (needs(out) != needs(data.households)).any()


def test_later_periods_do_not_depend_on_the_chunk_size():
    """Needs move on over seeding blocks and records are drawn chunk by chunk, so a
    later period is the same whatever ``generation.chunk_size`` (as period 1 is)."""
    n = 2 * BLOCK_SIZE + 7  # three seeding blocks
    worlds = []
    for chunk_size in (BLOCK_SIZE, 3 * BLOCK_SIZE):
        s = Scenario.model_validate(
            {
                "seed": 3,
                "population": {"n_households": n, "households_per_area": 250},
                "generation": {"chunk_size": chunk_size},
                "agencies": {
                    "education": {"enabled": False},
                    "benefits": {"enabled": False},
                },
                "dynamics": {"periods": 2, "surveillance": {"enabled": True}},
            }
        )
        data = generate(s)
        hh = data.households
        flagged = hh["n_needs"].to_numpy() >= 3
        later = period_scenario(s, 2)
        common = family_factor(s, hh["household_id"].to_numpy())
        moved_on = next_needs(
            hh, data.people, flagged, later, Calibration.from_scenario(s), common
        )
        shifts, _, _ = record_shifts(moved_on.households, flagged * 1, s.dynamics)
        sources = records_again(later, moved_on.households, data.people, shifts)
        worlds.append((moved_on.households, sources))
    (hh_a, src_a), (hh_b, src_b) = worlds
    pd.testing.assert_frame_equal(hh_a, hh_b)
    assert src_a.keys() == src_b.keys()
    for name in src_a:
        pd.testing.assert_frame_equal(src_a[name], src_b[name])
