"""disparities: estimates, references, intervals from recorded streams, warnings."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from audittools import outcomes_from_counts, random_outcomes
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.confusion import (
    FAIRNESS,
    RATES,
    bootstrap_counts,
    confusion_cells,
    fairness,
    percentile_interval,
    rates,
)
from audits.disparity import (
    _REFERENCE_ABSENT,
    _REFERENCE_FALLBACK,
    FAIRNESS_COLUMNS,
    OVERALL_COLUMNS,
    TABLE_COLUMNS,
    disparities,
)
from audits.errors import AuditError, AuditWarning
from audits.result import run_audit
from audits.tables import deprivation_headline
from simulator.schema.audit import AuditConfig


def test_tables_have_their_columns(result):
    d = result.disparities
    assert list(d.table.columns) == list(TABLE_COLUMNS)
    assert list(d.overall.columns) == list(OVERALL_COLUMNS)
    assert list(d.fairness.columns) == list(FAIRNESS_COLUMNS)
    assert d.overall["metric"].tolist() == list(RATES)


def test_estimates_equal_the_metric_frame_rates(result):
    by_group = result.metrics.by_group.melt(
        id_vars=["group", "value"],
        value_vars=list(RATES),
        var_name="metric",
        value_name="rate",
    )
    merged = result.disparities.table.merge(by_group, on=["group", "value", "metric"])
    assert len(merged) == len(result.disparities.table)
    np.testing.assert_allclose(merged["estimate"], merged["rate"], equal_nan=True)
    overall = result.metrics.overall.iloc[0]
    np.testing.assert_allclose(
        result.disparities.overall["estimate"],
        [overall[m] for m in RATES],
        equal_nan=True,
    )


def test_default_references_are_least_deprived_and_largest(result):
    refs = result.disparities.table.groupby("group")["reference"].first().to_dict()
    assert refs == {
        "imd_quintile": "5",
        "ethnicity": "white",
        "tenure": refs["tenure"],
        "lone_parent": "False",
        "imd_quintile × ethnicity": "5 × white",
    }
    sizes = result.metrics.by_group.query("group == 'tenure'").set_index("value")["n"]
    assert refs["tenure"] == sizes.idxmax()


def test_intervals_come_from_the_recorded_streams(outcomes, config, result, seed):
    streams = result.disparities.seeds["streams"]
    assert list(streams) == [
        "overall",
        "imd_quintile",
        "ethnicity",
        "tenure",
        "lone_parent",
        "imd_quintile × ethnicity",
    ]
    child = np.random.SeedSequence(seed).spawn(len(streams))[1]
    assert list(child.spawn_key) == streams["imd_quintile"]
    cells = confusion_cells(outcomes, ["imd_quintile"])
    boot = rates(
        bootstrap_counts(cells.counts, config.n_boot, np.random.default_rng(child))
    )
    low, high, _ = percentile_interval(boot["fpr"], config.confidence)
    rows = result.disparities.table.query("group == 'imd_quintile' and metric == 'fpr'")
    np.testing.assert_allclose(rows["ci_low"], low)
    np.testing.assert_allclose(rows["ci_high"], high)
    ratio = boot["fpr"] / boot["fpr"][:, [4]]
    r_low, r_high, _ = percentile_interval(ratio, config.confidence)
    np.testing.assert_allclose(rows["ratio_ci_low"], r_low)
    np.testing.assert_allclose(rows["ratio_ci_high"], r_high)


def test_same_seed_same_tables_other_seed_other_intervals(
    outcomes, config, result, seed
):
    again = disparities(outcomes, config, seed)
    pd.testing.assert_frame_equal(again.table, result.disparities.table)
    pd.testing.assert_frame_equal(again.fairness, result.disparities.fairness)
    other = disparities(outcomes, config, seed + 1)
    pd.testing.assert_series_equal(other.table["estimate"], again.table["estimate"])
    assert not np.allclose(other.table["ci_low"], again.table["ci_low"], equal_nan=True)


def test_deprivation_gradient_is_detected(result):
    """random_outcomes flags 5x as many non-needy families in quintile 1 as in 5."""
    row = result.disparities.table.query(
        "group == 'imd_quintile' and value == '1' and metric == 'fpr'"
    ).iloc[0]
    assert row["ratio_ci_low"] > 1
    assert row["ratio_ci_low"] <= row["ratio_to_ref"] <= row["ratio_ci_high"]
    assert row["ratio_to_ref"] == pytest.approx(5, rel=0.35)


def test_fairness_estimates_are_fairlearns_and_equal_the_counts(outcomes, result):
    table = result.disparities.fairness.set_index(["group", "measure"])["estimate"]
    for columns in (["imd_quintile"], ["imd_quintile", "ethnicity"]):
        cells = confusion_cells(outcomes, columns)
        ours = fairness(cells.counts)
        for measure in FAIRNESS:
            assert table[(" × ".join(columns), measure)] == pytest.approx(ours[measure])


small_worlds = st.dictionaries(
    st.sampled_from(["x", "y", "z"]),
    st.tuples(*[st.integers(0, 5)] * 4).filter(lambda c: sum(c) > 0),
    min_size=1,
    max_size=3,
)


@settings(max_examples=25, deadline=None)
@given(small_worlds, st.integers(0, 2**32))
def test_the_reference_group_has_ratio_one_and_difference_zero(counts, seed):
    outcomes = outcomes_from_counts(counts, column="ethnicity")
    config = AuditConfig(group_columns=("ethnicity",), intersections=(), n_boot=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuditWarning)
        table = disparities(outcomes, config, seed).table
    ref = table[table["is_reference"]]
    assert (ref["value"] == ref["reference"]).all()
    defined = ref["estimate"].notna()
    assert (ref.loc[defined, "diff_to_ref"] == 0).all()
    positive = ref["estimate"] > 0
    assert (ref.loc[positive, "ratio_to_ref"] == 1).all()
    assert ref.loc[~positive, "ratio_to_ref"].isna().all()
    proportions = table[table["metric"] != "wrongly_flagged_per_10k"]
    for col in ("estimate", "ci_low", "ci_high"):
        v = proportions[col].to_numpy(dtype=float)
        assert np.all(np.isnan(v) | ((v >= 0) & (v <= 1)))
    assert table["boot_undefined"].between(0, 20).all()


def test_chosen_references_are_used(outcomes):
    config = AuditConfig(
        group_columns=("ethnicity", "imd_quintile"),
        intersections=(("imd_quintile", "ethnicity"),),
        reference={"ethnicity": "asian", "imd_quintile": 1},
        n_boot=10,
        min_group_size=0,
    )
    table = disparities(outcomes, config, 0).table
    refs = table.groupby("group")["reference"].first().to_dict()
    assert refs == {
        "ethnicity": "asian",
        "imd_quintile": "1",
        "imd_quintile × ethnicity": "1 × asian",
    }


def test_an_absent_chosen_reference_group_is_an_error():
    outcomes = outcomes_from_counts({1: (1, 1, 1, 1), 2: (1, 0, 1, 5)}, "imd_quintile")
    config = AuditConfig(
        group_columns=("imd_quintile",),
        intersections=(),
        reference={"imd_quintile": 5},
        n_boot=5,
    )
    message = _REFERENCE_ABSENT.format(
        value="5", grouping="imd_quintile", present=["1", "2"]
    )
    with pytest.raises(AuditError, match=re.escape(message)):
        disparities(outcomes, config, 0)


def test_an_absent_default_reference_falls_back_to_the_least_deprived_present():
    outcomes = outcomes_from_counts(
        {1: (2, 3, 1, 4), 2: (1, 1, 1, 7), 3: (1, 1, 1, 9)}, "imd_quintile"
    ).assign(ethnicity="white")
    outcomes.loc[::5, "ethnicity"] = "asian"
    config = AuditConfig(
        group_columns=("imd_quintile", "ethnicity"),
        intersections=(("imd_quintile", "ethnicity"),),
        n_boot=5,
        min_group_size=0,
    )
    with pytest.warns(AuditWarning) as caught:
        d = disparities(outcomes, config, 0)
    shown = [str(w.message) for w in caught]
    expected = [
        _REFERENCE_FALLBACK.format(
            default=5,
            column="imd_quintile",
            within=within,
            used=3,
            how="least deprived",
        )
        for within in ("", " (grouping 'imd_quintile × ethnicity')")
    ]
    assert shown == expected
    assert list(d.warnings) == expected
    assert "'imd_quintile'" in shown[0] and "5" in shown[0] and "3" in shown[0]
    refs = d.table.groupby("group")["reference"].first().to_dict()
    assert refs == {
        "imd_quintile": "3",
        "ethnicity": "white",
        "imd_quintile × ethnicity": "3 × white",
    }
    fpr = d.table.query("group == 'imd_quintile' and metric == 'fpr'")
    fpr = fpr.set_index("value")
    assert fpr["is_reference"].to_dict() == {"1": False, "2": False, "3": True}
    assert fpr.loc["3", "ratio_to_ref"] == pytest.approx(1.0)
    assert fpr.loc["2", "ratio_to_ref"] == pytest.approx(
        fpr.loc["2", "estimate"] / fpr.loc["3", "estimate"]
    )
    assert fpr.loc["1", "diff_to_ref"] == pytest.approx(
        fpr.loc["1", "estimate"] - fpr.loc["3", "estimate"]
    )


def test_the_headline_reports_the_fallback_reference():
    outcomes = outcomes_from_counts({1: (2, 3, 1, 4), 2: (1, 1, 1, 7)}, "imd_quintile")
    config = AuditConfig(
        group_columns=("imd_quintile",), intersections=(), n_boot=5, min_group_size=0
    )
    with pytest.warns(AuditWarning, match="using 2 instead, the least deprived"):
        result = run_audit(outcomes, config, seed=0)
    head = deprivation_headline(result)
    assert head is not None
    assert (head["grouping"], head["group"], head["reference"]) == (
        "imd_quintile",
        "1",
        "2",
    )
    assert head["ratio"] == pytest.approx((3 / 7) / (1 / 8))


def test_small_groups_warn_and_are_marked(seed):
    outcomes = random_outcomes(3000, seed)
    config = AuditConfig(
        group_columns=("ethnicity",), intersections=(), n_boot=20, min_group_size=100
    )
    with pytest.warns(AuditWarning, match=r"fewer than min_group_size=100 households"):
        d = disparities(outcomes, config, seed)
    small = d.table.drop_duplicates("value").set_index("value")
    assert (small["small_group"] == (small["n"] < 100)).all()
    assert small["small_group"].any()
    assert d.warnings and "ethnicity=other" in d.warnings[0]


def test_resamples_without_a_group_are_counted_not_hidden(seed):
    """A group of 2 among 100 households is absent from (98/100)^100 = 13% of
    resamples; its selection rate is undefined there and counted."""
    outcomes = outcomes_from_counts({"big": (10, 10, 10, 68), "tiny": (1, 0, 0, 1)})
    outcomes = outcomes.rename(columns={"group": "tenure"})
    n_boot = 2000
    config = AuditConfig(
        group_columns=("tenure",),
        intersections=(),
        n_boot=n_boot,
        min_group_size=0,
    )
    table = disparities(outcomes, config, seed).table.set_index(["value", "metric"])
    p = (98 / 100) ** 100
    absent = table.loc[("tiny", "selection_rate"), "boot_undefined"]
    assert abs(absent / n_boot - p) <= 4 * np.sqrt(p * (1 - p) / n_boot)
    assert table.loc[("big", "selection_rate"), "boot_undefined"] == 0
    assert np.isfinite(table.loc[("tiny", "selection_rate"), "ci_high"])


def test_no_resamples_give_estimates_without_intervals(outcomes):
    config = AuditConfig(n_boot=0, min_group_size=0)
    d = disparities(outcomes, config, 0)
    assert d.table["estimate"].notna().any()
    assert d.table[["ci_low", "ci_high", "ratio_ci_low"]].isna().all().all()
    assert (d.table["boot_undefined"] == 0).all()
