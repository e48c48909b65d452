"""The synthetic truth: calibrated prevalences, gradients, shares, ages, identifiers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, logit

from simulator.vocabulary import ETHNICITIES, NEEDS, TENURES
from simulator.world.identity import nhs_number_valid, upn_valid
from simulator.world.needs import SCHOOL_AGES, YOUTH_AGE
from simulator.world.population import (
    MAX_MEMBERS,
    OPTIONAL_PEOPLE,
    Calibration,
    MemberPicker,
    _choose,
    _only_where,
    area_streets,
    make_areas,
    make_chunk,
    pick_member,
)


@pytest.fixture(scope="module")
def truth(default_data):
    return default_data.households, default_data.people


@pytest.fixture(scope="module")
def school_households(truth):
    _, people = truth
    pupils = people[
        (people["role"] == "child")
        & people["age"].between(SCHOOL_AGES[0], SCHOOL_AGES[1])
    ]
    return set(pupils["household_id"])


@pytest.mark.parametrize("need", [n for n in NEEDS if n != "education"])
def test_need_prevalence_matches_the_scenario(truth, default_scenario, fuzzy, need):
    hh, _ = truth
    target = default_scenario.needs.need(need).prevalence
    fuzzy.assert_proportion(hh[f"need_{need}"].sum(), len(hh), target, need)


def test_education_prevalence_among_families_with_a_school_age_child(
    truth, school_households, default_scenario, fuzzy
):
    hh, _ = truth
    with_pupil = hh["household_id"].isin(school_households)
    assert not hh.loc[~with_pupil, "need_education"].any()
    fuzzy.assert_proportion(
        hh.loc[with_pupil, "need_education"].sum(),
        with_pupil.sum(),
        default_scenario.needs.education.prevalence,
        "education among families with a pupil",
    )


def test_children_in_need_gradient_is_steep(truth):
    hh, _ = truth
    rate = hh.groupby("imd_decile")["need_children_in_need"].mean()
    assert rate[1] / rate[10] > 5, rate.to_dict()


@pytest.mark.parametrize("need", NEEDS)
def test_every_need_is_commoner_in_deprived_areas(truth, need):
    hh, _ = truth
    by_quintile = hh.groupby("imd_quintile")[f"need_{need}"].mean()
    assert by_quintile[1] > by_quintile[5], by_quintile.to_dict()


def test_eligibility_and_need_count_follow_the_needs(truth, default_scenario):
    hh, _ = truth
    count = hh[[f"need_{n}" for n in NEEDS]].sum(axis=1)
    assert (hh["n_needs"] == count).all()
    expected = count >= default_scenario.eligibility.min_needs
    assert (hh["eligible"] == expected).all()


def test_harm_matches_its_logistic_model(truth, default_scenario, fuzzy):
    hh, _ = truth
    h = default_scenario.harm
    dep = (10 - hh["imd_decile"].to_numpy()) / 9
    p = expit(
        logit(h.base_probability)
        + math.log(h.odds_ratio_per_need) * hh["n_needs"].to_numpy()
        + math.log(h.deprivation_odds_ratio) * dep
    )
    fuzzy.assert_expected_count(
        hh["harm"].sum(), p.sum(), (p * (1 - p)).sum(), "families with harm"
    )


def test_ethnicity_shares_are_near_the_scenario(truth, default_scenario, fuzzy):
    hh, _ = truth
    shares = default_scenario.population.ethnicity.normalised()
    counts = hh["ethnicity"].value_counts()
    for group in ETHNICITIES:
        # The decile profile moves the overall shares a little (methodology 1.3:
        # white 81.2% against 81.7%): allow one percentage point for it.
        fuzzy.assert_proportion(
            counts[group], len(hh), shares[group], group, slack=0.01
        )


def test_minority_groups_concentrate_in_deprived_areas(truth, default_scenario):
    hh, _ = truth
    d1 = default_scenario.population.ethnicity_decile_one
    decile_one = hh["imd_decile"] == 1
    for group in ("asian", "black", "mixed"):
        assert getattr(d1, group) > 0.15
        in_d1 = (hh["ethnicity"] == group)[decile_one].mean()
        in_d10 = (hh["ethnicity"] == group)[hh["imd_decile"] == 10].mean()
        assert in_d1 > in_d10, group


def test_tenure_shares_match_the_scenario(truth, default_scenario, fuzzy):
    hh, _ = truth
    shares = default_scenario.population.tenure.normalised()
    counts = hh["tenure"].value_counts()
    for tenure in TENURES:
        fuzzy.assert_proportion(counts[tenure], len(hh), shares[tenure], tenure)
    social = (hh["tenure"] == "social_rent").groupby(hh["imd_decile"]).mean()
    assert social[1] > 2 * social[10]


def test_lone_parent_share_and_parents(truth, default_scenario, fuzzy):
    hh, people = truth
    pop = default_scenario.population
    fuzzy.assert_proportion(
        hh["lone_parent"].sum(), len(hh), pop.lone_parent_share, "lone parents"
    )
    adults = people[people["role"] != "child"].groupby("household_id").size()
    expected = np.where(hh["lone_parent"], 1, 2)
    assert (adults.reindex(hh["household_id"]).to_numpy() == expected).all()
    lone_ids = hh.loc[hh["lone_parent"], "household_id"]
    lone_adults = people[
        people["household_id"].isin(lone_ids) & (people["role"] == "adult1")
    ]
    fuzzy.assert_proportion(
        (lone_adults["sex"] == "F").sum(),
        len(lone_adults),
        pop.lone_parent_mother_share,
        "lone parents who are mothers",
    )


def test_children_per_family_match_the_shares(truth, default_scenario, fuzzy):
    hh, people = truth
    kids = people[people["role"] == "child"].groupby("household_id").size()
    assert (kids.reindex(hh["household_id"]).to_numpy() == hh["n_children"]).all()
    shares = np.asarray(default_scenario.population.children_shares)
    shares = shares / shares.sum()
    for k, share in enumerate(shares, start=1):
        fuzzy.assert_proportion(
            (hh["n_children"] == k).sum(), len(hh), share, f"{k} children"
        )


def test_moves_by_tenure(truth, default_scenario, fuzzy):
    hh, _ = truth
    moved = default_scenario.population.moved_last_year
    for tenure in TENURES:
        group = hh[hh["tenure"] == tenure]
        fuzzy.assert_proportion(
            group["moved_recently"].sum(),
            len(group),
            getattr(moved, tenure),
            f"moved, {tenure}",
        )
    movers = hh[hh["moved_recently"]]
    assert (movers["prev_address"] != movers["address"]).all()


def test_areas_follow_the_decile_weights(default_data, default_scenario):
    areas, hh = default_data.areas, default_data.households
    pop = default_scenario.population
    assert len(areas) == math.ceil(pop.n_households / pop.households_per_area)
    w = np.asarray(pop.decile_weights) / sum(pop.decile_weights)
    counts = areas["imd_decile"].value_counts().reindex(range(1, 11), fill_value=0)
    # Largest-remainder rounding: each decile within one area of its share.
    assert (np.abs(counts.to_numpy() - w * len(areas)) < 1).all()
    sizes = hh.groupby("area_id").size()
    assert sizes.max() - sizes.min() <= 1
    deciles = areas.set_index("area_id")["imd_decile"].reindex(hh["area_id"])
    assert (deciles.to_numpy() == hh["imd_decile"].to_numpy()).all()
    assert (hh["imd_quintile"] == (hh["imd_decile"] + 1) // 2).all()


# --------------------------------------------------------------------------- ages


def _whole_years(dob: pd.Series, reference) -> np.ndarray:
    ref = pd.Timestamp(reference)
    before_birthday = (dob.dt.month > ref.month) | (
        (dob.dt.month == ref.month) & (dob.dt.day > ref.day)
    )
    return (ref.year - dob.dt.year - before_birthday).to_numpy()


def test_ages_are_coherent(truth):
    _, people = truth
    role = people["role"]
    age = people["age"]
    assert age[role == "child"].between(0, 17).all()
    assert (age[role == "adult1"] >= 16).all()
    assert (age[role == "adult2"] >= 18).all()

    children = people[role == "child"]
    eldest = children.groupby("household_id")["age"].max()
    first = children.groupby("household_id")["age"].first()
    # The first child listed is the eldest; younger ones follow in order.
    assert (first == eldest).all()
    assert (children.groupby("household_id")["age"].diff().dropna() <= 0).all()
    # The first adult's age at the eldest child's birth is clipped to 16-45.
    mother = people[role == "adult1"].set_index("household_id")["age"]
    gap = mother - eldest.reindex(mother.index)
    assert gap.between(16, 45).all(), gap.describe()


def test_age_is_whole_years_from_dob_at_the_reference_date(truth, default_scenario):
    _, people = truth
    years = _whole_years(people["dob"], default_scenario.time.reference_date)
    wrong = people.loc[years != people["age"].to_numpy(), ["age", "dob"]]
    assert wrong.empty, wrong.head()


# -------------------------------------------------------------------- identifiers


def test_person_ids_are_unique_and_structured(truth):
    hh, people = truth
    assert people["person_id"].is_unique
    assert hh["household_id"].is_unique
    assert (people["person_id"] // MAX_MEMBERS == people["household_id"]).all()
    assert set(people["household_id"]) == set(hh["household_id"])


def test_nhs_numbers_valid_and_unique(truth):
    _, people = truth
    nhs = people["nhs_number"]
    assert nhs.notna().all() and nhs.is_unique
    assert nhs_number_valid(nhs.to_numpy(dtype=object)).all()


def test_upns_valid_unique_and_only_for_children_aged_four_and_over(truth):
    _, people = truth
    upn = people["upn"]
    should_have = (people["role"] == "child") & (people["age"] >= 4)
    assert (upn.notna() == should_have).all()
    held = upn[should_have]
    assert held.is_unique
    assert upn_valid(held.to_numpy(dtype=object)).all()


def test_ni_numbers_format_unique_and_only_for_adults(truth):
    _, people = truth
    ni = people["ni_number"]
    adult = people["role"] != "child"
    assert (ni.notna() == adult).all()
    assert ni[adult].is_unique
    assert ni[adult].str.fullmatch(r"Q[A-Z]\d{6}[A-D]").all()


def test_addresses_are_synthetic(truth):
    hh, people = truth
    for col in ("postcode", "prev_postcode"):
        assert hh[col].str.startswith("Q").all()
    assert people["postcode"].str.fullmatch(r"Q[A-Z]\d{1,2} \d[A-Z]{2}").all()
    # Family homes have odd numbers; each family has its own address.
    numbers = hh["address"].str.extract(r"^(\d+) ")[0].astype(int)
    assert (numbers % 2 == 1).all()
    assert not hh.duplicated(["address", "postcode"]).any()


def test_people_share_their_household_address(truth):
    hh, people = truth
    home = hh.set_index("household_id").reindex(people["household_id"])
    for col in ("address", "postcode", "prev_address", "prev_postcode"):
        assert (home[col].to_numpy() == people[col].to_numpy()).all()


def test_names_are_present(truth):
    _, people = truth
    for col in ("first_name", "last_name"):
        assert people[col].notna().all()
        assert (people[col].str.len() > 0).all()
    assert set(people["sex"]) == {"F", "M"}


# ---------------------------------------------------------------------- carriers

CARRIER_KIND = {
    "crime_asb": lambda p: (p["role"] != "child") | (p["age"] >= YOUTH_AGE),
    "education": lambda p: (
        (p["role"] == "child") & p["age"].between(SCHOOL_AGES[0], SCHOOL_AGES[1])
    ),
    "children_in_need": lambda p: p["role"] == "child",
    "worklessness": lambda p: p["role"] == "adult1",
    "domestic_abuse": lambda p: p["role"] != "child",
    "health": lambda p: pd.Series(True, index=p.index),
}


@pytest.mark.parametrize("need", NEEDS)
def test_each_need_has_a_carrier_of_the_right_kind(truth, need):
    hh, people = truth
    carrier = hh[f"carrier_{need}"]
    has = hh[f"need_{need}"]
    assert (carrier[~has] == -1).all()
    carriers = people.set_index("person_id").reindex(carrier[has])
    assert carriers["household_id"].notna().all()
    assert (carriers["household_id"].to_numpy() == hh.loc[has, "household_id"]).all()
    kind = CARRIER_KIND[need](carriers.reset_index())
    assert kind.all(), f"{(~kind).sum()} carriers of {need} of the wrong kind"


@settings(max_examples=50, deadline=None)
@given(
    mask=st.lists(st.booleans(), max_size=60),
    start=st.integers(0, 5),
    text=st.text(max_size=3),
)
def test_only_where_spreads_values_over_the_rows_like_a_take(mask, start, text):
    """Values made for the masked rows, null elsewhere, a valid Arrow array."""
    mask = np.array(mask, dtype=bool)
    pool = pa.array([f"{text}{i}" for i in range(start + len(mask))])
    spread = _only_where(mask, lambda rows: pool.slice(start, len(rows)))
    spread.validate(full=True)
    made = pool.slice(start, int(mask.sum())).to_pylist()
    seen = np.cumsum(mask)
    expected = [made[k - 1] if m else None for k, m in zip(seen, mask, strict=True)]
    assert spread.to_pylist() == expected


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    unmade=st.sets(st.sampled_from(OPTIONAL_PEOPLE)),
    n_blocks=st.integers(1, 2),
)
def test_a_chunk_made_without_some_people_columns_has_every_other_value(
    seed, unmade, n_blocks
):
    """Names and identifiers have streams of their own (or none): a chunk made
    without any of :data:`OPTIONAL_PEOPLE` has the full chunk's households and
    every other people's column, equal."""
    from simtools import build_scenario

    from simulator.rng import BLOCK_SIZE

    s = build_scenario(n_blocks * BLOCK_SIZE - 300, seed)
    cal, areas, streets = Calibration.from_scenario(s), make_areas(s), area_streets(s)
    blocks = range(n_blocks)
    hh, people = make_chunk(s, cal, areas, streets, blocks)
    hh_lean, people_lean = make_chunk(s, cal, areas, streets, blocks, frozenset(unmade))
    pd.testing.assert_frame_equal(hh_lean, hh, check_exact=True)
    kept = [c for c in people.columns if c not in unmade]
    assert list(people_lean.columns) == kept
    pd.testing.assert_frame_equal(people_lean, people[kept], check_exact=True)


