"""Measure the peak memory of each kind of task a run sends to its pool.

The memory cap of :mod:`simulator.pipeline.parallel` counts, per process, the world a
task holds, and in a run's own process the world it keeps while the pool works. This
measures them, in one fresh process per kind, on ``scenarios/baseline.yaml``:

- ``rung``: :func:`simulator.pipeline.run.rung_outcomes` for each rung task of the
  attribution ladder (:func:`simulator.pipeline.run.rung_worlds`), one after
  another (as one worker runs them);
- ``replicate``: :func:`simulator.pipeline.run.replicate_audit` of replicate 1,
  with its rungs in its own world;
- ``main``: what :func:`simulator.pipeline.run.run`'s own process does before it
  collects the pool's results (generate, the council's side, link quality, the
  audit), and what it still holds then.

Each task runs with one thread (as with 2 workers on 2 cores). Peaks are the
process's resident high-water mark (``VmHWM``), reset before each task through
``/proc/self/clear_refs`` (Linux), less the resident memory before it: the bytes
the task adds to a process that has imported everything; CPU is the process's user
plus system seconds during the task. With ``--streamed`` the
tasks stream through files, with the sizes ``--memory-limit`` shared by
``--processes`` gives them (:meth:`simulator.pipeline.streamed.Streamed.shared`, a
run's own world kept besides), or without it the largest (the defaults). Usage::

    python -m benchmarks.task_memory --households 200000 --kinds rung replicate main
    python -m benchmarks.task_memory --households 1000000 --kinds replicate \
        --streamed --memory-limit 8GiB --processes 2
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
from pathlib import Path

SCENARIO = Path(__file__).parents[1] / "scenarios" / "baseline.yaml"
MIB = 1 << 20


def _status(field: str) -> int:
    """A ``/proc/self/status`` field in bytes (``VmRSS``, ``VmHWM``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _cpu() -> float:
    """User plus system CPU seconds of this process, DuckDB's threads included."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _measured(label: str, fn, *args) -> tuple[object, dict]:
    """Call ``fn(*args)``; its result and the memory it took."""
    gc.collect()
    before = _status("VmRSS")
    _reset_peak()
    start, cpu = time.perf_counter(), _cpu()
    value = fn(*args)
    wall, cpu = time.perf_counter() - start, _cpu() - cpu
    peak = _status("VmHWM")
    gc.collect()
    row = {
        "task": label,
        "rss_before_mib": before / MIB,
        "peak_mib": peak / MIB,
        "added_peak_mib": (peak - before) / MIB,
        "rss_after_mib": _status("VmRSS") / MIB,
        "wall_s": wall,
        "cpu_s": cpu,
    }
    print(json.dumps(row), flush=True)
    return value, row


def main_process(scenario, model) -> tuple:
    """The run's own work before it collects the pool: what it then holds."""
    from dataclasses import replace

    from audits.link_quality import by_source_and_group, link_quality
    from simulator.frames import release_memory
    from simulator.pipeline.run import (
        audit_council,
        audit_outcomes,
        council_run,
        stage_seeds,
    )
    from simulator.world.generate import generate

    data = generate(scenario)
    council = council_run(data, scenario, model)
    quality = link_quality(council.links, data.sources, data.spine, data.households)
    outcomes = audit_council(data, council, scenario)
    audit = audit_outcomes(outcomes, scenario, stage_seeds(scenario))
    table = by_source_and_group(quality.by_group, quality.by_source_group)
    audit = replace(audit, link_quality=table)
    release_memory()  # as run() does before it collects the pool's results
    return data, council, quality, outcomes, audit


def measure(
    households: int,
    kind: str,
    rungs: int = 2,
    streamed: bool = False,
    limit: str | None = None,
    processes: int = 2,
) -> list[dict]:
    """Every task of ``kind`` at ``households``, in this process.

    With ``streamed``, the tasks run through files in a temporary directory
    (:mod:`simulator.pipeline.streamed`), with the sizes of ``limit`` (a
    ``--memory-limit``) shared by ``processes``, else the defaults.
    """
    from simulator.pipeline.memory_limit import memory_limit_bytes
    from simulator.pipeline.parallel import thread_share
    from simulator.pipeline.run import (
        fit_model,
        replicate_audit,
        rung_outcomes,
        rung_worlds,
    )
    from simulator.pipeline.streamed import Streamed
    from simulator.schema.loading import load_scenario

    files = Streamed() if streamed else None
    if files is not None and limit is not None:
        files = files.shared(memory_limit_bytes(limit), processes, households)

    scenario = load_scenario(
        SCENARIO, [f"population.n_households={households}", "audit.replicates=1"]
    )
    model = fit_model(scenario)
    rows = []
    with thread_share(1):
        if kind == "rung":
            for group in rung_worlds(scenario)[:rungs]:
                _, row = _measured(
                    f"rungs {', '.join(group)}", rung_outcomes, group, model, files
                )
                rows.append(row)
        elif kind == "replicate":
            _, row = _measured(
                "replicate 1", replicate_audit, scenario, 1, model, True, files
            )
            rows.append(row)
        else:
            held, row = _measured("main", main_process, scenario, model)
            gc.collect()
            row["held_mib"] = _status("VmRSS") / MIB - row["rss_before_mib"]
            print(json.dumps(row), flush=True)
            rows.append(row)
            del held
    for row in rows:
        row.update(households=households, kind=kind, streamed=streamed)
        if files is not None:
            row.update(sizes=files.sizes.__dict__, memory_limit=limit)
        row.update(load=os.getloadavg())
    return rows


def main(argv: list[str] | None = None) -> None:
    """Measure the kinds asked for, each in a fresh process, and print JSON rows."""
    import subprocess

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--households", type=int, nargs="+", default=[200_000])
    p.add_argument("--kinds", nargs="+", default=["rung", "replicate", "main"])
    p.add_argument("--rungs", type=int, default=2, help="the first N rung tasks only")
    p.add_argument("--streamed", action="store_true", help="tasks through files")
    p.add_argument("--memory-limit", help="streamed: sizes from this --memory-limit")
    p.add_argument("--processes", type=int, default=2, help="sharing --memory-limit")
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        rows = measure(
            args.households[0],
            args.kinds[0],
            args.rungs,
            args.streamed,
            args.memory_limit,
            args.processes,
        )
        print("RESULT " + json.dumps(rows), flush=True)
        return
    for n in args.households:
        for kind in args.kinds:
            cmd = [sys.executable, "-m", "benchmarks.task_memory", "--one"]
            cmd += ["--households", str(n), "--kinds", kind, "--rungs", str(args.rungs)]
            cmd += ["--streamed"] if args.streamed else []
            if args.memory_limit is not None:
                cmd += ["--memory-limit", args.memory_limit]
            cmd += ["--processes", str(args.processes)]
            subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
