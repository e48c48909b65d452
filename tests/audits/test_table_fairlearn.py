"""audit_table agrees with fairlearn's MetricFrame on every per-group metric.

fairlearn's MetricFrame is computed here, independently, from the same frame: its
own rate functions, scikit-learn's precision and plain counts, on the raw columns
(a missing group value is given the audit's group name by hand before fairlearn sees
it, since fairlearn refuses missing sensitive features). Two sources: scikit-learn's
bundled diabetes data (Efron et al. 2004, shipped inside scikit-learn under its BSD
licence; no download), written to CSV and to Parquet and read back by the audit; and
synthetic frames drawn by hypothesis, with missing values, numeric group codes and
weights. fairlearn returns 0 where a rate's denominator is zero and the audit NaN,
so those cells are compared as "undefined here, 0 there".
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_diabetes
from sklearn.metrics import precision_score

from audits.errors import AuditWarning
from audits.table import MISSING, audit_table

JOIN = " × "


def _cell(predicate):
    def metric(y_true, y_pred, sample_weight=None):
        t = np.asarray(y_true).astype(bool)
        q = np.asarray(y_pred).astype(bool)
        w = np.ones(len(t)) if sample_weight is None else np.asarray(sample_weight)
        return float(w[predicate(t, q)].sum())

    return metric


def _weighted_n(y_true, y_pred, sample_weight=None):
    return float(len(y_true) if sample_weight is None else np.sum(sample_weight))


def _per_10k(y_true, y_pred, sample_weight=None):
    return (
        10_000
        * _cell(lambda t, q: ~t & q)(y_true, y_pred, sample_weight)
        / (_weighted_n(y_true, y_pred, sample_weight))
    )


def _precision(y_true, y_pred, sample_weight=None):
    return precision_score(
        y_true, y_pred, sample_weight=sample_weight, zero_division=np.nan
    )


METRICS = {
    "n": _weighted_n,
    "tp": _cell(lambda t, q: t & q),
    "fp": _cell(lambda t, q: ~t & q),
    "fn": _cell(lambda t, q: t & ~q),
    "tn": _cell(lambda t, q: ~t & ~q),
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "precision": _precision,
    "wrongly_flagged_per_10k": _per_10k,
}
"""fairlearn's metric per column of metrics_by_group."""
DENOMINATOR = {"tpr": ("tp", "fn"), "fnr": ("tp", "fn"), "fpr": ("fp", "tn")}


def _labelled(values: pd.Series) -> pd.Series:
    """Group values as the audit names them: missing as MISSING, text otherwise."""
    return values.astype(object).where(values.notna(), MISSING).map(str)


def fairlearn_by_group(
    frame: pd.DataFrame,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    columns: list[str],
    weight: str | None = None,
) -> pd.DataFrame:
    """fairlearn's per-group metrics, indexed by the audit's group label and value."""
    params = (
        None
        if weight is None
        else {m: {"sample_weight": frame[weight].to_numpy()} for m in METRICS}
    )
    sensitive = pd.DataFrame({c: _labelled(frame[c]) for c in columns})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fairlearn's zero-division warnings
        mf = MetricFrame(
            metrics=METRICS,
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=sensitive if len(columns) > 1 else sensitive[columns[0]],
            sample_params=params,
        )
    by = mf.by_group.dropna(subset=["n"])
    by = by[by["n"] > 0] if weight is None else by
    index = by.index
    values = (
        [JOIN.join(map(str, v)) for v in index]
        if len(columns) > 1
        else [str(v) for v in index]
    )
    by = by.reset_index(drop=True)
    by.index = pd.MultiIndex.from_arrays(
        [[JOIN.join(columns)] * len(by), values], names=["group", "value"]
    )
    return by


def assert_matches_fairlearn(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """Every metric of every group equal; rates with a zero denominator NaN vs 0."""
    ours = ours.set_index(["group", "value"])
    assert sorted(ours.index) == sorted(theirs.index)
    theirs = theirs.loc[ours.index]
    for metric in METRICS:
        a = ours[metric].to_numpy(dtype=float)
        b = theirs[metric].to_numpy(dtype=float)
        undefined = np.isnan(a)
        if metric in DENOMINATOR:
            den = sum(ours[c].to_numpy(dtype=float) for c in DENOMINATOR[metric])
            np.testing.assert_array_equal(undefined, den == 0, err_msg=metric)
            b = np.where(undefined, np.nan, b)  # fairlearn: 0 for an empty class
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=metric)


# ------------------------------------------------------------ a public dataset


