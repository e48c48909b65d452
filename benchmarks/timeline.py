"""When each process of a ``linkaudit`` command is busy, and on what (issue #15).

``python -m benchmarks.timeline OUT -- run scenarios/baseline.yaml ...`` runs the
command (``python -m benchmarks.timeline child ...``: linkaudit with hooks) and samples
every process of its tree from ``/proc`` every 0.5 s (its user + system CPU and
resident memory), while hooks in the command's process and in its workers (the fork
server imports them too) log when each stage, each pool task and each part of the
report starts and ends. It writes ``OUT.samples``, ``OUT.events`` and ``OUT.json``
(wall, CPU, CPU use, the CPU other processes ran meanwhile: ``others_cpu_s``, steal,
load) and prints each step with its wall, its process's CPU and highest sampled
resident memory, and the idle core-seconds (2 x wall - CPU). The hooks only log; the
outputs are the command's own.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOG_ENV = "LINKAUDIT_TIMELINE"
"""The events file the hooks append to (unset: they log nothing)."""


def _log(event: str, what: str) -> None:
    """Append one event line: time, pid, start/end, what."""
    path = os.environ.get(LOG_ENV)
    if path:
        with open(path, "a") as f:
            f.write(f"{time.time():.3f}\t{os.getpid()}\t{event}\t{what}\n")


@contextlib.contextmanager
def _logged(what: str) -> Iterator[None]:
    _log("start", what)
    try:
        yield
    finally:
        _log("end", what)


def _task_name(fn: Callable[..., Any], args: tuple) -> str:
    """A pool task's name: its function, and which replicate or world's rungs."""
    name = getattr(fn, "__name__", str(fn))
    if name == "replicate_audit":
        return f"replicate {args[1]}"
    if name == "rung_outcomes":
        scenario = next(iter(args[0].values()))[0]
        return f"rungs {list(args[0])} (seed {scenario.seed})"
    return name


def _wrap(module: Any, name: str, label: Callable[..., str]) -> None:
    """Replace ``module.name`` by a logging twin with the same qualified name.

    Tasks are pickled by reference, so the twin must be what the module holds in
    the command's process and in the workers alike.
    """
    inner = getattr(module, name)
    if getattr(inner, "_timeline", False):
        return

    def twin(*args: Any, **kwargs: Any) -> Any:
        with _logged(label(*args, **kwargs)):
            return inner(*args, **kwargs)

    twin._timeline = True  # type: ignore[attr-defined]
    twin.__module__, twin.__qualname__ = inner.__module__, inner.__qualname__
    twin.__name__ = inner.__name__
    setattr(module, name, twin)


def install() -> None:
    """Log stages, pool tasks (in a worker, or taken back here) and report parts."""
    from audits.report import sections
    from simulator.pipeline import output, parallel, timings

    if getattr(parallel, "_timeline", False):
        return
    parallel._timeline = True  # type: ignore[attr-defined]
    _wrap(parallel, "call_task", lambda fn, a, t: "task " + _task_name(fn, a))
    _wrap(sections, "draw_sections", lambda i, anchors: f"draw {sorted(anchors)}")
    _wrap(sections, "ahead_of", lambda i: f"ahead {sorted(sections.AHEAD)}")
    _wrap(output, "write_run", lambda *a, **k: "stage write_run")
    _wrap(output.ReportMeanwhile, "__call__", lambda *a, **k: "stage meanwhile")
    first = "stage meanwhile: first world"
    _wrap(output.ReportMeanwhile, "first_world", lambda *a, **k: first)
    take = parallel.Task.take

    def take_logged(self: Any) -> bool:
        queue = self.pool.dispatcher
        if self.taken is None and queue is not None and self in queue._waiting:
            with _logged("task here " + _task_name(self.fn, self.args)):
                return take(self)
        return take(self)

    parallel.Task.take = take_logged
    stage = timings.Timings.stage.__wrapped__

    @contextlib.contextmanager
    def stage_logged(self: Any, name: str) -> Iterator[None]:
        with _logged("stage " + name), contextlib.contextmanager(stage)(self, name):
            yield

    timings.Timings.stage = stage_logged


def child(args: list[str]) -> int:
    """linkaudit ``args`` with the hooks here and in the fork server's workers."""
    from simulator.cli import main
    from simulator.pipeline import fork_server

    install()
    fork_server.PRELOAD = (*fork_server.PRELOAD, "benchmarks.timeline")
    return main(args)


