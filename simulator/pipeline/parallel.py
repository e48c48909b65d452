"""Independent work on several processes or a Dask cluster, with the serial bytes.

A run's attribution rungs, its replicates and its history cohort, and a sweep's runs,
do not depend on one another: each is a pure function of its scenario, its seeds and
the fitted model. :class:`Pool` runs such tasks on worker processes (loky, a
``concurrent.futures`` executor that can kill its workers, whose workers fork from
a server that has imported linkaudit once: :mod:`simulator.pipeline.fork_server`)
or, given ``--cluster ADDRESS``, on a Dask cluster; results are collected in
the order the tasks were submitted, so every output is byte-identical to the serial
path's (``tests/pipeline/test_parallel.py``).

How many processes (:func:`processes`): ``--workers N`` (or ``LINKAUDIT_WORKERS``);
by default the machine's cores, or 1 (serial, no worker started) when the
independent work is small (under :data:`AUTO_MIN_HOUSEHOLDS` households in all),
since workers take about 2.5 s to start (the fork server's imports). Never more
than the tasks, and never more than memory holds (:func:`memory_cap`): every
process working on a task holds a task's world, at most
:data:`TASK_BYTES_PER_HOUSEHOLD` bytes per household plus :data:`PROCESS_BYTES`,
and a run's own process also keeps the real run's world,
:data:`KEPT_BYTES_PER_HOUSEHOLD`. Both were measured at 1,000,000 households with
``python -m benchmarks.task_memory`` (docs/performance.md, "Memory of a pool task").

Threads: each of ``W`` processes gives DuckDB and the numerical libraries (BLAS,
OpenMP, through threadpoolctl) ``max(1, cores // W)`` threads, so together they never
ask for more than the cores. A run's own process takes the same share while the pool
works, and when it has finished its own work it takes back tasks no worker has
started yet (their results are the same wherever they run). So that it can, such a
pool keeps its tasks in a queue of its own and hands loky one only when a worker is
free (:class:`Dispatcher`): loky moves submitted tasks into its call queue ahead of
the workers, where they can no longer be cancelled.

Failures: an exception in a worker is raised again in this process with its own type
and message, so a ``linkaudit:`` error reads the same as in a serial run; a worker
that dies (killed, out of memory) is a :class:`WorkerError` saying what to do.
Interrupts: SIGINT, SIGTERM and SIGHUP raise :class:`simulator.failures.Interrupted`
here (workers ignore SIGINT, so a Ctrl-C reaches this process only); the pool then
kills its workers, or cancels its cluster tasks, and the output unwinds as in a serial
run (:mod:`simulator.output_dirs`).
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import signal
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.errors import LinkauditError
from simulator.failures import HANDLED_SIGNALS, interrupts_held
from simulator.pipeline import fork_server
from simulator.pipeline.fork_server import SERVER_COMMAND

if TYPE_CHECKING:
    from simulator.pipeline.timings import Timings

logger = logging.getLogger(__name__)

WORKERS_ENV = "LINKAUDIT_WORKERS"
"""Environment variable holding the default number of workers."""
AUTO_MIN_HOUSEHOLDS = 20_000
"""Without ``--workers``, work totalling fewer households (tasks x households) runs
serially: starting workers (about 2.5 s) would cost more than it saves."""
TASK_BYTES_PER_HOUSEHOLD = 5_600
"""Peak memory a pool task (an attribution rung, a replicate world) adds to a process
that has imported the libraries, per household. Measured on 2026-12-02 with
``python -m benchmarks.task_memory --households 1000000`` (one process per kind,
its resident peak less :data:`PROCESS_BYTES`): a replicate 5,114 MiB (5,362 bytes
per household; it links deterministically), a rung (oracle links) 3,771 MiB;
the larger, plus about 4%. Before tasks shed what they no longer read (commit
after ``04dba62``) a replicate took 7,534 MiB and a rung 5,900 MiB."""
KEPT_BYTES_PER_HOUSEHOLD = 4_400
"""Memory a run's own process keeps of its real world while the pool works, per
household (its data, links, view, flags and audit, all written at the end).
Measured as above (``--kinds main``: resident memory after the audit, less
:data:`PROCESS_BYTES`): 4,044 MiB at 1,000,000 households (4,240 bytes per
household), plus about 4%. Before: 4,795 MiB."""
RUN_BYTES_PER_HOUSEHOLD = 7_000
"""Peak memory of a whole run in one process (a sweep's or an explorer's point: no
attribution, its data kept to the end), per household: the run's own process peaked
at 6.74 GiB at 1,000,000 households, measured as above (``--kinds main``), less
:data:`PROCESS_BYTES`, plus about 4%. A task sheds what it no longer reads and a run
cannot, so a worker running whole runs needs this, not
:data:`TASK_BYTES_PER_HOUSEHOLD`."""
WORKER_MODULE = SERVER_COMMAND
"""What a worker process runs (its command line names it): a worker is forked from
the fork server (:mod:`simulator.pipeline.fork_server`), whose command line it keeps."""
PROCESS_BYTES = 400 * 2**20
"""Memory of a worker before its task (the imported libraries)."""
STREAMED_TASK_BYTES = 860 * 2**20
"""The fixed part of a pool task streamed through files (``run --stream``): what it
adds to a worker besides :data:`STREAMED_BYTES_PER_HOUSEHOLD`. Refitted on
2026-12-03 (session 28, main at ``c46c03d``, after linkage read its match tables
from files) with ``python -m benchmarks.task_memory --kinds replicate --streamed``
at 1,000,000 households (1,696 MiB) and 2,000,000 (2,567 MiB; load 1-6), the line
through both plus about 4%, with the sizes of
:class:`~simulator.pipeline.memory_limit.StreamSizes`' defaults (DuckDB's 2 GB and
a 50,000-household generation chunk are most of it). Before: 700 MiB and 1,920
bytes a household (2,431 MiB at 1,000,000), fitted before linkage left DuckDB's
tables."""
STREAMED_BYTES_PER_HOUSEHOLD = 950
"""What a streamed task holds per household of its world (the view, scores and
outcomes it builds in memory, the spine's address keys while it generates): the
slope of :data:`STREAMED_TASK_BYTES`' line."""
REPORT_BYTES_PER_HOUSEHOLD = 400
"""Memory of a worker drawing part of a streamed run's report, per household, besides
:data:`PROCESS_BYTES`: the tables its sections read
(:func:`audits.report.sections.inputs_for`). Its peak was 0.55 GiB at 1,000,000
households (session 29, one run under load: about 170 bytes a household over the
libraries), taken at more than twice that. A streamed task's line, which it was
sized by, asked 8.1 GiB at 8,200,000 households and refused the worker."""
MEMORY_SHARE = 0.9
"""Share of the available memory the worlds may take."""


class WorkerError(LinkauditError, RuntimeError):
    """A worker process died, or a cluster could not be used."""


@dataclass(frozen=True)
class Workers:
    """Where independent tasks run.

    Attributes
    ----------
    count : int or None
        Processes working at once (1: serially, in this process); None chooses
        (:func:`processes`).
    cluster : str or None
        A Dask scheduler's address: tasks run there instead.
    memory_limit : int or None
        Bytes the run may use (``--memory-limit``): no more processes start than
        their worlds fit in (None: only the memory available limits them).
    """

    count: int | None = None
    cluster: str | None = None
    memory_limit: int | None = None


SERIAL = Workers(1)
"""Every task in this process, one after another (the library's default)."""


def workers_from_env(
    count: int | None, cluster: str | None = None, memory_limit: int | None = None
) -> Workers:
    """The command line's setting: ``count``, else ``LINKAUDIT_WORKERS``, else auto.

    Raises
    ------
    WorkerError
        If the count (given or from the environment) is not a whole number >= 1.
    """
    where = "--workers"
    if count is None and os.environ.get(WORKERS_ENV, "").strip():
        where, text = WORKERS_ENV, os.environ[WORKERS_ENV].strip()
        try:
            count = int(text)
        except ValueError:
            raise WorkerError(
                f"{WORKERS_ENV}={text!r}: expected a whole number of workers >= 1"
            ) from None
    if count is not None and count < 1:
        raise WorkerError(f"{where} {count}: expected a whole number of workers >= 1")
    return Workers(count, cluster, memory_limit)


def cores() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def available_memory() -> int:
    """Bytes of memory available to new work (``MemAvailable``), else the total."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_cap(
    households: int,
    *,
    kept: int = 0,
    available: int | None = None,
    limit: int | None = None,
    per_household: int = TASK_BYTES_PER_HOUSEHOLD,
    fixed: int = 0,
) -> int:
    """How many processes can each hold a task's world of ``households`` (>= 1).

    Each process takes ``per_household`` bytes per household (a task's,
    :data:`TASK_BYTES_PER_HOUSEHOLD`, a whole run's,
    :data:`RUN_BYTES_PER_HOUSEHOLD`, or a streamed task's,
    :data:`STREAMED_BYTES_PER_HOUSEHOLD`), ``fixed`` bytes more (a streamed task's
    :data:`STREAMED_TASK_BYTES`) and :data:`PROCESS_BYTES`; ``kept`` worlds of
    :data:`KEPT_BYTES_PER_HOUSEHOLD` are held besides.

    Parameters
    ----------
    households : int
        The population of every task's world.
    kept : int
        Worlds held besides the tasks' (a run keeps its real world: 1).
    available : int, optional
        Bytes available; by default :func:`available_memory`.
    limit : int, optional
        Bytes the run may use at most (``--memory-limit``), if less.
    per_household : int
        Bytes of each process's work per household.
    fixed : int
        Bytes of each process's work whatever its households.

    Examples
    --------
    >>> memory_cap(1_000_000, kept=1, available=24 * 2**30)
    3
    >>> memory_cap(1_000_000, available=13 * 2**30)  # tasks
    2
    >>> memory_cap(1_000_000, available=13 * 2**30, per_household=7_000)  # runs
    1
    >>> memory_cap(1_000_000, kept=1, available=24 * 2**30, limit=12 * 2**30)
    1
    >>> memory_cap(1_000, available=24 * 2**30) > 30
    True
    >>> memory_cap(1_000_000, kept=1, available=24 * 2**30,  # streamed tasks
    ...            **task_bytes(streamed=True))
    8
    """
    task = households * per_household + fixed + PROCESS_BYTES
    return max(1, int(memory_budget(households, kept, available, limit) // task))


def memory_budget(
    households: int,
    kept: int = 0,
    available: int | None = None,
    limit: int | None = None,
) -> float:
    """Bytes the processes' tasks may share (:func:`memory_cap`).

    ``limit`` or :data:`MEMORY_SHARE` of ``available`` (by default
    :func:`available_memory`), whichever is less, less ``kept`` worlds of
    ``households``.
    """
    budget = MEMORY_SHARE * (available if available is not None else available_memory())
    if limit is not None:
        budget = min(budget, limit)
    return budget - kept * households * KEPT_BYTES_PER_HOUSEHOLD


def processes(
    workers: Workers,
    households: int,
    tasks: int,
    *,
    kept: int = 0,
    per_household: int = TASK_BYTES_PER_HOUSEHOLD,
    fixed: int = 0,
) -> int:
    """The processes to use for ``tasks`` tasks of ``households`` each.

    The setting's count (or, unset, the cores; 1 when ``tasks x households`` is
    under :data:`AUTO_MIN_HOUSEHOLDS`), at most ``tasks`` and at most
    :func:`memory_cap` (``kept``, ``per_household`` and ``fixed`` as there). A count
    lowered for memory is said in a warning.
    """
    if workers.count is not None:
        wanted = workers.count
    elif tasks * households < AUTO_MIN_HOUSEHOLDS:
        wanted = 1
    else:
        wanted = cores()
    wanted = max(1, min(wanted, tasks))
    cap = memory_cap(
        households,
        kept=kept,
        limit=workers.memory_limit,
        per_household=per_household,
        fixed=fixed,
    )
    if wanted > cap:
        if workers.count is not None:
            room = available_memory()
            if workers.memory_limit is not None and workers.memory_limit < room:
                where = f"--memory-limit allows {workers.memory_limit / 2**30:.1f} GiB"
            else:
                where = f"{room / 2**30:.1f} GiB is available"
            task = households * per_household + fixed
            warnings.warn(
                f"--workers {workers.count} lowered to {cap}: each worker holds a "
                f"world of {households:,} households (about "
                f"{task / 2**30:.1f} GiB) and "
                f"{where}",
                stacklevel=2,
            )
        wanted = cap
    return wanted


def task_bytes(
    *, whole_runs: bool = False, streamed: bool = False, report: bool = False
) -> dict[str, int]:
    """A pool task's memory, as :func:`processes` takes it (its keywords).

    A report's part (:data:`REPORT_BYTES_PER_HOUSEHOLD`), a whole run's
    (:data:`RUN_BYTES_PER_HOUSEHOLD`), a task streamed through files
    (:data:`STREAMED_BYTES_PER_HOUSEHOLD` and :data:`STREAMED_TASK_BYTES`), else a
    task holding its world (:data:`TASK_BYTES_PER_HOUSEHOLD`).

    Examples
    --------
    >>> task_bytes(streamed=True) == {
    ...     "per_household": STREAMED_BYTES_PER_HOUSEHOLD, "fixed": STREAMED_TASK_BYTES}
    True
    """
    if report:
        return {"per_household": REPORT_BYTES_PER_HOUSEHOLD, "fixed": 0}
    if whole_runs:
        return {"per_household": RUN_BYTES_PER_HOUSEHOLD, "fixed": 0}
    if streamed:
        return {
            "per_household": STREAMED_BYTES_PER_HOUSEHOLD,
            "fixed": STREAMED_TASK_BYTES,
        }
    return {"per_household": TASK_BYTES_PER_HOUSEHOLD, "fixed": 0}


# ------------------------------------------------------------------ inside a task


@contextmanager
def thread_share(threads: int | None) -> Iterator[None]:
    """DuckDB and numerical libraries use ``threads`` threads (None: as they are)."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    from simulator.council.linkage.backend import set_default_threads

    before = set_default_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        set_default_threads(before)


