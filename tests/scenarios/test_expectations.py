"""benchmarks/expectations.py: the figures quoted in docs are summarised as stated."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.expectations import KEY, Question, summarise
from simulator.schema.headline import HeadlineConfig

GROUPS = ("1", "5")


def world_counts(fp: tuple[int, int], tn: tuple[int, int]) -> pd.DataFrame:
    """Long counts of one world: two quintiles, quintile 5 the reference."""
    rows = []
    for group, f, t in zip(GROUPS, fp, tn, strict=True):
        for name, count in {"tp": 5, "fp": f, "fn": 3, "tn": t}.items():
            rows.append(("audit", "imd_quintile", group, "5", name, count))
    return pd.DataFrame(rows, columns=[*KEY, "name", "count"])


counts = st.tuples(st.integers(1, 50), st.integers(1, 50))
tns = st.tuples(st.integers(50, 500), st.integers(50, 500))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(counts, tns), min_size=2, max_size=6), st.integers(1, 3))
def test_pooled_figures_are_rates_of_summed_counts(worlds, pooled_by):
    per_world = {i: world_counts(fp, tn) for i, (fp, tn) in enumerate(worlds)}
    if len(per_world) < pooled_by:
        pooled_by = len(per_world)
    stats = summarise(per_world, pooled_by).set_index(["group", "value", "name"])

    fp = np.array([w[0] for w in worlds], dtype=float)
    tn = np.array([w[1] for w in worlds], dtype=float)
    fpr = fp / (fp + tn)
    first = slice(0, pooled_by)
    printed = fp[first].sum(axis=0) / (fp[first] + tn[first]).sum(axis=0)

    q1 = stats.loc[("imd_quintile", "1", "fpr")]
    assert np.isclose(q1["mean"], fpr[:, 0].mean())
    assert np.isclose(q1["min"], fpr[:, 0].min())
    assert np.isclose(q1["max"], fpr[:, 0].max())
    assert np.isclose(q1["printed"], printed[0])
    ratio = stats.loc[("imd_quintile", "1", "fpr_ratio")]
    assert np.isclose(ratio["printed"], printed[0] / printed[1])
    assert np.isclose(ratio["max"], (fpr[:, 0] / fpr[:, 1]).max())
    assert ratio["pooled_min"] <= ratio["printed"] <= ratio["pooled_max"]
    wrong = stats.loc[("imd_quintile", "1", "fp")]
    assert wrong["kind"] == "count"
    assert np.isclose(wrong["mean"], fp[:, 0].mean())


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(counts, tns), min_size=2, max_size=6), st.integers(1, 2))
def test_the_files_own_headline_is_summarised_like_every_figure(worlds, pooled_by):
    """A true positive rate question: both rates, difference and ratio of the
    summed counts, per world and pooled as the file prints it."""
    spec = HeadlineConfig(metric="tpr", grouping="imd_quintile", group=1, reference=5)
    per_world = {
        i: world_counts(fp, tn).assign(
            count=lambda t, i=i: np.where(
                (t["name"] == "tp") & (t["value"] == "1"), 5 + i, t["count"]
            )
        )
        for i, (fp, tn) in enumerate(worlds)
    }
    stats = summarise(per_world, pooled_by, Question(spec, "5"))
    head = stats[stats["table"] == "headline"].set_index(["value", "name"])
    tp1 = 5 + np.arange(len(worlds), dtype=float)  # quintile 1; quintile 5 has 5
    tpr1, tpr5 = tp1 / (tp1 + 3), np.full(len(worlds), 5 / 8)
    assert np.isclose(head.loc[("1", "tpr"), "mean"], tpr1.mean())
    assert np.isclose(head.loc[("5", "tpr"), "max"], tpr5.max())
    assert np.isclose(head.loc[("1", "tpr_difference"), "min"], (tpr1 - tpr5).min())
    assert np.isclose(head.loc[("1", "tpr_ratio"), "max"], (tpr1 / tpr5).max())
    first = tp1[:pooled_by].sum() / (tp1[:pooled_by] + 3).sum()
    assert np.isclose(head.loc[("1", "tpr_ratio"), "printed"], first / (5 / 8))
    assert (head["part"] == "5").all()


def period_world(flagged: tuple[int, int], periods: int = 2) -> pd.DataFrame:
    """Long period counts of one world: two quintiles, ``flagged`` split each period."""
    rows = []
    for period in range(1, periods + 1):
        for group, f in zip(GROUPS, flagged, strict=True):
            n = {"tp": f // 2, "fp": f - f // 2, "fn": 4, "tn": 100}
            for name, count in {**n, "flagged": f}.items():
                part = f"period {period}"
                rows.append(("periods_audit", "imd_quintile", group, part, name, count))
    periods = pd.DataFrame(rows, columns=[*KEY, "name", "count"])
    return pd.concat([world_counts((1, 1), (50, 50)), periods], ignore_index=True)


@settings(max_examples=15, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 60), st.integers(1, 60)), min_size=2, max_size=5)
)
def test_a_groups_share_of_flags_in_a_period_pools_like_every_rate(worlds):
    per_world = {i: period_world(f) for i, f in enumerate(worlds)}
    stats = summarise(per_world, len(worlds)).set_index(["value", "part", "name"])
    flagged = np.array(worlds, dtype=float)
    share = flagged[:, 0] / flagged.sum(axis=1)
    q1 = stats.loc[("1", "period 2", "share_of_flags")]
    assert np.isclose(q1["mean"], share.mean())
    assert np.isclose(q1["printed"], flagged[:, 0].sum() / flagged.sum())
    q5 = stats.loc[("5", "period 2", "share_of_flags")]
    assert np.isclose(q1["printed"] + q5["printed"], 1.0)
    assert np.isclose(
        stats.loc[("1", "period 1", "selection_rate")]["printed"],
        flagged[:, 0].sum() / (flagged[:, 0] + 104).sum(),
    )
