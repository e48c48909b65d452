"""The view's ages (``view._ages``, integer calendar arithmetic) are pandas'.

Whole years at the reference date from pandas' ``.dt`` year, month and day, as the
view computed them before: any date (before 1970, leap days, times of day), any
reference date, missing dates, time zones.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.council.view import _ages

DATES = st.datetimes(dt.datetime(1700, 1, 1), dt.datetime(2200, 12, 31))


def _pandas_ages(dob: pd.Series, reference_date: dt.date) -> np.ndarray:
    """The definition: the year's difference, less one before the birthday."""
    d = pd.to_datetime(dob)
    year = d.dt.year.to_numpy(float)
    month, day = d.dt.month.to_numpy(float), d.dt.day.to_numpy(float)
    before = (month > reference_date.month) | (
        (month == reference_date.month) & (day > reference_date.day)
    )
    return reference_date.year - year - before


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.none() | DATES, max_size=30),
    st.dates(dt.date(1800, 1, 1), dt.date(2200, 12, 31)),
    st.sampled_from([None, "UTC", "Europe/London"]),
)
def test_ages_are_pandas_calendar_ages(dobs, reference_date, tz):
    dob = pd.Series(pd.to_datetime(dobs), dtype="datetime64[ns]")
    if tz is not None:
        dob = dob.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    got = _ages(dob, reference_date)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, _pandas_ages(dob, reference_date))
