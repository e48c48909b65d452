"""The ladder's attribution from rungs kept lean (audits.attribution.rung_flags)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.attribution import RUNGS, attribute, rung_flags
from simulator.errors import InputDataError


def outcomes_of(seed: int, n: int, consecutive: bool) -> dict[str, pd.DataFrame]:
    """Every rung's outcomes, as household_outcomes gives them: groups, truth, flags.

    Household ids run on by one from a random start, or are any distinct ids (which
    may run on by one too).
    """
    rng = np.random.default_rng(seed)
    start = int(rng.integers(0, 100))
    ids = np.arange(start, start + n) if consecutive else rng.permutation(n * 3)[:n]
    base = pd.DataFrame(
        {
            "household_id": ids,
            "tenure": pd.Categorical(rng.choice(["owned", "rented"], n)),
            "imd_decile": rng.integers(1, 11, n).astype(np.int8),
            "y_true": rng.random(n) < 0.3,
        }
    )
    return {
        rung: base.assign(flagged=rng.random(n) < 0.4, score=rng.random(n))
        for rung in RUNGS
    }


def lean(whole: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every rung but the real one as a run keeps it."""
    real = RUNGS[-1]
    return {r: o if r == real else rung_flags(o) for r, o in whole.items()}


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), consecutive=st.booleans())
def test_rungs_kept_lean_attribute_as_whole_outcomes(seed, n, consecutive):
    """Every rung but the real one reduced to its ids, truth and flags gives the
    same attribution; the lean rungs are copies (changing the outcomes they came
    from leaves them as they were), their ids an index of no bytes a household when
    they run on by one."""
    whole = outcomes_of(seed, n, consecutive)
    kept = lean(whole)
    groups = ["tenure", "imd_decile"]
    a, b = attribute(whole, groups), attribute(kept, groups)
    pd.testing.assert_frame_equal(a.households, b.households)
    pd.testing.assert_frame_equal(a.counts, b.counts)
    pd.testing.assert_frame_equal(a.flagged_by_rung, b.flagged_by_rung)
    first = kept[RUNGS[0]]
    assert list(first.columns) == ["y_true", "flagged"]
    assert (first.index.to_numpy() == whole[RUNGS[0]]["household_id"]).all()
    ids = whole[RUNGS[0]]["household_id"].to_numpy()
    assert isinstance(first.index, pd.RangeIndex) == bool((np.diff(ids) == 1).all())
    before = first.copy()
    whole[RUNGS[0]].loc[:, "flagged"] = ~whole[RUNGS[0]]["flagged"]
    pd.testing.assert_frame_equal(first, before)


@pytest.mark.parametrize("consecutive", [True, False])
def test_a_lean_rung_of_other_households_is_refused(consecutive):
    """The check that every rung holds the real run's households still holds."""
    whole = outcomes_of(3, 20, consecutive)
    whole[RUNGS[0]] = whole[RUNGS[0]].assign(
        household_id=whole[RUNGS[0]]["household_id"] + 1
    )
    with pytest.raises(InputDataError, match="other households"):
        attribute(lean(whole))
