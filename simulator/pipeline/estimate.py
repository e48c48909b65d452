"""Estimate a run's wall time, peak memory and disk before it starts.

The costs are straight lines in the number of households (a fixed part plus a part
per household), one per stage as the manifest's ``measured`` fields name them
(:mod:`simulator.pipeline.timings`), fitted to real runs (``linkaudit run``) of
``scenarios/baseline.yaml`` on the machine linkaudit is developed on: 2 cores, 23.5
GiB of RAM. Times are CPU seconds, which other jobs on the machine inflate far less
than wall time. The deterministic stages were refitted on 2026-12-03 (the lines of
2026-12-02 said 574 s of CPU for a baseline at 1,000,000 households that took 283
s once generation, linkage and the view had got cheaper): ``python -m
benchmarks.run_costs --fit`` through the baseline (3 worlds, attribution) at 20,000
households (``benchmarks.run_costs``, main at ``c401ef9``, load 8) and the quiet
in-memory run at 1,000,000 with ``--workers 2`` (the lead's, at ``1733587``, load
1.9; ``run_costs --manifest``), each stage's CPU from the manifest, workers
included. The ladder's ``attribution`` stage is per world (the run's own world's
rungs; a replicate's are in its ``replicates`` stage, which the estimate counts as
a world and its ladder). The lines are exact at both ends: 285 s estimated against
283 s at 1,000,000, and 20 s against 22 s at 20,000. Tasks streamed through files
(``run --stream``) cost :data:`STREAMED_TASK_CPU` times as much, and a streamed
run's own world :data:`STREAMED_OWN_CPU` times: refitted in session 33, 207 s
estimated against 189 s measured at 1,000,000 (216 s at the first refit, 13 min
before it), 1,911 s against 1,840 s at 8,200,000 (it said 1.7 h), 70 s against
59 s at 300,000 and 18 s against 10 s at 20,000 (the start, link quality and the
writing weigh more there); Splink's 991 s against 795 s at 1,000,000.
Splink's link line goes through 20,000 households and the link stage of the
Splink baseline at 1,000,000 (354 s, one DuckDB thread while the pool worked;
338 s on two once it linked alone, under load; 100,000 measured 30.6 s,
estimated 36.4 s). Peak memory is
measured at a few sizes and joined by straight lines (:class:`Knots`; it grows more
slowly per household as runs grow), 5% above the peak of the run's own process: the
deterministic baseline at 20,000, 100,000, 300,000 and 1,000,000 households, Splink
at 20,000, 100,000 and 1,000,000 (the 1,000,000-household runs with ``--workers
2``, each worker's world added on top as :data:`TASK_BYTES_PER_HOUSEHOLD`). At
1,000,000 households that gives 14.9 GiB in two processes (deterministic) against
the process tree's measured 13.1 GiB, and 15.8 GiB (Splink) against 15.3 GiB (14.4
GiB before its real world linked alone), under the default
``--memory-limit`` (80% of this machine's 23.5 GiB, 18.8 GiB); the first fit (at
commit ``bcf656e``, through 20,000 and 100,000) said 17.7 and 21.6 GiB and refused
the Splink run. Disk is the first fit's line, above what the 1,000,000-household
runs wrote (381 and 399 MiB). Measure them again, and update this table, when a
stage's cost changes (a new algorithm, the streamed pipeline).

How the pieces add up (:func:`estimate_for`):

- one world: ``generate``, ``link`` (by method), ``view, scores and flags`` and
  ``audit``; the run adds ``link quality`` and ``write outputs and report``;
- each replicate after the first: one more world (its data are freed before the
  next, so replicates add time, not memory);
- a model that learns: one more world's ``generate``, ``link`` and view (the
  history cohort), the fit itself being small;
- attribution: its measured stage (one world's ladder: the ``data_error`` rung on
  the world the run holds, and the rung worlds it draws) once per world, whatever
  the linkage method (its rungs link with the oracle; the real run is its last
  rung);
- each period after the first (``dynamics.periods``): :data:`PERIOD_WORLDS` of a
  world (records drawn again, linked, viewed, audited; no population drawn), and
  as much again when its feedback is attributed (attribution on, with surveillance
  or deterrence: the period is run a second time without them);
- peak memory: its own knots per method, with and without attribution (the ladder
  generates worlds while the run's own stays in memory, and sets the peak), and
  for a run over periods at least :data:`PERIODS_PEAK`;
- disk: the run directory's bytes, by method; streamed, what each process's
  scratch files add while it works (:data:`SCRATCH_BYTES`), the least of it on a
  disk short of room (:data:`LEAST_SCRATCH_BYTES`), which ``run`` needs free on
  the output's disk or refuses to start (:func:`check_room`).

On another machine the times scale with its speed, memory and disk hardly at all.
"""

