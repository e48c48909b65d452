"""The criteria model on oracle data: it must find exactly the eligible families.

With no data errors, full visibility and oracle links, the linked data show a problem
exactly when the family has it, so counting problems reproduces ``eligible``. Pupils
*without* the education need still get a random absence rate, which
``audits.counterfactuals.without_visibility_bias`` makes negligible (Beta(2, 2000)), so
persistent absence never shows an education problem a family does not have.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.council.models import (
    CriteriaConfig,
    Indicator,
    Indicators,
    apply_flag_rule,
    make_model,
)
from simulator.council.models.criteria import PROBLEMS, CriteriaModel
from simulator.council.view import event_column
from simulator.errors import InputDataError
from simulator.vocabulary import NEEDS

NO_ABSENCE = Indicators(
    education=Indicator(
        events=("education.suspension", "education.permanent_exclusion")
    )
)


def flags(cohort, config: CriteriaConfig) -> pd.Series:
    model = make_model(config).fit(cohort.view, cohort.labels)
    return apply_flag_rule(model.score(cohort.view), config.flag_rule())


def test_problems_are_the_six_headline_needs_in_order():
    assert PROBLEMS == NEEDS


def test_oracle_spine_households_are_true_households(oracle_cohort):
    spine = oracle_cohort.data.spine
    assert (
        spine.groupby("spine_household_id")["true_household_id"].nunique() == 1
    ).all()
    assert spine["true_household_id"].nunique() == spine["spine_household_id"].nunique()
    assert len(oracle_cohort.view) == len(oracle_cohort.data.households)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_each_problem_shows_exactly_when_the_family_has_it(oracle_cohort, k):
    cohort = oracle_cohort
    truth = cohort.truth()
    shown = CriteriaModel(indicators=NO_ABSENCE).problems(cohort.view)
    for need in NEEDS:
        np.testing.assert_array_equal(
            shown[need].to_numpy(), truth[f"need_{need}"].to_numpy(), err_msg=need
        )
    flagged = flags(cohort, CriteriaConfig(min_problems=k, indicators=NO_ABSENCE))
    np.testing.assert_array_equal(
        flagged.to_numpy(), (truth["n_needs"] >= k).to_numpy()
    )


def test_criteria_flag_exactly_the_eligible_without_absence_noise(oracle_cohort):
    cohort = oracle_cohort
    k = cohort.scenario.eligibility.min_needs
    flagged = flags(cohort, CriteriaConfig(min_problems=k, indicators=NO_ABSENCE))
    truth = cohort.truth()
    assert truth["eligible"].sum() > 100
    assert flagged[flagged].index.equals(truth.index[truth["eligible"].to_numpy()])


def test_criteria_with_default_indicators_flag_exactly_the_eligible(oracle_cohort):
    cohort = oracle_cohort
    k = cohort.scenario.eligibility.min_needs
    flagged = flags(cohort, CriteriaConfig(min_problems=k))
    np.testing.assert_array_equal(
        flagged.to_numpy(), cohort.truth()["eligible"].to_numpy()
    )
    # No pupil without the education problem is persistently absent on this rung.
    noise = (cohort.view["education_persistent_absence"] > 0).to_numpy() & ~(
        cohort.truth()["need_education"].to_numpy()
    )
    assert not noise.any()


def test_criteria_score_counts_problems_and_explains_them(messy_cohort):
    model = CriteriaModel()
    view = messy_cohort.view
    shown = model.problems(view)
    assert list(shown.columns) == list(NEEDS)
    np.testing.assert_array_equal(model.score(view), shown.sum(axis=1).astype(float))
    pd.testing.assert_frame_equal(model.explain(view), shown.astype(float))


def test_min_count_raises_the_bar():
    view = pd.DataFrame(
        {"police_incident": [0, 1, 2, 3], "police_anti_social_behaviour": 0},
        index=pd.Index([1, 2, 3, 4], name="spine_household_id"),
    )
    two = Indicator(events=("police.incident",), min_count=2)
    indicators = Indicators(
        **{n: two for n in NEEDS if n != "education"},
        education=Indicator(events=("police.incident",), min_count=2),
    )
    score = CriteriaModel(indicators=indicators).score(view)
    assert score.tolist() == [0.0, 0.0, 6.0, 6.0]


def test_an_indicator_on_an_event_the_view_lacks_is_named():
    view = pd.DataFrame(
        {"police_incident": [1]}, index=pd.Index([1], name="spine_household_id")
    )
    with pytest.raises(InputDataError, match="no column.*police_anti_social_behaviour"):
        CriteriaModel().score(view)


COUNTS = st.one_of(
    st.integers(0, 5),
    st.integers(-(2**63), 2**63 - 1),  # past what floats hold exactly: as before
    st.sampled_from([2**52, 2**53 - 1, 2**53 + 1, -(2**53)]),
)
EVENTS = ("police.incident", "police.anti_social_behaviour", "health.ae_attendance")


def _column(values: list[int], kind: str) -> pd.Series:
    """``values`` as a column of ``kind`` (small types take them modulo 100)."""
    if kind == "int64":
        return pd.Series(values, dtype="int64")
    if kind == "float64":
        return pd.Series([float(v) / 3 for v in values], dtype="float64")
    return pd.Series([v % 100 for v in values], dtype=kind)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(COUNTS, COUNTS, COUNTS), max_size=8),
    kinds=st.tuples(*[st.sampled_from(["int64", "int32", "uint8", "float64"])] * 3),
    min_count=st.integers(1, 3),
)
def test_problems_are_the_float_row_sums_of_any_columns(rows, kinds, min_count):
    """Integer columns are summed a column at a time (exactly, or as the frame's
    float array summed by row where that could round); others as before."""
    columns = [event_column(e) for e in EVENTS]
    view = pd.DataFrame(
        {
            c: _column([r[i] for r in rows], kind)
            for i, (c, kind) in enumerate(zip(columns, kinds, strict=True))
        }
    ).rename_axis("spine_household_id")
    crime = Indicator(events=EVENTS, min_count=min_count)
    model = CriteriaModel(indicators=Indicators(**dict.fromkeys(NEEDS, crime)))
    sums = view[columns].to_numpy(dtype=np.float64).sum(axis=1)
    shown = model.problems(view)
    assert all(shown[n].tolist() == (sums >= min_count).tolist() for n in NEEDS)
