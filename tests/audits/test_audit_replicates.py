"""pool_replicates: the mean and spread of every figure across replicate runs."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from audittools import random_outcomes

from audits.errors import AuditError, AuditWarning
from audits.replicates import _MIXED_AUDITS, _NO_RESULTS, SPREAD, pool_replicates
from audits.result import run_audit
from simulator.schema.audit import AuditConfig

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


def test_pooled_figures_are_the_mean_and_spread_of_the_replicates(replicates):
    pooled = pool_replicates(replicates)
    metrics = pooled["metrics"].set_index(["group", "value", "metric"])
    fpr = [
        r.metrics.by_group.set_index(["group", "value"]).loc[("tenure", "owner"), "fpr"]
        for r in replicates
    ]
    row = metrics.loc[("tenure", "owner", "fpr")]
    assert row["replicates"] == 3
    assert row["mean"] == pytest.approx(np.mean(fpr))
    assert row["sd"] == pytest.approx(np.std(fpr, ddof=1))
    assert (row["min"], row["max"]) == (min(fpr), max(fpr))
    overall = metrics.loc[("overall", "all", "n")]
    assert overall["mean"] == 3000 and overall["sd"] == 0

    disp = pooled["disparities"].set_index(["group", "value", "metric", "statistic"])
    ratios = [
        r.disparities.table.set_index(["group", "value", "metric"]).loc[
            ("imd_quintile", "1", "fpr")
        ]
        for r in replicates
    ]
    row = disp.loc[("imd_quintile", "1", "fpr", "ratio_to_ref")]
    assert row["mean"] == pytest.approx(np.mean([r["ratio_to_ref"] for r in ratios]))
    assert row["mean_ci_low"] == pytest.approx(
        np.mean([r["ratio_ci_low"] for r in ratios])
    )
    assert set(SPREAD) <= set(pooled["fairness"].columns)
    assert pooled["seeds"]["audit_seed"].tolist() == [r.seed for r in replicates]


def test_one_replicate_has_no_spread(replicates):
    pooled = pool_replicates(replicates[:1])["metrics"]
    assert (pooled["replicates"] <= 1).all()
    assert pooled["sd"].isna().all()


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
