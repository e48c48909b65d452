"""The audit's own tables pooled over replicate worlds (audits.pooled_tables)."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from audittools import outcomes_from_counts, random_outcomes
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.confusion import CONFUSION
from audits.errors import AuditWarning
from audits.pooled_tables import VERSUS_WORLD_COLUMNS, WORLD_COLUMNS, pooled_audit
from audits.result import run_audit
from audits.tables import audit_summary, audit_tables
from simulator.schema.audit import AuditConfig
from simulator.vocabulary import OVERALL

CONFIG = AuditConfig(
    group_columns=("imd_quintile", "tenure"),
    intersections=(("imd_quintile", "ethnicity"),),
    n_boot=40,
)


def _quiet_audit(outcomes: pd.DataFrame, config: AuditConfig, seed: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuditWarning)
        return run_audit(outcomes, config, seed=seed)


def _worlds(seed: int, n: int = 2000, replicates: int = 3, config=CONFIG):
    """Replicate 0 with the other worlds' audits attached, as the pipeline does."""
    audits = [
        _quiet_audit(random_outcomes(n, seed + r), config, seed + r)
        for r in range(replicates)
    ]
    return replace(audits[0], replicates=tuple(audits[1:]))


@pytest.fixture(scope="module")
def worlds(seed):
    return _worlds(seed)


def test_one_world_is_left_exactly_as_it_was(seed):
    alone = _quiet_audit(random_outcomes(2000, seed), CONFIG, seed)
    assert pooled_audit(alone) is alone
    tables = audit_tables(alone)
    assert tables["disparities"] is alone.disparities.table
    assert tables["metrics_by_group"] is alone.metrics.by_group
    assert list(tables["disparities"].columns)[-1] == "small_group"


def test_pooled_counts_are_the_sums_of_each_worlds_counts(worlds):
    pooled = pooled_audit(worlds)
    columns = ["n", "n_positive", "n_flagged", *CONFUSION]
    for attribute in ("overall", "by_group"):
        per_world = pd.concat(
            [getattr(w.metrics, attribute) for w in worlds.worlds], ignore_index=True
        )
        summed = per_world.groupby(["group", "value"], sort=False)[columns].sum()
        mine = getattr(pooled.metrics, attribute).set_index(["group", "value"])
        pd.testing.assert_frame_equal(
            mine.loc[summed.index, columns], summed, check_dtype=False
        )
    overall = pooled.metrics.overall.iloc[0]
    assert overall["n"] == 3 * 2000
    assert overall["replicates"] == 3


def test_pooled_rates_are_rates_of_the_summed_counts(worlds):
    table = pooled_audit(worlds).disparities.table
    fpr = table[(table["group"] == "imd_quintile") & (table["metric"] == "fpr")]
    by_group = pd.concat([w.metrics.by_group for w in worlds.worlds])
    by_group = by_group[by_group["group"] == "imd_quintile"]
    sums = by_group.groupby("value")[["fp", "tn"]].sum()
    expected = sums["fp"] / (sums["fp"] + sums["tn"])
    got = fpr.set_index("value")["estimate"]
    np.testing.assert_allclose(got.loc[expected.index], expected.to_numpy())
    ref = fpr[fpr["is_reference"]].iloc[0]
    np.testing.assert_allclose(
        fpr["ratio_to_ref"], fpr["estimate"] / ref["estimate"], equal_nan=True
    )
    np.testing.assert_allclose(fpr["diff_to_ref"], fpr["estimate"] - ref["estimate"])


def test_replicates_change_the_tables_intervals_and_give_the_spread(worlds):
    own = worlds.disparities.table
    pooled = pooled_audit(worlds).disparities.table
    assert list(pooled.columns)[len(own.columns) :] == [
        *WORLD_COLUMNS,
        *VERSUS_WORLD_COLUMNS,
    ]
    key = ["group", "value", "metric"]
    both = own.merge(pooled, on=key, suffixes=("_own", ""))
    assert not np.allclose(both["ci_low_own"], both["ci_low"], equal_nan=True)
    # each world's own estimate lies within the spread between worlds
    for w in worlds.worlds:
        mine = w.disparities.table.merge(pooled, on=key, suffixes=("_w", ""))
        defined = mine["estimate_w"].notna()
        assert (mine["estimate_min"] <= mine["estimate_w"] + 1e-12)[defined].all()
        assert (mine["estimate_w"] <= mine["estimate_max"] + 1e-12)[defined].all()
    has = pooled["ci_low"].notna()
    assert (pooled["ci_low"] <= pooled["estimate"] + 1e-12)[has].all()
    rates = pooled_audit(worlds).disparities.overall
    assert (rates["replicates"] == 3).all()
    assert (rates["estimate_min"] <= rates["estimate_max"]).all()


