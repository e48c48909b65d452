"""Streamed worlds: the pool's tasks through files equal the tasks in memory.

A replicate or a rung run in a scratch directory of its own gives the outcomes,
audit and link quality of the same task in memory, whatever the chunk size; its
directory is gone after success, an error or an interrupt.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.council.view_records import CountedRecords
from simulator.pipeline import run as run_module
from simulator.pipeline.run import (
    LINKED_ALONE,
    fit_model,
    handed_twin,
    pool_tasks,
    replicate_audit,
    replicate_scenario,
    rung_outcomes,
    rung_tasks,
    rung_worlds,
    submit_worlds,
    twin_rung,
)
from simulator.pipeline.streamed import (
    SCRATCH_PREFIX,
    Streamed,
    generate_worlds,
    rung_households,
    scratch_directory,
    world_view,
)
from simulator.schema.scenario import Scenario
from simulator.world.generate import BLOCK_SIZE, HOUSEHOLDS_FILE, Written


def small(
    seed: int, households: int, chunk: int, method: str, **sections: object
) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "streamed-test",
            "seed": seed,
            "population": {"n_households": households, "households_per_area": 100},
            "generation": {"chunk_size": chunk},
            "linkage": {"method": method},
            "audit": {"n_boot": 50, "min_group_size": 0, "replicates": 2},
            **sections,
        }
    )


def assert_same_audit(a, b) -> None:
    """Two replicate results (audit, link quality, rungs) hold equal tables."""
    (audit_a, quality_a, rungs_a), (audit_b, quality_b, rungs_b) = a, b
    pd.testing.assert_frame_equal(audit_a.outcomes, audit_b.outcomes)
    pd.testing.assert_frame_equal(audit_a.link_quality, audit_b.link_quality)
    for name in ("overall", "by_group"):
        pd.testing.assert_frame_equal(
            getattr(quality_a, name), getattr(quality_b, name), obj=name
        )
    assert list(rungs_a) == list(rungs_b)
    for rung in rungs_a:
        pd.testing.assert_frame_equal(rungs_a[rung], rungs_b[rung], obj=rung)


def scratch_left(root: Path) -> list[Path]:
    return sorted(root.glob(f"{SCRATCH_PREFIX}*"))


def examples(n: int) -> settings:
    """``n`` hypothesis examples, no deadline, ``tmp_path`` shared between them."""
    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


@examples(6)
@given(
    seed=st.integers(0, 2**31 - 1),
    households=st.integers(2, 12).map(lambda k: k * 100),
    chunks=st.integers(1, 4),
    method=st.sampled_from(["deterministic", "oracle"]),
    kind=st.sampled_from(["criteria", "scorecard", "learned"]),
    flag=st.sampled_from([None, {"budget": 0}, {"top_percent": 10.0}]),
    off=st.sampled_from([None, "police", "health", "education"]),
)
def test_a_streamed_replicate_equals_the_replicate_in_memory(
    tmp_path, seed, households, chunks, method, kind, flag, off
):
    """Whatever the model, its flag rule (one flagging nobody) and the sources (one
    switched off), the view written and scored from files (a learned model's
    drivers read back from it) gives the outcomes of the view in memory."""
    model = {"kind": kind, **({"flag": flag} if flag else {})}
    agencies = {off: {"enabled": False}} if off else {}
    scenario = small(
        seed, households, chunks * BLOCK_SIZE, method, model=model, agencies=agencies
    )
    fitted = fit_model(scenario)
    root = tmp_path / f"r{seed}"
    in_memory = replicate_audit(scenario, 1, fitted, True)
    handed = replicate_audit(scenario, 1, fitted, True, Streamed(root), False)
    assert_same_audit(handed, in_memory)  # no twin: its rung task draws that world
    world = replicate_scenario(scenario, 1)
    rung, clean = twin_rung(world)
    twin = rung_outcomes({rung: (clean, "oracle")}, fitted)  # drawn apart
    in_memory = (*in_memory[:2], {**in_memory[2], **twin})
    streamed = replicate_audit(scenario, 1, fitted, True, Streamed(root))
    assert_same_audit(streamed, in_memory)  # its twin drawn with it: the same
    assert scratch_left(root) == []


class _Recorded:
    """A pool that records what is submitted to it and runs nothing."""

    def __init__(self) -> None:
        self.sent: list[tuple] = []

    def submit(self, fn: object, *args: object) -> tuple:
        self.sent.append((fn, *args))
        return self.sent[-1]


@pytest.mark.parametrize("method", ["deterministic", *sorted(LINKED_ALONE)])
@pytest.mark.parametrize("replicates", [1, 2, 4])
@pytest.mark.parametrize("own_twin", [True, False])
def test_the_last_replicate_hands_its_twin_to_its_rung_task(
    method, replicates, own_twin
):
    """With the run's own twin and a link not run alone, the last replicate draws no
    twin and its rung task draws the visibility world; every other world as before,
    and the pool is sized for the tasks sent (the own twin's task sent apart)."""
    scenario = Scenario.model_validate(
        {"audit": {"replicates": replicates}, "linkage": {"method": method}}
    )
    pool = _Recorded()
    others, rungs = submit_worlds(
        pool, scenario, True, None, streamed=Streamed(), own_twin=own_twin
    )
    handed = handed_twin(scenario, own_twin)
    last = replicates - 1
    handing = own_twin and replicates > 1 and method not in LINKED_ALONE
    assert handed == (last if handing else None)
    assert [task[-1] for task in others] == [r != handed for r in range(1, last + 1)]
    for r, world in enumerate(rungs):
        drawn = {rung for task in world for rung in task[1]}
        twin = own_twin if r == 0 else r != handed
        assert ("visibility" in drawn) == (not twin)
    sent = len(pool.sent) + int(own_twin)
    assert pool_tasks(scenario, True, False, True, own_twin) == sent


@examples(3)
@given(
    seed=st.integers(0, 2**31 - 1),
    households=st.integers(2, 10).map(lambda k: k * 100),
    chunks=st.integers(1, 3),
)
def test_streamed_rungs_equal_the_rungs_in_memory(tmp_path, seed, households, chunks):
    scenario = small(seed, households, chunks * BLOCK_SIZE, "deterministic")
    model = fit_model(scenario)
    root = tmp_path / f"r{seed}"
    in_memory = {}
    for rungs in rung_worlds(scenario):  # model and spine share a world; visibility
        in_memory.update(rung_outcomes(rungs, model))
    (task,) = rung_tasks(scenario, streamed=True)  # one population: one pass
    streamed = rung_outcomes(task, model, Streamed(root))
    assert list(streamed) == list(in_memory)
    (without_twin,) = rung_tasks(scenario, streamed=True, twin=True)
    assert list(without_twin) == ["model", "spine"]
    for rung in in_memory:
        pd.testing.assert_frame_equal(streamed[rung], in_memory[rung], obj=rung)
    assert scratch_left(root) == []


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_task_stopped_midway_leaves_no_scratch_directory(
    tmp_path, monkeypatch, error
):
    scenario = small(7, 300, BLOCK_SIZE, "deterministic")
    model = fit_model(scenario)
    seen = []

    def stop(world, *args, **kwargs):
        seen.append(world.directory)
        assert world.directory.parent == tmp_path and world.directory.exists()
        raise error("stopped")

    monkeypatch.setattr(run_module, "link_world", stop)
    with pytest.raises(error):
        replicate_audit(scenario, 1, model, False, Streamed(tmp_path))
    assert seen and not seen[0].exists()
    assert list(tmp_path.iterdir()) == []


def test_a_scratch_directory_removes_only_itself(tmp_path):
    (tmp_path / "mine.txt").write_text("kept")
    with scratch_directory(tmp_path) as scratch:
        (scratch / "world.parquet").write_text("removed")
    assert not scratch.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


@examples(4)
@given(
    seed=st.integers(0, 2**31 - 1),
    households=st.integers(2, 10).map(lambda k: k * 100),
    chunks=st.integers(1, 4),
    lean=st.booleans(),
)
def test_a_spine_drawn_again_on_disk_is_the_spine_generated(
    tmp_path, seed, households, chunks, lean
):
    """The ``spine`` rung's spine drawn on the ``model`` rung's files equals the
    spine of its own world generated afresh."""
    from simulator.io import read_parquet
    from simulator.pipeline.streamed import generate_world
    from simulator.world.generate import SPINE_FILE, write_spine_again

    scenario = small(seed, households, chunks * BLOCK_SIZE, "oracle")
    group = next(g for g in rung_worlds(scenario) if "spine" in g)
    (first, _), (second, _) = group["model"], group["spine"]
    shared = Path(tempfile.mkdtemp(dir=tmp_path))  # new for every example
    afresh = Path(tempfile.mkdtemp(dir=tmp_path))
    generate_world(first, shared, lean=lean)
    rows = write_spine_again(second, shared, lean)
    generate_world(second, afresh, lean=lean)
    expected = read_parquet(afresh / SPINE_FILE)
    assert rows == len(expected)
    pd.testing.assert_frame_equal(read_parquet(shared / SPINE_FILE), expected)
    assert not (shared / ".chunks").exists()


@examples(3)
@given(
    seed=st.integers(0, 2**31 - 1),
    households=st.integers(4, 12).map(lambda k: k * 100),
    chunks=st.integers(1, 3),
)
def test_a_model_fitted_on_a_streamed_history_cohort_scores_the_same(
    tmp_path, seed, households, chunks
):
    """The history cohort through files gives the learner the same view and labels:
    the fitted models score a world alike."""
    from simulator.pipeline.run import link_records, linked_view, stage_seed
    from simulator.world.generate import generate

    scenario = small(seed, households, chunks * BLOCK_SIZE, "deterministic")
    scenario = scenario.model_copy(
        update={"model": Scenario.model_validate({"model": {"kind": "learned"}}).model}
    )
    root = tmp_path / f"r{seed}"
    in_memory = fit_model(scenario)
    streamed = fit_model(scenario, streamed=Streamed(root))
    data = generate(scenario)
    links = link_records(data, scenario.linkage, stage_seed(scenario, "linkage"))
    view = linked_view(data, links, scenario)
    pd.testing.assert_series_equal(streamed.score(view), in_memory.score(view))
    assert scratch_left(root) == []


@examples(5)
@given(
    seed=st.integers(0, 2**31 - 1),
    households=st.integers(1, 10).map(lambda k: k * 100),
    chunks=st.integers(1, 3),
    off=st.sampled_from([None, "police", "education", "social_care"]),
)
def test_records_counted_as_drawn_give_the_view_of_their_files(
    tmp_path, seed, households, chunks, off
):
    """A lean scratch world whose records are counted as drawn (a rung task's:
    ``Written.counted``) writes no records files, its households file only the
    columns asked (``Written.households``), its other files the same bytes, and the
    truth's view of it the bytes of the view of the world's written records (read
    a batch at a time, or held)."""
    agencies = {off: {"enabled": False}} if off else {}
    scenario = small(seed, households, chunks * BLOCK_SIZE, "oracle", agencies=agencies)
    root = Path(tempfile.mkdtemp(dir=tmp_path))  # examples share tmp_path
    counted = CountedRecords()
    made = []
    asked = rung_households(scenario)
    for name, held, columns in (("written", None, None), ("counted", counted, asked)):
        (root / name).mkdir(parents=True)
        made.append(
            Written(scenario, root / name, False, counted=held, households=columns)
        )
    written, drawn = (
        generate_worlds([world], lean=True, scratch=True)[0] for world in made
    )
    assert drawn.record_files == {
        k: root / "counted" / v.relative_to(root / "written")
        for k, v in written.record_files.items()
    }
    assert not any(path.exists() for path in drawn.record_files.values())
    files = sorted(
        p.relative_to(written.directory) for p in written.directory.rglob("*.parquet")
    )
    kept = [p for p in files if p.parts[0] != "records"]
    assert (
        sorted(
            p.relative_to(drawn.directory) for p in drawn.directory.rglob("*.parquet")
        )
        == kept
    )
    for rel in kept:
        a, b = written.directory / rel, drawn.directory / rel
        if rel == Path(HOUSEHOLDS_FILE):
            assert pq.read_table(b).equals(pq.read_table(a, columns=list(asked)))
        else:
            assert a.read_bytes() == b.read_bytes(), rel
    views = {
        "read": world_view(written, root / "read.parquet", oracle=True),
        "held": world_view(
            written,
            root / "held.parquet",
            oracle=True,
            records=CountedRecords(),
        ),
        "drawn": world_view(
            drawn, root / "drawn.parquet", oracle=True, records=counted
        ),
    }
    tables = {k: pq.read_table(v) for k, v in views.items()}
    assert tables["drawn"].num_rows == tables["read"].num_rows
    for name in ("held", "drawn"):
        assert tables[name].equals(tables["read"]), name
        assert views[name].read_bytes() == views["read"].read_bytes(), name