from __future__ import annotations

import shutil
import warnings
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from simulator.pipeline.memory_limit import memory_limit_bytes
from simulator.pipeline.parallel import (
    PROCESS_BYTES,
    SERIAL,
    STREAMED_BYTES_PER_HOUSEHOLD,
    STREAMED_TASK_BYTES,
    TASK_BYTES_PER_HOUSEHOLD,
    Workers,
    processes,
    task_bytes,
)
from simulator.schema.scenario import Scenario

GIB = 1 << 30
MIB = 1 << 20


@dataclass(frozen=True)
class Line:
    """A cost that grows linearly with the number of households."""

    fixed: float
    per_household: float

    def at(self, households: int) -> float:
        """The cost at ``households``."""
        return self.fixed + self.per_household * households


STREAMED_TASK = Line(STREAMED_TASK_BYTES, STREAMED_BYTES_PER_HOUSEHOLD)
"""Peak memory a pool task streamed through files adds to a worker (``run
--stream``), at most: a replicate world with its ``data_error`` rung, with the
largest sizes :func:`simulator.pipeline.memory_limit.stream_sizes` gives
(:data:`simulator.pipeline.parallel.STREAMED_TASK_BYTES`); a tighter
``--memory-limit`` gives smaller pieces and less."""
STREAMED_RUN = Line(1_077 * MIB, 866)
"""Peak memory of a ``run --stream``'s own process (its real world generated into
its output, linked, viewed, scored and audited from the files, the outputs
written from them; over periods the run keeps its world and the in-memory line
applies): the line through the process's peak in the lead's quiet runs of
``run --stream --workers 2`` at ``22b64bb`` (linkage reading its match tables from
files), from the manifest: 1.77 GiB at 1,000,000 households and 2.54 GiB at
2,000,000, plus 5%. Before: 930 MiB and 1,840 bytes a household, fitted when the
run's own link held DuckDB tables (2.50 GiB at 1,000,000). Below 200,000 it errs
high (487 MiB measured at 20,000 by ``run_costs --stream`` at ``fa215df``)."""
STARTUP_SECONDS = 4.0
"""CPU seconds of starting Python and importing the libraries (outside every stage)."""

# CPU seconds per stage (lines through 20,000 and 1,000,000 households,
# deterministic, refitted on 2026-12-03; see the docstring).
STAGE_SECONDS = {
    "generate": Line(0.56, 14.03e-6),
    "view, scores and flags": Line(0.11, 3.14e-6),
    "link quality": Line(0.32, 1.77e-6),
    "audit": Line(0.19, 1.25e-6),
    "attribution": Line(0.0, 45.1e-6),
    "write outputs and report": Line(6.27, 16.98e-6),
}
# CPU seconds of the link stage, by method (oracle: not measured, about a view;
# Splink: fitted on 2026-12-02, not refitted).
LINK_SECONDS = {
    "deterministic": Line(0.48, 20.29e-6),
    "splink": Line(1.15, 352.9e-6),
    "oracle": Line(0.11, 3.14e-6),
}


@dataclass(frozen=True)
class Knots:
    """A cost measured at a few sizes, joined by straight lines.

    Between two measured sizes it is the line through them; below the first and
    above the last, the nearest line extended. Costs that grow more slowly per
    household as runs grow (peak memory) are then exact at every measured size,
    where one line through the ends would be over in between or under at the ends.

    Examples
    --------
    >>> k = Knots(((10, 1.0), (20, 3.0), (40, 4.0)))
    >>> k.at(15), k.at(30), k.at(0), k.at(60)
    (2.0, 3.5, -1.0, 5.0)
    """

    points: tuple[tuple[int, float], ...]
    """(households, cost) pairs, by households; at least two."""

    def at(self, households: int) -> float:
        """The cost at ``households``."""
        inner = [n for n, _ in self.points[1:-1]]
        i = bisect_left(inner, households)
        (n0, c0), (n1, c1) = self.points[i], self.points[i + 1]
        return c0 + (c1 - c0) * (households - n0) / (n1 - n0)

    def times(self, factor: float) -> Knots:
        """Every measured cost multiplied by ``factor``."""
        return Knots(tuple((n, c * factor) for n, c in self.points))


