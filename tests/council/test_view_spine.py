"""The spine summed per household from a file (:mod:`simulator.council.view_spine`).

:class:`~simulator.council.view_spine.SpineCounts` must give what the view in
memory finds of the same spine (``_composition`` and ``_area`` of
:mod:`simulator.council.view`) whatever the spine: households numbered with gaps
and in any order, a person's id repeated (ties: file order), dates of birth
missing, on the 29th of February or with a time of day, postcodes missing, in
other cases and spacings, of sectors the lookup does not know, read as a
dictionary or not, any batch size; and refuse a malformed lookup with the same
message. Ages at the reference date are those of the calendar, whole years.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.council import view, view_partitions
from simulator.council.view_spine import SpineCounts
from simulator.errors import InputDataError
from simulator.schema.view import ViewConfig
from simulator.vocabulary import INDEX

POSTCODES = ["QA1 2AB", "qa12ab", " QA1  2ZZ", "QB7 1CD", "QC9 9XY", "Q1", "", None]
LOOKUP = pd.DataFrame({"postcode_sector": ["QA1 2", "QB7 1"], "imd_decile": [3, 8]})
DAY_MS = 86_400_000
REFERENCES = [dt.date(2024, 3, 31), dt.date(2024, 2, 29), dt.date(2023, 2, 28)]


def _birth_dates(draw: st.DrawFn, k: int, reference: dt.date) -> list[int | None]:
    """Milliseconds since 1970: near birthdays that make an age, or anywhere."""
    ref = (reference - dt.date(1970, 1, 1)).days
    near = st.builds(
        lambda years, days, ms: (ref - round(years * 365.25) + days) * DAY_MS + ms,
        st.integers(0, 30),
        st.integers(-2, 2),
        st.integers(0, DAY_MS - 1),
    )
    anywhere = st.integers(-80_000 * DAY_MS, 30_000 * DAY_MS)
    return draw(st.lists(st.one_of(st.none(), near, anywhere), min_size=k, max_size=k))


@st.composite
def spines(draw: st.DrawFn) -> tuple[pa.Table, dt.date]:
    """A spine's view columns (rows in any order) and a reference date."""
    reference = draw(st.sampled_from(REFERENCES))
    k = draw(st.integers(0, 30))
    gaps = draw(st.sampled_from([1, 3]))
    households = [
        h * gaps for h in draw(st.lists(st.integers(0, 6), min_size=k, max_size=k))
    ]
    person = st.one_of(st.integers(0, 8), st.just(np.iinfo(np.int64).max))
    persons = draw(st.lists(person, min_size=k, max_size=k))  # repeats, the top id
    table = pa.table(
        {
            "spine_person_id": pa.array(persons, pa.int64()),
            INDEX: pa.array(households, pa.int64()),
            "dob": pa.array(_birth_dates(draw, k, reference), pa.timestamp("ms")),
            "postcode": pa.array(
                draw(st.lists(st.sampled_from(POSTCODES), min_size=k, max_size=k)),
                pa.large_string(),
            ),
        }
    )
    return table, reference


def _in_memory(table, households, reference, deprivation, config):
    spine = table.to_pandas()
    features = view._composition(spine, households, reference, config)
    return features | view._area(spine, households, deprivation)


def _from_file(path, households, reference, deprivation, config):
    counts = SpineCounts(households.to_numpy(), reference, deprivation, config)
    for batch in view_partitions.spine_batches(path, view.SPINE_COLUMNS, ("postcode",)):
        person, household, dob, postcode = batch.columns
        counts.add(household.to_numpy(), person.to_numpy(), dob, postcode)
    return counts


CONFIGS = st.builds(
    lambda adult, lo, span: ViewConfig(adult_age=adult, school_ages=(lo, lo + span)),
    st.integers(16, 21),
    st.integers(0, 20),
    st.integers(0, 5),
)


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(),
    batch=st.sampled_from([1, 2, 7, 1 << 20]),
    dictionary=st.booleans(),
    lookup=st.sampled_from(["lookup", None, "bad"]),
    config=CONFIGS,
)
def test_the_spine_from_a_file_is_the_views(
    tmp_path_factory, data, batch, dictionary, lookup, config
):
    table, reference = data.draw(spines())
    path = tmp_path_factory.mktemp("spine") / "spine.parquet"
    pq.write_table(table, path, use_dictionary=dictionary)
    deprivation = {
        "lookup": LOOKUP,
        None: None,
        "bad": LOOKUP.assign(imd_decile=[3, 11]),
    }[lookup]
    households = pd.Index(
        view.sorted_unique(table.column(INDEX).to_numpy()), name=INDEX
    )
    args = (households, reference, deprivation, config)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(view_partitions, "BATCH_ROWS", batch)
        try:
            expected = _in_memory(table, *args)
        except InputDataError as e:
            with pytest.raises(InputDataError) as got:
                _from_file(path, *args)
            assert str(got.value) == str(e)
            return
        counts = _from_file(path, *args)
    n = len(households)
    cut = data.draw(st.integers(0, n))
    parts = [counts.rows(0, cut), counts.rows(cut, n)]
    assert list(parts[0]) == list(expected)
    for column, values in expected.items():
        got = np.concatenate([p[column] for p in parts])
        np.testing.assert_array_equal(got, values, strict=True, err_msg=column)


def _calendar_ages(dob: pd.Series, reference: dt.date) -> np.ndarray:
    """Whole years at the reference date by each date's fields (NaN: missing)."""
    d = pd.to_datetime(dob)
    year, month, day = (
        getattr(d.dt, f).to_numpy(float) for f in ("year", "month", "day")
    )
    before = (month > reference.month) | (
        (month == reference.month) & (day > reference.day)
    )
    return reference.year - year - before


@settings(max_examples=200, deadline=None)
@given(data=st.data(), reference=st.sampled_from(REFERENCES), config=CONFIGS)
def test_age_groups_are_those_of_the_calendar(data, reference, config):
    dates = _birth_dates(data.draw, data.draw(st.integers(0, 40)), reference)
    dob = pd.Series(pd.array(dates, "Int64")).astype("datetime64[ms]")
    age = _calendar_ages(dob, reference)
    adult, child, school = view.age_groups(view.birth_dates(dob), reference, config)
    lo, hi = config.school_ages
    known = ~np.isnan(age)
    np.testing.assert_array_equal(adult, known & (age >= config.adult_age))
    np.testing.assert_array_equal(child, known & (age < config.adult_age))
    np.testing.assert_array_equal(school, known & (age >= lo) & (age <= hi))


@pytest.mark.parametrize(
    ("reference", "born", "adult"),
    [
        (dt.date(2024, 2, 29), dt.date(2006, 2, 28), True),
        (dt.date(2024, 2, 29), dt.date(2006, 3, 1), False),
        (dt.date(2023, 2, 28), dt.date(2005, 2, 28), True),
        (dt.date(2023, 2, 28), dt.date(2004, 2, 29), True),
        (dt.date(2023, 2, 28), dt.date(2005, 3, 1), False),
        (dt.date(2024, 3, 31), dt.date(2006, 3, 31), True),
        (dt.date(2024, 3, 31), dt.date(2006, 4, 1), False),
    ],
)
def test_an_adult_from_the_18th_birthday(reference, born, adult):
    """The 29th of February's birthday is the 1st of March in other years."""
    dob = pd.Series([pd.Timestamp(born) + pd.Timedelta(hours=23)])
    groups = view.age_groups(view.birth_dates(dob), reference, ViewConfig())
    assert groups[0].tolist() == [adult]
    assert groups[1].tolist() == [not adult]
