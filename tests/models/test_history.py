"""Known to services: the council's past flags in its score (``dynamics.history``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.council.history import count_flags, with_history
from simulator.council.models import FlagRule, apply_flag_rule
from simulator.vocabulary import INDEX


def flags_table(scores: np.ndarray, ids: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({INDEX: ids, "score": scores, "flagged": scores >= 2})


households = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 6), min_size=n, max_size=n),
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
        st.permutations(list(range(100, 100 + n))),
    )
)


@settings(max_examples=60, deadline=None)
@given(data=households, points=st.floats(0.0, 5.0), threshold=st.integers(1, 6))
def test_past_flags_only_add_flags_under_a_threshold(data, points, threshold):
    scores, past_counts, ids = (np.asarray(x) for x in data)
    flags = flags_table(scores.astype(float), ids)
    past = pd.Series(past_counts, index=pd.Index(ids, name=INDEX))
    rule = FlagRule(threshold=float(threshold))
    out = with_history(flags, past, points, rule)
    index = pd.Index(ids, name=INDEX)
    model_only = apply_flag_rule(pd.Series(scores.astype(float), index), rule)
    assert (out[INDEX].to_numpy() == ids).all()  # the flags table's order
    assert (out["past_flags"].to_numpy() == past_counts).all()
    assert np.allclose(out["score"], scores + points * past_counts)
    assert (out["flagged"].to_numpy() >= model_only.to_numpy()).all()
    never = past_counts == 0
    assert (out["flagged"].to_numpy()[never] == model_only.to_numpy()[never]).all()
    if points == 0:
        assert (out["flagged"].to_numpy() == model_only.to_numpy()).all()


def test_households_never_flagged_count_zero():
    flags = flags_table(np.array([3.0, 0.0]), np.array([7, 8]))
    past = pd.Series([2], index=pd.Index([99], name=INDEX))  # left the index
    out = with_history(flags, past, 1.0, FlagRule(threshold=2.0))
    assert out["past_flags"].tolist() == [0, 0]
    assert out["flagged"].tolist() == [True, False]
    counts = count_flags(past, out)
    assert counts.to_dict() == {7: 1, 8: 0, 99: 2}
