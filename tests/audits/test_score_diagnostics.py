"""Score diagnostics by group: AUC against scikit-learn, calibration counts, curves
against the audit's own rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from audits.confusion import JOIN, row_cells
from audits.score_diagnostics import calibration_bins, score_diagnostics
from audits.table import audit_table


@st.composite
def scored_frames(draw: st.DrawFn) -> pd.DataFrame:
    """Scored rows with ties, two group columns, weights, some groups one-class."""
    n = draw(st.integers(2, 80))
    seed = draw(st.integers(0, 2**32 - 1))
    levels = draw(st.integers(2, 40))  # few levels: many ties
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "score": rng.integers(0, levels, n) / levels,
            "y_true": rng.random(n) < draw(st.floats(0.0, 1.0)),
            "flagged": False,
            "g": rng.choice(["a", "b", "c"], n),
            "h": rng.integers(0, 3, n),
            "w": rng.random(n) + 0.1,
        }
    )
    frame.loc[0, ["g", "h"]] = ["a", 0]  # every column has two groups or more
    frame.loc[1, ["g", "h"]] = ["b", 1]
    return frame


def _groups(frame: pd.DataFrame, table: pd.DataFrame, column: str):
    for value, rows in frame.groupby(column):
        yield rows, table[(table["group"] == column) & (table["value"] == str(value))]


@settings(max_examples=25, deadline=None)
@given(frame=scored_frames(), weighted=st.booleans())
def test_auc_per_group_is_sklearns_on_the_groups_rows(frame, weighted):
    d = score_diagnostics(frame, [("g",), ("h",)], weight="w" if weighted else None)
    for column in ("g", "h"):
        for rows, row in _groups(frame, d.auc, column):
            assert len(row) == 1
            auc, note = row["auc"].iloc[0], row["note"].iloc[0]
            if rows["y_true"].nunique() < 2:
                assert np.isnan(auc)
                assert note.startswith("undefined: every row in this group has")
                continue
            expected = roc_auc_score(
                rows["y_true"],
                rows["score"],
                sample_weight=rows["w"] if weighted else None,
            )
            assert auc == np.float64(expected) or abs(auc - expected) < 1e-12
            assert note == ""


def _five_rows(y_true: list[bool], g: list[str], **more: list) -> pd.DataFrame:
    return pd.DataFrame(
        {"score": [0.1, 0.2, 0.3, 0.4, 0.5], "y_true": y_true, "flagged": False}
        | {"g": g, **more}
    )


def test_a_weighted_one_class_group_has_no_auc_despite_rounding():
    # 1.1 + 0.2 + 1.0 + 0.4 summed as all rows minus positives leaves a residue
    # of about 1e-16 "negatives" in group b, which once gave it an AUC of 0.56
    frame = _five_rows(
        [False, True, True, True, True], list("aabbb"), w=[0.6, 1.1, 0.2, 1.0, 0.4]
    )
    auc = score_diagnostics(frame, [("g",)], weight="w").auc.set_index("value")
    assert auc.loc["a", "auc"] == 1.0
    assert np.isnan(auc.loc["b", "auc"])
    assert auc.loc["b", "note"].startswith("undefined: every row in this group has")


def test_single_class_group_keeps_its_row_with_a_note():
    frame = _five_rows(
        [True, True, False, True, False],
        ["all one", "all one", "mixed", "mixed", "mixed"],
    )
    frame["score"] = [0.1, 0.9, 0.2, 0.7, 0.5]
    auc = score_diagnostics(frame, [("g",)]).auc.set_index(["group", "value"])
    assert np.isnan(auc.loc[("g", "all one"), "auc"])
    assert auc.loc[("g", "all one"), "note"] == (
        "undefined: every row in this group has y_true = 1"
    )
    assert auc.loc[("g", "mixed"), "auc"] == 1.0


@settings(max_examples=25, deadline=None)
@given(frame=scored_frames(), weighted=st.booleans())
def test_calibration_counts_sum_to_the_group_sizes(frame, weighted):
    frame.loc[frame.index[::7], "score"] = np.nan  # some rows have no score
    d = score_diagnostics(frame, [("g",), ("g", "h")], weight="w" if weighted else None)
    size = frame["w"] if weighted else pd.Series(1.0, index=frame.index)
    cal = d.calibration
    for column in ("g",):
        for rows, part in _groups(frame, cal, column):
            assert np.isclose(part["n"].sum(), size[rows.index].sum())
            positives = (size[rows.index] * rows["y_true"]).sum()
            assert np.isclose(part["n_positive"].sum(), positives)
    joint = cal[cal["group"] == "g × h"]
    assert np.isclose(joint["n"].sum(), size.sum())
    # each bin's observed rate is the share of its rows with the outcome
    low, _ = calibration_bins(np.sort(frame["score"].fillna(-np.inf).to_numpy()))
    overall = cal[cal["group"] == "overall"].set_index("bin")
    scored = frame["score"].notna()
    b = np.where(scored, np.searchsorted(low, frame["score"], side="right"), 0)
    for k, rows in frame.groupby(b):
        wk = size[rows.index]
        assert np.isclose(
            overall.loc[k, "observed_rate"], (wk * rows["y_true"]).sum() / wk.sum()
        )


@settings(max_examples=15, deadline=None)
@given(frame=scored_frames(), pick=st.integers(0, 10**6), weighted=st.booleans())
def test_curves_at_a_threshold_are_the_audits_rates_when_flags_are_score_at_least_it(
    frame, pick, weighted
):
    thresholds = np.unique(frame["score"])
    cut = float(thresholds[pick % len(thresholds)])
    frame["label"] = frame["y_true"].astype(int)
    result = audit_table(
        frame,
        label="label",
        score="score",
        flag=f"threshold={cut!r}",
        groups=["g", "h"],
        intersections=[("g", "h")],
        weight="w" if weighted else None,
        n_boot=0,
        min_group_size=0,
    )
    assert result.scores is not None
    curves = result.scores.curves
    at_cut = curves[np.isclose(curves["threshold"], cut)].set_index(["group", "value"])
    metrics = result.metrics.by_group.set_index(["group", "value"])
    for metric in ("selection_rate", "tpr", "fpr", "fnr", "precision"):
        np.testing.assert_allclose(
            at_cut.loc[metrics.index, metric].to_numpy(dtype=float),
            metrics[metric].to_numpy(dtype=float),
            rtol=0,
            atol=1e-12,
        )
    np.testing.assert_allclose(
        at_cut.loc[metrics.index, "n_flagged"].to_numpy(dtype=float),
        metrics["n_flagged"].to_numpy(dtype=float),
    )


def test_a_decision_table_has_no_score_diagnostics():
    frame = pd.DataFrame(
        {"label": [0, 1, 0, 1], "decision": [1, 1, 0, 0], "g": ["a", "a", "b", "b"]}
    )
    result = audit_table(
        frame,
        label="label",
        flagged="decision",
        groups=["g"],
        n_boot=0,
        min_group_size=0,
    )
    assert result.scores is None


SETS = [("g",), ("h",), ("g", "h")]


@settings(max_examples=20, deadline=None)
@given(
    frame=scored_frames(),
    weighted=st.booleans(),
    skipped=st.sets(st.sampled_from(SETS)),
)
def test_groupings_without_curves_change_no_other_figure(frame, weighted, skipped):
    """Groupings measured without their threshold curves (each world's, when worlds
    are pooled) lose only those rows: the AUC, the calibration and the other
    groupings' curves are those of a call that draws every curve, to the bit."""
    weight = "w" if weighted else None
    full = score_diagnostics(frame, SETS, weight=weight)
    part = score_diagnostics(frame, SETS, weight=weight, no_curves=skipped)
    pd.testing.assert_frame_equal(part.auc, full.auc)
    pd.testing.assert_frame_equal(part.calibration, full.calibration)
    kept = ~full.curves["group"].isin([JOIN.join(s) for s in skipped])
    pd.testing.assert_frame_equal(part.curves, full.curves[kept].reset_index(drop=True))


@settings(max_examples=20, deadline=None)
@given(frame=scored_frames())
def test_cells_from_columns_factorised_before_are_those_factorised_anew(frame):
    """row_cells reusing the columns another grouping factorised (score_diagnostics
    factorises each column once) gives each row the cell it gets alone."""
    known: dict = {}
    for columns in [("g",), ("h", "g"), ("g", "h"), ("h",)]:
        codes, values = row_cells(frame, columns, known)
        alone, alone_values = row_cells(frame, columns)
        np.testing.assert_array_equal(codes, alone)
        assert values == alone_values
