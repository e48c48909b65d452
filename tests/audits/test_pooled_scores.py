"""Score diagnostics pooled over worlds: the AUC of every world's rows together,
calibration counts summed in shared bins, and each world's range beside them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from audits.pooled_scores import pooled_score_diagnostics
from audits.score_diagnostics import score_diagnostics
from tests.audits.test_score_diagnostics import scored_frames

SETS = [("g",), ("h",), ("g", "h")]


def _row(table: pd.DataFrame, group: str, value: str) -> pd.Series:
    rows = table[(table["group"] == group) & (table["value"] == value)]
    assert len(rows) == 1, (group, value)
    return rows.iloc[0]


def _group_rows(frame: pd.DataFrame, column: str):
    """(value as text, the rows) of each group of ``column``; "overall" first."""
    yield "overall", "overall", frame
    for value, rows in frame.groupby(column):
        yield column, str(value), rows


def _close(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or abs(a - b) < 1e-12


def _auc(rows: pd.DataFrame, weighted: bool) -> float:
    if rows["y_true"].nunique() < 2:
        return np.nan
    w = rows["w"] if weighted else None
    return float(roc_auc_score(rows["y_true"], rows["score"], sample_weight=w))


@settings(max_examples=25, deadline=None)
@given(worlds=st.lists(scored_frames(), min_size=1, max_size=4), weighted=st.booleans())
def test_pooled_auc_is_sklearns_on_every_worlds_rows_with_each_worlds_range(
    worlds, weighted
):
    weight = "w" if weighted else None
    pooled = pooled_score_diagnostics(worlds, SETS, weight=weight).auc
    together = pd.concat(worlds, ignore_index=True)
    for column in ("g", "h"):
        for group, value, rows in _group_rows(together, column):
            row = _row(pooled, group, value)
            assert _close(row["auc"], _auc(rows, weighted))
            own = [
                _auc(
                    w[w[column].astype(str) == value] if group != "overall" else w,
                    weighted,
                )
                for w in worlds
                if group == "overall" or (w[column].astype(str) == value).any()
            ]
            assert row["worlds"] == len(own)
            defined = [a for a in own if np.isfinite(a)]
            low, high = (min(defined), max(defined)) if defined else (np.nan, np.nan)
            assert _close(row["auc_low"], low) and _close(row["auc_high"], high)


@settings(max_examples=25, deadline=None)
@given(worlds=st.lists(scored_frames(), min_size=2, max_size=4))
def test_pooled_auc_is_the_weighted_mean_of_every_pair_of_worlds(worlds):
    """A positive of world i against a negative of world j, weighted by how many
    such pairs there are: so the pooled AUC lies between the smallest and largest
    of those pairs' figures (but not always between the worlds' own AUCs)."""
    auc = _row(pooled_score_diagnostics(worlds, []).auc, "overall", "overall")["auc"]
    pairs, weights = [], []
    for a in worlds:
        for b in worlds:
            pos = a["score"][a["y_true"]].to_numpy()
            neg = b["score"][~b["y_true"]].to_numpy()
            if len(pos) and len(neg):
                wins = (pos[:, None] > neg).sum() + (pos[:, None] == neg).sum() / 2
                pairs.append(wins / (len(pos) * len(neg)))
                weights.append(len(pos) * len(neg))
    if not pairs:
        assert np.isnan(auc)
        return
    assert abs(auc - np.average(pairs, weights=weights)) < 1e-12
    assert min(pairs) - 1e-12 <= auc <= max(pairs) + 1e-12


@settings(max_examples=25, deadline=None)
@given(worlds=st.lists(scored_frames(), min_size=1, max_size=4), weighted=st.booleans())
def test_calibration_sums_the_worlds_in_one_set_of_bins(worlds, weighted):
    """The bins are those of every world's scores; a bin's counts are summed over
    the worlds and its rate, a weighted mean of the worlds' rates, lies between
    the smallest and largest of them."""
    weight = "w" if weighted else None
    cal = pooled_score_diagnostics(worlds, SETS, weight=weight).calibration
    together = pd.concat(worlds, ignore_index=True)
    alone = score_diagnostics(together, SETS, weight=weight).calibration
    pd.testing.assert_frame_equal(cal[alone.columns], alone)
    rate, low, high = (
        cal[c].to_numpy()
        for c in ("observed_rate", "observed_rate_low", "observed_rate_high")
    )
    assert np.all(low <= rate + 1e-12) and np.all(rate <= high + 1e-12)
    assert (cal["worlds"] >= 1).all() and (cal["worlds"] <= len(worlds)).all()


@settings(max_examples=20, deadline=None)
@given(world=scored_frames(), weighted=st.booleans())
def test_one_world_pools_to_itself(world, weighted):
    weight = "w" if weighted else None
    own = score_diagnostics(world, SETS, weight=weight)
    pooled = pooled_score_diagnostics([world], SETS, weight=weight)
    for mine, theirs in ((pooled.auc, own.auc), (pooled.calibration, own.calibration)):
        pd.testing.assert_frame_equal(mine[theirs.columns], theirs)
        assert (mine["worlds"] == 1).all()
    pd.testing.assert_frame_equal(pooled.curves, own.curves)
    auc = pooled.auc
    assert np.array_equal(auc["auc_low"], auc["auc"], equal_nan=True)
    assert np.array_equal(auc["auc_high"], auc["auc"], equal_nan=True)
    cal = pooled.calibration
    assert np.array_equal(
        cal["observed_rate_low"], cal["observed_rate"], equal_nan=True
    )
