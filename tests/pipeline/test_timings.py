"""Stage timings: wall and CPU time, peak memory per stage, workers' costs."""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from simulator.pipeline.timings import (
    StageCost,
    Timings,
    measure,
    measured_fields,
    without_measured,
)

MB = 1 << 20


def hold(megabytes: int, seconds: float = 0.2) -> None:
    """Hold ``megabytes`` of touched memory for ``seconds``."""
    block = np.ones(megabytes * MB // 8)
    time.sleep(seconds)
    del block


def worker_task(megabytes: int) -> StageCost:
    with measure() as cost:
        hold(megabytes)
        sum(range(2_000_000))
    return cost[0]


def test_each_stage_has_its_own_peak_and_nested_peaks_reach_the_outer_stage():
    t = Timings()
    with t.stage("outer"):
        with t.stage("big"):
            hold(300)
        with t.stage("small"):
            hold(20)
    big, small, outer = (t.stages[k] for k in ("big", "small", "outer"))
    assert big.peak_memory_bytes - small.peak_memory_bytes > 200 * MB
    assert outer.peak_memory_bytes >= big.peak_memory_bytes
    assert big.wall_seconds >= 0.2 and outer.wall_seconds >= 0.4


def test_a_peak_below_the_lifetime_mark_is_still_seen_by_sampling():
    hold(400)  # the process's high-water mark, set outside any stage
    t = Timings()
    with t.stage("quiet"):
        pass
    with t.stage("busy"):
        hold(250, seconds=0.3)
    gained = t.stages["busy"].peak_memory_bytes - t.stages["quiet"].peak_memory_bytes
    assert gained > 150 * MB


def test_cpu_time_counts_work_not_sleep():
    t = Timings()
    with t.stage("sleep"):
        time.sleep(0.3)
    with t.stage("work"):
        start = time.process_time()
        while time.process_time() - start < 0.3:
            sum(range(10_000))
    assert t.stages["sleep"].cpu_seconds < 0.1
    assert t.stages["work"].cpu_seconds >= 0.3


def test_workers_measure_their_tasks_and_the_parent_records_them():
    t = Timings()
    with t.stage("attribution"), ProcessPoolExecutor(2) as pool:
        costs = list(pool.map(worker_task, [100, 50]))
    for cost in costs:
        t.add_worker("attribution", cost)
    stage = t.stages["attribution"]
    assert stage.workers == 2
    assert stage.worker_peak_memory_bytes == max(c.peak_memory_bytes for c in costs)
    assert stage.worker_peak_memory_bytes > 100 * MB
    assert stage.cpu_seconds >= sum(c.cpu_seconds for c in costs)
    # The workers' wall time is inside the parent's, not added to it.
    assert stage.wall_seconds >= max(c.wall_seconds for c in costs)


def test_a_stage_run_twice_adds_its_times_and_keeps_the_larger_peak():
    t = Timings()
    t.add("link", StageCost(1.0, 2.0, 100))
    t.add("link", StageCost(0.5, 0.25, 300))
    assert t.stages["link"] == StageCost(1.5, 2.25, 300)
    copy = t.plus("write", StageCost(1.0, 1.0, 50))
    assert "write" in copy.stages and "write" not in t.stages


def test_the_manifest_fields_hold_stages_in_order_and_drop_cleanly():
    t = Timings()
    for name in ("generate", "link", "audit"):
        t.add(name, StageCost(1.0, 1.0, 10))
    fields = measured_fields(t)
    assert [s["stage"] for s in fields["stages"]] == ["generate", "link", "audit"]
    assert fields["total"]["wall_seconds"] == 3.0
    manifest = {"rows": {}, "measured": fields}
    assert without_measured(manifest) == {"rows": {}}
