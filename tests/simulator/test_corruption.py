"""Errors: every changed cell is logged, flags mark real changes, rates as configured.

The field -> error map (``FIELD_ERRORS``) is written from docs/methodology.md section 2,
not read from simulator/world/corruption/.
"""

from __future__ import annotations

import string

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simtools import (
    FIELD_ERRORS,
    NATIONAL_IDS,
    build_scenario,
    differs,
    only_sources,
    truth_for,
)

from simulator.schema.agencies import ErrorRates
from simulator.vocabulary import SOURCES
from simulator.world.agencies import MODULES
from simulator.world.agencies.base import PopulationChunk
from simulator.world.corruption import CARRIED, ERRORS, corrupt
from simulator.world.corruption.source_rows import SourceRows
from simulator.world.generate import generate
from simulator.world.population import Calibration, area_streets, make_areas, make_chunk
from simulator.world.records import HELD_IDENTIFIERS, IDENTITY_COLUMNS, Strings

ERR_COLUMNS = [f"err_{e}" for e in ERRORS]
CHANGES: dict[str, frozenset[str]] = {
    e: frozenset(f for f, errs in FIELD_ERRORS.items() if e in errs) for e in ERRORS
}
"""Error -> the identity fields it may change (duplicate changes none)."""
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_every_error_kind_has_a_field_or_is_duplicate():
    assert set(ERRORS) == set(ErrorRates.model_fields)
    for error in ERRORS:
        assert CHANGES[error] or error == "duplicate", error


def _holds(error: str, source: str) -> bool:
    """Whether a source holds the identifier an identifier error is about."""
    ids = {"nhs": "nhs_number", "upn": "upn", "ni": "ni_number"}
    prefix = error.split("_")[0]
    return prefix not in ids or ids[prefix] in HELD_IDENTIFIERS[source]


def _changed(frame: pd.DataFrame, people: pd.DataFrame, source: str) -> pd.DataFrame:
    """One boolean column per identity field: where the record is not the truth."""
    truth = truth_for(frame, people, source)
    return pd.DataFrame({c: differs(frame, truth, c) for c in IDENTITY_COLUMNS})


def _unexplained(frame: pd.DataFrame, changed: pd.DataFrame) -> dict[str, int]:
    """Changed cells with no flag on their row from an error that can change them."""
    out = {}
    for col in IDENTITY_COLUMNS:
        explained = frame[[f"err_{e}" for e in FIELD_ERRORS[col]]].any(axis=1)
        bad = changed[col].to_numpy() & ~explained.to_numpy()
        if bad.any():
            out[col] = int(bad.sum())
    return out


# ---------------------------------------------------------- corrupt() on a chunk


@pytest.fixture(scope="module")
def small_world(seed):
    scenario = build_scenario(600, seed)
    cal = Calibration.from_scenario(scenario)
    hh, people = make_chunk(
        scenario, cal, make_areas(scenario), area_streets(scenario), range(0, 1)
    )
    chunk = PopulationChunk(scenario, hh, people, range(0, 1))
    records = {
        s: MODULES[s].records(chunk, scenario.agencies.source(s)) for s in SOURCES
    }
    return chunk, records


def _corrupt(small_world, source, rates, corruption_seed, multipliers=()):
    chunk, records = small_world
    reseeded = PopulationChunk(
        chunk.scenario.model_copy(update={"seed": corruption_seed}),
        chunk.households,
        chunk.people,
        chunk.blocks,
    )
    before = records[source].to_frame()
    out = corrupt(records[source], reseeded, source, rates, multipliers).to_frame()
    pd.testing.assert_frame_equal(records[source].to_frame(), before)  # untouched
    return before, out


@SETTINGS
@given(
    source=st.sampled_from(SOURCES),
    error=st.sampled_from([e for e in ERRORS if e != "duplicate"]),
    rate=st.floats(0.05, 1.0),
    corruption_seed=st.integers(0, 2**32 - 1),
)
def test_one_error_changes_exactly_the_rows_it_flags(
    small_world, source, error, rate, corruption_seed
):
    rates = ErrorRates.zero().model_copy(update={error: rate})
    original, out = _corrupt(small_world, source, rates, corruption_seed)
    assert len(out) == len(original)
    assert (out["true_person_id"].to_numpy() == original["true_person_id"]).all()
    others = [c for c in ERR_COLUMNS if c != f"err_{error}"]
    assert not out[others].to_numpy().any()

    changed = _changed(out, small_world[0].people, source)
    flag = out[f"err_{error}"].to_numpy()
    if not _holds(error, source):
        assert not flag.any() and not changed.to_numpy().any()
        return
    row_changed = changed.any(axis=1).to_numpy()
    assert (row_changed == flag).all(), (
        f"{error} in {source}: {(flag & ~row_changed).sum()} flagged rows unchanged, "
        f"{(row_changed & ~flag).sum()} changed rows not flagged"
    )
    untouched = [c for c in IDENTITY_COLUMNS if c not in CHANGES[error]]
    assert not changed[untouched].to_numpy().any(), changed[untouched].sum()


