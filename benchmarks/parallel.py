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
the machine's 1-minute load average sampled over the command (other engineers'
work shows there: compare the load with our own CPU use); and, more directly, the
CPU seconds the machine ran for other processes meanwhile (``others_cpu_s``: every
process's busy time in ``/proc/stat`` less the command's and this sampler's, which
is ``sampler_cpu_s``) and the seconds the hypervisor took from our two virtual CPUs
for other machines (``steal_s``). A speed-up is only worth reading when both are
near 0.

``kind="sweep"``: a 3-point sweep with 2 replicates of the baseline at ``households``,
``--workers 1`` and ``--workers N`` measured in ``pairs`` pairs, one command after the
other, the order alternating (serial first in the first pair, parallel first in the
next, ...) so that neither always meets the machine as the other left it; whether
every command wrote the same bytes; each pair's speed-up (serial wall / parallel
wall) and their mean, smallest and largest. Before the first pair an untimed sweep
at 1,000 households (``--workers N``) reads the libraries and the scenario into the
page cache: this machine pages out file pages nobody used for about a minute
(DAMON), so the first command after a pause would otherwise read them from disk,
and that was always the serial one. ``kind="run"``: ``linkaudit run`` of the
baseline at ``households`` with ``--workers N``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
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


def machine_cpu() -> tuple[float, float]:
    """Seconds of CPU the whole machine has run (all processes) and had stolen.

    From ``/proc/stat``'s first line: user, nice, system, irq and softirq time (the
    busy time of every process, ours included), and steal (time the hypervisor gave
    our virtual CPUs' turn to other machines); (0, 0) where there is no such file.
    """
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0, 0.0
    ticks = [int(x) for x in fields]
    hz = os.sysconf("SC_CLK_TCK")
    busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]
    return busy / hz, (ticks[7] if len(ticks) > 7 else 0) / hz


def measure(args: list[str]) -> dict[str, Any]:
    """Run ``linkaudit ARGS`` and measure it (see the module docstring)."""
    cmd = [sys.executable, "-m", "simulator.cli", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    peak, loads, done = [0], [], threading.Event()
    own0 = resource.getrusage(resource.RUSAGE_SELF)
    busy0, steal0 = machine_cpu()
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
    busy1, steal1 = machine_cpu()
    done.set()
    sampler.join()
    own1 = resource.getrusage(resource.RUSAGE_SELF)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args)} exited {status}")
    cpu = usage.ru_utime + usage.ru_stime
    own = own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime
    return {
        "command": "linkaudit " + " ".join(args),
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_use": cpu / wall,
        "peak_tree_rss_bytes": peak[0],
        "peak_process_rss_bytes": usage.ru_maxrss * 1024,
        "load_mean": sum(loads) / len(loads) if loads else os.getloadavg()[0],
        "load_max": max(loads, default=os.getloadavg()[0]),
        "sampler_cpu_s": own,
        "others_cpu_s": max(0.0, busy1 - busy0 - cpu - own),
        "steal_s": steal1 - steal0,
    }


def _digests(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.glob("sweep.*"))
        if p.suffix in (".csv", ".parquet")
    }


def _sweep_args(households: int, replicates: int, out: Path, workers: int) -> list[str]:
    """``linkaudit sweep`` of the baseline over :data:`VARY` into ``out``."""
    size = f"population.n_households={households}"
    return [
        "sweep",
        str(BASELINE),
        "--set",
        size,
        "--vary",
        VARY,
        "--replicates",
        str(replicates),
        "-o",
        str(out),
        "-q",
        "--force",
        "--workers",
        str(workers),
    ]


def sweep_pairs(
    households: int, workers: int, replicates: int, pairs: int
) -> dict[str, Any]:
    """The sweep serially and on ``workers``, ``pairs`` times, alternating the order."""
    figures: dict[str, Any] = {
        "households": households,
        "points": 3,
        "replicates": replicates,
        "workers": workers,
    }
    with tempfile.TemporaryDirectory(prefix="linkaudit-parallel-") as tmp:
        warm = Path(tmp) / "warm"
        measure(_sweep_args(1_000, replicates, warm, workers))  # untimed: the cache
        measured, digests = [], []
        for i in range(pairs):
            order = (1, workers) if i % 2 == 0 else (workers, 1)
            pair: dict[str, Any] = {"first": "serial" if order[0] == 1 else "parallel"}
            for n in order:
                out = Path(tmp) / f"w{n}"
                pair["serial" if n == 1 else "parallel"] = measure(
                    _sweep_args(households, replicates, out, n)
                )
                digests.append(_digests(out))
            pair["speedup"] = pair["serial"]["wall_s"] / pair["parallel"]["wall_s"]
            measured.append(pair)
    speedups = [p["speedup"] for p in measured]
    figures["pairs"] = measured
    figures["same_bytes"] = bool(digests[0]) and all(d == digests[0] for d in digests)
    figures["speedup"] = sum(speedups) / len(speedups)
    figures["speedup_min"], figures["speedup_max"] = min(speedups), max(speedups)
    return figures


def run(
    kind: str = "sweep",
    households: int = 20_000,
    workers: int = 2,
    replicates: int = 2,
    pairs: int = 5,
) -> dict[str, Any]:
    """Measure a sweep (``pairs`` serial and parallel) or a parallel run; see above."""
    if kind == "sweep":
        return sweep_pairs(households, workers, replicates, pairs)
    size = f"population.n_households={households}"
    with tempfile.TemporaryDirectory(prefix="linkaudit-parallel-") as tmp:
        out = Path(tmp) / "run"
        args = ["run", str(BASELINE), "--set", size, "-o", str(out), "-q"]
        return {
            "households": households,
            "workers": workers,
            **measure([*args, "--workers", str(workers)]),
        }