def test_only_optional_people_columns_can_be_left_unmade(default_scenario):
    s = default_scenario
    with pytest.raises(ValueError, match="always made"):
        make_chunk(
            s,
            Calibration.from_scenario(s),
            make_areas(s),
            area_streets(s),
            range(1),
            frozenset({"age"}),
        )


@settings(max_examples=50, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=20),
    data=st.data(),
)
def test_a_member_picker_picks_the_uth_eligible_member_for_any_uniforms(sizes, data):
    """``MemberPicker``, made once, picks the ``floor(u * count)``-th eligible
    member of each household (-1 if none) for every draw it is given."""
    h_pos = np.repeat(np.arange(len(sizes)), sizes)
    eligible = np.array(
        data.draw(st.lists(st.booleans(), min_size=len(h_pos), max_size=len(h_pos)))
    )
    picker = MemberPicker.of(h_pos, eligible, len(sizes))
    uniforms = st.floats(0, 1, exclude_max=True)
    for _ in range(3):
        u = np.array(
            data.draw(st.lists(uniforms, min_size=len(sizes), max_size=len(sizes)))
        )
        expected = []
        for h in range(len(sizes)):
            rows = np.flatnonzero((h_pos == h) & eligible)
            expected.append(rows[int(u[h] * len(rows))] if len(rows) else -1)
        assert picker.pick(u).tolist() == expected
        assert pick_member(h_pos, eligible, u, len(sizes)).tolist() == expected