STREAMED_OWN_CPU = Knots(
    (
        (20_000, 0.76),
        (100_000, 0.99),
        (300_000, 1.07),
        (1_000_000, 1.11),
        (8_200_000, 1.37),
    )
)
"""CPU of a streamed run's own world (generated into its output, linked, viewed
and audited from the files), as a multiple of :func:`_world_seconds`: the
``generate``, ``link``, ``view, scores and flags`` and ``audit`` stages of the
deterministic baseline's ``run --stream --workers 2`` over the in-memory lines, from
the manifests of the lead's runs under a lock at ``a6d6a62`` (20,000 to 1,000,000,
the mean of two at 1,000,000) and ``54cedef`` (8,200,000; the same pipeline), on
2026-12-04, in an afternoon when the machine ran the same code 9% slower than that
morning. It grows with the population: smaller pieces of a world at a time, more
passes."""
STREAMED_TASK_CPU = Knots(
    (
        (20_000, 0.72),
        (100_000, 0.62),
        (300_000, 0.60),
        (1_000_000, 0.62),
        (8_200_000, 0.75),
    )
)
"""CPU of the pool's tasks (replicates, rungs, the history cohort) streamed through
files, as a multiple of the same tasks' in-memory lines: the ``replicates`` and
``attribution`` stages of the same runs as :data:`STREAMED_OWN_CPU` over two
worlds and three worlds' ladders. Below 1 since lean rung worlds, views counted
as records are read and linkage from files came (docs/performance.md); it was
2.9 when fitted at ``2d74aaa``. Splink's worlds take the same factors, which
errs high (its link from files: 218 s at 1,000,000 against its line's 354 s)."""
PEAK_MARGIN = 1.05
"""Peak memory is estimated 5% above what was measured: a run's peak varies from
one run to the next (which task a process holds when), and too low would let a run
start that does not fit."""
NO_LADDER_SHARE = 0.97
"""Peak memory without attribution, as a share of the peak with it. Without the
ladder's own stage, the other stages peaked at 75% to 100% of the run's peak
(``benchmarks/run_costs.py`` runs at 20,000 to 300,000 households); at 1,000,000
households, in two processes, the ``replicates`` stage sets the peak either way (the
run's own process holding its world and a task's). Kept below the line with
attribution, since the ladder adds to a run and never frees it of anything."""
_PEAK_MEASURED = {
    "deterministic": Knots(
        (
            (20_000, 628_252_672),
            (100_000, 1_637_531_648),
            (300_000, 4_280_676_352),
            (1_000_000, 9_461_440_512),
        )
    ),
    "splink": Knots(
        ((20_000, 853_041_152), (100_000, 2_188_845_056), (1_000_000, 10_427_928_576))
    ),
}
"""Peak resident memory of a run's own process with attribution (see the module
docstring): the deterministic baseline at 20,000 and (one replicate) 100,000 and
300,000 households, Splink at 20,000 and 100,000 (one replicate), and each at
1,000,000 with ``--workers 2`` (Splink: the larger of two runs, 9.44 GB before its
real world linked alone, and 10.43 GB after, the run's process then taking a
replicate world rather than rungs). Workers add their worlds on top
(:func:`estimate_for`)."""
# Peak resident memory (bytes), by method and attribution on or off. Oracle: taken
# as deterministic's.
PEAK_MEMORY = {
    (method, ladder): _PEAK_MEASURED[measured].times(
        PEAK_MARGIN * (1 if ladder else NO_LADDER_SHARE)
    )
    for method, measured in (
        ("deterministic", "deterministic"),
        ("splink", "splink"),
        ("oracle", "deterministic"),
    )
    for ladder in (True, False)
}
PERIOD_WORLDS = 0.8
"""CPU of each later period, in worlds (:func:`_world_seconds`). Measured on
2026-12-02 from the manifests' ``periods`` stage against the same run's generate,
link, view and audit stages: the baseline at 20,000 households over 5 periods, 0.77
of a world a period (2.5 s against 3.3 s); with surveillance or deterrence and
attribution, whose feedback runs each period again without them, 1.5 and 1.7 worlds
(docs/performance.md, "Runs over periods")."""
PERIODS_PEAK = Line(0.46 * GIB, 11_350)
"""Peak resident memory of a run over periods, when above the method's line: the
period's world is drawn and linked while the first period's run is still held.
Through the ``periods`` stage's peak of two runs on 2026-12-02: 688 MiB at 20,000
households (surveillance, attribution) and 1,121 MiB at 60,000 (the baseline over 5
periods, attribution on)."""
# Bytes written to the run directory, by method. Deterministic: the baseline run
# --stream --workers 2 at 830a201 (outputs with dictionaries only where values
# repeat), 38,476,786 bytes at 100,000 households and 366,569,154 at 1,000,000;
# the oracle's taken as the same. Splink's is still the line measured before that
# change, which made the others' files 8% (1M) to 28% (20,000) smaller: an
# overestimate kept until it is measured again.
DISK_BYTES = {
    "deterministic": Line(1.93 * MIB, 364.5),
    "splink": Line(2.70 * MIB, 424.1),
    "oracle": Line(1.93 * MIB, 364.5),
}
DISK_MARGIN = 1.10
"""Disk while a run works is estimated 10% above the lines through what was
measured: which files a process holds at the moment the other peaks varies from
one run to the next, and at 8,200,000 households (32.1 GB at peak, ``76a1bfe``)
the lines alone are 5% under."""
SCRATCH_BYTES = Line(6.5 * MIB, 1_660.1)
"""Disk a process streaming its worlds through files (``run --stream``) holds at
most besides the outputs, where the disk has room for :data:`simulator.io.ROOMY`
scratch files (:func:`simulator.io.scratch_compression`): a world's spilled chunks
and Parquet files, its match files and links. Measured by sampling the disk's use
every 0.1 s through the baseline ``run --stream --workers 2`` (two processes) at
``63baa82``, less the finished output, halved: 392 MB at 100,000 households (46 MB
of output) and 3,734 MB at 1,000,000 (400 MB), peaking while both processes
generate; 1,094 MB at 300,000 (1,135 estimated). Again at ``830a201`` (smaller
outputs, a replicate's links uncompressed): 367 MB at 100,000 (38 MB of output),
1,067 MB at 300,000 (111 MB), 3,709 MB at 1,000,000 (367 MB): scratch halves of
164, 478 and 1,671 MB against this line's 173, 505 and 1,667 MB, inside
:data:`DISK_MARGIN`. Splink's: see :data:`SPLINK_SPILL`."""
LEAST_SCRATCH_BYTES = Line(0, 747.0)
""":data:`SCRATCH_BYTES` on a disk short of room for them, every scratch file
compressed (the same outputs): measured the same way with the run's output on a
tmpfs too small for :data:`simulator.io.ROOMY` files: 187 MB at 100,000, 557 MB at
300,000 (572 estimated), 1,885 MB at 1,000,000. A run needs at least this free."""
SPLINK_SPILL = Knots(
    ((100_000, 10_244_096), (300_000, 888_406_016), (1_000_000, 9_679_259_648))
)
"""What a process's streamed Splink link adds to :data:`SCRATCH_BYTES` (and to
:data:`LEAST_SCRATCH_BYTES`: DuckDB's spill is not compressed by room): Splink
holds its world in DuckDB, which spills beyond its memory limit into the world's
directory (:func:`simulator.council.linkage.link`'s ``spill_root``). Half the
difference between Splink's and the deterministic baseline's ``run --stream
--workers 2`` measured as for :data:`SCRATCH_BYTES`, at ``63baa82`` (100,000 and
300,000, DuckDB then spilling into the working directory, on the same disk) and
``5849ae7`` (1,000,000). Nothing below 100,000 households, where it fits in
memory."""