def test_pooling_again_changes_nothing(worlds):
    once = pooled_audit(worlds)
    twice = pooled_audit(once)
    pd.testing.assert_frame_equal(once.disparities.table, twice.disparities.table)
    assert once.disparities.warnings == twice.disparities.warnings


def test_pooling_the_same_audit_again_reuses_it_and_a_new_audit_is_pooled_anew(seed):
    first = _worlds(seed, n=600)
    pooled = pooled_audit(first)
    assert pooled_audit(first) is pooled
    equal = replace(first)  # the same worlds in another object: pooled afresh
    again = pooled_audit(equal)
    assert again is not pooled
    pd.testing.assert_frame_equal(again.disparities.table, pooled.disparities.table)
    assert pooled_audit(first) is not pooled  # only the last audit is kept


def test_the_pooled_audit_is_let_go_with_its_audit(seed):
    import gc
    import weakref

    audit = _worlds(seed, n=600)
    pooled = weakref.ref(pooled_audit(audit))
    del audit
    gc.collect()
    assert pooled() is None


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(0, 30), min_size=8, max_size=8),
        min_size=2,
        max_size=4,
    )
)
def test_summed_counts_property(per_world):
    """Any worlds (a group may be absent from some): pooled counts are the sums."""
    config = AuditConfig(
        group_columns=("tenure",), intersections=(), n_boot=10, min_group_size=0
    )
    audits = []
    for r, cells in enumerate(per_world):
        cells[3] += 1  # owners are never absent, so no world is empty
        counts = {"owner": cells[:4], "social_rent": cells[4:]}
        audits.append(_quiet_audit(outcomes_from_counts(counts, "tenure"), config, r))
    result = replace(audits[0], replicates=tuple(audits[1:]))
    pooled = pooled_audit(result).metrics.by_group.set_index("value")
    summed = np.asarray(per_world).sum(axis=0)
    np.testing.assert_array_equal(pooled.loc["owner", list(CONFUSION)], summed[:4])
    assert pooled.loc["owner", "n"] == summed[:4].sum()
    if summed[4:].sum():
        got = pooled.loc["social_rent", list(CONFUSION)]
        np.testing.assert_array_equal(got, summed[4:])
        present = sum(1 for cells in per_world if sum(cells[4:]))
        assert pooled.loc["social_rent", "replicates"] == present
    table = pooled_audit(result).disparities.table
    fpr = table[table["metric"] == "fpr"].set_index("value")["estimate"]
    fp, tn = summed[1], summed[3]
    assert fpr["owner"] == pytest.approx(fp / (fp + tn))


def test_small_groups_are_judged_on_the_pooled_families(seed):
    config = AuditConfig(
        group_columns=("imd_quintile", "ethnicity"), n_boot=20, min_group_size=120
    )
    result = _worlds(seed, n=800, replicates=3, config=config)
    own = result.disparities.table
    pooled = pooled_audit(result)
    table = pooled.disparities.table
    assert own["small_group"].sum() > table["small_group"].sum() > 0
    np.testing.assert_array_equal(table["small_group"], table["n"] < 120)
    small = [m for m in pooled.disparities.warnings if "min_group_size" in m]
    assert len(small) == 1
    assert "over the 3 worlds pooled" in small[0]
    assert "ethnicity=other" in small[0]
    assert audit_summary(result)["warnings"] == list(pooled.disparities.warnings)


def test_fairness_pooled_from_the_summed_counts(worlds):
    fair = pooled_audit(worlds).disparities.fairness
    counts = pooled_audit(worlds).metrics.by_group
    q = counts[counts["group"] == "imd_quintile"]
    sel = q["n_flagged"] / q["n"]
    row = fair[
        (fair["group"] == "imd_quintile")
        & (fair["measure"] == "demographic_parity_difference")
    ].iloc[0]
    assert row["estimate"] == pytest.approx(sel.max() - sel.min())
    assert row["ci_low"] <= row["estimate"] <= row["ci_high"]
    assert row["estimate_min"] <= row["estimate_max"]
    assert OVERALL not in set(fair["group"])
