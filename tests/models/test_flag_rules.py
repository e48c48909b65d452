"""Flag rules, ranks, drivers and the flags table: properties over any scores."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.council.models import (
    FlagRule,
    apply_flag_rule,
    drivers,
    flag_table,
    n_flagged,
    ranking,
)
from simulator.errors import InputDataError


@st.composite
def scored(draw, max_size: int = 60) -> pd.Series:
    """Scores with many ties (small integers or floats) and shuffled unique ids."""
    n = draw(st.integers(0, max_size))
    values = draw(
        st.lists(
            st.one_of(
                st.integers(-3, 3).map(float),
                st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
            ),
            min_size=n,
            max_size=n,
        )
    )
    ids = draw(st.permutations(list(range(0, 3 * n, 3))))
    return pd.Series(
        values, index=pd.Index(ids, dtype=np.int64, name="spine_household_id")
    )


def above(scores: pd.Series, flags: pd.Series) -> bool:
    """Every flagged household outranks every unflagged one (score, then lower id)."""
    key = list(zip(-scores.to_numpy(), scores.index.to_numpy(), strict=True))
    flagged = [k for k, f in zip(key, flags, strict=True) if f]
    rest = [k for k, f in zip(key, flags, strict=True) if not f]
    return not flagged or not rest or max(flagged) < min(rest)


@given(scores=scored(), budget=st.integers(0, 100))
def test_budget_flags_exactly_min_budget_n_of_the_highest(scores, budget):
    flags = apply_flag_rule(scores, FlagRule(budget=budget))
    assert flags.index.equals(scores.index) and flags.dtype == bool
    assert flags.sum() == min(budget, len(scores))
    assert above(scores, flags)


@given(scores=scored(), percent=st.floats(0.01, 100.0))
def test_top_percent_flags_the_floor_of_the_share(scores, percent):
    flags = apply_flag_rule(scores, FlagRule(top_percent=percent))
    expected = math.floor(Fraction(repr(percent)) * len(scores) / 100)
    assert flags.sum() == expected <= len(scores) * percent / 100 + 1e-9
    assert above(scores, flags)


@pytest.mark.parametrize(
    ("percent", "n", "k"), [(29, 100, 29), (10, 9, 0), (10, 10, 1), (100, 7, 7)]
)
def test_top_percent_examples(percent, n, k):
    assert n_flagged(FlagRule(top_percent=percent), n) == k


@given(scores=scored(), low=st.floats(-1e6, 1e6), step=st.floats(0, 1e6))
def test_threshold_flags_scores_at_or_above_and_is_monotone(scores, low, step):
    lenient = apply_flag_rule(scores, FlagRule(threshold=low))
    strict = apply_flag_rule(scores, FlagRule(threshold=low + step))
    np.testing.assert_array_equal(lenient.to_numpy(), scores.to_numpy() >= low)
    assert not (strict & ~lenient).any()


@given(
    scores=scored(),
    rule=st.one_of(
        st.builds(FlagRule, budget=st.integers(0, 80)),
        st.builds(FlagRule, top_percent=st.floats(0.5, 100)),
        st.builds(FlagRule, threshold=st.integers(-3, 3).map(float)),
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_flags_depend_only_on_scores_and_ids(scores, rule, seed):
    order = np.random.default_rng(seed).permutation(len(scores))
    shuffled = scores.iloc[order]
    a = apply_flag_rule(scores, rule)
    b = apply_flag_rule(shuffled, rule)
    pd.testing.assert_series_equal(a, b.reindex(a.index))


@given(scores=scored(), budget=st.integers(0, 80))
def test_ranks_are_a_permutation_consistent_with_the_flags(scores, budget):
    flags = apply_flag_rule(scores, FlagRule(budget=budget))
    table = flag_table(scores, flags)
    assert sorted(table["rank"]) == list(range(1, len(scores) + 1))
    np.testing.assert_array_equal(
        table["flagged"].to_numpy(), (table["rank"] <= budget).to_numpy()
    )
    assert table["spine_household_id"].is_monotonic_increasing
    order = ranking(scores)
    assert list(scores.index[order]) == list(
        table.sort_values("rank")["spine_household_id"]
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_scores_are_refused(bad):
    scores = pd.Series([0.1, bad], index=pd.Index([1, 2]))
    with pytest.raises(InputDataError, match="finite"):
        apply_flag_rule(scores, FlagRule(budget=1))


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"threshold": 1.0, "budget": 3}, {"top_percent": 5, "budget": 1}],
)
def test_a_flag_rule_has_exactly_one_kind(kwargs):
    with pytest.raises(ValueError, match="exactly one of threshold"):
        FlagRule(**kwargs)


@given(
    values=st.lists(
        st.lists(st.floats(-5, 5, allow_nan=False), min_size=4, max_size=4),
        min_size=1,
        max_size=20,
    ),
    top=st.integers(1, 5),
)
def test_drivers_are_the_largest_positive_contributions(values, top):
    contributions = pd.DataFrame(values, columns=["a", "b", "c", "d"])
    found = drivers(contributions, top=top)
    assert list(found.columns) == [f"driver_{i}" for i in range(1, top + 1)] + [
        f"contribution_{i}" for i in range(1, top + 1)
    ]
    for i, row in contributions.iterrows():
        positive = sorted(
            ((-v, j, c) for j, (c, v) in enumerate(row.items()) if v > 0)
        )[:top]
        names = [c for _, _, c in positive]
        got = [found.at[i, f"driver_{k}"] for k in range(1, top + 1)]
        assert [g for g in got if isinstance(g, str)] == names
        values_got = [
            found.at[i, f"contribution_{k}"] for k in range(1, len(names) + 1)
        ]
        assert values_got == [-v for v, _, _ in positive]


def test_flag_table_keeps_drivers_of_explained_households_only():
    idx = pd.Index([5, 6, 7], name="spine_household_id")
    scores = pd.Series([3.0, 1.0, 2.0], index=idx)
    flags = apply_flag_rule(scores, FlagRule(budget=2))
    contributions = pd.DataFrame(
        {"police_incident": [2.0, 1.0], "lone_adult": [1.0, 0.0]}, index=[5, 7]
    )
    table = flag_table(scores, flags, contributions, top=2)
    assert table["rank"].tolist() == [1, 3, 2]
    assert table["flagged"].tolist() == [True, False, True]
    assert table["driver_1"].tolist()[0] == "police_incident"
    assert table["driver_2"].tolist()[0] == "lone_adult"
    assert table["driver_1"].isna().tolist() == [False, True, False]
    with pytest.raises(InputDataError, match="no score"):
        flag_table(scores, flags, contributions.rename(index={7: 99}))