def _scratch(per_process: Line, households: int, method: str) -> float:
    """Scratch bytes on disk of a process streaming a world linked by ``method``."""
    spill = SPLINK_SPILL.at(households) if method == "splink" else 0.0
    return per_process.at(households) + max(spill, 0.0)


@dataclass(frozen=True)
class Estimate:
    """What a run is expected to take on this machine.

    ``seconds`` is CPU time: about the wall time on an idle machine (most stages use
    one core; DuckDB's use two, which makes it an overestimate there), longer in
    wall time when other jobs share the cores.
    """

    seconds: float
    peak_memory_bytes: float
    disk_bytes: float
    """The finished output's bytes."""
    processes: int = 1
    """Processes on this machine holding a world at once (the run's and workers')."""
    working_disk_bytes: float = 0.0
    """Bytes on the output's disk at most while the run works (its scratch files
    beside the output), where the disk has room; 0 if no more than the output."""
    least_disk_bytes: float = 0.0
    """The same with every scratch file compressed, as a disk short of room gets
    them: what the run needs free to finish; 0 if no more than the output."""

    def line(self) -> str:
        """One line for the console."""
        where = f" in {self.processes} processes" if self.processes > 1 else ""
        disk = f" and {_size(self.disk_bytes)} on disk" if self.disk_bytes else ""
        if self.working_disk_bytes:
            disk += (
                f" (up to {_size(self.working_disk_bytes)} while it runs, "
                f"{_size(self.least_disk_bytes)} on a disk short of room)"
            )
        return (
            f"about {_duration(self.seconds)} of CPU, "
            f"{self.peak_memory_bytes / GIB:.1f} GiB of memory at peak{where}{disk}"
        )

    def needed_disk_bytes(self) -> float:
        """Free bytes the output's disk needs for the run to finish."""
        return max(self.disk_bytes, self.least_disk_bytes)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _size(n: float) -> str:
    return f"{n / GIB:.1f} GiB" if n >= GIB else f"{n / MIB:.0f} MiB"


