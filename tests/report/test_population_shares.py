"""The population tables' shares and value order (sections.setting, curves)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.report.curves import ordered_values
from audits.report.population import population
from audits.report.sections.setting import _shares
from audits.report.text import count, pct, value_label
from audits.run_tables import HOUSEHOLDS, PEOPLE, FrameTables


class SlicedTables(FrameTables):
    """Frames read ``size`` rows at a time, as a run's files are."""

    def __init__(self, frames, size):
        super().__init__(frames, sources=())
        self.size = size

    def batches(self, table, columns):
        frame = self.frames[table][list(columns)]
        starts = range(0, max(len(frame), 1), self.size)
        return (frame.iloc[i : i + self.size] for i in starts)


def _tables(households, size=None):
    frames = {HOUSEHOLDS: households, PEOPLE: pd.DataFrame({"person_id": [1, 2]})}
    return FrameTables(frames, ()) if size is None else SlicedTables(frames, size)


columns = st.one_of(
    st.lists(st.integers(1, 5), min_size=1, max_size=40).map(pd.Series),
    st.lists(st.booleans(), min_size=1, max_size=40).map(pd.Series),
    st.lists(st.one_of(st.sampled_from(["owner", "social", "private"]), st.none()))
    .filter(lambda v: any(x is not None for x in v))
    .map(
        lambda v: pd.Series(
            pd.Categorical(v, categories=["social", "private", "owner", "unused"])
        )
    ),
    st.lists(st.sampled_from([1.0, 2.5, np.nan]), min_size=1, max_size=40).map(
        pd.Series
    ),
)


def _shares_by_text(column: pd.Series) -> list[list[object]]:
    """The plain reckoning: every value as text, counted."""
    counts = column.astype(str).value_counts(sort=False)
    total = int(counts.sum())
    order = (
        [str(c) for c in column.cat.categories if str(c) in set(column.astype(str))]
        if isinstance(column.dtype, pd.CategoricalDtype)
        else [str(v) for v in sorted(pd.unique(column.dropna()))]
    )
    return [
        ["imd_quintile", v, count(counts.get(v, 0)), pct(counts.get(v, 0) / total)]
        for v in order
    ]


@settings(max_examples=60, deadline=None)
@given(columns)
def test_shares_count_each_value_once_and_in_order(column):
    got = _shares(
        population(_tables(pd.DataFrame({"imd_quintile": column}))), "imd_quintile"
    )
    expected = _shares_by_text(column)
    assert [row[1:] for row in got] == [row[2:] for row in expected]
    assert [row[0] for row in got] == [
        value_label("imd_quintile", row[1]) for row in expected
    ]
    assert [row[1] for row in expected] == ordered_values(column)


households = st.integers(1, 60).flatmap(
    lambda n: st.fixed_dictionaries(
        {
            "imd_decile": st.lists(st.integers(1, 10), min_size=n, max_size=n),
            "tenure": st.lists(
                st.sampled_from(["owner", "social", "private"]), min_size=n, max_size=n
            ),
            "lone_parent": st.lists(st.booleans(), min_size=n, max_size=n),
            "need_health": st.lists(st.booleans(), min_size=n, max_size=n),
            "eligible": st.lists(st.booleans(), min_size=n, max_size=n),
        }
    )
)


@settings(max_examples=60, deadline=None)
@given(households, st.integers(1, 7))
def test_population_sums_the_same_in_slices(columns, size):
    """Summed a slice at a time (a run's files), the population's counts, order and
    shares by quintile are those of the whole table (a run in memory), exactly."""
    frame = pd.DataFrame(columns).astype({"tenure": "category"})
    whole = population(_tables(frame))
    sliced = population(_tables(frame, size))
    assert (whole.households, whole.people) == (sliced.households, sliced.people)
    assert whole.totals == sliced.totals
    assert whole.counts == sliced.counts
    assert whole.order == sliced.order
    pd.testing.assert_frame_equal(
        whole.by_quintile, sliced.by_quintile, check_exact=True
    )
    quintile = (frame["imd_decile"] + 1) // 2
    expected = frame[["need_health", "eligible"]].astype(float).groupby(quintile).mean()
    np.testing.assert_array_equal(whole.by_quintile.to_numpy(), expected.to_numpy())
