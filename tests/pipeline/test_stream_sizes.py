"""A streamed world's sizes from ``--memory-limit``, and the pool's count for it.

Any memory setting gives sizes within their bounds that grow with the memory, and a
task streamed with any sizes gives the values of the task held in memory; streamed
tasks, which hold less, may run in more processes under the same limit.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.pipeline import parallel
from simulator.pipeline.estimate import local_processes
from simulator.pipeline.memory_limit import (
    BLOCK,
    BOUNDS,
    StreamSizes,
    sizes_for,
    stream_sizes,
)
from simulator.pipeline.parallel import Pool, Workers, processes, task_bytes
from simulator.pipeline.run import (
    fit_model,
    replicate_audit,
    replicate_scenario,
    rung_outcomes,
    twin_rung,
)
from simulator.pipeline.streamed import Streamed
from simulator.rng import BLOCK_SIZE
from simulator.schema.scenario import Scenario

GIB = 1 << 30


def test_the_block_is_the_seeding_block():
    assert BLOCK == BLOCK_SIZE


@given(room=st.floats(-(2.0**40), 2.0**44, allow_nan=False))
def test_any_room_gives_sizes_within_their_bounds(room):
    sizes = stream_sizes(room)
    for name, (low, high) in BOUNDS.items():
        assert low <= getattr(sizes, name) <= high, name
    assert sizes.chunk_households % BLOCK == 0


@given(
    a=st.floats(0, 2.0**40, allow_nan=False), b=st.floats(0, 2.0**40, allow_nan=False)
)
def test_more_room_never_gives_smaller_pieces(a, b):
    less, more = stream_sizes(min(a, b)), stream_sizes(max(a, b))
    for name in BOUNDS:
        assert getattr(less, name) <= getattr(more, name), name


@given(
    limit=st.integers(1 << 28, 1 << 40),
    count=st.integers(1, 8),
    households=st.integers(100, 10_000_000),
)
def test_a_setting_shared_by_more_processes_gives_no_larger_pieces(
    limit, count, households
):
    alone = sizes_for(limit, count, households)
    shared = sizes_for(limit, count + 1, households)
    for name in BOUNDS:
        assert getattr(shared, name) <= getattr(alone, name), name
    assert alone.link_duckdb_gb >= alone.duckdb_gb  # nothing per household yet


def test_linkage_takes_the_room_of_what_a_task_holds_after_it():
    # England's families in two processes: the per-household tables leave the view
    # DuckDB's least, in which a match key's join ran out of memory; linkage, which
    # runs before they exist, has their room.
    sizes = sizes_for(int(19.2 * GIB), 2, 8_200_000)
    assert sizes.duckdb_gb == BOUNDS["duckdb_gb"][0]
    assert sizes.link_duckdb_gb == StreamSizes().link_duckdb_gb > sizes.duckdb_gb
    config = Scenario().linkage
    assert sizes.linking(config).memory_limit_gb == sizes.link_duckdb_gb


def test_a_large_setting_gives_the_defaults_and_a_small_one_less():
    assert sizes_for(64 * GIB, 2, 200_000) == StreamSizes()
    assert sizes_for(GIB, 2, 200_000) == stream_sizes(0)  # the least
    least = {name: low for name, (low, _) in BOUNDS.items()}
    assert stream_sizes(0) == StreamSizes(**least)


def sized(seed: int, households: int) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "stream-sizes-test",
            "seed": seed,
            "population": {"n_households": households, "households_per_area": 100},
            "audit": {"n_boot": 50, "min_group_size": 0, "replicates": 2},
        }
    )


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 2**31 - 1),
    households=st.integers(2, 8).map(lambda k: k * 1_000),
    chunk=st.integers(1, 3).map(lambda k: k * BLOCK),
    # Several pieces in every step, not thousands: each step's own tests take its
    # sizes down to a few rows (test_linked_files, test_view_files); this one checks
    # that the sizes reach the steps. (Down to 50 rows and 1 household a range, the
    # test took 134 s of the suite's 550.)
    rows=st.integers(1_000, 20_000),
    per_range=st.integers(300, 20_000),
    gb=st.sampled_from([0.25, 0.5, 2.0]),
)
def test_any_sizes_give_the_values_held_in_memory(
    tmp_path, seed, households, chunk, rows, per_range, gb
):
    scenario = sized(seed, households)
    model = fit_model(scenario)
    sizes = StreamSizes(chunk, rows, per_range, gb, gb)
    root = tmp_path / f"r{seed}-{chunk}-{rows}"
    streamed = replicate_audit(scenario, 1, model, True, Streamed(root, sizes))
    held = replicate_audit(scenario, 1, model, True)
    rung, clean = twin_rung(replicate_scenario(scenario, 1))  # streamed: its twin's
    held[2].update(rung_outcomes({rung: (clean, "oracle")}, model))
    pd.testing.assert_frame_equal(streamed[0].outcomes, held[0].outcomes)
    pd.testing.assert_frame_equal(streamed[1].by_group, held[1].by_group)
    assert list(streamed[2]) == list(held[2])
    for rung in held[2]:
        pd.testing.assert_frame_equal(streamed[2][rung], held[2][rung], obj=rung)


def test_streamed_tasks_hold_less_so_more_processes_fit(monkeypatch):
    """Under a limit that holds one world in memory, at least two streamed tasks fit."""
    monkeypatch.setattr(parallel, "available_memory", lambda: 64 * GIB)
    households = 1_000_000
    kept = households * parallel.KEPT_BYTES_PER_HOUSEHOLD
    world = households * parallel.TASK_BYTES_PER_HOUSEHOLD + parallel.PROCESS_BYTES
    limit = kept + world + world // 2  # one task's world, not two
    workers = Workers(count=8, memory_limit=limit)
    with pytest.warns(UserWarning, match="lowered to 1"):
        assert processes(workers, households, 8, kept=1) == 1
    with pytest.warns(UserWarning, match="lowered to"):
        streamed = processes(
            workers, households, 8, kept=1, **task_bytes(streamed=True)
        )
    assert 2 <= streamed < 8
    assert local_processes(workers, households, 9, streamed=True) == streamed


@given(
    limit=st.integers(1 << 30, 1 << 38),
    households=st.integers(1_000, 10_000_000),
    streamed=st.booleans(),
)
def test_the_pools_processes_fit_the_limit_or_are_one(limit, households, streamed):
    """Every process's task, by the line for how it runs, fits the limit."""
    workers = Workers(count=16, memory_limit=limit)
    kind = task_bytes(streamed=streamed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lowered for memory: said, and tested above
        n = processes(workers, households, 16, **kind)
    task = households * kind["per_household"] + kind["fixed"] + parallel.PROCESS_BYTES
    assert n == 1 or n * task <= limit


def test_a_run_that_keeps_no_world_has_room_for_more_streamed_processes(monkeypatch):
    """A run whose own world streams (kept 0) leaves the pool its world's memory."""
    monkeypatch.setattr(parallel, "available_memory", lambda: 64 * GIB)
    households = 1_000_000
    kind = task_bytes(streamed=True)
    task = households * kind["per_household"] + kind["fixed"] + parallel.PROCESS_BYTES
    limit = 3 * task + households * parallel.KEPT_BYTES_PER_HOUSEHOLD // 2
    workers = Workers(count=4, memory_limit=limit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lowered for memory
        keeping = Pool(workers, households, 5, busy=True, streamed=True)
        streaming = Pool(workers, households, 5, busy=True, streamed=True, kept=0)
    assert (keeping.kept, streaming.kept) == (1, 0)
    assert (keeping.processes, streaming.processes) == (2, 3)
