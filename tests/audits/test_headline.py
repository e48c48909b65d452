"""The headline comparison: both measures, stability, and pooling across worlds."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.confusion import bootstrap_counts
from audits.disparity import GroupingCounts
from audits.errors import AuditWarning
from audits.headline import (
    MIN_REFERENCE_EVENTS,
    HeadlineSpec,
    headline,
    headline_figure,
    newcombe,
    ratio_stability,
    wilson,
)
from audits.pooled import pool, widen
from audits.result import run_audit
from simulator.schema.audit import AuditConfig
from tests.audits.audittools import outcomes_from_counts

CONFIG = AuditConfig(
    group_columns=("imd_quintile",), intersections=(), n_boot=400, min_group_size=0
)


def _audit(reference_fp: int, seed: int = 0):
    """Quintile 1: 60 wrong flags in 1,000 negatives; quintile 5: ``reference_fp``."""
    counts = {1: (50, 60, 20, 940), 5: (10, reference_fp, 5, 1000 - reference_fp)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuditWarning)
        return run_audit(
            outcomes_from_counts(counts, "imd_quintile"), CONFIG, seed=seed
        )


@pytest.mark.parametrize("reference_fp", [0, 1, 3, MIN_REFERENCE_EVENTS - 1])
def test_few_events_in_the_reference_make_the_ratio_unstable(reference_fp):
    head = headline([_audit(reference_fp)])
    assert head is not None
    assert head["ratio_stable"] is False
    assert head["ratio_note"]  # a plain sentence saying why
    # the finding is kept: the rates and their difference, with intervals
    assert head["group_rate"]["estimate"] == pytest.approx(60 / 1000)
    assert head["reference_rate"]["estimate"] == pytest.approx(reference_fp / 1000)
    assert head["difference"] == pytest.approx((60 - reference_fp) / 1000)
    assert head["difference_ci_low"] <= head["difference"] <= head["difference_ci_high"]
    # few events: the score interval keeps a 0 rate's interval open above 0
    assert head["reference_rate"]["ci_high"] > max(reference_fp, 1) / 2000
    assert head["difference_ci_low"] < (60 - reference_fp) / 1000 - 0.01
    assert "score interval" in head["interval_method"]
    if reference_fp == 0:
        assert head["ratio"] is None or np.isnan(head["ratio"])
        assert "undefined" in head["ratio_note"]
    else:
        assert head["ratio"] == pytest.approx(60 / reference_fp)


def test_enough_events_in_the_reference_make_the_ratio_stable():
    head = headline([_audit(30)])
    assert head["ratio_stable"] is True and head["ratio_note"] == ""
    assert head["interval_method"] == "percentile bootstrap"
    assert head["ratio_ci_low"] < 2.0 < head["ratio_ci_high"]


def test_score_intervals_match_their_textbook_values():
    """Wilson (Newcombe 1998, table I: 0/10 gives 0 to 0.2775) and Newcombe's
    hybrid difference (Newcombe 1998b, example: 56/70 - 48/80 gives 0.0524 to
    0.3339)."""
    assert wilson(0, 10, 0.95) == pytest.approx((0.0, 0.2775), abs=1e-4)
    p1, p2 = 56 / 70, 48 / 80
    low, high = newcombe(p1, wilson(56, 70, 0.95), p2, wilson(48, 80, 0.95))
    assert (low, high) == pytest.approx((0.0524, 0.3339), abs=1e-4)


def test_many_undefined_resamples_make_the_ratio_unstable():
    stable, note = ratio_stability(50, 11, 1000, 4.0)
    assert not stable and "11 of 1,000 resamples" in note
    assert ratio_stability(50, 10, 1000, 4.0) == (True, "")


def test_the_events_rule_counts_the_pooled_reference():
    """Four worlds of 3 wrong flags each: 12 events pooled, so the ratio may lead."""
    one = _audit(3)
    worlds = [one, *(_audit(3, seed=s) for s in range(1, 4))]
    assert not headline([one])["ratio_stable"]
    assert headline(worlds)["ratio_stable"]


def _resampling_alone(worlds) -> tuple[float, float]:
    """The percentile interval of the ratio over the worlds' summed resamples."""
    boot = sum(w.disparities.counts["imd_quintile"].resamples for w in worlds)
    fpr = boot[..., 1] / (boot[..., 1] + boot[..., 3])
    return tuple(np.quantile(fpr[:, 0] / fpr[:, 1], [0.025, 0.975]))


def test_replicates_change_the_headline_interval():
    """Worlds that disagree more than resampling explains widen the interval."""
    worlds = [_audit(fp, seed=i) for i, fp in enumerate((15, 40, 15, 40))]
    pooled, one = headline(worlds), headline(worlds[:1])
    assert (pooled["replicates"], one["replicates"]) == (4, 1)
    assert pooled["ratio"] == pytest.approx(240 / 110)  # of the summed counts
    assert pooled["ratio_per_replicate"] == pytest.approx([4, 1.5, 4, 1.5])
    assert pooled["ratio_ci_low"] != pytest.approx(one["ratio_ci_low"])
    low, high = _resampling_alone(worlds)
    assert pooled["widened"]
    assert pooled["ratio_ci_low"] < low and pooled["ratio_ci_high"] > high