@settings(max_examples=50, deadline=None)
@given(
    table=st.lists(
        st.lists(st.floats(0.01, 1), min_size=3, max_size=3), min_size=1, max_size=4
    ),
    data=st.data(),
)
def test_a_category_is_the_count_of_running_sums_below_the_uniform(table, data):
    """``_choose``: each uniform's category is how many of its row's running sums
    (added left to right) it exceeds, capped at the last category."""
    probs = np.array(table) / np.array(table).sum(axis=1, keepdims=True)
    n = data.draw(st.integers(0, 30))
    rows = np.array(
        data.draw(st.lists(st.integers(0, len(table) - 1), min_size=n, max_size=n)),
        dtype=np.int64,
    )
    u = np.array(
        data.draw(st.lists(st.floats(0, 1, exclude_max=True), min_size=n, max_size=n))
    )
    expected = []
    for k in range(n):
        running, count = 0.0, 0
        for p in probs[rows[k]]:
            running += p
            count += bool(u[k] > running)
        expected.append(min(count, probs.shape[1] - 1))
    assert _choose(u, probs, rows).tolist() == expected


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_blocks=st.integers(1, 2))
def test_the_carriers_pickers_are_the_sources_pickers_of_their_kind(seed, n_blocks):
    """``make_chunk``'s pickers (the needs' carriers', by kind) equal the pickers a
    chunk makes itself of those kinds of member, for the sources to reuse."""
    from simtools import build_scenario

    from simulator.rng import BLOCK_SIZE
    from simulator.world.agencies.base import PopulationChunk
    from simulator.world.needs import CARRIER_KINDS

    s = build_scenario(n_blocks * BLOCK_SIZE - 300, seed)
    cal, areas, streets = Calibration.from_scenario(s), make_areas(s), area_streets(s)
    blocks = range(n_blocks)
    pickers: dict[str, MemberPicker] = {}
    hh, people = make_chunk(s, cal, areas, streets, blocks, pickers=pickers)
    assert set(pickers) == set(CARRIER_KINDS.values())
    fresh = PopulationChunk(s, hh, people, blocks)
    given_ = PopulationChunk(s, hh, people, blocks, pickers=pickers)
    for who, picker in pickers.items():
        made = fresh.picker(who)
        assert given_.picker(who) is picker
        for a, b in zip(
            (made.count, made.first_rank, made.rows),
            (picker.count, picker.first_rank, picker.rows),
            strict=True,
        ):
            assert a.dtype == b.dtype and np.array_equal(a, b)
