"""Scores and flags from ``view.parquet`` are those of the view in memory.

:func:`simulator.council.flagging.score_view_file` scores the file a batch of rows
at a time (or whole, for a model that is not row by row), applies the flag rule to
every score and explains the flagged households read back from the file: its table
must equal :func:`~simulator.council.flagging.score_and_flag`'s, for every kind of
model and flag rule, any batch and row group size, and the explain limit reached;
without drivers, its scores and flags alone, as when the view is scored as it is
made, a range of rows at a time, and never written
(:class:`~simulator.council.flagging.ScoredView`).
(Both paths score the same batches: a logistic regression's bits differ between a
row scored in a short batch and in a long one.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from councilfiles import scenario
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from simulator import io
from simulator.council import flagging
from simulator.council.flagging import score_and_flag, score_view_file
from simulator.council.models import (
    CriteriaConfig,
    ExternalConfig,
    FlagRule,
    LearnedConfig,
    ScorecardConfig,
    make_model,
)
from simulator.council.models.base import RiskModel
from simulator.council.view import build_view, observed_labels
from simulator.world.generate import generate
from simulator.world.true_links import oracle_links

KINDS = ("criteria", "scorecard", "logistic_regression", "gradient_boosting", "file")
RULES = (
    None,
    FlagRule(threshold=1.0),
    FlagRule(top_percent=10.0),
    FlagRule(budget=7),
)


def _view(n_households: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    s = scenario(n_households, seed)
    data = generate(s)
    links = oracle_links(data.sources, data.spine)
    view = build_view(
        data.sources,
        data.spine,
        links,
        reference_date=s.time.reference_date,
        deprivation=data.areas,
        config=s.view,
    )
    labels = observed_labels(
        data.sources, links, reference_date=s.time.reference_date, households=view.index
    )
    return view, labels


@pytest.fixture(scope="module")
def learned(seed: int) -> dict[str, RiskModel]:
    """The learned models, fitted once on a history cohort."""
    view, labels = _view(1_500, seed + 1)
    with threadpool_limits(1):  # as a pool's worker fits (see the test below)
        return {
            kind: make_model(LearnedConfig(estimator=kind), random_state=3).fit(
                view, labels
            )
            for kind in ("logistic_regression", "gradient_boosting")
        }


def _model(kind: str, view: pd.DataFrame, directory: Path, learned) -> RiskModel:
    if kind in learned:
        return learned[kind]
    if kind == "file":  # ties included: scores on a coarse grid
        rng = np.random.default_rng(len(view))
        scores = pd.DataFrame(
            {"spine_household_id": view.index, "score": rng.integers(0, 5, len(view))}
        ).iloc[rng.permutation(len(view))]
        path = directory / "scores.csv"
        scores.to_csv(path, index=False)
        return make_model(ExternalConfig(scores=str(path)))
    config = CriteriaConfig() if kind == "criteria" else ScorecardConfig()
    return make_model(config)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_households=st.integers(10, 400),
    rule=st.sampled_from(RULES),
    score_rows=st.sampled_from([1, 5, 16, 48, 10**6]),
    row_group_rows=st.sampled_from([40, 1024 * 1024]),
    explain_limit=st.sampled_from([3, 50_000]),
    range_rows=st.integers(1, 500),
)
def test_flags_from_the_view_file_are_the_in_memory_flags(
    tmp_path_factory,
    learned,
    seed,
    n_households,
    kind,
    rule,
    score_rows,
    row_group_rows,
    explain_limit,
    range_rows,
):
    # A learned model's call costs OpenMP's and BLAS's start: a row per call took
    # 50 s for 400 rows on a loaded machine. Batches of 5 rows test the same joins.
    assume(score_rows > 1 or kind not in learned)
    out = tmp_path_factory.mktemp("scores")
    view, _ = _view(n_households, seed)
    model = _model(kind, view, out, learned)
    rule = rule or FlagRule(top_percent=10.0)
    # One BLAS/OpenMP thread, as a pool's worker scores: on two cores shared by two
    # test processes, more threads only wait for each other (both paths alike).
    with pytest.MonkeyPatch.context() as patch, threadpool_limits(1):
        patch.setattr(io, "ROW_GROUP_ROWS", row_group_rows)
        patch.setattr(flagging, "EXPLAIN_LIMIT", explain_limit)
        patch.setattr(flagging, "SCORE_ROWS", score_rows)  # batches of a small view
        io.write_parquet(view.reset_index(), out / "view.parquet")
        expected = score_and_flag(model, view, rule)
        got = score_view_file(model, out / "view.parquet", rule)
        lean = score_view_file(model, out / "view.parquet", rule, drivers=False)
        made = flagging.ScoredView(model, rule)  # scored as made, a range at a time
        ranges = range(0, max(len(view), 1), range_rows)
        rows = made.take(
            flagging.view_table(view.iloc[i : i + range_rows]) for i in ranges
        )
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # Without drivers: the same scores and flags, nothing else; scored as the view
    # is made, never written, the same again.
    columns = list(flagging.SCORED_COLUMNS)
    pd.testing.assert_frame_equal(lean, expected[columns], check_exact=True)
    assert rows == len(view)
    pd.testing.assert_frame_equal(made.flags, expected[columns], check_exact=True)


def test_an_empty_view_gives_an_empty_table(tmp_path, seed):
    view, _ = _view(50, seed)
    view = view.iloc[:0]
    io.write_parquet(view.reset_index(), tmp_path / "view.parquet")
    model = make_model(ScorecardConfig())
    rule = FlagRule(budget=3)
    got = score_view_file(model, tmp_path / "view.parquet", rule)
    expected = score_and_flag(model, view, rule)
    pd.testing.assert_frame_equal(got, expected)
    lean = score_view_file(model, tmp_path / "view.parquet", rule, drivers=False)
    made = flagging.ScoredView(model, rule)
    assert made.take([flagging.view_table(view)]) == 0
    columns = list(flagging.SCORED_COLUMNS)
    for flags in (lean, made.flags):
        pd.testing.assert_frame_equal(flags, expected[columns])


def test_batches_are_the_same_whatever_the_row_groups(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "ROW_GROUP_ROWS", 7)
    frame = pd.DataFrame({"spine_household_id": np.arange(100), "x": 1.0})
    io.write_parquet(frame, tmp_path / "f.parquet")
    file = flagging.pq.ParquetFile(tmp_path / "f.parquet")
    monkeypatch.setattr(flagging, "SCORE_ROWS", 32)
    batches = list(flagging.view_batches(file))
    assert [len(b) for b in batches] == [32, 32, 32, 4]
    assert pd.concat(batches).index.tolist() == list(range(100))


def test_a_model_scored_whole_is_not_batched(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("spine_household_id,score\n1,0.5\n", encoding="utf-8")
    with pytest.raises(ValueError, match="does not score row by row"):
        flagging.batch_scores(make_model(ExternalConfig(scores=str(path))), [])


def test_a_learned_model_that_flags_no_one_has_no_drivers(learned, seed):
    """Explaining no household would fail in scikit-learn; the table has none."""
    view, _ = _view(60, seed)
    table = score_and_flag(learned["logistic_regression"], view, FlagRule(budget=0))
    assert not table["flagged"].any() and table["driver_1"].isna().all()
