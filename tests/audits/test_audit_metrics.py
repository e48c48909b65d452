"""audit_metrics: counts and rates equal hand-worked confusion counts."""

from __future__ import annotations

import functools
import math
import re
from contextlib import nullcontext as does_not_raise

import numpy as np
import pandas as pd
import pytest
from audittools import outcomes_from_counts
from fairlearn.metrics import (
    MetricFrame,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import precision_score

from audits.confusion import RATES
from audits.errors import AuditError
from audits.metrics import (
    _DUPLICATE_GROUPING,
    _NO_GROUPINGS,
    COLUMNS,
    audit_metrics,
)
from audits.outcomes import (
    false_negatives,
    false_positives,
    true_negatives,
    true_positives,
    wrongly_flagged_per_10k,
)
from simulator.errors import InputDataError

NAN = math.nan

# (TP, FP, FN, TN) per group, and the rates worked out by hand:
# selection rate, TPR, FPR, FNR, precision, wrongly flagged per 10,000.
CASES = {
    "mixed": (
        {"a": (2, 1, 1, 4), "b": (1, 3, 0, 6)},
        {
            "a": (3 / 8, 2 / 3, 1 / 5, 1 / 3, 2 / 3, 1250.0),
            "b": (4 / 10, 1.0, 3 / 9, 0.0, 1 / 4, 3000.0),
        },
    ),
    "no positives in a group": (
        {"a": (0, 2, 0, 8), "b": (5, 0, 5, 0)},
        {
            "a": (2 / 10, NAN, 2 / 10, NAN, 0.0, 2000.0),
            "b": (5 / 10, 5 / 10, NAN, 5 / 10, 1.0, 0.0),
        },
    ),
    "nothing flagged in a group": (
        {"a": (0, 0, 3, 7), "b": (1, 1, 1, 1)},
        {
            "a": (0.0, 0.0, 0.0, 1.0, NAN, 0.0),
            "b": (1 / 2, 1 / 2, 1 / 2, 1 / 2, 1 / 2, 2500.0),
        },
    ),
    "a group of one": (
        {"a": (0, 1, 0, 0), "b": (0, 0, 0, 1)},
        {
            "a": (1.0, NAN, 1.0, NAN, 0.0, 10_000.0),
            "b": (0.0, NAN, 0.0, NAN, NAN, 0.0),
        },
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_metrics_equal_hand_computed_confusion_matrices(case):
    counts, expected = CASES[case]
    m = audit_metrics(outcomes_from_counts(counts), group_columns=["group"])
    by_group = m.by_group.set_index("value")
    assert list(m.by_group.columns) == list(COLUMNS)
    assert by_group.index.tolist() == list(counts)
    for value, (tp, fp, fn, tn) in counts.items():
        row = by_group.loc[value]
        assert (row["tp"], row["fp"], row["fn"], row["tn"]) == (tp, fp, fn, tn)
        assert row["n"] == tp + fp + fn + tn
        assert row["n_positive"] == tp + fn
        assert row["n_flagged"] == tp + fp
        got = [row[r] for r in RATES]
        np.testing.assert_allclose(got, expected[value])
    total = np.sum(list(counts.values()), axis=0)
    overall = m.overall.iloc[0]
    assert (overall["group"], overall["value"]) == ("overall", "overall")
    assert [overall[c] for c in ("tp", "fp", "fn", "tn")] == total.tolist()


def test_intersections_are_labelled_and_ordered():
    outcomes = pd.DataFrame(
        {
            "imd_quintile": np.array([5, 1, 1, 5, 1], dtype=np.int8),
            "ethnicity": pd.Categorical(
                ["white", "white", "asian", "asian", "white"],
                categories=["white", "asian"],
            ),
            "y_true": [True, False, True, False, True],
            "flagged": [True, True, False, False, True],
        }
    )
    m = audit_metrics(
        outcomes,
        group_columns=["ethnicity"],
        intersections=[["imd_quintile", "ethnicity"]],
    )
    rows = m.by_group[["group", "value", "n", "tp", "fp"]].values.tolist()
    assert rows == [
        ["ethnicity", "white", 3, 2, 1],
        ["ethnicity", "asian", 2, 0, 0],
        ["imd_quintile × ethnicity", "1 × white", 2, 1, 1],
        ["imd_quintile × ethnicity", "1 × asian", 1, 0, 0],
        ["imd_quintile × ethnicity", "5 × white", 1, 1, 0],
        ["imd_quintile × ethnicity", "5 × asian", 1, 0, 0],
    ]


@pytest.mark.parametrize(
    ("kwargs", "expectation"),
    [
        ({"group_columns": ["g"]}, does_not_raise()),
        (
            {"group_columns": []},
            pytest.raises(AuditError, match=re.escape(_NO_GROUPINGS)),
        ),
        (
            {"group_columns": ["g"], "intersections": [["g", "h"], ["g", "h"]]},
            pytest.raises(
                AuditError,
                match=re.escape(_DUPLICATE_GROUPING.format(grouping="g × h")),
            ),
        ),
        (
            {"group_columns": ["g", "nope", "also_not"]},
            pytest.raises(InputDataError, match="lacks column.s. nope, also_not"),
        ),
        (
            {"group_columns": ["gap"]},
            pytest.raises(InputDataError, match="'gap' has 1 missing value"),
        ),
    ],
)
def test_bad_groupings_are_named(kwargs, expectation):
    outcomes = pd.DataFrame(
        {
            "g": ["a", "b", "a"],
            "h": [1, 1, 2],
            "gap": ["x", None, "y"],
            "y_true": [True, False, True],
            "flagged": [False, False, True],
        }
    )
    with expectation:
        audit_metrics(outcomes, **kwargs)


frames = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        st.lists(st.sampled_from("abc"), min_size=n, max_size=n),
        st.lists(st.integers(1, 3), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
    )
)


def _frame(data) -> pd.DataFrame:
    g, h, t, p = data
    return pd.DataFrame({"g": g, "h": h, "y_true": t, "flagged": p})


@settings(max_examples=12, deadline=None)
@given(frames)
def test_rates_are_proportions_and_counts_add_up(data):
    outcomes = _frame(data)
    m = audit_metrics(outcomes, group_columns=["g"], intersections=[["g", "h"]])
    table = pd.concat([m.overall, m.by_group])
    proportions = table[[r for r in RATES if r != "wrongly_flagged_per_10k"]]
    values = proportions.to_numpy(dtype=float)
    assert np.all(np.isnan(values) | ((values >= 0) & (values <= 1)))
    per10k = table["wrongly_flagged_per_10k"].to_numpy(dtype=float)
    assert np.all((per10k >= 0) & (per10k <= 10_000))
    assert (table[["tp", "fp", "fn", "tn"]].sum(axis=1) == table["n"]).all()
    assert (table["tpr"].isna() == (table["n_positive"] == 0)).all()
    assert (table["precision"].isna() == (table["n_flagged"] == 0)).all()
    for _, rows in m.by_group.groupby("group"):
        assert rows["n"].sum() == len(outcomes)
        assert rows["fp"].sum() == m.overall["fp"].iloc[0]


METRIC_FUNCTIONS = {
    "tp": true_positives,
    "fp": false_positives,
    "fn": false_negatives,
    "tn": true_negatives,
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "precision": functools.partial(precision_score, zero_division=np.nan),
    "wrongly_flagged_per_10k": wrongly_flagged_per_10k,
}
"""fairlearn's rates, scikit-learn's precision and the scikit-learn-signature
functions of audits.outcomes: what a MetricFrame user would compute."""


def _assert_agrees(ours: pd.Series, theirs: pd.Series) -> None:
    """Our row equals fairlearn's, except where ours is undefined (NaN)."""
    for metric, expected in theirs.items():
        got = float(ours[metric])
        if np.isnan(got):  # undefined here; fairlearn reports 0 for one class
            assert expected == 0 or np.isnan(expected), metric
        else:
            assert got == pytest.approx(expected), metric


@settings(max_examples=15, deadline=None)
@given(frames)
def test_tables_from_counts_agree_with_metric_frame_on_the_household_rows(data):
    """The production path (counts) against fairlearn's MetricFrame on raw rows."""
    outcomes = _frame(data)
    m = audit_metrics(outcomes, group_columns=["g"], intersections=[["g", "h"]])
    kwargs = {
        "metrics": METRIC_FUNCTIONS,
        "y_true": outcomes["y_true"].astype(int),
        "y_pred": outcomes["flagged"].astype(int),
    }
    single = MetricFrame(**kwargs, sensitive_features=outcomes["g"])
    _assert_agrees(m.overall.iloc[0], single.overall)
    rows = m.by_group.set_index(["group", "value"])
    for value, theirs in single.by_group.iterrows():
        _assert_agrees(rows.loc[("g", str(value))], theirs)
    joint = MetricFrame(**kwargs, sensitive_features=outcomes[["g", "h"]])
    for (g, h), theirs in joint.by_group.dropna(how="all").iterrows():
        _assert_agrees(rows.loc[("g × h", f"{g} × {h}")], theirs)


@settings(max_examples=10, deadline=None)
@given(frames)
def test_outcome_functions_with_weights_equal_them_on_rows(data):
    """The scikit-learn-signature functions take counts as sample weights."""
    outcomes = _frame(data)
    counts = outcomes.groupby(["y_true", "flagged"]).size().reset_index(name="w")
    for name in ("tp", "fp", "fn", "tn", "wrongly_flagged_per_10k"):
        fn = METRIC_FUNCTIONS[name]
        on_rows = fn(outcomes["y_true"], outcomes["flagged"])
        weighted = fn(counts["y_true"], counts["flagged"], sample_weight=counts["w"])
        assert weighted == pytest.approx(on_rows), name
