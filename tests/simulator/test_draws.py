"""Shortcuts around the random draws draw the same numbers as the plain draws."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.rng import BlockStreams


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(0, 300), min_size=1, max_size=4),
    mean=st.sampled_from([0.0, 0.03, 0.2, 1.2, 2.0, 9.5, 12.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_poisson_of_one_mean_draws_what_an_array_of_it_draws(counts, mean, seed):
    """``BlockStreams.poisson`` with one mean (numpy's scalar path; nothing drawn
    for 0) gives the numbers of an array of that mean, and leaves each block's
    stream where the array's draw leaves it."""
    names = ("test", "poisson")
    c = np.array(counts)
    one, many = (
        BlockStreams(seed, names, range(len(c))),
        BlockStreams(seed, names, range(len(c))),
    )
    a = one.poisson(c, mean)
    b = many.poisson(c, np.full(int(c.sum()), mean))
    assert a.dtype == b.dtype == np.int64 and np.array_equal(a, b)
    assert np.array_equal(one.random(c), many.random(c))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 300),
    missing=st.floats(0, 1),
    wide=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_codes_become_the_arrow_array_a_mask_makes(n, missing, wide, seed):
    """``_indices`` is ``pa.array(codes, mask=codes < 0)``: values, nulls, type,
    and no validity bitmap when nothing is missing."""
    from simulator.world.records import _indices

    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 9, n)
    codes[rng.random(n) < missing] = -1
    codes = codes if wide else codes.astype(np.int32)
    expected, got = pa.array(codes, mask=codes < 0), _indices(codes)
    assert got.type == expected.type and got.equals(expected)
    assert got.null_count == expected.null_count
    assert (got.buffers()[0] is None) == (expected.buffers()[0] is None)


@settings(max_examples=40, deadline=None)
@given(
    deciles=st.lists(st.integers(1, 10), min_size=1, max_size=200),
    visibility=st.floats(0.001, 1),
    odds_ratio=st.floats(0.05, 3),
    rate=st.floats(0.001, 2),
)
def test_rates_by_decile_are_the_rates_worked_out_per_household(
    deciles, visibility, odds_ratio, rate
):
    """What depends on the decile alone, worked out for the ten deciles and read
    per household (``PopulationChunk.by_decile``), is what every household's own
    sums gave, bit for bit: the visibility and the background rate, without
    factors (their zero log factor added, their ``exp(0)`` multiplied)."""
    from simulator.world.agencies.base import _DECILES
    from simulator.world.probability import affluence, expit, gradient, logit

    d = np.array(deciles, dtype=np.int8)
    rows = d.astype(np.intp) - 1
    zeros = np.zeros(len(d))
    base, log_or = logit(min(visibility, 1 - 1e-12)), np.log(odds_ratio)
    per_household = expit(base + log_or * affluence(d) + zeros)
    by_decile = expit(base + log_or * affluence(_DECILES)).take(rows)
    assert np.array_equal(per_household, by_decile)
    lam = rate * gradient(d, odds_ratio) * np.exp(zeros) * 365 / 365.0
    lam_by_decile = (rate * gradient(_DECILES, odds_ratio)).take(rows) * 365 / 365.0
    assert np.array_equal(lam, lam_by_decile)


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=30),
)
def test_events_are_each_households_need_events_then_background_events(events):
    """``_event_people`` (one person per event): each household in order, its need
    events on the need's person, then its background events on theirs."""
    from types import SimpleNamespace

    from simulator.world.agencies.base import EventRule, _event_people

    n_need = np.array([e[0] for e in events], dtype=np.int64)
    n_bg = np.array([e[1] for e in events], dtype=np.int64)
    need_person = 100 + np.arange(len(events))
    bg_person = 200 + np.arange(len(events))
    chunk = SimpleNamespace(households=np.zeros(len(events)))
    rows, person, from_need = _event_people(
        chunk, EventRule("x", "health"), (n_need, need_person), (n_bg, bg_person)
    )
    expected = [
        (h, p, kind)
        for h in range(len(events))
        for p, kind, times in (
            (need_person[h], True, n_need[h]),
            (bg_person[h], False, n_bg[h]),
        )
        for _ in range(times)
    ]
    got = list(zip(rows.tolist(), person.tolist(), from_need.tolist(), strict=True))
    assert got == [(int(h), int(p), k) for h, p, k in expected]
