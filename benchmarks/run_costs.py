"""Measure whole runs' costs by stage, to fit and check the run estimate.

The estimate is ``simulator.pipeline.estimate``.

Each run is ``linkaudit run scenarios/baseline.yaml`` in a fresh process at a size and
linkage method; its manifest's ``measured`` fields give each stage's wall and CPU
seconds and peak memory, ``wait4`` the process's own peak, and the output directory's
size on disk what it wrote. Usage::

    python -m benchmarks.run_costs --households 20000 100000 --methods deterministic
    python -m benchmarks.run_costs --households 20000 200000 --stream
    python -m benchmarks.run_costs --manifest /tmp/r1m  # a run measured elsewhere
    python -m benchmarks.run_costs --fit benchmarks/results/run_costs.json \
        --households 20000 1000000
    python -m benchmarks.run_costs --check benchmarks/results/run_costs.json

Writes (or appends to) ``benchmarks/results/run_costs.json``; ``--check`` prints the
estimate of :func:`simulator.pipeline.estimate.estimate_for` beside every measured
run; ``--stream`` runs with ``--stream`` (the pool's tasks through files), whose
extra CPU ``--fit`` gives as a factor on the tasks' stages.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).with_name("results") / "run_costs.json"
SCENARIO = Path(__file__).parents[1] / "scenarios" / "baseline.yaml"


def disk_bytes(directory: Path) -> int:
    """Bytes of every file under ``directory``."""
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


TASK_STAGES = ("replicates", "attribution", "model: history cohort")
"""The stages whose work is the pool's tasks (streamed with ``--stream``)."""


def measure_run(
    households: int,
    method: str,
    attribution: bool,
    overrides: list[str],
    stream: bool = False,
) -> dict:
    """Run the baseline once in a fresh process; its costs and the machine's load."""
    out = Path(tempfile.mkdtemp(prefix="linkaudit-costs-")) / "run"
    cmd = [
        sys.executable, "-m", "simulator.cli", "run", str(SCENARIO), "-o", str(out),
        "-q",
        "--set", f"population.n_households={households}",
        "--set", f"linkage.method={method}",
    ]  # fmt: skip
    if not attribution:
        cmd.append("--no-attribution")
    if stream:
        cmd.append("--stream")
    for o in overrides:
        cmd += ["--set", o]
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"run failed ({status}): {' '.join(cmd)}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    row = {
        "households": households,
        "method": method,
        "attribution": attribution,
        "overrides": overrides,
        "streamed": stream,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_memory_bytes": usage.ru_maxrss * 1024,
        "disk_bytes": disk_bytes(out),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "measured": manifest["measured"],
    }
    shutil.rmtree(out.parent)
    return row


def manifest_row(directory: Path, stream: bool) -> dict:
    """A row of a run measured elsewhere, from its directory's manifest.

    Its process's CPU and peak are the manifest's totals (workers included), its
    load the manifest's; ``stream`` says whether it ran with ``--stream``.
    """
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    scenario = json.loads((directory / "scenario.json").read_text(encoding="utf-8"))
    total = manifest["measured"]["total"]
    load = manifest["measured"]["machine"]["load_average"][0]
    return {
        "households": scenario["population"]["n_households"],
        "method": scenario["linkage"]["method"],
        "attribution": any(
            s["stage"] == "attribution" for s in manifest["measured"]["stages"]
        ),
        "overrides": [f"audit.replicates={scenario['audit']['replicates']}"],
        "streamed": stream,
        "wall_seconds": total["wall_seconds"],
        "cpu_seconds": total["cpu_seconds"],
        "peak_memory_bytes": total["peak_memory_bytes"],
        "disk_bytes": disk_bytes(directory),
        "load_before": load,
        "load_after": load,
        "measured": manifest["measured"],
        "from": str(directory),
    }


