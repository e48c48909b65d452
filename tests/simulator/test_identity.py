"""Synthetic identifiers: valid formats and check digits, unique, never real."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.schema.population import MAX_AREAS, MAX_HOUSEHOLDS
from simulator.world import identity
from simulator.world.population import MAX_MEMBERS

MAX_PERSON_ID = MAX_HOUSEHOLDS * MAX_MEMBERS
person_ids = st.lists(
    st.integers(0, MAX_PERSON_ID - 1), min_size=1, max_size=300, unique=True
).map(np.array)
keys = st.integers(0, 2**32 - 1)
SETTINGS = settings(max_examples=25, deadline=None)


def _strings(arr: pa.Array) -> list[str]:
    return arr.to_pylist()


@SETTINGS
@given(ids=person_ids, key=keys)
def test_nhs_numbers_are_valid_unique_and_unissued(ids, key):
    numbers = _strings(identity.nhs_numbers(ids, key))
    assert len(set(numbers)) == len(ids)
    assert identity.nhs_number_valid(numbers).all()
    # 8- and 9-prefixed numbers are never issued in England and Wales.
    assert all(re.fullmatch(r"[89]\d{9}", n) for n in numbers)


@SETTINGS
@given(ids=person_ids, key=keys)
def test_nhs_numbers_depend_only_on_id_and_key(ids, key):
    whole = _strings(identity.nhs_numbers(ids, key))
    one_by_one = [
        _strings(identity.nhs_numbers(ids[i : i + 1], key))[0] for i in range(len(ids))
    ]
    assert whole == one_by_one


@SETTINGS
@given(ids=person_ids, key=keys, data=st.data())
def test_nhs_check_digit_catches_any_single_digit_change(ids, key, data):
    number = _strings(identity.nhs_numbers(ids[:1], key))[0]
    pos = data.draw(st.integers(0, 9), label="position")
    new_digit = data.draw(
        st.sampled_from([d for d in "0123456789" if d != number[pos]]), label="digit"
    )
    mutated = number[:pos] + new_digit + number[pos + 1 :]
    assert not identity.nhs_number_valid([mutated])[0]


@pytest.mark.parametrize(
    "value",
    ["", "123", "12345678901", "943476591X", " 9434765919", "9434765918", None],
)
def test_nhs_number_valid_rejects_malformed(value):
    assert not identity.nhs_number_valid(pa.array([value], type=pa.string()))[0]


def test_nhs_number_valid_accepts_a_published_example():
    # 943 476 5919 is the NHS's own example of a valid number.
    assert identity.nhs_number_valid(["9434765919"])[0]


@SETTINGS
@given(ids=person_ids, key=keys)
def test_upns_are_valid_unique_and_synthetic(ids, key):
    upns = _strings(identity.upns(ids, key))
    assert len(set(upns)) == len(ids)
    assert identity.upn_valid(upns).all()
    # Local-authority code 999: no such authority.
    assert all(re.fullmatch(r"[A-Z]999\d{9}", u) for u in upns)


@SETTINGS
@given(ids=person_ids, key=keys, data=st.data())
def test_upn_check_letter_catches_a_changed_digit(ids, key, data):
    upn = _strings(identity.upns(ids[:1], key))[0]
    pos = data.draw(st.integers(1, 12), label="position")
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != upn[pos]]))
    assert not identity.upn_valid([upn[:pos] + digit + upn[pos + 1 :]])[0]


@SETTINGS
@given(ids=person_ids, key=keys)
def test_ni_numbers_have_the_format_and_are_unique(ids, key):
    numbers = _strings(identity.ni_numbers(ids, key))
    assert len(set(numbers)) == len(ids)
    # Q is never issued as a first letter; O never appears as the second.
    assert all(re.fullmatch(r"Q[A-NP-Z]\d{6}[A-D]", n) for n in numbers)


@SETTINGS
@given(
    areas=st.lists(st.integers(0, MAX_AREAS - 1), min_size=1, max_size=200, unique=True)
)
def test_postcode_sectors_are_unique_and_synthetic(areas):
    sectors = _strings(identity.postcode_sectors(np.array(areas)))
    assert len(set(sectors)) == len(areas)
    assert all(re.fullmatch(r"[QVX][A-Z]\d{1,2} \d", s) for s in sectors)
    # The first 25,000 areas (all a scenario could have before) stay in Q areas.
    assert all(s[0] == "Q" for s, a in zip(sectors, areas, strict=True) if a < 25_000)


@SETTINGS
@given(
    area=st.integers(0, MAX_AREAS - 1),
    slots=st.lists(st.integers(0, 4_999), min_size=1, max_size=50),
)
def test_postcodes_extend_their_area_sector(area, slots):
    codes = _strings(identity.postcodes(np.full(len(slots), area), np.array(slots)))
    sector = _strings(identity.postcode_sectors(np.array([area])))[0]
    assert all(c.startswith(sector) and len(c) == len(sector) + 2 for c in codes)
    assert all(re.fullmatch(r"[QVX][A-Z]\d{1,2} \d[A-Z]{2}", c) for c in codes)


@SETTINGS
@given(n_areas=st.integers(1, 400), rng_seed=st.integers(0, 2**32 - 1))
def test_streets_of_an_area_are_distinct(n_areas, rng_seed):
    streets = identity.street_names(n_areas, np.random.default_rng(rng_seed))
    assert streets.shape == (n_areas, identity.STREETS_PER_AREA)
    for row in streets:
        assert len(set(row)) == len(row), row


@SETTINGS
@given(
    n_areas=st.integers(1, 50),
    rng_seed=st.integers(0, 2**32 - 1),
    per_area=st.integers(1, 400),
)
def test_every_family_home_has_its_own_address(n_areas, rng_seed, per_area):
    streets = identity.street_names(n_areas, np.random.default_rng(rng_seed))
    area = np.repeat(np.arange(n_areas), per_area)
    slot = np.tile(np.arange(per_area), n_areas)
    homes = identity.addresses(area, slot, streets, np.zeros(len(area), bool))
    codes = identity.postcodes(area, slot)
    keys = list(zip(homes.to_pylist(), codes.to_pylist(), strict=True))
    assert len(set(keys)) == len(keys)
    vacant = identity.addresses(area, slot, streets, np.ones(len(area), bool))
    assert not set(vacant.to_pylist()) & set(homes.to_pylist())


# ------------------------------------------------------------ names, batching


@pytest.mark.parametrize("kind", identity.NAME_KINDS)
@pytest.mark.parametrize("ethnicity", list(identity.NAME_LOCALES))
def test_name_sampling_is_a_search_of_the_cumulative_weights(ethnicity, kind):
    pool = identity.name_pool(ethnicity, kind)
    cum = pool.cumulative
    u = np.random.default_rng(0).random(20_000)
    # Exactly on, and just below, the boundaries, and the ends of [0, 1).
    edges = np.concatenate([cum[:200], np.nextafter(cum[:200], 0), [0.0, 1 - 2**-53]])
    u = np.concatenate([u, edges[edges < 1]])
    expected = np.minimum(np.searchsorted(cum, u, side="right"), len(pool.names) - 1)
    assert (pool.sample(u) == expected).all()
    assert (pool.sample(u[:60].reshape(10, 6)) == expected[:60].reshape(10, 6)).all()


@SETTINGS
@given(rng_seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300))
def test_names_by_group_position_or_label_are_the_same(rng_seed, n):
    rng = np.random.default_rng(rng_seed)
    groups, kinds = list(identity.NAME_LOCALES), identity.NAME_KINDS
    g = rng.integers(0, len(groups), n)
    k = rng.integers(0, len(kinds), n)
    u = rng.random(n)
    by_label = identity.sample_names(np.array(groups)[g], np.array(kinds)[k], u)
    by_position = identity.sample_names(g, k, u)
    assert (by_label == by_position).all()
    one_by_one = [
        identity.sample_names(g[i : i + 1], k[i : i + 1], u[i : i + 1])[0]
        for i in range(min(n, 20))
    ]
    assert list(by_position[: len(one_by_one)]) == one_by_one
    assert all(len(s) > 0 for s in identity.names(by_position).to_pylist())


@SETTINGS
@given(
    n_areas=st.integers(1, 30),
    rng_seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 2_000),
)
def test_addresses_and_postcodes_do_not_depend_on_the_batch(n_areas, rng_seed, n):
    rng = np.random.default_rng(rng_seed)
    streets = identity.street_names(n_areas, rng)
    area = rng.integers(0, n_areas, n)
    slot = rng.integers(0, 200, n)
    vacant = rng.random(n) < 0.3
    codes = identity.postcodes(area, slot).to_pylist()  # many rows: a shared table
    homes = identity.addresses(area, slot, streets, vacant).to_pylist()
    for i in rng.choice(n, min(n, 25), replace=False):
        one = slice(i, i + 1)
        assert identity.postcodes(area[one], slot[one]).to_pylist() == [codes[i]]
        home = identity.addresses(area[one], slot[one], streets, vacant[one])
        assert home.to_pylist() == [homes[i]]
        number = 2 * (slot[i] // identity.STREETS_PER_AREA) + 1 + vacant[i]
        street = streets[area[i], slot[i] % identity.STREETS_PER_AREA]
        assert homes[i] == f"{number} {street}"


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.integers(-(2**62), 2**62), max_size=30),
    weights=st.lists(st.integers(-20, 20), max_size=14),
)
def test_weighted_digit_sums_three_digits_at_a_time_are_the_digit_by_digit_sums(
    values, weights
):
    """The table look-ups (three digits a pass) sum as the definition does, for
    any integers (negative too: floor division either way) and weights."""
    values = np.array(values, dtype=np.int64)
    got = identity._weighted_digit_sum(values, weights)
    assert np.array_equal(got, identity._digit_by_digit_sum(values, weights))


@settings(max_examples=50, deadline=None)
@given(
    ids=st.lists(st.integers(0, 10**8 - 1), max_size=40, unique=True),
    key=st.integers(0, 2**32 - 1),
)
def test_nhs_numbers_are_those_of_the_definition(ids, key):
    """Valid numbers; a base whose check would be 10 moved to the 8 prefix."""
    ids = np.array(ids, dtype=np.int64)
    base = 900_000_000 + identity._scramble(ids, 10**8, key)
    check = identity.nhs_check_digit(base)
    base = np.where(check == 10, base - 100_000_000, base)
    check = np.where(check == 10, identity.nhs_check_digit(base), check)
    got = identity.nhs_numbers(ids, key).to_pylist()
    assert got == [str(v) for v in base * 10 + check]
    assert identity.nhs_number_valid(got).all()


@settings(max_examples=50, deadline=None)
@given(
    homes=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 200)), min_size=150, max_size=300
    ),
    lo=st.integers(0, 70_000),
)
def test_postcodes_from_a_table_are_each_homes_own_postcode(homes, lo):
    """``postcodes`` (a table of the areas' units, shared by calls of equal span)
    gives each home the postcode of its area and unit built directly."""
    from simulator.world.identity import HOUSEHOLDS_PER_POSTCODE, _postcodes, postcodes

    area = lo + np.array([h[0] for h in homes])
    slot = np.array([h[1] for h in homes])
    expected = _postcodes(area, slot // HOUSEHOLDS_PER_POSTCODE)
    assert postcodes(area, slot).to_pylist() == expected.to_pylist()
    assert postcodes(area, slot[::-1]).to_pylist() == (
        _postcodes(area, slot[::-1] // HOUSEHOLDS_PER_POSTCODE).to_pylist()
    )
