"""The ladder's attribution from rungs kept lean (audits.attribution.rung_flags)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.attribution import RUNG_COLUMNS, RUNGS, attribute, rung_flags


def outcomes_of(seed: int, n: int) -> dict[str, pd.DataFrame]:
    """Every rung's outcomes, as household_outcomes gives them: groups, truth, flags."""
    rng = np.random.default_rng(seed)
    base = pd.DataFrame(
        {
            "household_id": rng.permutation(n * 3)[:n],
            "tenure": pd.Categorical(rng.choice(["owned", "rented"], n)),
            "imd_decile": rng.integers(1, 11, n).astype(np.int8),
            "y_true": rng.random(n) < 0.3,
        }
    )
    return {
        rung: base.assign(flagged=rng.random(n) < 0.4, score=rng.random(n))
        for rung in RUNGS
    }


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60))
def test_rungs_kept_lean_attribute_as_whole_outcomes(seed, n):
    """Every rung but the real one reduced to its ids, truth and flags gives the
    same attribution, and the lean rungs are copies: changing the outcomes they came
    from leaves them as they were."""
    whole = outcomes_of(seed, n)
    real = RUNGS[-1]
    lean = {r: o if r == real else rung_flags(o) for r, o in whole.items()}
    groups = ["tenure", "imd_decile"]
    a, b = attribute(whole, groups), attribute(lean, groups)
    pd.testing.assert_frame_equal(a.households, b.households)
    pd.testing.assert_frame_equal(a.counts, b.counts)
    pd.testing.assert_frame_equal(a.flagged_by_rung, b.flagged_by_rung)
    first = lean[RUNGS[0]]
    assert tuple(first.columns) == RUNG_COLUMNS
    before = first.copy()
    whole[RUNGS[0]].loc[:, "flagged"] = ~whole[RUNGS[0]]["flagged"]
    pd.testing.assert_frame_equal(first, before)