@SETTINGS
@given(
    source=st.sampled_from(SOURCES),
    rate=st.floats(0.05, 1.0),
    corruption_seed=st.integers(0, 2**32 - 1),
)
def test_a_duplicate_is_an_identical_copy(small_world, source, rate, corruption_seed):
    rates = ErrorRates.zero().model_copy(update={"duplicate": rate})
    original, out = _corrupt(small_world, source, rates, corruption_seed)
    copy = out["err_duplicate"].to_numpy()
    assert len(out) == len(original) + copy.sum()
    assert len(copy) == 0 or not copy[0]
    content = [c for c in original.columns if not c.startswith("err_")]
    copies = out.loc[copy, content].reset_index(drop=True)
    sources = out.loc[np.flatnonzero(copy) - 1, content].reset_index(drop=True)
    pd.testing.assert_frame_equal(copies, sources)
    # Without the copies, the records are the originals.
    kept = out.loc[~copy, content].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, original[content].reset_index(drop=True))


@SETTINGS
@given(
    source=st.sampled_from(SOURCES),
    rates=st.fixed_dictionaries({e: st.floats(0.0, 0.6) for e in ERRORS}),
    corruption_seed=st.integers(0, 2**32 - 1),
)
def test_every_changed_cell_is_logged(small_world, source, rates, corruption_seed):
    _, out = _corrupt(small_world, source, ErrorRates(**rates), corruption_seed)
    changed = _changed(out, small_world[0].people, source)
    assert _unexplained(out, changed) == {}
    for col in NATIONAL_IDS:
        if col not in HELD_IDENTIFIERS[source]:
            assert out[col].isna().all()


@SETTINGS
@given(
    n_old=st.integers(1, 5),
    n_new=st.integers(0, 700),
    n_rows=st.integers(1, 800),
    step=st.integers(1, 3),
    data=st.data(),
)
def test_coded_strings_set_any_number_of_new_values(n_old, n_new, n_rows, step, data):
    old = [f"old{i}" for i in range(n_old)]
    base = pa.array(old + [None] * data.draw(st.integers(0, 2)))
    codes = np.array([i % len(base) for i in range(n_rows)])
    codes[base.is_null().to_numpy(zero_copy_only=False)[codes]] = -1
    column = Strings(codes.copy(), base)
    expected = np.array([old[c] if c >= 0 else None for c in codes], dtype=object)
    rows = np.arange(0, n_rows, step)
    pool = old + [f"new{i}" for i in range(n_new)]
    new = np.array([pool[i % len(pool)] for i in range(len(rows))], dtype=str)
    copy = column.copy()
    column.set(rows, new)
    expected[rows] = new
    assert column.to_arrow().to_pylist() == list(expected)
    column.to_arrow().validate(full=True)
    assert list(column.values(np.arange(n_rows))) == [e or "" for e in expected]
    assert column.to_arrow().type == pa.large_string()
    # The copy kept the old codes; blanking sets missing values.
    assert copy.to_arrow().to_pylist() == [old[c] if c >= 0 else None for c in codes]
    copy.set(rows, None)
    assert not copy.present()[rows].any()
    assert copy.to_arrow().null_count == n_rows - copy.present().sum()
    # Taking rows keeps their values, in the new order.
    idx = np.arange(n_rows)[::-1]
    assert column.take(idx).to_arrow().to_pylist() == list(expected[idx])


# ------------------------------------------------- the full pipeline, default rates


@pytest.fixture(scope="module")
def default_tables(default_data):
    return {**default_data.sources, "spine": default_data.spine}


@pytest.mark.parametrize("source", SOURCES)
def test_default_data_every_changed_cell_is_logged(
    default_data, default_tables, source
):
    frame = default_tables[source]
    changed = _changed(frame, default_data.people, source)
    assert changed.to_numpy().any(), f"{source}: no errors at default rates"
    assert _unexplained(frame, changed) == {}


