"""Each stage's wall time, CPU time and peak memory, measured for the run's manifest.

A run records what each stage cost on the machine that ran it (``measured`` in
``manifest.json``; :func:`measured_fields`), so a user can see where the time and
memory went and :mod:`simulator.pipeline.estimate` can be checked against real runs.
These are the only values in an output directory that differ between two runs of
the same scenario and seed: determinism checks drop them (:func:`without_measured`).

What is measured, per stage (the names the progress bars show):

- ``wall_seconds``: elapsed time in the process that ran the stage;
- ``cpu_seconds``: CPU time of that process (all its threads, DuckDB's included)
  plus the CPU time of any worker processes that ran parts of the stage and
  reported it (:meth:`Timings.add_worker`);
- ``peak_memory_bytes``: the highest resident memory of that process during the
  stage. When the stage raises the process's lifetime high-water mark, that mark is
  exact (``getrusage``); otherwise a background thread's samples every
  :data:`SAMPLE_SECONDS` give it (a spike shorter than that may be missed). The
  high-water mark is never reset, so tools such as ``/usr/bin/time`` still see the
  true peak;
- ``worker_peak_memory_bytes`` and ``workers``: the largest peak of the worker
  tasks of the stage and how many there were (0 when it ran in this process).

Worker processes measure their own task with :func:`measure` and return the
:class:`StageCost` with their result; the parent records it with
:meth:`Timings.add_worker` under the stage's name, so the manifest is written in one
place (the parent) whatever ran where.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any

MEASURED = "measured"
"""The manifest key holding the measured (machine-dependent) fields."""

SAMPLE_SECONDS = 0.05
"""How often resident memory is sampled while a stage runs."""
RUNS_STAGE = "runs"
"""The stage of a sweep or an exploration that runs its points (workers included)."""
WRITE_STAGE = "write outputs"
"""The stage of a sweep or an exploration that writes its files."""


@dataclass(frozen=True)
class StageCost:
    """What one stage cost: wall and CPU seconds and peak resident memory."""

    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_memory_bytes: int = 0
    worker_peak_memory_bytes: int = 0
    workers: int = 0

    def then(self, other: StageCost) -> StageCost:
        """The cost of this stage run again with ``other``'s cost.

        Times and workers add up; peaks are the larger.
        """
        return StageCost(
            self.wall_seconds + other.wall_seconds,
            self.cpu_seconds + other.cpu_seconds,
            max(self.peak_memory_bytes, other.peak_memory_bytes),
            max(self.worker_peak_memory_bytes, other.worker_peak_memory_bytes),
            self.workers + other.workers,
        )


def current_rss() -> int:
    """Resident memory of this process now, in bytes (0 if it cannot be read)."""
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:  # pragma: no cover - psutil is a dependency; be safe anyway
        return 0


def total_memory_bytes() -> int:
    """The machine's RAM in bytes (psutil, else ``/proc/meminfo``; 0 if unknown)."""
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:  # pragma: no cover - psutil is a dependency; be safe anyway
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return 0


def lifetime_peak_rss() -> int:
    """The process's resident-memory high-water mark, in bytes (0 if unknown)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # macOS: bytes


@dataclass
class _Open:
    """A stage being measured: its start and the highest memory seen so far."""

    wall0: float
    cpu0: float
    hwm0: int
    peak: int


class _Sampler:
    """One background thread sampling resident memory while any stage is open."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open: list[_Open] = []
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def enter(self, stage: _Open) -> None:
        with self.lock:
            self.open.append(stage)
            if self.thread is None:
                self.stop = threading.Event()
                self.thread = threading.Thread(
                    target=self._loop, args=(self.stop,), daemon=True
                )
                self.thread.start()

    def leave(self, stage: _Open) -> None:
        with self.lock:
            self.open.remove(stage)
            thread = self.thread if not self.open else None
            if thread is not None:
                self.stop.set()
                self.thread = None
        if thread is not None:
            thread.join()

    def _loop(self, stop: threading.Event) -> None:
        while not stop.wait(SAMPLE_SECONDS):
            rss = current_rss()
            with self.lock:
                for stage in self.open:
                    stage.peak = max(stage.peak, rss)


_sampler = _Sampler()


def _after_fork_in_child() -> None:
    """A forked worker starts with no stage open and no sampler thread."""
    global _sampler
    _sampler = _Sampler()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@contextmanager
