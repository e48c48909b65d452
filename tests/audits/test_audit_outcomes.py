"""household_outcomes: a flag reaches the families of a spine household's members."""

from __future__ import annotations

import re
from contextlib import nullcontext as does_not_raise

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.errors import AuditError
from audits.outcomes import (
    _BAD_FLAGS,
    _INVALID_TARGET,
    TARGETS,
    false_negatives,
    false_positives,
    household_flags,
    household_outcomes,
    true_negatives,
    true_positives,
    wrongly_flagged_per_10k,
)
from simulator.errors import InputDataError


def households_table(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_id": np.arange(1, n + 1, dtype=np.int64),
            "imd_decile": np.array([1, 4, 9, 10, 2, 3, 5, 6][:n], dtype=np.int8),
            "ethnicity": [
                "white",
                "asian",
                "black",
                "white",
                "mixed",
                "white",
                "other",
                "white",
            ][:n],
            "n_children": np.ones(n, dtype=np.int8),
            "need_health": [True, False] * (n // 2) + [True] * (n % 2),
            "eligible": [True, False, True, False, True, False, True, False][:n],
            "harm": [False, False, True, True, False, True, False, True][:n],
        }
    )


@pytest.fixture
def tiny():
    """Four families. Spine household 100 is a stale address holding members of
    families 1 and 2; family 1 is split over 100 and 101; family 3 is alone on 102;
    family 4 is not on the spine."""
    households = households_table(4)
    spine = pd.DataFrame(
        {
            "spine_person_id": [0, 1, 2, 3, 4],
            "spine_household_id": [100, 100, 101, 100, 102],
            "true_household_id": [1, 1, 1, 2, 3],
        }
    )
    flags = pd.DataFrame(
        {
            "spine_household_id": [100, 101, 102],
            "flagged": [True, False, False],
            "score": [0.9, 0.95, 0.2],
        }
    )
    return households, spine, flags


def test_a_flag_on_a_stale_address_reaches_every_family_there(tiny):
    out = household_outcomes(*tiny, target="eligible")
    assert out["household_id"].tolist() == [1, 2, 3, 4]
    assert out["flagged"].tolist() == [True, True, False, False]
    assert out["on_spine"].tolist() == [True, True, True, False]
    assert out["n_spine_households"].tolist() == [2, 1, 1, 0]
    np.testing.assert_array_equal(out["score"], [0.95, 0.9, 0.2, np.nan])


def test_flags_may_list_only_some_spine_households(tiny):
    households, spine, flags = tiny
    only_flagged = flags[flags["flagged"]]
    out = household_outcomes(households, spine, only_flagged, target="eligible")
    assert out["flagged"].tolist() == [True, True, False, False]
    np.testing.assert_array_equal(out["score"], [0.9, 0.9, np.nan, np.nan])


@pytest.mark.parametrize("target", TARGETS)
def test_target_is_copied_into_y_true(tiny, target):
    out = household_outcomes(*tiny, target=target)
    assert out["y_true"].tolist() == tiny[0][target].tolist()
    assert out["y_true"].dtype == bool


def test_truth_and_groups_are_carried_and_quintile_derived(tiny):
    out = household_outcomes(*tiny, target="eligible")
    assert out["imd_quintile"].tolist() == [1, 2, 5, 5]
    for col in ("ethnicity", "n_children", "need_health", "eligible", "harm"):
        assert out[col].tolist() == tiny[0][col].tolist()


def test_an_existing_quintile_is_kept(tiny):
    households, spine, flags = tiny
    households = households.assign(imd_quintile=np.int8(3))
    out = household_outcomes(households, spine, flags, target="eligible")
    assert out["imd_quintile"].tolist() == [3, 3, 3, 3]


@pytest.mark.parametrize(
    ("change", "target", "expectation"),
    [
        (lambda h, s, f: (h, s, f), "eligible", does_not_raise()),
        (
            lambda h, s, f: (h, s, f),
            "need_health",
            pytest.raises(
                AuditError,
                match=re.escape(
                    _INVALID_TARGET.format(allowed=list(TARGETS), target="need_health")
                ),
            ),
        ),
        (
            lambda h, s, f: (h.drop(columns=["eligible", "harm"]), s, f),
            "eligible",
            pytest.raises(
                InputDataError, match="households table lacks column.s. eligible, harm"
            ),
        ),
        (
            lambda h, s, f: (h, s.drop(columns="true_household_id"), f),
            "eligible",
            pytest.raises(
                InputDataError, match="spine table lacks column.s. true_household_id"
            ),
        ),
        (
            lambda h, s, f: (h, s, f.drop(columns="score")),
            "eligible",
            pytest.raises(InputDataError, match="flags table lacks column.s. score"),
        ),
        (
            lambda h, s, f: (pd.concat([h, h.iloc[:1]]), s, f),
            "eligible",
            pytest.raises(
                InputDataError, match="households table repeats household_id"
            ),
        ),
        (
            lambda h, s, f: (h[h["household_id"] != 3], s, f),
            "eligible",
            pytest.raises(InputDataError, match="1 true household.s. absent"),
        ),
        (
            lambda h, s, f: (h, s, f.assign(spine_household_id=[100, 101, 999])),
            "eligible",
            pytest.raises(
                InputDataError, match="1 spine household.s. absent from the spine"
            ),
        ),
        (
            lambda h, s, f: (h, s, f.assign(flagged=[1, 0, 0])),
            "eligible",
            pytest.raises(InputDataError, match=_BAD_FLAGS.format(dtype="int64")),
        ),
    ],
)
def test_bad_inputs_are_named(tiny, change, target, expectation):
    with expectation:
        household_outcomes(*change(*tiny), target=target)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda h, s, f: (h.drop(columns="eligible"), s, f), "lacks column.s. elig"),
        (lambda h, s, f: (pd.concat([h, h.iloc[:1]]), s, f), "repeats household_id"),
        (lambda h, s, f: (h, s, pd.concat([f, f.iloc[:1]])), "repeats spine_house"),
        (lambda h, s, f: (h[h["household_id"] != 3], s, f), "1 true household.s. ab"),
        (
            lambda h, s, f: (h, s, f.assign(spine_household_id=[100, 101, 999])),
            "1 spine household.s. absent from the spine",
        ),
        (lambda h, s, f: (h, s, f.assign(flagged=[1, 0, 0])), "must be boolean"),
    ],
)
def test_a_rungs_flags_check_the_tables_as_the_outcomes_do(tiny, change, message):
    households, spine, flags = change(*tiny)
    for outcomes in (household_outcomes, household_flags):
        with pytest.raises(InputDataError, match=message):
            outcomes(households, spine, flags, target="eligible")