@pytest.mark.parametrize("source", SOURCES)
def test_default_data_a_lone_flag_marks_a_change(default_data, default_tables, source):
    frame = default_tables[source]
    changed = _changed(frame, default_data.people, source)
    flags = frame[ERR_COLUMNS].drop(columns="err_duplicate")
    alone = flags.sum(axis=1) == 1
    for error in ERRORS:
        if error == "duplicate":
            continue
        rows = (alone & frame[f"err_{error}"]).to_numpy()
        fields = sorted(CHANGES[error])
        hit = changed.loc[rows, fields].any(axis=1)
        assert hit.all(), f"{source}: {(~hit).sum()} rows flagged {error} unchanged"


@pytest.mark.parametrize("source", SOURCES)
def test_default_data_duplicates_follow_their_original(default_tables, source):
    frame = default_tables[source].reset_index(drop=True)
    copy = frame["err_duplicate"].to_numpy()
    if not copy.any():
        pytest.skip(f"no duplicates in {source} at this seed")
    assert not copy[0]
    prev = np.flatnonzero(copy) - 1
    assert not copy[prev].any()
    keys = ["true_person_id", "true_household_id"]
    if source != "spine":
        keys += ["event_type", "event_date"]
    left = frame.loc[copy, keys].reset_index(drop=True)
    right = frame.loc[prev, keys].reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right)


@pytest.mark.parametrize("source", SOURCES)
def test_default_data_stale_addresses_are_household_level_and_movers_only(
    default_data, default_tables, source
):
    frame = default_tables[source]
    hh = default_data.households.set_index("household_id")
    moved = hh["moved_recently"].reindex(frame["true_household_id"]).to_numpy()
    stale = frame["err_stale_address"].to_numpy()
    assert not (stale & ~moved).any()
    per_household = frame.groupby("true_household_id")["err_stale_address"].nunique()
    assert (per_household == 1).all()
    prev = hh["prev_address"].reindex(frame["true_household_id"]).to_numpy()
    assert (frame["address"].to_numpy()[stale] == prev[stale]).all()


# -------------------------------------------------------- observed error rates

RATE_ERRORS = {
    "name_typo": 0.2,
    "first_name_missing": 0.08,
    "dob_missing": 0.1,
    "sex_wrong": 0.05,
    "postcode_missing": 0.15,
    "stale_address": 0.5,
    "nhs_missing": 0.1,
    "upn_missing": 0.5,
    "ni_wrong": 0.3,
}
MULTIPLIERS = [
    {"column": "ethnicity", "value": "asian", "factor": 2.0, "errors": ["name_typo"]},
    {
        "column": "imd_quintile",
        "value": 1,
        "factor": 3.0,
        "errors": ["dob_missing"],
        "sources": ["health"],
    },
    {"column": "lone_parent", "value": True, "factor": 20.0, "errors": ["dob_missing"]},
    {
        "column": "tenure",
        "value": "social_rent",
        "factor": 2.0,
        "errors": ["postcode_missing"],
    },
    {
        "column": "ethnicity",
        "value": "black",
        "factor": 5.0,
        "errors": ["sex_wrong"],
        "sources": ["police"],
    },
]


@pytest.fixture(scope="module")
def rates_data(seed):
    errors = dict.fromkeys(ERRORS, 0.0) | RATE_ERRORS
    scenario = build_scenario(
        10_000,
        seed,
        agencies=only_sources("health")
        | {"health": {"enabled": True, "errors": errors}},
        error_multipliers=MULTIPLIERS,
    )
    data = generate(scenario)
    frame = data.sources["health"]
    hh = data.households.set_index("household_id").reindex(frame["true_household_id"])
    return frame, hh.reset_index(drop=True), data


def _typo_change_probability(name: str) -> float:
    """P(one random typing slip changes ``name``): deletions and insertions always do,
    a substitution needs a keyed character, a transposition two different
    neighbours (at a uniform position)."""
    if not name:
        return 0.0
    keyed = any(c in string.ascii_letters + string.digits for c in name)
    swaps = sum(a != b for a, b in zip(name, name[1:], strict=False))
    return 0.25 * keyed + 0.5 + 0.25 * swaps / len(name)