def measure() -> Iterator[list[StageCost]]:
    """Measure the block; the :class:`StageCost` is in the yielded list after it.

    Examples
    --------
    >>> with measure() as cost:
    ...     _ = sum(range(1000))
    >>> cost[0].wall_seconds >= 0 and cost[0].peak_memory_bytes > 0
    True
    """
    rss = current_rss()
    stage = _Open(time.perf_counter(), time.process_time(), lifetime_peak_rss(), rss)
    out: list[StageCost] = []
    _sampler.enter(stage)
    try:
        yield out
    finally:
        _sampler.leave(stage)
        hwm = lifetime_peak_rss()
        peak = max(stage.peak, current_rss())
        if hwm > stage.hwm0:  # the process's record was set during the stage
            peak = max(peak, hwm)
        out.append(
            StageCost(
                wall_seconds=time.perf_counter() - stage.wall0,
                cpu_seconds=time.process_time() - stage.cpu0,
                peak_memory_bytes=peak,
            )
        )


@dataclass
class Timings:
    """Costs by stage name, in the order the stages first ran.

    Examples
    --------
    >>> t = Timings()
    >>> with t.stage("generate"):
    ...     pass
    >>> t.add_worker("attribution", StageCost(1.0, 0.9, 100))
    >>> list(t.stages), t.stages["attribution"].workers
    (['generate', 'attribution'], 1)
    """

    stages: dict[str, StageCost] = field(default_factory=dict)

    def add(self, name: str, cost: StageCost) -> None:
        """Record ``cost`` under ``name`` (added to what is already there)."""
        before = self.stages.get(name)
        self.stages[name] = cost if before is None else before.then(cost)

    def add_worker(self, name: str, cost: StageCost) -> None:
        """Record a worker task's own cost (from :func:`measure`) under ``name``.

        Its CPU seconds count towards the stage; its wall time does not (the
        parent's wall time for the stage already covers it) and its peak is kept
        as the stage's worker peak, apart from the parent's own.
        """
        worker = StageCost(
            cpu_seconds=cost.cpu_seconds,
            worker_peak_memory_bytes=max(
                cost.peak_memory_bytes, cost.worker_peak_memory_bytes
            ),
            workers=max(1, cost.workers),
        )
        self.add(name, worker)

    def plus(self, name: str, cost: StageCost) -> Timings:
        """A copy with ``cost`` added under ``name`` (this one is unchanged)."""
        out = Timings(dict(self.stages))
        out.add(name, cost)
        return out

    def merge(self, other: Timings) -> None:
        """Add every stage of ``other`` (e.g. timings returned by a worker)."""
        for name, cost in other.stages.items():
            self.add(name, cost)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Measure the block and record it under ``name``."""
        with measure() as cost:
            yield
        self.add(name, cost[0])

    def as_records(self) -> list[dict[str, Any]]:
        """One record per stage, in order: ``stage`` and its measured fields.

        A list, not a mapping, so the order the stages ran in survives JSON written
        with sorted keys. Seconds are rounded to milliseconds.
        """
        return [{"stage": name, **_rounded(cost)} for name, cost in self.stages.items()]

    def summary(self) -> str:
        """One line: each stage's wall seconds."""
        return ", ".join(f"{k} {v.wall_seconds:.1f}s" for k, v in self.stages.items())


def _rounded(cost: StageCost) -> dict[str, Any]:
    return {
        k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(cost).items()
    }


def stage_timer(timings: Timings | None, name: str) -> Any:
    """``timings.stage(name)``, or a context that measures nothing if ``None``."""
    return nullcontext() if timings is None else timings.stage(name)


def machine() -> dict[str, Any]:
    """The machine the run measured: cores, memory, load (the user's context)."""
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # pragma: no cover - Windows
        load = None
    return {
        "cpus": os.cpu_count(),
        "memory_bytes": total_memory_bytes(),
        "load_average": load,
    }


def measured_fields(timings: Timings) -> dict[str, Any]:
    """The manifest's ``measured`` value: stage costs, their total and the machine.

    The total's wall and CPU seconds are the sums over stages, its peak the
    largest stage peak.
    """
    total = StageCost()
    for cost in timings.stages.values():
        total = total.then(cost)
    return {
        "stages": timings.as_records(),
        "total": _rounded(total),
        "machine": machine(),
    }


def without_measured(manifest: dict[str, Any]) -> dict[str, Any]:
    """A manifest without its measured fields: what must repeat byte for byte."""
    return {k: v for k, v in manifest.items() if k != MEASURED}


def stage_bar(stage: str, total: int, progress: bool) -> Any:
    """A progress bar for one stage of a run (a no-op object when not shown)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=stage, unit="step", disable=not progress)
