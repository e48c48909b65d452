"""The population tables' shares and value order (sections.setting, curves)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.report.curves import ordered_values
from audits.report.sections.setting import _shares
from audits.report.text import count, pct, value_label

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
    got = _shares(pd.DataFrame({"imd_quintile": column}), "imd_quintile")
    expected = _shares_by_text(column)
    assert [row[1:] for row in got] == [row[2:] for row in expected]
    assert [row[0] for row in got] == [
        value_label("imd_quintile", row[1]) for row in expected
    ]
    assert [row[1] for row in expected] == ordered_values(column)