def _portable(error: BaseException) -> BaseException:
    """``error``, or a RuntimeError with its text if it cannot travel back intact."""
    try:
        back = pickle.loads(pickle.dumps(error))
        if type(back) is type(error) and str(back) == str(error):
            return error
    except Exception:  # noqa: S110  # any failure to pickle means: send text
        pass
    return RuntimeError(f"{type(error).__name__}: {error}")


def call_task(fn: Callable[..., Any], args: tuple, threads: int | None) -> tuple:
    """Run one task where it was sent: its result, warnings and cost.

    Warnings are recorded (every one: the submitting process's filters decide) and
    issued again by :meth:`Task.result`; the cost (:func:`measure`) is recorded by
    the submitting process in the run's manifest.
    """
    from simulator.pipeline.timings import measure

    with (
        warnings.catch_warnings(record=True) as seen,
        thread_share(threads),
        measure() as cost,
    ):
        warnings.simplefilter("always")
        try:
            value = fn(*args)
        except Exception as e:
            raise _portable(e) from None
    kept = [(w.category, str(w.message), w.filename, w.lineno) for w in seen]
    return value, kept, cost[0]


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back in this thread; they arrive when this ends.

    Starting a worker is not atomic: an interrupt raised after its process exists
    but before the pool has registered it would leave a worker nobody kills, which
    keeps the terminal's output open for minutes; :func:`interrupts_held` defers
    it to the end of the block. The fork server, started in such a block, keeps
    the blocked signals and every worker it forks inherits them, so a Ctrl-C
    during a worker's start-up cannot interrupt it halfway either
    (:func:`_start_worker` then ignores SIGINT and lets the others through); the
    server itself is killed, not signalled (:func:`kill_workers`).
    """
    before = signal.pthread_sigmask(signal.SIG_BLOCK, set(HANDLED_SIGNALS))
    try:
        with interrupts_held():
            yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _start_tracker() -> None:
    """Start the resource tracker workers report to, before SIGINT is held.

    Starting it unblocks SIGINT in the starting thread, which would let workers
    started in the same :func:`_signals_held` block see a Ctrl-C. The fork server
    hands it to the workers. loky's own tracker is not started: it serves workers
    loky spawns itself, and these fork from the server (one interpreter fewer
    starting beside the server, about 0.06 s of CPU).
    """
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()


def start_workers(workers: Workers) -> None:
    """Start the workers' fork server now if ``workers`` asks for processes here.

    A command calls this first, before its own imports: the server then imports
    linkaudit on the other core while this process does, and the pool's workers
    fork from it at once (:mod:`simulator.pipeline.fork_server`). Without a count
    (automatic), the pool starts the server when it knows it needs workers.
    """
    if workers.cluster is None and (workers.count or 1) > 1:
        _start_server()


def _start_server() -> None:
    """The fork server, running; at exit it is stopped and reaped (once)."""
    global _stopped_at_exit
    _start_tracker()
    with _signals_held():  # the server, and so its workers, inherit held signals
        fork_server.start()
    if not _stopped_at_exit:
        atexit.register(_stop_server)
        _stopped_at_exit = True


_stopped_at_exit = False
"""Whether :func:`_stop_server` is registered to run at exit."""


def _stop_server() -> None:
    """Kill the fork server and any worker left, and reap the server.

    Runs at exit, after the executor has stopped its workers: no process of the
    command outlives it (holding its output open), and the server's CPU time, its
    workers' included, counts in this process's children's as a worker's did.
    """
    import psutil

    found = _worker_processes()
    kill_workers()
    for process in found:
        with suppress(psutil.Error):  # not a child of ours (the server reaps it)
            process.wait(timeout=10)


def _start_worker(level: int) -> None:
    """A new worker: Ctrl-C is the submitting process's to handle; log as it does.

    Its multiprocessing start method becomes "fork" (it starts no process itself),
    so a lock a task makes (tqdm makes one) is a nameless semaphore: a worker
    killed on an interrupt then leaves no named one behind, which the command's
    resource tracker would report in a warning at exit.
    """
    import multiprocessing

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, set(HANDLED_SIGNALS))
    multiprocessing.set_start_method("fork", force=True)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


_REISSUED: dict[Any, Any] = {}
"""The warnings registry of re-issued warnings: the same text from the same line
is shown once, as when it was raised here."""


def reissue(seen: list[tuple[type[Warning], str, str, int]]) -> None:
    """Issue here the warnings a task raised elsewhere, in order."""
    for category, message, filename, lineno in seen:
        warnings.warn_explicit(message, category, filename, lineno, registry=_REISSUED)


def kill_workers() -> None:
    """Kill every worker process this process started, known to the pool or not.

    A worker the executor was starting when an interrupt came may not be in its
    list yet; left alive it would hold the terminal's output open until its idle
    timeout. Workers, and the fork server they come from, are found among this
    process's descendants by their command line (:data:`WORKER_MODULE`; loky's
    resource tracker is left to exit on its own). A later pool starts a new server:
    this waits until they have died (for a few seconds at most), since
    multiprocessing would take a server killed but not yet dead for a live one,
    and the pool's first worker would then fail to start.
    """
    import psutil

    killed = _worker_processes()
    for process in killed:
        with suppress(psutil.Error):  # it ended meanwhile
            process.kill()
    deadline = time.monotonic() + KILL_WAIT_S
    while not all(map(_dead, killed)) and time.monotonic() < deadline:
        time.sleep(0.01)


KILL_WAIT_S = 5.0
"""How long :func:`kill_workers` waits at most for the killed processes to die."""


def _dead(process: Any) -> bool:
    """Whether a psutil process has ended (a zombie has; it is not reaped here)."""
    import psutil

    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:  # gone (reaped)
        return True


def _worker_processes() -> list[Any]:
    """The descendants of this process that run :data:`WORKER_MODULE` (psutil)."""
    import psutil

    found = []
    for child in psutil.Process().children(recursive=True):
        with suppress(psutil.Error):  # it ended meanwhile
            if WORKER_MODULE in " ".join(child.cmdline()):
                found.append(child)
    return found


# ------------------------------------------------------------------------ the pool


def quiet_recycling() -> None:
    """Do not report loky's restart of a worker that grew as a memory leak.

    loky restarts a worker whose memory grew more than 300 MB past its size after
    its first task, and warns of "a memory leak". Here tasks differ in size (a rung,
    a replicate world, a whole run), so that growth is expected, and the restart (a
    fork of the server) is harmless and hands the memory back: the warning would
    only alarm. A worker that stopped unasked is still reported.
    """
    warnings.filterwarnings(
        "ignore", message="A worker was restarted", category=UserWarning
    )


class Task:
    """One submitted task; :meth:`result` returns its value (raising its error)."""

    def __init__(self, pool: Pool, fn: Callable[..., Any], args: tuple, future: Any):
        self.pool, self.fn, self.args, self.future = pool, fn, args, future
        self.cost = None
        """What the task cost in a worker (a ``StageCost``); None if run here."""
        self.taken: tuple[Any] | None = None
        """The value, once this process took the task back and ran it."""
        self.here = future is None and pool.dispatcher is None
        """Whether the task runs in this process when its result is asked for: no
        worker (a serial pool), or taken back from the queue and failed here."""
        self.sent = threading.Event()
        """Set once :attr:`future` is the task's in a worker or on a cluster."""
        if future is not None:
            self.sent.set()

    def send(self, future: Any) -> None:
        """The task went to a worker: ``future`` is its result there."""
        self.future = future
        self.sent.set()

    def take(self) -> bool:
        """Run the task here if this process may and no worker has it yet.

        Returns True if its value is here (taken now or before).
        """
        if self.taken is not None:
            return True
        if self.here or not self.pool.withdraw(self):
            return False
        self.here = True  # should it fail, result() runs it here again
        self.taken = (self.fn(*self.args),)
        return True

    def result(self, timings: Timings | None = None, stage: str = "") -> Any:
        """The task's value, computed here if no worker has it yet.

        Warnings it raised in a worker are issued again here; an error in it is
        raised here. With ``timings``, what it cost in a worker is recorded under
        ``stage`` (a task run here is in this process's own measure already).
        """
        if self.here and self.taken is None:
            return self.fn(*self.args)
        if self.take():
            return self.taken[0]
        self.sent.wait()  # the dispatcher is handing it to loky
        try:
            value, seen, self.cost = self.future.result()
        except Exception as e:
            translated = self.pool.translate(e)
            if translated is e:
                raise
            raise translated from e
        reissue(seen)
        if timings is not None and self.cost is not None:
            timings.add_worker(stage, self.cost)
        return value


