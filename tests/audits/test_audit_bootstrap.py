"""The multinomial bootstrap: same distribution as row resampling, nominal coverage."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from audittools import outcomes_from_counts, random_outcomes
from fairlearn.metrics import (
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.confusion import (
    bootstrap_counts,
    confusion_cells,
    confusion_index,
    fairness,
    percentile_interval,
    rates,
)


def test_resamples_keep_the_number_of_households_and_empty_cells(seed):
    counts = np.array([[[5, 0, 2, 3], [0, 0, 0, 7]], [[1, 1, 1, 1], [9, 0, 0, 0]]])
    boot = bootstrap_counts(counts, 300, np.random.default_rng(seed))
    assert boot.shape == (300, *counts.shape)
    np.testing.assert_array_equal(boot.sum(axis=(-2, -1)), [[17, 13]] * 300)
    assert (boot[..., counts == 0] == 0).all()


def test_resamples_are_deterministic_by_seed(seed):
    counts = np.array([[3, 1, 2, 10], [1, 4, 0, 6]])
    a = bootstrap_counts(counts, 50, np.random.default_rng(seed))
    b = bootstrap_counts(counts, 50, np.random.default_rng(seed))
    c = bootstrap_counts(counts, 50, np.random.default_rng(seed + 1))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def _row_bootstrap(outcomes: pd.DataFrame, n_boot: int, rng) -> np.ndarray:
    """Naive bootstrap: draw row indices with replacement, then count (vectorised)."""
    cells = confusion_cells(outcomes, ["tenure"])
    group = pd.factorize(outcomes["tenure"], sort=True)[0]
    cell = group * 4 + confusion_index(outcomes["y_true"], outcomes["flagged"])
    n, k = len(outcomes), len(cells.counts) * 4
    idx = rng.integers(0, n, size=(n_boot, n))
    flat = np.arange(n_boot)[:, None] * k + cell[idx]
    return np.bincount(flat.ravel(), minlength=n_boot * k).reshape(n_boot, -1, 4)


def test_multinomial_draws_match_row_resampling_in_distribution(seed):
    outcomes = random_outcomes(400, seed)
    cells = confusion_cells(outcomes, ["tenure"])
    n_boot = 4000
    rng = np.random.default_rng(seed)
    fast = rates(bootstrap_counts(cells.counts, n_boot, rng))
    slow = rates(_row_bootstrap(outcomes, n_boot, rng))
    for metric in ("selection_rate", "tpr", "fpr", "precision"):
        a, b = fast[metric], slow[metric]
        for g in range(a.shape[1]):
            x, y = a[:, g][~np.isnan(a[:, g])], b[:, g][~np.isnan(b[:, g])]
            se = math.sqrt(x.var() / len(x) + y.var() / len(y))
            assert abs(x.mean() - y.mean()) <= 4 * se + 1e-12, (metric, g)
            assert x.std() == pytest.approx(y.std(), rel=0.1), (metric, g)


# Two groups with known rates; households are i.i.d. draws over the cells.
SHARES = np.array([0.7, 0.3])
POSITIVE = np.array([0.2, 0.3])
TPR = np.array([0.6, 0.5])
FPR = np.array([0.05, 0.10])
CELLS = np.stack(
    [
        SHARES * POSITIVE * TPR,
        SHARES * (1 - POSITIVE) * FPR,
        SHARES * POSITIVE * (1 - TPR),
        SHARES * (1 - POSITIVE) * (1 - FPR),
    ],
    axis=-1,
)


@pytest.mark.parametrize("confidence", [0.90, 0.95])
def test_intervals_cover_the_true_value_at_the_nominal_rate(seed, confidence):
    n_data, n_boot, n = 2000, 400, 3000
    rng = np.random.default_rng(seed)
    data = rng.multinomial(n, CELLS.ravel(), size=n_data).reshape(n_data, 2, 4)
    boot = rates(bootstrap_counts(data, n_boot, rng))  # each (n_boot, n_data, 2)
    truths = {
        "fpr of group 1": (boot["fpr"][..., 1], FPR[1]),
        "tpr of group 0": (boot["tpr"][..., 0], TPR[0]),
        "fpr ratio 1 / 0": (boot["fpr"][..., 1] / boot["fpr"][..., 0], FPR[1] / FPR[0]),
        "tpr difference 1 - 0": (
            boot["tpr"][..., 1] - boot["tpr"][..., 0],
            TPR[1] - TPR[0],
        ),
    }
    sd = math.sqrt(confidence * (1 - confidence) / n_data)
    for what, (samples, truth) in truths.items():
        low, high, undefined = percentile_interval(samples, confidence)
        assert undefined.sum() == 0
        coverage = np.mean((low <= truth) & (truth <= high))
        assert abs(coverage - confidence) <= 3.5 * sd + 0.01, (what, coverage)


def test_percentile_interval_counts_undefined_resamples():
    samples = np.array([[0.1, np.nan], [0.2, np.nan], [np.nan, np.nan], [0.4, np.nan]])
    low, high, undefined = percentile_interval(samples, 0.5)
    assert undefined.tolist() == [1, 4]
    assert low[0] == pytest.approx(np.quantile([0.1, 0.2, 0.4], 0.25))
    assert high[0] == pytest.approx(np.quantile([0.1, 0.2, 0.4], 0.75))
    assert np.isnan(low[1]) and np.isnan(high[1])


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 40).flatmap(
        lambda n: st.lists(
            st.lists(
                st.one_of(st.floats(-1e6, 1e6), st.just(np.nan), st.just(np.inf)),
                min_size=n,
                max_size=n,
            ),
            min_size=1,
            max_size=5,
        )
    ),
    st.sampled_from([0.5, 0.9, 0.95]),
)
def test_percentile_interval_equals_each_statistics_own_nanquantile(columns, level):
    """The vectorised interval is bit for bit each column's own ``np.nanquantile``."""
    samples = np.array(columns, dtype=float).T  # (n_boot, statistics)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # infinite resamples are quiet
        low, high, undefined = percentile_interval(samples, level)
    alpha = (1.0 - level) / 2.0
    for j in range(samples.shape[1]):
        column = samples[:, j]
        assert undefined[j] == np.isnan(column).sum()
        if np.isnan(column).all():
            assert np.isnan(low[j]) and np.isnan(high[j])
            continue
        with np.errstate(invalid="ignore"):  # inf - inf, as the interval's own
            expected = np.nanquantile(column, [alpha, 1.0 - alpha])
        np.testing.assert_array_equal([low[j], high[j]], expected)