def check(paths: list[Path]) -> None:
    """Print each measured run beside the estimate for it (a Markdown table)."""
    from simulator.pipeline.estimate import estimate_for
    from simulator.schema.loading import load_scenario

    gib, mib = 1 << 30, 1 << 20
    print(
        "| households | linkage | streamed | replicates "
        "| time: estimate / CPU / wall (s) "
        "| load | peak memory: estimate / measured (GiB) "
        "| disk: estimate / measured (MiB) |"
    )
    print("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    rows = [r for p in paths for r in json.loads(p.read_text(encoding="utf-8"))]
    for row in sorted(rows, key=lambda r: (r["method"], r["households"])):
        streamed = row.get("streamed", False)
        scenario = load_scenario(
            SCENARIO,
            [
                f"population.n_households={row['households']}",
                f"linkage.method={row['method']}",
                *row.get("overrides", []),
            ],
        )
        est = estimate_for(scenario, attribution=row["attribution"], streamed=streamed)
        print(
            f"| {row['households']:,} | {row['method']} "
            f"| {'yes' if streamed else 'no'} | {scenario.audit.replicates} "
            f"| {est.seconds:.0f} / {row['cpu_seconds']:.0f} / "
            f"{row['wall_seconds']:.0f} | {row['load_before']:.0f} | "
            f"{est.peak_memory_bytes / gib:.2f} / {row['peak_memory_bytes'] / gib:.2f} "
            f"| {est.disk_bytes / mib:.0f} / {row['disk_bytes'] / mib:.0f} |"
        )


def _line(points: dict[int, float]) -> tuple[float, float]:
    """Fixed part and slope of the line through the smallest and largest size."""
    lo, hi = min(points), max(points)
    slope = (points[hi] - points[lo]) / (hi - lo)
    return points[lo] - slope * lo, slope


def fit(rows: list[dict], sizes: tuple[int, int]) -> None:
    """Print the coefficients of ``simulator.pipeline.estimate`` from ``rows``.

    Times are each stage's CPU seconds (load-robust), lines through the smallest
    and largest of ``sizes``; the link stage and disk by method. Peak memory, by
    method, is the measured points at every size of ``sizes`` and between
    (``Knots``); without attribution, the largest peak of the other stages.
    Streamed rows (``--stream``) give only the factor of their tasks' stages'
    CPU (:data:`TASK_STAGES`) over the same size's run in memory.
    """
    _streamed_factor(rows)
    rows = [r for r in rows if not r.get("streamed", False)]
    stage_cpu: dict[str, dict[int, float]] = {}
    link: dict[str, dict[int, float]] = {}
    peak: dict[tuple[str, bool], dict[int, float]] = {}
    disk: dict[str, dict[int, float]] = {}
    for row in rows:
        n, method = row["households"], row["method"]
        if not min(sizes) <= n <= max(sizes):
            continue
        stages = {s["stage"]: s for s in row["measured"]["stages"]}
        for name, s in stages.items():
            if name == "link":
                link.setdefault(method, {})[n] = s["cpu_seconds"]
            elif method == "deterministic":
                stage_cpu.setdefault(name, {})[n] = s["cpu_seconds"]
        others = max(
            s["peak_memory_bytes"] for k, s in stages.items() if k != "attribution"
        )
        peak.setdefault((method, True), {})[n] = row["peak_memory_bytes"]
        peak.setdefault((method, False), {})[n] = others
        disk.setdefault(method, {})[n] = row["disk_bytes"]
    for title, table in (
        ("stage", stage_cpu),
        ("link", link),
        ("disk", disk),
    ):
        print(title)
        for key, points in table.items():
            if len(points) >= 2:
                a, b = _line(points)
                print(f"    {key!r}: Line({a:.4g}, {b:.4g}),")
    print("peak (measured; the estimate adds PEAK_MARGIN)")
    for key, points in peak.items():
        knots = ", ".join(f"({n:_}, {int(points[n]):_})" for n in sorted(points))
        print(f"    {key!r}: Knots(({knots})),")


def _task_cpu(row: dict) -> float:
    """CPU seconds of a run's pool tasks' stages."""
    stages = row["measured"]["stages"]
    return sum(s["cpu_seconds"] for s in stages if s["stage"] in TASK_STAGES)


def _streamed_factor(rows: list[dict]) -> None:
    """Print each streamed run's tasks' CPU over the in-memory run's at its size."""
    held = {
        (r["households"], r["method"], tuple(r["overrides"])): r
        for r in rows
        if not r.get("streamed", False)
    }
    for row in rows:
        key = (row["households"], row["method"], tuple(row["overrides"]))
        if row.get("streamed", False) and key in held:
            factor = _task_cpu(row) / _task_cpu(held[key])
            print(f"streamed tasks' CPU x{factor:.2f}: {key}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--households", type=int, nargs="*", default=[20_000, 100_000])
    p.add_argument("--methods", nargs="*", default=["deterministic", "splink"])
    p.add_argument("--no-attribution", action="store_true")
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--output", type=Path, default=RESULTS)
    p.add_argument("--check", type=Path, nargs="+", help="result files to check")
    p.add_argument("--fit", type=Path, nargs="+", help="result files to fit")
    p.add_argument("--stream", action="store_true", help="run with --stream")
    p.add_argument("--manifest", type=Path, nargs="+", help="run directories to add")
    args = p.parse_args()
    if args.manifest:
        rows = json.loads(args.output.read_text()) if args.output.exists() else []
        rows += [manifest_row(d, args.stream) for d in args.manifest]
        args.output.write_text(json.dumps(rows, indent=1), encoding="utf-8")
        return
    if args.fit:
        rows = [r for f in args.fit for r in json.loads(f.read_text())]
        fit(rows, (min(args.households), max(args.households)))
        return
    if args.check:
        check(args.check)
        return
    rows = json.loads(args.output.read_text()) if args.output.exists() else []
    for method in args.methods:
        for n in args.households:
            row = measure_run(
                n, method, not args.no_attribution, args.overrides, args.stream
            )
            print(json.dumps({k: v for k, v in row.items() if k != "measured"}))
            rows.append(row)
            args.output.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