class Dispatcher:
    """A busy pool's queue: a task goes to loky only when one of its workers is free.

    loky moves up to ``2 x workers + 1`` submitted tasks into its call queue, where
    they are running as far as their futures tell and can no longer be cancelled;
    a run's own process, done with its real world, could then take none of them
    back and would wait while one worker ran them one after another. Here at most
    ``slots`` tasks are in loky at once: the others wait in this queue, from which
    :meth:`withdraw` takes any of them back. A thread hands them over, woken by the
    futures' callbacks (which run in loky's manager thread, so they only signal).
    """

    def __init__(self, send: Callable[[Task], Any], slots: int):
        self._send, self._slots = send, slots
        self._waiting: deque[Task] = deque()
        self._running = 0
        self._stopped = False
        self._changed = threading.Condition()  # guards the three above
        self._thread = threading.Thread(
            target=self._hand_over, name="linkaudit-dispatcher", daemon=True
        )

    def start(self) -> None:
        """Start the thread, blocking SIGINT, SIGTERM and SIGHUP in it for good.

        A thread inherits its starter's signal mask: with them blocked there from
        its first instruction, the kernel delivers them to the main thread, whose
        wait they interrupt (Python runs signal handlers in the main thread only).
        """
        before = signal.pthread_sigmask(signal.SIG_BLOCK, set(HANDLED_SIGNALS))
        try:
            self._thread.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)

    def put(self, task: Task) -> None:
        """Queue ``task``; it goes to a worker once one is free."""
        with self._changed:
            self._waiting.append(task)
            self._changed.notify()

    def withdraw(self, task: Task) -> bool:
        """Take ``task`` out of the queue if it is still there (no worker has it)."""
        with self._changed:
            try:
                self._waiting.remove(task)
            except ValueError:
                return False
            return True

    def stop(self) -> None:
        """Hand over nothing more, and wait for the thread to end.

        It may be starting a worker in loky: once this returns, it starts none.
        Tasks still queued stay there (:meth:`Task.result` runs them here).
        """
        with self._changed:
            self._stopped = True
            self._changed.notify()
        with interrupts_held():  # a signal now is raised once the thread is joined
            self._thread.join()

    def _next(self) -> Task | None:
        """The next task once a worker is free; None once stopped."""
        with self._changed:
            while not self._stopped and not (
                self._waiting and self._running < self._slots
            ):
                self._changed.wait()
            if self._stopped:
                return None
            self._running += 1
            return self._waiting.popleft()

    def _freed(self, _: Any) -> None:
        """A task finished (or failed) in loky: its worker is free."""
        with self._changed:
            self._running -= 1
            self._changed.notify()

    def _hand_over(self) -> None:
        """The thread: send each task to loky as a worker frees up, until stopped."""
        while (task := self._next()) is not None:
            try:
                future = self._send(task)  # may start a worker
            except Exception as e:  # a broken or shut-down executor: its result
                future = Future()
                future.set_exception(e)
            task.send(future)
            future.add_done_callback(self._freed)