def _busy() -> tuple[float, float]:
    """The machine's busy and stolen CPU seconds so far (``/proc/stat``)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    return sum(ticks[i] for i in (0, 1, 2, 5, 6)) / hz, ticks[7] / hz


def _sample(pids: list[int], now: float, out: Any) -> None:
    """One line per process: time, pid, CPU seconds so far, resident bytes."""
    hz, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            cpu = (int(fields[11]) + int(fields[12])) / hz
            out.write(f"{now:.3f}\t{pid}\t{cpu}\t{int(fields[21]) * page}\n")


def record(prefix: str, args: list[str]) -> dict[str, Any]:
    """Run ``linkaudit args`` with hooks; sample its processes; the figures."""
    import psutil

    events, samples = Path(prefix + ".events"), Path(prefix + ".samples")
    events.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), LOG_ENV: str(events)}
    busy0, steal0 = _busy()
    start = time.time()
    proc = psutil.Popen(
        [sys.executable, "-m", "benchmarks.timeline", "child", *args],
        cwd=ROOT,
        env=env,
        stdout=open(os.devnull, "w"),  # noqa: SIM115  # the child's, closed at exit
    )
    loads = []
    with samples.open("w") as out:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            with contextlib.suppress(psutil.Error):
                tree = [proc.pid, *(c.pid for c in proc.children(recursive=True))]
                _sample(tree, time.time() - start, out)
            loads.append(os.getloadavg()[0])
            time.sleep(0.5)
    wall = time.time() - start
    busy1, steal1 = _busy()
    cpu = usage.ru_utime + usage.ru_stime
    figures = {
        "command": "linkaudit " + " ".join(args),
        "exit": os.waitstatus_to_exitcode(status),
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_use": cpu / wall,
        "idle_core_s": 2 * wall - cpu,
        "others_cpu_s": busy1 - busy0 - cpu,
        "steal_s": steal1 - steal0,
        "load_mean": sum(loads) / max(1, len(loads)),
        "load_max": max(loads, default=0.0),
        "start": start,
    }
    Path(prefix + ".json").write_text(json.dumps(figures, indent=1))
    return figures


def steps(prefix: str) -> list[tuple[float, float, int, str, float, float]]:
    """Each logged step: start and end (s from the start), pid, what, its CPU s and
    its process's highest sampled resident memory meanwhile (GiB)."""
    start = json.loads(Path(prefix + ".json").read_text())["start"]
    cpu: dict[int, list[tuple[float, float]]] = defaultdict(list)
    rss: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for line in Path(prefix + ".samples").read_text().splitlines():
        t, pid, c, *m = line.split("\t")
        cpu[int(pid)].append((float(t), float(c)))
        rss[int(pid)].append((float(t), int(m[0]) if m else 0))

    def peak(pid: int, began: float, ended: float) -> float:
        inside = [m for t, m in rss[pid] if began <= t <= ended]
        return max(inside, default=0) / 2**30

    def at(pid: int, t: float) -> float:
        s = cpu[pid]
        i = bisect.bisect_left([a for a, _ in s], t)
        if not s or i == 0:
            return s[0][1] if s else 0.0
        if i == len(s):
            return s[-1][1]
        (ta, ca), (tb, cb) = s[i - 1], s[i]
        return ca + (cb - ca) * (t - ta) / (tb - ta)

    opened: dict[tuple[int, str], float] = {}
    out = []
    for line in Path(prefix + ".events").read_text().splitlines():
        t, pid, event, what = line.split("\t")
        key, when = (int(pid), what), float(t) - start
        if event == "start":
            opened[key] = when
        else:
            began, pid = opened.pop(key), key[0]
            used = at(pid, when) - at(pid, began)
            out.append((began, when, pid, what, used, peak(pid, began, when)))
    return sorted(out)


def main() -> None:
    """``timeline OUT -- ARGS`` (record, then show) or ``timeline show OUT``."""
    if sys.argv[1] == "child":
        sys.exit(child(sys.argv[2:]))
    if sys.argv[1] == "show":
        prefix = sys.argv[2]
    else:
        prefix, args = sys.argv[1], sys.argv[sys.argv.index("--") + 1 :]
        record(prefix, args)
    print(Path(prefix + ".json").read_text())
    for began, ended, pid, what, cpu, gib in steps(prefix):
        print(
            f"{began:7.1f} {ended:7.1f} {pid:>7} wall {ended - began:6.1f} "
            f"cpu {cpu:6.1f} peak {gib:5.2f} GiB  {what}"
        )


if __name__ == "__main__":
    main()
elif os.environ.get(LOG_ENV):  # imported by the child's fork server: workers log too
    install()