def _world_seconds(households: int, method: str) -> float:
    """One world generated, linked, viewed and audited."""
    return (
        STAGE_SECONDS["generate"].at(households)
        + LINK_SECONDS[method].at(households)
        + STAGE_SECONDS["view, scores and flags"].at(households)
        + STAGE_SECONDS["audit"].at(households)
    )


def streams_own_world(scenario: Scenario) -> bool:
    """Whether a streamed ``run`` streams its own real world, not only its tasks.

    Every run but one over periods (``dynamics.periods`` > 1), whose later periods
    move that world on in memory (:mod:`simulator.pipeline.periods`).
    """
    return scenario.dynamics.periods == 1


def estimate_for(
    scenario: Scenario,
    *,
    attribution: bool = True,
    workers: Workers | None = None,
    streamed: bool = False,
) -> Estimate:
    """The wall time, peak memory and disk of ``linkaudit run`` of ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        The resolved scenario (households, replicates, linkage method, model).
    attribution : bool
        Whether the attribution ladder runs (``--no-attribution`` turns it off).
    workers : Workers, optional
        Where the run's tasks go (default: serially here). Each worker process on
        this machine holds one more world while the run holds its own, so it adds
        its world and its libraries to the peak (as many as
        :func:`simulator.pipeline.parallel.processes` would start).
    streamed : bool
        The tasks stream through files (``run --stream``): a worker holds
        :data:`STREAMED_TASK` rather than a world, and the tasks take
        :data:`STREAMED_TASK_CPU` times their CPU; the run's own world, unless
        it runs over periods, :data:`STREAMED_OWN_CPU` times, and its process
        peaks at :data:`STREAMED_RUN`.

    Returns
    -------
    Estimate
        From the measured coefficients of this module (see its docstring).

    Examples
    --------
    >>> s = Scenario.model_validate({"population": {"n_households": 100_000}})
    >>> with_ladder = estimate_for(s)
    >>> with_ladder.seconds > estimate_for(s, attribution=False).seconds
    True
    """
    from simulator.pipeline.run import needs_history, pool_tasks

    n = scenario.population.n_households
    method = scenario.linkage.method
    own_streams = streamed and streams_own_world(scenario)  # its world in files
    wall = STARTUP_SECONDS + _world_seconds(n, method) * (
        STREAMED_OWN_CPU.at(n) if own_streams else 1
    )
    wall += STAGE_SECONDS["link quality"].at(n)
    wall += STAGE_SECONDS["write outputs and report"].at(n)
    pooled = (scenario.audit.replicates - 1) * _world_seconds(n, method)
    if needs_history(scenario):
        pooled += _world_seconds(n, method) - STAGE_SECONDS["audit"].at(n)
    if attribution:
        pooled += scenario.audit.replicates * STAGE_SECONDS["attribution"].at(n)
    wall += pooled * (STREAMED_TASK_CPU.at(n) if streamed else 1)
    wall += period_worlds(scenario, attribution) * _world_seconds(n, method)
    tasks = pool_tasks(scenario, attribution, needs_history(scenario), streamed)
    count = local_processes(workers or SERIAL, n, tasks, streamed, int(not own_streams))
    task = STREAMED_TASK.at(n) if streamed else n * TASK_BYTES_PER_HOUSEHOLD
    per_worker = task + PROCESS_BYTES
    peak = PEAK_MEMORY[(method, attribution)].at(n)
    if own_streams:
        peak = STREAMED_RUN.at(n)
    if scenario.dynamics.periods > 1:
        peak = max(peak, PERIODS_PEAK.at(n))
    disk = DISK_BYTES[method].at(n)
    working = least = 0.0
    if streamed:  # each process on this machine holds one world's scratch files
        working = disk + DISK_MARGIN * count * _scratch(SCRATCH_BYTES, n, method)
        least = disk + DISK_MARGIN * count * _scratch(LEAST_SCRATCH_BYTES, n, method)
    return Estimate(
        seconds=wall,
        peak_memory_bytes=peak + (count - 1) * per_worker,
        disk_bytes=disk,
        processes=count,
        working_disk_bytes=working,
        least_disk_bytes=least,
    )