@st.composite
def worlds(draw):
    n_hh = draw(st.integers(1, 8))
    n_rows = draw(st.integers(0, 15))
    true_hh = draw(st.lists(st.integers(1, n_hh), min_size=n_rows, max_size=n_rows))
    # Spine ids as generated (from 0), or far apart (looked up by hashing).
    spread = draw(st.sampled_from([1, 10**12]))
    spine_hh = draw(st.lists(st.integers(0, 5), min_size=n_rows, max_size=n_rows))
    spine_hh = [h * spread for h in spine_hh]
    present = sorted(set(spine_hh))
    flagged = draw(
        st.lists(st.booleans(), min_size=len(present), max_size=len(present))
    )
    scores = draw(
        st.lists(st.floats(0, 1), min_size=len(present), max_size=len(present))
    )
    spine = pd.DataFrame(
        {
            "spine_household_id": np.array(spine_hh, dtype=np.int64),
            "true_household_id": np.array(true_hh, dtype=np.int64),
        }
    )
    flags = pd.DataFrame(
        {
            "spine_household_id": np.array(present, dtype=np.int64),
            "flagged": np.array(flagged, dtype=bool),
            "score": np.array(scores, dtype=float),
        }
    )
    return households_table(n_hh), spine, flags


@settings(max_examples=60, deadline=None)
@given(worlds())
def test_reach_matches_a_naive_join(world):
    households, spine, flags = world
    out = household_outcomes(households, spine, flags, target="harm")
    flag_of = dict(zip(flags["spine_household_id"], flags["flagged"], strict=True))
    score_of = dict(zip(flags["spine_household_id"], flags["score"], strict=True))
    for hid, reached, on, score, n_homes in out[
        ["household_id", "flagged", "on_spine", "score", "n_spine_households"]
    ].itertuples(index=False):
        homes = set(spine.loc[spine["true_household_id"] == hid, "spine_household_id"])
        assert on == bool(homes)
        assert n_homes == len(homes)
        assert reached == any(flag_of[h] for h in homes)
        if homes:
            assert score == max(score_of[h] for h in homes)
        else:
            assert np.isnan(score) and not reached  # nobody on the spine: never flagged


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (true_positives, 2.0 + 3.0),
        (false_positives, 1.0),
        (false_negatives, 4.0),
        (true_negatives, 0.5),
        (wrongly_flagged_per_10k, 10_000 * 1.0 / 10.5),
    ],
)
def test_domain_metrics_have_the_scikit_learn_signature(fn, expected):
    y_true = np.array([1, 1, 0, 1, 0])
    y_pred = np.array([1, 1, 1, 0, 0])
    weight = np.array([2.0, 3.0, 1.0, 4.0, 0.5])
    assert fn(y_true, y_pred, sample_weight=weight) == pytest.approx(expected)
    assert fn(y_true, y_pred) == pytest.approx(
        {
            true_positives: 2,
            false_positives: 1,
            false_negatives: 1,
            true_negatives: 1,
            wrongly_flagged_per_10k: 2000.0,
        }[fn]
    )


def test_wrongly_flagged_per_10k_of_nobody_is_undefined():
    assert np.isnan(wrongly_flagged_per_10k(np.array([], bool), np.array([], bool)))


@settings(max_examples=60, deadline=None)
@given(worlds(), st.sampled_from(TARGETS))
def test_a_rungs_flags_are_the_outcomes_columns(world, target):
    households, spine, flags = world
    whole = household_outcomes(households, spine, flags, target=target)
    lean = household_flags(
        households[["household_id", target]],
        spine,
        flags.drop(columns="score"),
        target=target,
    )
    columns = ["household_id", "y_true", "flagged"]
    pd.testing.assert_frame_equal(lean, whole[columns], check_exact=True)