def test_no_resamples_give_no_interval():
    low, high, undefined = percentile_interval(np.empty((0, 3)), 0.95)
    assert np.isnan(low).all() and np.isnan(high).all()
    assert undefined.tolist() == [0, 0, 0]


group_counts = st.dictionaries(
    st.sampled_from("abcd"),
    st.tuples(*[st.integers(0, 6)] * 4).filter(lambda c: sum(c) > 0),
    min_size=1,
    max_size=4,
)


@settings(max_examples=30, deadline=None)
@given(group_counts)
def test_fairness_from_counts_equals_fairlearn(counts):
    outcomes = outcomes_from_counts(counts)
    cells = confusion_cells(outcomes, ["group"])
    ours = fairness(cells.counts)
    kwargs = {
        "y_true": outcomes["y_true"].astype(int),
        "y_pred": outcomes["flagged"].astype(int),
        "sensitive_features": outcomes["group"],
    }
    expected = {
        "demographic_parity_difference": demographic_parity_difference(**kwargs),
        "demographic_parity_ratio": demographic_parity_ratio(**kwargs),
        "equalized_odds_difference": equalized_odds_difference(**kwargs),
    }
    for name, value in expected.items():
        if np.isnan(value):
            assert np.isnan(ours[name]), name
        else:
            assert ours[name] == pytest.approx(value), name