class Pool:
    """Workers for independent tasks: processes here, a Dask cluster, or none.

    Use as a context manager: leaving it with an error or an interrupt stops every
    worker (killed) or cluster task (cancelled).

    Parameters
    ----------
    workers : Workers
        The setting.
    households : int
        Population of each task's world (for the memory cap).
    tasks : int
        How many tasks will be submitted.
    busy : bool
        This process works too (a run's real world): it counts as one of the
        processes, keeps its world, and takes back unstarted tasks when done.
    whole_runs : bool
        Each task is a whole run (a sweep's or an explorer's point), which holds
        more than a run's task (:data:`RUN_BYTES_PER_HOUSEHOLD`).
    streamed : bool
        Each task streams its world through files (``run --stream``), which holds
        less (:data:`STREAMED_TASK_BYTES`, :data:`STREAMED_BYTES_PER_HOUSEHOLD`).
    report : bool
        Each task draws part of a streamed run's report
        (:data:`REPORT_BYTES_PER_HOUSEHOLD`): it holds no world.
    kept : int, optional
        Worlds this process keeps in memory while the pool works (:func:`memory_cap`);
        by default 1 if ``busy`` (a run's real world), else 0. A run whose own world
        streams through files keeps none: it is one more process doing a task.
    """

    def __init__(
        self,
        workers: Workers,
        households: int,
        tasks: int,
        *,
        busy: bool = False,
        whole_runs: bool = False,
        streamed: bool = False,
        report: bool = False,
        kept: int | None = None,
    ):
        self.cluster = workers.cluster
        self.steal = busy and self.cluster is None
        self.client = None
        self.executor = None
        self.dispatcher: Dispatcher | None = None  # a busy pool's, with processes
        self.sent: list[Any] = []
        self.tasks: list[Task] = []  # a busy pool's, in submission order (help)
        self.processes = 1
        """Processes working at once on this machine, this one included."""
        self.kept = int(busy) if kept is None else kept
        """Worlds this process keeps in memory while the pool works."""
        if self.cluster is not None:
            self.size, self.threads = tasks, 1
            return
        n = processes(
            workers,
            households,
            tasks + busy,
            kept=self.kept,
            **task_bytes(whole_runs=whole_runs, streamed=streamed, report=report),
        )
        self.processes = n
        self.threads = max(1, cores() // n) if n > 1 else None
        self.size = n - busy if n > 1 else 0

    def __enter__(self) -> Pool:
        if self.cluster is not None:
            from simulator.pipeline.cluster import connect

            self.client = connect(self.cluster)
        elif self.size:
            import loky

            _start_server()
            quiet_recycling()
            self.executor = loky.get_reusable_executor(
                max_workers=self.size,
                context=fork_server.context(),
                initializer=_start_worker,
                initargs=(logging.getLogger().getEffectiveLevel(),),
            )
            logger.info(
                "%d worker process(es), %s thread(s) each", self.size, self.threads
            )
            if self.steal:
                self.dispatcher = Dispatcher(self._send, self.size)
                self.dispatcher.start()
        self._share = thread_share(self.threads if self.steal else None)
        self._share.__enter__()
        return self

    def __exit__(self, kind: Any, error: Any, tb: Any) -> None:
        self._share.__exit__(kind, error, tb)
        try:
            if self.dispatcher is not None:
                self.dispatcher.stop()  # first: it must start no worker once they die
        finally:
            if self.client is not None:
                if error is not None:
                    self.client.cancel(self.sent, force=True)
                self.client.close()
            elif self.executor is not None and error is not None:
                kill_workers()  # first, so that nothing below waits on a busy worker
                self.executor.shutdown(wait=True, kill_workers=True)
                kill_workers()  # any the executor started meanwhile
            elif self.executor is not None:
                # The workers exit now, while this process writes its outputs, not
                # at its exit, which waited for them (0.1 s); a later pool forks
                # new ones from the server.
                self.executor.shutdown(wait=False)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Task:
        """Send ``fn(*args)`` to a worker (run later here if there is none)."""
        if self.client is not None:
            future = self.client.submit(call_task, fn, args, self.threads, pure=False)
            self.sent.append(future)
        elif self.executor is not None and self.dispatcher is None:
            with _signals_held():  # this may start workers
                future = self.executor.submit(call_task, fn, args, self.threads)
        else:
            future = None  # a busy pool's: sent when a worker is free
        task = Task(self, fn, args, future)
        if self.steal:
            self.tasks.append(task)  # for help(); other pools keep no result
        if self.dispatcher is not None:
            self.dispatcher.put(task)
        return task

    def _send(self, task: Task) -> Any:
        """Hand ``task`` to loky (the dispatcher's thread, which holds no signal)."""
        return self.executor.submit(call_task, task.fn, task.args, self.threads)

    def withdraw(self, task: Task) -> bool:
        """Take ``task`` back from a busy pool's queue if no worker has it yet."""
        return self.dispatcher is not None and self.dispatcher.withdraw(task)

    @property
    def elsewhere(self) -> bool:
        """Whether submitted tasks run in other processes (workers or a cluster)."""
        return self.executor is not None or self.client is not None

    @property
    def shares_cores(self) -> bool:
        """Whether this process shares the machine's cores with the pool's workers.

        A busy pool with worker processes here (not on a cluster): this process
        then keeps its share, :attr:`threads`, while the workers work.
        """
        return self.dispatcher is not None

    @contextmanager
    def every_core(self) -> Iterator[None]:
        """Every core for this process's DuckDB and numerical libraries, meanwhile.

        For a busy pool's own process while it has sent its workers nothing yet
        (a run's real world linked with Splink, :func:`simulator.pipeline.run.run`),
        so that work which spreads over threads is not held to its share; on
        leaving, the share is back. Without workers here it already has them all.
        """
        if not self.shares_cores:
            yield
            return
        with thread_share(cores()):
            yield

    def help(self) -> None:
        """Take back the last submitted tasks no worker has started, and run them here.

        A busy pool's own process (a run's, once its real world is done) works
        from the end of the queue while the workers work from its front, rather
        than waiting for the first result; it stops at the first task a worker has
        (the dispatcher hands them over from the front, so every earlier one is a
        worker's too). Values are returned in submission order all the same.
        """
        if self.dispatcher is None:
            return
        for task in reversed(self.tasks):
            if task.taken is None and task.future is not None and task.future.done():
                continue  # finished by a worker
            if not task.take():
                return

    def translate(self, error: Exception) -> Exception:
        """A worker's death as a one-line :class:`WorkerError`; other errors as are."""
        from loky.process_executor import TerminatedWorkerError

        if isinstance(error, TerminatedWorkerError):
            return WorkerError(
                "a worker process died (killed, or out of memory?); run again with "
                "fewer --workers (each holds a whole world), or --workers 1"
            )
        return error