def test_worlds_that_agree_keep_the_resampling_interval():
    worlds = [_audit(30, seed=i) for i in range(3)]
    pooled = headline(worlds)
    assert not pooled["widened"]
    low, high = _resampling_alone(worlds)
    assert (pooled["ratio_ci_low"], pooled["ratio_ci_high"]) == pytest.approx(
        (low, high)
    )
    one = headline(worlds[:1])  # three worlds are narrower than one
    assert pooled["ratio_ci_high"] - pooled["ratio_ci_low"] < (
        one["ratio_ci_high"] - one["ratio_ci_low"]
    )


def test_a_chosen_reference_and_metric():
    head = headline([_audit(30)], HeadlineSpec(metric="tpr", group=5, reference=1))
    assert (head["metric"], head["group"], head["reference"]) == ("tpr", "5", "1")
    assert head["ratio"] == pytest.approx((10 / 15) / (50 / 70))
    not_audited = HeadlineSpec(metric="fpr", grouping="tenure", group="owner")
    assert headline([_audit(30)], not_audited) is None


@settings(max_examples=40, deadline=None)
@given(
    point=st.floats(-1, 1),
    half=st.floats(0.001, 1),
    spread=st.floats(0, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_widening_never_narrows_and_keeps_the_estimate_inside(
    point, half, spread, seed
):
    rng = np.random.default_rng(seed)
    resampled = point + half / 2 * rng.standard_normal((200, 1))
    worlds = point + spread * rng.standard_normal((3, 1))
    low, high = np.array([point - half]), np.array([point + half])
    lo, hi, _ = widen(np.array([point]), low, high, resampled, worlds)
    assert lo[0] <= low[0] + 1e-12 and hi[0] >= high[0] - 1e-12
    assert lo[0] <= point <= hi[0]


def test_one_world_pools_to_its_own_interval():
    counts = np.array([[50, 60, 20, 940], [10, 20, 5, 980]])
    rng = np.random.default_rng(5)
    part = GroupingCounts(("1", "5"), counts, bootstrap_counts(counts, 300, rng), 1)
    p = pool([part], 0.95)
    fpr = p.per_replicate_estimate[0, 2]
    assert fpr == pytest.approx([60 / 1000, 20 / 1000])
    assert not p.widened.any()


# ------------------------------------------------------------------ coverage


def _world(rng: np.random.Generator, world_sd: float) -> GroupingCounts:
    """One world: 3,000 negatives per group, FPR 3% and 0.5% shifted by the world.

    Each world multiplies both groups' rates by its own lognormal factor (standard
    deviation ``world_sd`` on the log scale): variation between worlds that no
    resampling of one world's families can see.
    """
    p = np.array([0.03, 0.005]) * np.exp(world_sd * rng.standard_normal(2))
    fp = rng.binomial(3000, p)
    counts = np.array([[100, fp[0], 50, 3000 - fp[0]], [40, fp[1], 20, 3000 - fp[1]]])
    return GroupingCounts(("1", "5"), counts, bootstrap_counts(counts, 200, rng), 1)


def test_pooled_intervals_cover_the_mean_over_worlds():
    """The coverage study in small (benchmarks/coverage.py measures the baseline).

    The reference is exact: the expected rates over worlds. Forty runs of 5 worlds
    each: the intervals across worlds must cover the reference difference and ratio
    at least 80% of the time (nominal 95%; 40 runs and 5 worlds leave room), while
    the resampling-only interval of the same runs, which ignores the variation
    between worlds, covers it far less often: the check can fail.
    """
    world_sd, runs, worlds = 0.3, 40, 5
    mean = np.array([0.03, 0.005]) * np.exp(world_sd**2 / 2)
    true_diff, true_ratio = mean[0] - mean[1], mean[0] / mean[1]
    rng = np.random.default_rng(20260331)
    across, alone = np.zeros(2), 0
    for _ in range(runs):
        parts = [_world(rng, world_sd) for _ in range(worlds)]
        f = headline_figure(pool(parts, 0.95), "fpr", "1", 0.95)
        across += [
            f["difference_ci_low"] <= true_diff <= f["difference_ci_high"],
            f["ratio_ci_low"] <= true_ratio <= f["ratio_ci_high"],
        ]
        boot = sum(p.resamples for p in parts)
        fpr = boot[..., 1] / (boot[..., 1] + boot[..., 3])
        low, high = np.quantile(fpr[:, 0] - fpr[:, 1], [0.025, 0.975])
        alone += low <= true_diff <= high
    assert (across / runs >= 0.8).all(), across / runs
    assert alone / runs < 0.7, alone / runs
