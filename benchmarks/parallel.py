"""Parallel runs and sweeps (issue #15): speed-up over serial, and CPU use of a run.

Each measured command is ``linkaudit`` itself in a fresh process
(``python -m simulator.cli``), so imports, worker start-up and writing count. For each:
wall time; CPU time of the command and every process it started and reaped
(``os.wait4``: its workers' fork server reaps the workers, and the command reaps the
server); CPU use (CPU / wall: 200% is both cores busy the whole time); peak
memory of the whole process tree (resident memory of the command, the fork server
and the workers summed, sampled every 0.2 s with psutil; pages a worker still shares
with the server count in both, so with workers this overstates the memory used)
and of its largest process (``ru_maxrss``);
and the machine's 1-minute load average sampled over the command (other engineers'
work shows there: compare the load with our own CPU use).

``kind="sweep"``: a 3-point sweep with 2 replicates of the baseline at ``households``,
``--workers 1`` then ``--workers N`` (same run, one after the other), and whether they
wrote the same bytes. ``kind="run"``: ``linkaudit run`` of the baseline at
``households`` with ``--workers N``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
VARY = "agencies.police.events.incident.background_rate=0.03,0.09,0.2"


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (0 once it is gone)."""
    import psutil

    try:
        top = psutil.Process(pid)
        procs = [top, *top.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):  # it ended meanwhile
            total += p.memory_info().rss
    return total


def measure(args: list[str]) -> dict[str, Any]:
    """Run ``linkaudit ARGS`` and measure it (see the module docstring)."""
    cmd = [sys.executable, "-m", "simulator.cli", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    peak, loads, done = [0], [], threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            loads.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args)} exited {status}")
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "command": "linkaudit " + " ".join(args),
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_use": cpu / wall,
        "peak_tree_rss_bytes": peak[0],
        "peak_process_rss_bytes": usage.ru_maxrss * 1024,
        "load_mean": sum(loads) / len(loads) if loads else os.getloadavg()[0],
        "load_max": max(loads, default=os.getloadavg()[0]),
    }


def _digests(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.glob("sweep.*"))
        if p.suffix in (".csv", ".parquet")
    }


def run(
    kind: str = "sweep",
    households: int = 20_000,
    workers: int = 2,
    replicates: int = 2,
) -> dict[str, Any]:
    """Measure a sweep (serial and parallel) or a parallel run; see the docstring."""
    size = f"population.n_households={households}"
    with tempfile.TemporaryDirectory(prefix="linkaudit-parallel-") as tmp:
        if kind == "run":
            out = Path(tmp) / "run"
            args = ["run", str(BASELINE), "--set", size, "-o", str(out), "-q"]
            return {
                "households": households,
                "workers": workers,
                **measure([*args, "--workers", str(workers)]),
            }
        figures: dict[str, Any] = {
            "households": households,
            "points": 3,
            "replicates": replicates,
            "workers": workers,
        }
        digests = {}
        for n in (1, workers):
            out = Path(tmp) / f"w{n}"
            args = ["sweep", str(BASELINE), "--set", size, "--vary", VARY]
            args += ["--replicates", str(replicates), "-o", str(out), "-q"]
            figures["serial" if n == 1 else "parallel"] = measure(
                [*args, "--workers", str(n)]
            )
            digests[n] = _digests(out)
    figures["same_bytes"] = digests[1] == digests[workers] and bool(digests[1])
    figures["speedup"] = figures["serial"]["wall_s"] / figures["parallel"]["wall_s"]
    return figures
