"""Pooling replicates: rates of summed counts, ratios of pooled rates, the spread."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from audittools import outcomes_from_counts, random_outcomes

from audits.errors import AuditError, AuditWarning
from audits.replicates import (
    _MIXED_AUDITS,
    _NO_RESULTS,
    RATIO_UNDEFINED,
    SPREAD,
    pool_rates,
    pool_replicates,
)
from audits.result import run_audit
from simulator.schema.audit import AuditConfig
from simulator.vocabulary import OVERALL

CONFIG = AuditConfig(
    group_columns=("imd_quintile", "tenure"), intersections=(), n_boot=30
)


@pytest.fixture(scope="module")
def replicates(seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuditWarning)
        return [
            run_audit(random_outcomes(3000, seed + i), CONFIG, seed=seed + i)
            for i in range(3)
        ]


def _audits(per_replicate, seed=0):
    """One audit per replicate of hand-made (TP, FP, FN, TN) per quintile."""
    config = AuditConfig(
        group_columns=("imd_quintile",), intersections=(), n_boot=20, min_group_size=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuditWarning)
        return [
            run_audit(
                outcomes_from_counts(counts, column="imd_quintile"), config, seed=seed
            )
            for counts in per_replicate
        ]


def _row(table, value, metric="fpr"):
    rows = table[(table["value"] == value) & (table["metric"] == metric)]
    (row,) = rows.to_dict("records")
    return row


def test_a_pooled_rate_sums_the_counts_of_the_replicates():
    rows = pd.DataFrame(
        {
            "value": ["a", "a", "b", "b"],
            "numerator": [8, 6, 0, 0],
            "denominator": [100, 50, 0, 10],
            "estimate": [0.08, 0.12, np.nan, 0.0],
        }
    )
    pooled = pool_rates(rows, ["value"]).set_index("value")
    assert pooled.loc["a", "estimate"] == pytest.approx(14 / 150)  # not 0.10
    assert (pooled.loc["a", "numerator"], pooled.loc["a", "denominator"]) == (14, 150)
    assert (pooled.loc["a", "min"], pooled.loc["a", "max"]) == (0.08, 0.12)
    assert pooled.loc["a", "sd"] == pytest.approx(np.std([0.08, 0.12], ddof=1))
    # b is undefined in one replicate: counted, and the other still pools
    assert (pooled.loc["b", "replicates"], pooled.loc["b", "undefined"]) == (1, 1)
    assert pooled.loc["b", "estimate"] == 0.0


def test_a_replicate_without_events_in_the_reference_still_pools():
    """Quintile 5 has no false positive in replicate 1: its own ratio is undefined,
    the pooled ratio is (8 + 6) / (100 + 50) against (1 + 0) / (99 + 100)."""
    audits = _audits(
        [
            {1: (1, 8, 1, 92), 5: (1, 1, 1, 98)},
            {1: (1, 6, 0, 44), 5: (0, 0, 1, 100)},
        ]
    )
    own = [_row(a.disparities.table, "1") for a in audits]
    assert own[0]["ratio_to_ref"] == pytest.approx((8 / 100) / (1 / 99))
    assert np.isnan(own[1]["ratio_to_ref"])

    pooled = pool_replicates(audits)
    row = _row(pooled["disparities"], "1")
    assert row["estimate"] == pytest.approx(14 / 150)
    assert row["ratio_to_ref"] == pytest.approx((14 / 150) / (1 / 199))
    assert row["diff_to_ref"] == pytest.approx(14 / 150 - 1 / 199)
    assert row["ratio_note"] == ""
    assert row["ratio_undefined"] == 1  # reported, not dropped
    assert row["ratio_min"] == row["ratio_max"] == own[0]["ratio_to_ref"]
    assert row["reference"] == "5"
    metrics = _row(pooled["metrics"], "1")
    assert (metrics["numerator"], metrics["denominator"]) == (14, 150)
    counts = pooled["counts"].set_index(["group", "value"])
    assert counts.loc[("imd_quintile", "5"), ["tp", "fp", "fn", "tn"]].tolist() == [
        1,
        1,
        2,
        198,
    ]
    assert counts.loc[(OVERALL, OVERALL), "n"] == 102 + 101 + 51 + 101


def test_a_reference_without_events_in_any_replicate_gives_no_ratio_and_says_why():
    audits = _audits(
        [
            {1: (1, 8, 1, 92), 5: (1, 0, 1, 98)},
            {1: (1, 6, 0, 44), 5: (0, 0, 1, 100)},
        ]
    )
    row = _row(pool_replicates(audits)["disparities"], "1")
    assert np.isnan(row["ratio_to_ref"])
    assert row["ratio_note"] == RATIO_UNDEFINED
    assert row["ratio_undefined"] == 2
    assert row["diff_to_ref"] == pytest.approx(14 / 150)


def test_pooled_figures_lie_within_the_replicates_and_match_their_counts(replicates):
    pooled = pool_replicates(replicates)
    metrics = pooled["metrics"].set_index(["group", "value", "metric"])
    owner = [
        r.metrics.by_group.set_index(["group", "value"]).loc[("tenure", "owner")]
        for r in replicates
    ]
    row = metrics.loc[("tenure", "owner", "fpr")]
    fp = sum(int(o["fp"]) for o in owner)
    negatives = sum(int(o["fp"] + o["tn"]) for o in owner)
    assert row["estimate"] == pytest.approx(fp / negatives)
    assert row["min"] <= row["estimate"] <= row["max"]
    assert row["replicates"] == 3
    assert row["sd"] == pytest.approx(np.std([o["fpr"] for o in owner], ddof=1))
    assert pooled["counts"].set_index("group").loc[OVERALL, "n"] == 9000
    fair = pooled["fairness"]
    assert set(SPREAD) <= set(fair.columns)
    assert fair["estimate"].between(0, 1).all()
    assert pooled["seeds"]["audit_seed"].tolist() == [r.seed for r in replicates]


def test_one_replicate_has_no_spread_and_pools_to_itself(replicates):
    pooled = pool_replicates(replicates[:1])
    assert (pooled["metrics"]["replicates"] <= 1).all()
    assert pooled["metrics"]["sd"].isna().all()
    d = pooled["disparities"].set_index(["group", "metric", "value"])
    own = replicates[0].disparities.table.set_index(["group", "metric", "value"])
    np.testing.assert_allclose(
        d["ratio_to_ref"], own.loc[d.index, "ratio_to_ref"], equal_nan=True
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda reps: [], _NO_RESULTS),
        (
            lambda reps: [
                reps[0],
                run_audit(
                    random_outcomes(500, 0),
                    CONFIG.model_copy(update={"target": "harm"}),
                    seed=0,
                ),
            ],
            _MIXED_AUDITS.format(index=1),
        ),
    ],
)
def test_pooling_refuses_nothing_or_mixed_audits(replicates, make, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuditWarning)
        results = make(replicates)
    with pytest.raises(AuditError, match=re.escape(message)):
        pool_replicates(results)


def test_every_worlds_score_tables_are_kept(replicates):
    """With scores, each world's AUC, calibration and curves, replicate first."""
    scored = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuditWarning)
        for i in range(2):
            o = random_outcomes(800, 50 + i)
            o["score"] = np.random.default_rng(i).random(len(o)) + o["y_true"] * i
            scored.append(run_audit(o, CONFIG, seed=i))
    pooled = pool_replicates(scored)
    for stem, own in scored[0].scores.tables().items():
        table = pooled[stem]
        assert list(table.columns) == ["replicate", *own.columns]
        for i, world in enumerate(scored):
            mine = table[table["replicate"] == i].drop(columns="replicate")
            expected = world.scores.tables()[stem]
            pd.testing.assert_frame_equal(mine.reset_index(drop=True), expected)
    auc = pooled["score_auc"].set_index(["replicate", "group", "value"])["auc"]
    assert auc[(1, OVERALL, OVERALL)] > auc[(0, OVERALL, OVERALL)]  # world 1 ranks
    without = pool_replicates(replicates)  # no scores: no score tables
    assert not {"score_auc", "calibration", "threshold_curves"} & set(without)
