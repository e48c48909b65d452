"""Attribution counts pooled over replicate worlds (audits.pooled_attribution)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.attribution import RUNGS, Attribution, attribute
from audits.pooled_attribution import (
    COUNT_KEYS,
    REPLICATE,
    RUNG_KEYS,
    WORLDS,
    pool_attribution,
    pool_counts,
)

GROUPS = ("1", "2", "3")


def ladder_world(rng: np.random.Generator, n: int) -> Attribution:
    """One world's attribution from random flags on every rung."""
    y_true = rng.random(n) < 0.3
    base = pd.DataFrame(
        {
            "household_id": np.arange(n),
            "y_true": y_true,
            # a plain (not categorical) group column: a world may lack a value
            "area": rng.choice(GROUPS, size=n),
        }
    )
    outcomes = {rung: base.assign(flagged=rng.random(n) < 0.4) for rung in RUNGS}
    return attribute(outcomes, ["area"])


def worlds_of(seed: int, sizes: list[int]) -> list[Attribution]:
    rng = np.random.default_rng(seed)
    return [ladder_world(rng, n) for n in sizes]


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.integers(1, 60), min_size=1, max_size=5),
)
def test_pooled_counts_are_the_mean_of_each_worlds_counts(seed, sizes):
    """Mean, smallest and largest world of every count, by hand from each world's
    own table; a group value absent from a world (no error there) counts 0 in it."""
    worlds = worlds_of(seed, sizes)
    pooled = pool_attribution(worlds)
    assert pooled.worlds == len(worlds)
    for table, own, keys in (
        (pooled.counts, [w.counts for w in worlds], list(COUNT_KEYS)),
        (pooled.flagged_by_rung, [w.flagged_by_rung for w in worlds], list(RUNG_KEYS)),
    ):
        indexed = [t.set_index(keys) for t in own]
        assert len(table) == len(set().union(*(set(t.index) for t in indexed)))
        assert (table[WORLDS] == len(worlds)).all()
        for _, row in table.iterrows():  # a few dozen rows
            key = tuple(row[keys]) if len(keys) > 1 else row[keys[0]]
            for c in indexed[0].columns:
                counts = np.array(
                    [t.loc[key, c] if key in t.index else 0 for t in indexed], float
                )
                assert row[c] == np.mean(counts), (key, c)
                assert row[f"{c}_low"] == counts.min() <= row[c]
                assert row[c] <= counts.max() == row[f"{c}_high"]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 80))
def test_one_world_pools_to_itself(seed, n):
    """Its means are its counts, low and high equal them, its families are kept."""
    (world,) = worlds_of(seed, [n])
    pooled = pool_attribution([world])
    assert pooled.worlds == 1
    assert pooled.households is world.households
    for table, own, keys in (
        (pooled.counts, world.counts, COUNT_KEYS),
        (pooled.flagged_by_rung, world.flagged_by_rung, RUNG_KEYS),
    ):
        assert table[list(keys)].equals(own[list(keys)])
        for c in own.columns.difference(keys):
            assert (table[c].to_numpy() == own[c].to_numpy()).all(), c
            assert (table[f"{c}_low"] == own[c]).all()
            assert (table[f"{c}_high"] == own[c]).all()
    by_world = pooled.counts_by_world
    assert (by_world[REPLICATE] == 0).all()
    assert by_world.drop(columns=REPLICATE).equals(world.counts)


def test_each_world_keeps_its_own_counts_in_order():
    """``counts_by_world`` is every world's own table, replicate 0 first."""
    worlds = worlds_of(7, [40, 25, 60])
    pooled = pool_attribution(worlds)
    for r, world in enumerate(worlds):
        mine = pooled.counts_by_world[pooled.counts_by_world[REPLICATE] == r]
        assert mine.drop(columns=REPLICATE).reset_index(drop=True).equals(world.counts)
    # the causes of one error still add up to its total, in the means too
    overall = pooled.counts[pooled.counts["group"] == "overall"]
    assert np.allclose(overall[list(RUNGS)].sum(axis=1), overall["total"])


def test_the_chart_draws_worlds_with_equal_totals():
    """Three worlds with 138 wrong flags each, split differently between causes,
    beside missed families whose worlds differ (so whiskers are drawn): the bar
    (the causes' means summed, 137.99999999999997) and the worlds' range (138 to
    138) differ by rounding, and that whisker must not get a negative arm (a
    vendor-audit run failed so)."""
    from audits.report.charts import attribution_chart

    wrong = [[52, 90, 54], [59, 5, 41], [25, 21, 2], [2, 16, 24], [0, 6, 17]]
    missed = [[10, 20, 30], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]
    stacked = pd.DataFrame(
        [
            {
                REPLICATE: r,
                "group": "overall",
                "value": "overall",
                "error": error,
                **{rung: causes[j][r] for j, rung in enumerate(RUNGS)},
                "total": sum(row[r] for row in causes),
            }
            for r in range(3)
            for error, causes in (("false_positive", wrong), ("false_negative", missed))
        ]
    )
    counts = pool_counts(stacked, COUNT_KEYS).set_index("error")
    assert counts.loc["false_positive", "total_low"] == 138
    assert counts.loc["false_positive", "total_high"] == 138
    assert sum(counts.loc["false_positive", list(RUNGS)]) < 138  # the residue
    assert "<svg" in attribution_chart(counts.reset_index(), None)