@pytest.mark.parametrize(
    ("error", "group", "factor"),
    [
        ("first_name_missing", None, 1.0),
        ("sex_wrong", None, 1.0),
        ("sex_wrong", ("ethnicity", "black"), 1.0),  # multiplier is for police only
        ("nhs_missing", None, 1.0),
        ("postcode_missing", ("tenure", "social_rent"), 2.0),
        ("postcode_missing", ("tenure", "owner"), 1.0),
        ("dob_missing", ("imd_quintile", 5), 1.0),
    ],
)
def test_observed_rate_matches_configured(rates_data, fuzzy, error, group, factor):
    frame, hh, _ = rates_data
    rows = np.ones(len(frame), bool)
    if group is not None:
        rows = (hh[group[0]] == group[1]).to_numpy()
    if error == "dob_missing":
        rows = rows & ~hh["lone_parent"].to_numpy()
    flags = frame.loc[rows, f"err_{error}"]
    target = min(RATE_ERRORS[error] * factor, 1.0)
    fuzzy.assert_proportion(flags.sum(), len(flags), target, f"{error} in {group}")


def test_multipliers_combine_and_cap_at_one(rates_data, fuzzy):
    frame, hh, _ = rates_data
    lone = hh["lone_parent"].to_numpy()
    q1 = (hh["imd_quintile"] == 1).to_numpy()
    flags = frame["err_dob_missing"].to_numpy()
    assert flags[lone].all()  # 0.1 x 20 is capped at 1
    fuzzy.assert_proportion(
        flags[q1 & ~lone].sum(), (q1 & ~lone).sum(), 0.3, "dob_missing, quintile 1"
    )


def test_name_typo_rate_by_group(rates_data, fuzzy):
    frame, hh, data = rates_data
    people = data.people.set_index("person_id").reindex(frame["true_person_id"])
    q = 0.5 * np.array([_typo_change_probability(n) for n in people["first_name"]])
    q += 0.5 * np.array([_typo_change_probability(n) for n in people["last_name"]])
    asian = (hh["ethnicity"] == "asian").to_numpy()
    flags = frame["err_name_typo"].to_numpy()
    for rows, rate, what in ((asian, 0.4, "asian"), (~asian, 0.2, "others")):
        p = rate * q[rows]
        fuzzy.assert_expected_count(
            flags[rows].sum(), p.sum(), (p * (1 - p)).sum(), f"name_typo, {what}"
        )


def test_stale_address_rate_among_movers(rates_data, fuzzy):
    frame, hh, _ = rates_data
    per_household = frame.groupby("true_household_id")["err_stale_address"].first()
    moved = hh.groupby(frame["true_household_id"].to_numpy())["moved_recently"].first()
    assert not per_household[~moved].any()
    fuzzy.assert_proportion(
        per_household[moved].sum(), moved.sum(), 0.5, "stale_address among movers"
    )


def test_identifier_errors_need_the_identifier(rates_data):
    frame, _, _ = rates_data
    # Health holds NHS numbers, not UPNs or NI numbers.
    assert not frame["err_upn_missing"].any()
    assert not frame["err_ni_wrong"].any()
    assert frame["err_nhs_missing"].any()


def test_errors_left_at_zero_never_fire(rates_data):
    frame, _, _ = rates_data
    zero = [f"err_{e}" for e in ERRORS if e not in RATE_ERRORS]
    assert not frame[zero].to_numpy().any()


@SETTINGS
@given(
    source=st.sampled_from(SOURCES),
    rate=st.floats(0.0, 1.0),
    corruption_seed=st.integers(0, 2**32 - 1),
)
def test_carried_identity_is_another_member_exactly_on_wrong_person_rows(
    small_world, source, rate, corruption_seed
):
    rates = ErrorRates.zero().model_copy(update={"wrong_person": rate})
    _, out = _corrupt(small_world, source, rates, corruption_seed)
    carried = out[CARRIED].to_numpy()
    subject = out["true_person_id"].to_numpy()
    assert np.array_equal(carried != subject, out["err_wrong_person"].to_numpy())
    household = small_world[0].people.set_index("person_id")["household_id"]
    assert np.array_equal(
        household.reindex(carried).to_numpy(), out["true_household_id"].to_numpy()
    )


@SETTINGS
@given(
    source=st.sampled_from(SOURCES),
    hits=st.lists(st.booleans(), min_size=1, max_size=200),
)
def test_repeated_rows_keep_their_positions_and_block_counts(small_world, source, hits):
    """``SourceRows.repeat`` (the duplicate error) keeps each row's household and
    person positions and the rows per block as found afresh for the rows it leaves."""
    chunk, records = small_world
    rows = records[source]
    r = SourceRows(rows, chunk, source, ("corruption", source))
    hit = np.resize(np.array(hits), len(r.rows))
    r.repeat(1 + hit.astype(np.int64))
    hid = r.rows["true_household_id"]
    np.testing.assert_array_equal(r.h_pos, chunk.household_positions(hid))
    np.testing.assert_array_equal(
        r.p_pos, chunk.person_positions(r.rows["true_person_id"])
    )
    np.testing.assert_array_equal(r.counts, chunk.counts(hid))
    assert len(r.rows) == len(rows) + int(hit.sum())