@pytest.fixture(scope="module")
def diabetes() -> pd.DataFrame:
    """scikit-learn's diabetes data: label, score, sex codes, age bands, some gaps."""
    data = load_diabetes(scaled=False, as_frame=True)
    frame = data.frame.rename(columns={"target": "progression"})
    out = pd.DataFrame(
        {
            "patient": np.arange(len(frame)) + 1000,
            "worse": (frame["progression"] > frame["progression"].median()).astype(int),
            "bmi": frame["bmi"],
            "sex": frame["sex"].astype(int).astype("Int64"),
            "age band": (frame["age"] // 10 * 10).astype(int),
        }
    )
    out.loc[out.index % 17 == 0, "sex"] = pd.NA  # missing codes: their own group
    return out


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_diabetes_file_matches_fairlearn(diabetes, tmp_path, suffix):
    path = tmp_path / f"diabetes.{suffix}"
    if suffix == "csv":
        diabetes.to_csv(path, index=False)
    else:
        diabetes.to_parquet(path, index=False)
    n_missing = int(diabetes["sex"].isna().sum())
    with pytest.warns(AuditWarning, match=f"'sex' has no value in {n_missing} row"):
        result = audit_table(
            path,
            label="worse",
            score="bmi",
            flag="top_percent=25",
            groups=["sex", "age band"],
            intersections=[("sex", "age band")],
            id="patient",
            n_boot=50,
            min_group_size=0,
        )
    # the flags, worked out independently: the top quarter of BMI, ties to lower id
    order = np.lexsort((diabetes["patient"].to_numpy(), -diabetes["bmi"].to_numpy()))
    y_pred = np.zeros(len(diabetes), dtype=bool)
    y_pred[order[: len(diabetes) * 25 // 100]] = True
    y_true = diabetes["worse"].to_numpy()
    theirs = pd.concat(
        fairlearn_by_group(diabetes, y_true, y_pred, cols)
        for cols in (["sex"], ["age band"], ["sex", "age band"])
    )
    assert_matches_fairlearn(result.metrics.by_group, theirs)
    assert MISSING in set(result.metrics.by_group["value"])
    assert result.metrics.overall["n_flagged"].iloc[0] == y_pred.sum()
    # fairlearn's summary measures of each grouping, too
    fair = result.disparities.fairness.set_index(["group", "measure"])["estimate"]
    sex = _labelled(diabetes["sex"])
    assert fair["sex", "demographic_parity_difference"] == pytest.approx(
        demographic_parity_difference(y_true, y_pred, sensitive_features=sex)
    )
    assert fair["sex", "equalized_odds_difference"] == pytest.approx(
        equalized_odds_difference(y_true, y_pred, sensitive_features=sex)
    )


def test_diabetes_numeric_codes_sort_as_numbers(diabetes):
    result = audit_table(
        diabetes,
        label="worse",
        score="bmi",
        flag="threshold=30",
        groups=["age band"],
        n_boot=0,
        min_group_size=0,
    )
    values = list(result.metrics.by_group["value"])
    assert values == [str(v) for v in sorted(diabetes["age band"].unique())]


# ------------------------------------------------------------- synthetic frames


@st.composite
def frames(draw):
    n = draw(st.integers(20, 200))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    text = draw(
        st.lists(
            st.text(min_size=1, max_size=6).filter(str.strip), min_size=2, max_size=4
        )
    )
    text = list(dict.fromkeys(t.strip() for t in text))
    text += [] if len(text) > 1 else [text[0] + "x"]
    codes = draw(st.lists(st.integers(-5, 99), min_size=2, max_size=5, unique=True))
    p_missing = draw(st.sampled_from([0.0, 0.1, 0.5]))
    words = pd.Series(rng.choice(np.array(text, dtype=object), n), dtype=object)
    numbers = pd.Series(rng.choice(codes, n)).astype("Int64")
    words[rng.random(n) < p_missing] = None
    numbers[rng.random(n) < p_missing] = pd.NA
    frame = pd.DataFrame(
        {
            "y": rng.random(n) < draw(st.floats(0.0, 1.0)),
            "decision": (rng.random(n) < draw(st.floats(0.0, 1.0))).astype(int),
            "kind of place": words,
            "code": numbers,
            "w": rng.integers(1, 5, n) * 0.5,
        }
    )
    if frame["kind of place"].nunique(dropna=False) < 2:
        frame.loc[0, "kind of place"], frame.loc[1, "kind of place"] = text[0], None
    if frame["code"].nunique(dropna=False) < 2:
        frame.loc[0, "code"], frame.loc[1, "code"] = codes[0], pd.NA
    return frame


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(), weighted=st.booleans())
def test_synthetic_frames_match_fairlearn(frame, weighted):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuditWarning)  # missing groups, small groups
        result = audit_table(
            frame,
            label="y",
            flagged="decision",
            groups=["kind of place", "code"],
            intersections=[("kind of place", "code")],
            weight="w" if weighted else None,
            n_boot=0,
        )
    y_true, y_pred = frame["y"].to_numpy(), frame["decision"].to_numpy()
    theirs = pd.concat(
        fairlearn_by_group(frame, y_true, y_pred, cols, "w" if weighted else None)
        for cols in (["kind of place"], ["code"], ["kind of place", "code"])
    )
    assert_matches_fairlearn(result.metrics.by_group, theirs)