def grid_estimate(
    scenarios: Sequence[Scenario], workers: Workers | None = None
) -> tuple[Estimate, Scenario]:
    """The cost of a sweep's or an exploration's runs, and its largest run.

    Every run is held in memory, without the attribution ladder, in one process
    (a worker's, or this one's) with its replicate worlds one after another: the
    largest run's :func:`estimate_for` alone. The CPU is every run's; the peak is
    the largest run's in each of the processes the pool would start for whole
    runs of its size (fewer when memory is short, as
    :class:`simulator.pipeline.parallel.Pool` chooses them). The command starts
    once and its runs write nothing; the grid's tables are small (no disk).

    Examples
    --------
    >>> small = Scenario.model_validate({"population": {"n_households": 20_000}})
    >>> big = Scenario.model_validate({"population": {"n_households": 400_000}})
    >>> estimate, largest = grid_estimate([small, big, small])
    >>> largest is big, estimate.processes
    (True, 1)
    >>> one = estimate_for(big, attribution=False)
    >>> estimate.peak_memory_bytes == one.peak_memory_bytes
    True
    """
    largest = max(
        scenarios, key=lambda s: s.population.n_households * s.audit.replicates
    )
    one = estimate_for(largest, attribution=False)
    count = 1
    if workers is not None and workers.cluster is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            count = processes(
                workers,
                largest.population.n_households * largest.audit.replicates,
                len(scenarios),
                **task_bytes(whole_runs=True),
            )
    seconds = STARTUP_SECONDS + sum(_grid_run_seconds(s) for s in scenarios)
    estimate = Estimate(
        seconds=seconds,
        peak_memory_bytes=count * one.peak_memory_bytes,
        disk_bytes=0,
        processes=count,
    )
    return estimate, largest


def _grid_run_seconds(scenario: Scenario) -> float:
    """A grid's run: :func:`estimate_for`'s without the start and the writing."""
    n = scenario.population.n_households
    run = estimate_for(scenario, attribution=False).seconds
    return run - STARTUP_SECONDS - STAGE_SECONDS["write outputs and report"].at(n)


def period_worlds(scenario: Scenario, attribution: bool) -> float:
    """Worlds' worth of CPU the periods after the first add (0 for a single run).

    Examples
    --------
    >>> five = Scenario.model_validate({"dynamics": {"periods": 5}})
    >>> round(period_worlds(five, True), 6)
    3.2
    >>> watched = five.model_copy(update={"dynamics": five.dynamics.model_copy(
    ...     update={"surveillance": five.dynamics.surveillance.model_copy(
    ...         update={"enabled": True})})})
    >>> round(period_worlds(watched, True), 6), round(period_worlds(watched, False), 6)
    (6.4, 3.2)
    """
    dyn = scenario.dynamics
    fed = attribution and (dyn.surveillance.enabled or dyn.deterrence.enabled)
    return (dyn.periods - 1) * PERIOD_WORLDS * (2 if fed else 1)


