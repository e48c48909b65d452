"""The record contract of every source and the spine, and error-free records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simtools import NATIONAL_IDS, differs, truth_for

from simulator.frames import council_view
from simulator.vocabulary import is_hidden
from simulator.world.agencies.base import Positions
from simulator.world.agencies.social_care import RULES as SOCIAL_CARE_RULES
from simulator.world.corruption import ERRORS
from simulator.world.generate import AGENCIES
from simulator.world.needs import SCHOOL_AGES
from simulator.world.records import (
    EVENT_COLUMNS,
    HELD_IDENTIFIERS,
    IDENTITY_COLUMNS,
    SPINE_COLUMNS,
    Rows,
    Strings,
)

ERR_COLUMNS = [f"err_{e}" for e in ERRORS]
FOLLOWUP_EVENTS = {r.event_type for r in SOCIAL_CARE_RULES if r.window == "followup"}


def _all_tables(data):
    return {**data.sources, "spine": data.spine}


def test_every_agency_is_generated(default_data):
    assert set(default_data.sources) == set(AGENCIES)
    for source, frame in default_data.sources.items():
        assert len(frame) > 0, source


@pytest.mark.parametrize("source", AGENCIES)
def test_source_columns_follow_the_contract(default_data, source):
    frame = default_data.sources[source]
    cols = list(frame.columns)
    for col in [
        *EVENT_COLUMNS,
        *IDENTITY_COLUMNS,
        "true_person_id",
        "true_household_id",
    ]:
        assert col in cols, f"{source}: missing {col}"
    # One err_ column per error kind, in the order errors are applied.
    assert [c for c in cols if c.startswith("err_")] == ERR_COLUMNS
    assert all(frame[c].dtype == bool for c in ERR_COLUMNS)
    # Nothing beyond the contract, and hidden columns are exactly the true_/err_ ones.
    public = [c for c in cols if not is_hidden(c)]
    assert public == [*EVENT_COLUMNS, *IDENTITY_COLUMNS]
    assert list(council_view(frame).columns) == public


@pytest.mark.parametrize("source", AGENCIES)
def test_source_values_follow_the_contract(default_data, source):
    frame = default_data.sources[source]
    assert frame["record_id"].is_unique
    assert (np.sort(frame["record_id"].to_numpy()) == np.arange(len(frame))).all()
    assert (frame["source"] == source).all()
    assert frame["dob"].dtype == "datetime64[s]"
    assert frame["event_date"].dtype == "datetime64[s]"
    assert frame["event_date"].notna().all()
    for col in IDENTITY_COLUMNS:
        if col != "dob":
            assert pd.api.types.is_string_dtype(frame[col].dtype), col


@pytest.mark.parametrize("source", [*AGENCIES, "spine"])
def test_records_point_at_real_people_of_their_household(default_data, source):
    frame = _all_tables(default_data)[source]
    people = default_data.people.set_index("person_id")
    home = people["household_id"].reindex(frame["true_person_id"])
    assert home.notna().all()
    assert (home.to_numpy() == frame["true_household_id"].to_numpy()).all()


@pytest.mark.parametrize("source", [*AGENCIES, "spine"])
def test_identifiers_a_source_does_not_hold_are_null(default_data, source):
    frame = _all_tables(default_data)[source]
    for col in NATIONAL_IDS:
        if col not in HELD_IDENTIFIERS[source]:
            assert frame[col].isna().all(), f"{source} holds {col}"


def test_spine_follows_the_contract(default_data):
    spine = default_data.spine
    cols = list(spine.columns)
    assert cols[:2] == list(SPINE_COLUMNS)
    assert [c for c in cols if not is_hidden(c)] == [*SPINE_COLUMNS, *IDENTITY_COLUMNS]
    assert [c for c in cols if c.startswith("err_")] == ERR_COLUMNS
    assert {"true_person_id", "true_household_id"} <= set(cols)
    assert spine["spine_person_id"].is_unique
    assert spine["spine_household_id"].notna().all()
    assert spine["spine_household_id"].dtype == np.int64


def test_spine_households_group_people_by_the_address_held(default_data):
    spine = default_data.spine
    key = spine["address"].fillna("") + "|" + spine["postcode"].fillna("")
    per_household = key.groupby(spine["spine_household_id"]).nunique()
    assert (per_household == 1).all()
    per_key = spine.groupby(key)["spine_household_id"].nunique()
    assert (per_key == 1).all()


def test_event_dates_fall_in_their_window(default_data, default_scenario):
    t = default_scenario.time
    ref = pd.Timestamp(t.reference_date)
    obs_start = ref - pd.Timedelta(days=t.observation_days - 1)
    followup_end = ref + pd.Timedelta(days=t.followup_days)
    for source, frame in default_data.sources.items():
        later = frame["event_type"].isin(FOLLOWUP_EVENTS)
        date = frame["event_date"]
        assert date[~later].between(obs_start, ref).all(), source
        assert date[later].between(ref + pd.Timedelta(days=1), followup_end).all()


def test_absence_rates_only_on_the_pupil_census(default_data, default_scenario):
    for source, frame in default_data.sources.items():
        census = frame["event_type"] == "pupil_census"
        if source != "education":
            assert not census.any() and frame["absence_rate"].isna().all()
            continue
        rate = frame.loc[census, "absence_rate"]
        assert rate.between(0, 1).all()
        assert frame.loc[~census, "absence_rate"].isna().all()
        # The pupil carrying the education need is persistently absent.
        threshold = default_scenario.agencies.education.persistent_absence
        carriers = set(
            default_data.households.loc[
                default_data.households["need_education"], "carrier_education"
            ]
        )
        is_carrier = frame.loc[census, "true_person_id"].isin(carriers)
        assert (rate[is_carrier] >= threshold).all()
        assert (rate[~is_carrier] >= threshold).mean() < 0.02


# --------------------------------------------------------------- without errors


@pytest.mark.parametrize("source", [*AGENCIES, "spine"])
def test_without_errors_records_hold_the_truth(clean_data, source):
    frame = _all_tables(clean_data)[source]
    assert len(frame) > 0
    truth = truth_for(frame, clean_data.people, source)
    for col in IDENTITY_COLUMNS:
        bad = differs(frame, truth, col)
        assert not bad.any(), (
            f"{source}.{col}: {bad.sum()} records differ from the truth, e.g.\n"
            f"{frame.loc[bad, [col, 'true_person_id']].head()}"
        )
    flagged = frame[ERR_COLUMNS].any(axis=1)
    assert not flagged.any(), frame.loc[flagged, ERR_COLUMNS].sum()


def test_without_errors_sources_hold_their_identifiers(clean_data):
    for source, frame in _all_tables(clean_data).items():
        for col in HELD_IDENTIFIERS[source]:
            truth = truth_for(frame, clean_data.people, source)[col]
            # Held wherever the person has one (children have no NI number, the
            # youngest no UPN).
            assert (frame[col].notna().to_numpy() == truth.notna().to_numpy()).all()
            assert frame[col].notna().any(), (source, col)


def test_without_errors_spine_households_are_the_true_households(clean_data):
    spine = clean_data.spine
    pairs = spine[["spine_household_id", "true_household_id"]].drop_duplicates()
    # One to one: no merged and no split households when addresses are right.
    assert pairs["spine_household_id"].is_unique
    assert pairs["true_household_id"].is_unique


def test_without_errors_each_person_is_on_the_spine_once(clean_data):
    assert clean_data.spine["true_person_id"].is_unique


@pytest.mark.parametrize(
    ("source", "event_type", "who", "coverage"),
    [
        ("health", "gp_registration", "everyone", "registration_coverage"),
        ("spine", None, "everyone", "coverage"),
        ("education", "pupil_census", "pupils", "census_coverage"),
    ],
)
def test_register_coverage(
    clean_data, clean_scenario, fuzzy, source, event_type, who, coverage
):
    people = clean_data.people
    frame = _all_tables(clean_data)[source]
    if event_type is not None:
        frame = frame[frame["event_type"] == event_type]
    if who == "pupils":
        people = people[
            (people["role"] == "child") & people["age"].between(*SCHOOL_AGES)
        ]
    on = people["person_id"].isin(frame["true_person_id"])
    assert frame["true_person_id"].isin(people["person_id"]).all()
    assert frame["true_person_id"].is_unique
    target = getattr(clean_scenario.agencies.source(source), coverage)
    fuzzy.assert_proportion(on.sum(), len(on), target, f"{source} coverage")


@settings(max_examples=50, deadline=None)
@given(
    ids=st.sets(st.integers(-(2**40), 2**40), min_size=1, max_size=60)
    | st.sets(st.integers(0, 300), min_size=1, max_size=60),
    data=st.data(),
)
def test_positions_are_those_a_sorted_search_finds(ids, data):
    """Wide id ranges fall back to the search; short ones use the table."""
    ids = np.array(sorted(ids), dtype=np.int64)
    keys = np.array(data.draw(st.lists(st.sampled_from(list(ids)), max_size=80)))
    keys = keys.astype(np.int64)
    found = Positions(ids)(keys)
    np.testing.assert_array_equal(found, np.searchsorted(ids, keys))


@settings(max_examples=80, deadline=None)
@given(
    pool=st.lists(st.text(max_size=5), min_size=1, max_size=8),
    extra=st.lists(st.text(max_size=5), max_size=4),
    picks=st.lists(st.integers(-1, 11), max_size=30),
)
def test_a_coded_column_kept_as_a_dictionary_decodes_to_its_strings(pool, extra, picks):
    """``Strings.to_dictionary`` (the spill's coded columns) holds exactly the values
    and missing rows ``to_arrow`` decodes, pools with repeated values and appended
    values included."""
    size = len(pool) + len(extra)
    codes = np.array([p if p < size else p % size for p in picks], dtype=np.int64)
    column = Strings(
        codes, pa.array(pool, pa.large_string()), np.array(extra, dtype=object)
    )
    coded = column.to_dictionary()
    assert coded.type == pa.dictionary(pa.int32(), pa.large_string())
    assert coded.dictionary_decode().equals(column.to_arrow())
    rows = Rows({"first_name": column, "n": np.arange(len(codes))})
    arrays = rows.to_arrays(coded=("first_name",))
    assert arrays["first_name"].dictionary_decode().equals(column.to_arrow())
    assert rows.to_arrays()["first_name"].equals(column.to_arrow())


@settings(max_examples=80, deadline=None)
@given(
    picks=st.lists(st.integers(-1, 3), max_size=40),
    data=st.data(),
)
def test_rows_repeated_are_the_rows_taken_so(picks, data):
    """``Rows.repeat`` (the duplicate error's copies) equals ``Rows.take`` of each
    row index repeated as often: every column, coded strings and missing rows too."""
    codes = np.array(picks, dtype=np.int64)
    times = np.array(
        data.draw(
            st.lists(st.integers(0, 3), min_size=len(codes), max_size=len(codes))
        ),
        dtype=np.int64,
    )
    column = Strings(codes, pa.array(["a", "b", "c", "d"], pa.large_string()))
    rows = Rows({"first_name": column, "n": np.arange(len(codes)) * 1.5})
    repeated = rows.repeat(times)
    taken = rows.take(np.repeat(np.arange(len(codes)), times))
    np.testing.assert_array_equal(
        repeated["first_name"].codes, taken["first_name"].codes
    )
    np.testing.assert_array_equal(repeated["n"], taken["n"])
    assert repeated["first_name"].to_arrow().equals(taken["first_name"].to_arrow())