@SETTINGS
@given(source=st.sampled_from(SOURCES), data=st.data())
def test_hit_rows_are_the_hit_rows_holding_every_column(small_world, source, data):
    """``SourceRows.hit_rows``, read at the hit rows only, is the rows of ``hit``
    where each column holds a value (some made missing first)."""
    chunk, records = small_world
    r = SourceRows(records[source], chunk, source, ("corruption", source))
    n = len(r.rows)
    flags = st.lists(st.booleans(), min_size=1, max_size=200)
    hit = np.resize(np.array(data.draw(flags)), n)
    gone = np.resize(np.array(data.draw(flags)), n)
    columns = data.draw(
        st.lists(
            st.sampled_from(["first_name", "last_name", "dob"]), min_size=1, unique=True
        )
    )
    for column in columns:
        if column == "dob":
            dob = r.rows["dob"].copy()
            dob[gone] = np.datetime64("NaT")
            r.rows["dob"] = dob
        else:
            r.set_strings(column, np.flatnonzero(gone), None)
    held = np.ones(n, bool)
    for column in columns:
        col = r.rows[column]
        held &= col.present() if isinstance(col, Strings) else ~np.isnat(col)
    expected = np.flatnonzero(hit & held)
    np.testing.assert_array_equal(r.hit_rows(hit, *columns), expected)


@SETTINGS
@given(
    sources=st.lists(st.sampled_from(SOURCES), min_size=2, max_size=4),
    base=st.sampled_from([0.01, 0.02, 0.5, 0.9]),
    factors=st.lists(st.sampled_from([0.5, 1.5, 2.5, 4.0]), min_size=1, max_size=3),
)
def test_rates_shared_in_a_chunk_are_each_errors_own(
    small_world, sources, base, factors
):
    """Each row's rate, its households' worked out once a chunk for all sources
    and errors with one base and multipliers: base times the factors of the
    groups the household is in, in order, capped at 1; another base its own."""
    from simulator.schema.agencies import ErrorMultiplier

    chunk, records = small_world
    chunk = PopulationChunk(
        chunk.scenario, chunk.households, chunk.people, chunk.blocks
    )
    values = ["asian", "white", "black"]
    multipliers = tuple(
        ErrorMultiplier(column="ethnicity", value=values[i % 3], factor=f)
        for i, f in enumerate(factors)
    )
    for k, source in enumerate(sources):
        r = SourceRows(records[source], chunk, source, ("corruption", source))
        b = base if k % 2 == 0 else base / 2
        expected = np.full(len(chunk.households), b)
        for m in multipliers:
            group = (chunk.households[m.column] == m.value).to_numpy()
            expected = np.where(group, expected * m.factor, expected)
        expected = np.minimum(expected, 1.0)[r.h_pos]
        np.testing.assert_array_equal(r.rates("name_typo", b, multipliers), expected)


@SETTINGS
@given(source=st.sampled_from(SOURCES), data=st.data())
def test_another_member_at_some_rows_is_that_of_the_definition(
    small_world, source, data
):
    """``SourceRows.other_member`` worked out at some rows only: for each, the
    member ``1 + floor(u * (size - 1))`` places after the row's person, round
    the household (in people's order): never the row's person if there is another."""
    chunk, records = small_world
    r = SourceRows(records[source], chunk, source, ("corruption", source))
    mask = np.array(
        data.draw(st.lists(st.booleans(), min_size=len(r.rows), max_size=len(r.rows)))
    )
    rows = np.flatnonzero(mask)
    u = np.array(
        data.draw(
            st.lists(
                st.floats(0, 1, exclude_max=True),
                min_size=len(rows),
                max_size=len(rows),
            )
        )
    )
    got = r.other_member(u, rows)
    hid = chunk.people["household_id"].to_numpy()
    for k, row in enumerate(rows):
        members = np.flatnonzero(hid == r.rows["true_household_id"][row])
        own = int(np.flatnonzero(members == r.p_pos[row])[0])
        step = 1 + int(np.floor(u[k] * max(len(members) - 1, 1)))
        assert got[k] == members[(own + step) % len(members)]