def local_processes(
    workers: Workers,
    households: int,
    tasks: int,
    streamed: bool = False,
    kept: int = 1,
) -> int:
    """Processes of a run on this machine: its own and the pool's (none on a cluster).

    As the run's pool chooses them (:class:`simulator.pipeline.parallel.Pool`: the
    run's process counts as one and keeps ``kept`` worlds, none if its own world
    streams; ``streamed`` tasks hold less); a count lowered for memory is warned
    about when the run starts, not here.
    """
    if workers.cluster is not None or tasks == 0:
        return 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return processes(
            workers, households, tasks + 1, kept=kept, **task_bytes(streamed=streamed)
        )


def streams_better(held: Estimate, streamed: Estimate, limit_text: str) -> bool:
    """Whether ``run`` without ``--stream`` streams its tasks through files.

    Only when held in memory it would need more than ``--memory-limit`` and
    streamed it needs less (a small run streamed needs more: :data:`STREAMED_TASK`'s
    fixed part).

    Examples
    --------
    >>> held, lean = Estimate(1, 10 * GIB, 0), Estimate(1, 6 * GIB, 0)
    >>> streams_better(held, lean, "8GiB"), streams_better(held, lean, "12GiB")
    (True, False)
    >>> streams_better(lean, held, "4GiB"), streams_better(held, lean, "0")
    (False, False)
    """
    limit = memory_limit_bytes(limit_text)
    if limit is None or held.peak_memory_bytes <= limit:
        return False
    return streamed.peak_memory_bytes < held.peak_memory_bytes


def check_fits(
    estimate: Estimate,
    scenario: Scenario,
    origin: str,
    limit_text: str,
    *,
    attribution: bool = True,
) -> None:
    """Refuse a run whose estimated peak memory is above ``--memory-limit``.

    Raises
    ------
    simulator.errors.ResourceError
        One line naming the scenario, the estimate, the limit and what to change.
    """
    from simulator.errors import ResourceError
    from simulator.pipeline.timings import total_memory_bytes

    limit = memory_limit_bytes(limit_text)
    if limit is None or estimate.peak_memory_bytes <= limit:
        return
    ladder = ", attribution on" if attribution else ""
    fixes = "lower population.n_households"
    if attribution:
        fixes += ", run with --no-attribution"
    raise ResourceError(
        f"{origin}: needs about {estimate.peak_memory_bytes / GIB:.1f} GiB of memory "
        f"at {scenario.population.n_households:,} households "
        f"({scenario.linkage.method} linkage{ladder}), more than --memory-limit "
        f"{limit_text} ({limit / GIB:.1f} GiB; this machine has "
        f"{total_memory_bytes() / GIB:.1f} GiB): {fixes}, or raise --memory-limit"
    )


def free_disk_bytes(path: Path) -> int:
    """Bytes free on the disk of ``path``, or of its nearest existing parent."""
    existing = Path(path).absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return shutil.disk_usage(existing).free


def check_room(estimate: Estimate, output: Path, origin: str) -> None:
    """Refuse a run whose output's disk lacks the room it needs to finish.

    The room is :meth:`Estimate.needed_disk_bytes` (scratch files compressed, as
    a disk short of room gets them), against what is free on the disk of
    ``output`` (or of its nearest existing parent, before it is made). An
    output being replaced counts as used: the old one stays until the new one
    is whole.

    Raises
    ------
    simulator.errors.OutputError
        One line naming the output, the room needed and free, and what to change.
    """
    from simulator.errors import OutputError

    needed = estimate.needed_disk_bytes()
    free = free_disk_bytes(output)
    if free >= needed:
        return
    while_running = " while it runs" if estimate.least_disk_bytes else ""
    raise OutputError(
        f"{origin}: needs about {_size(needed)} of disk{while_running} in {output}, "
        f"more than the {_size(free)} free there: free some space, write the "
        "output to another disk (-o), or lower population.n_households"
    )
