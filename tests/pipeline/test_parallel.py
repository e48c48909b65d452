"""Parallel runs and sweeps: the serial bytes, the worker count, failures, interrupts,
and a Dask cluster (a LocalCluster in this process)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.cli import main
from simulator.cli_sweep import parse_vary
from simulator.council.linkage.backend import LinkageSQLError
from simulator.errors import (
    InputDataError,
    ModelContractError,
    OutputError,
    ScenarioError,
)
from simulator.failures import HANDLED_SIGNALS, run_command
from simulator.pipeline import parallel
from simulator.pipeline.parallel import (
    WORKERS_ENV,
    Pool,
    WorkerError,
    Workers,
    memory_cap,
    processes,
    quiet_recycling,
    task_bytes,
    workers_from_env,
)
from simulator.pipeline.sweep import _alongside, point_rows, sweep
from simulator.schema.loading import read_yaml, scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = (
    "name: par\nseed: {seed}\n"
    "population: {{n_households: 600, households_per_area: 100}}\n"
    "model: {{kind: learned}}\n"  # fitted on a history cohort: a task too
    "audit: {{n_boot: 30, min_group_size: 0, replicates: 2}}\n"
)
VARY = "agencies.police.events.incident.background_rate=0.01,0.4"


def files(directory: Path) -> dict[str, str]:
    """sha256 of every file but the manifest (which may record how the run ran)."""
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, seed) -> Path:
    path = tmp_path_factory.mktemp("par") / "s.yaml"
    path.write_text(SCENARIO.format(seed=seed), encoding="utf-8")
    return path


def stub_report(run, directory: Path) -> Path:
    """A one-line report.html: the report is a function of the tables compared."""
    path = directory / "report.html"
    path.write_text("<!DOCTYPE html>\n", encoding="utf-8")
    return path


def test_a_run_on_two_workers_writes_the_serial_bytes(
    scenario, tmp_path, monkeypatch, capsys
):
    """History cohort, replicate and every rung on workers: the same files, and the
    same console (link quality pooled with the replicate's, sent back by its task)."""
    monkeypatch.setattr("audits.report.write_report", stub_report)
    out, console = {}, {}
    for n in ("1", "2"):
        out[n] = tmp_path / n
        args = ["run", str(scenario), "-o", str(out[n]), "-q", "--workers", n]
        assert main(args) == 0
        console[n] = capsys.readouterr().out.replace(str(out[n]), "OUT")
    serial = files(out["1"])
    assert any(k.endswith(".parquet") for k in serial)
    assert any(k.startswith("attribution/") for k in serial)
    assert serial == files(out["2"])
    # every world's score diagnostics, the replicate's scored on its worker
    for stem in ("score_auc", "calibration", "threshold_curves"):
        kept = pd.read_parquet(out["2"] / "audit" / "replicates" / f"{stem}.parquet")
        assert sorted(kept["replicate"].unique()) == [0, 1]
        own = pd.read_parquet(out["2"] / "audit" / f"{stem}.parquet")
        first = kept[kept["replicate"] == 0].drop(columns="replicate")
        pd.testing.assert_frame_equal(first.reset_index(drop=True), own)
    assert "pooled over 2 worlds" in console["1"]
    assert console["1"] == console["2"]


def sweep_files(scenario: Path, out: Path, *where: str) -> dict[str, str]:
    args = ["sweep", str(scenario), "--vary", VARY, "--replicates", "2"]
    assert main([*args, "-o", str(out), "-q", *where]) == 0
    return files(out)


@pytest.fixture(scope="module")
def serial_sweep(scenario, tmp_path_factory) -> dict[str, str]:
    out = sweep_files(
        scenario, tmp_path_factory.mktemp("sweep") / "s", "--workers", "1"
    )
    assert {"sweep.csv", "sweep.parquet"} <= set(out)
    return out


def test_a_sweep_on_two_workers_writes_the_serial_bytes(
    scenario, serial_sweep, tmp_path
):
    assert sweep_files(scenario, tmp_path / "p", "--workers", "2") == serial_sweep
    # what differs is what the runs cost, in the manifest's measured fields
    manifest = json.loads((tmp_path / "p" / "manifest.json").read_text())
    stages = {s["stage"]: s for s in manifest["measured"]["stages"]}
    assert list(stages) == ["runs", "write outputs"]
    runs = stages["runs"]
    assert runs["workers"] == 4  # 2 points x 2 replicates, each in a worker
    assert runs["cpu_seconds"] > 0 and runs["worker_peak_memory_bytes"] > 0
    assert stages["write outputs"]["wall_seconds"] > 0


@pytest.mark.parametrize("workers", [1, 2])
def test_a_sweep_works_meanwhile_before_it_takes_a_run(scenario, monkeypatch, workers):
    """The caller's own work (the command imports the chart's libraries) is done
    once, before any run is taken: serially once every run is submitted, with
    workers in another thread while they are submitted (the first submission waits
    for the fork server), so that it overlaps the workers' imports."""
    counts = {"submitted": 0, "taken": 0}
    submit, result = Pool.submit, parallel.Task.result

    def counted_submit(pool: Pool, fn: Callable[..., Any], *args: Any) -> Any:
        counts["submitted"] += fn is point_rows
        return submit(pool, fn, *args)

    def counted_result(task: parallel.Task, *args: Any) -> Any:
        counts["taken"] += task.fn is point_rows
        return result(task, *args)

    monkeypatch.setattr(Pool, "submit", counted_submit)
    monkeypatch.setattr(parallel.Task, "result", counted_result)
    calls = []
    table = sweep(
        read_yaml(scenario),
        [parse_vary(VARY)],
        replicates=2,
        base_dir=scenario.parent,
        workers=Workers(workers),
        meanwhile=lambda: calls.append(
            (threading.current_thread() is threading.main_thread(), dict(counts))
        ),
    )
    if workers == 1:
        assert calls == [(True, {"submitted": 4, "taken": 0})]
    else:
        assert len(calls) == 1
        assert calls[0][0] is False and calls[0][1]["taken"] == 0
    assert counts == {"submitted": 4, "taken": 4}
    assert table["point"].nunique() == 2


def test_work_alongside_runs_in_a_thread_and_its_error_is_raised_after():
    """The caller's work runs in another thread that holds back the signals the
    main thread handles, and its error is raised once the block has ended."""
    seen, order = [], []

    def work() -> None:
        held = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        seen.append((threading.current_thread() is threading.main_thread(), held))
        raise ValueError("the caller's work failed")

    with (
        pytest.raises(ValueError, match="the caller's work failed"),
        _alongside(work),
    ):
        order.append("block")
    assert order == ["block"]
    assert seen[0][0] is False and set(HANDLED_SIGNALS) <= seen[0][1]


def test_a_sweeps_largest_runs_go_to_the_workers_first(scenario, monkeypatch):
    """Workers take runs in the order sent: the largest first, so that none is
    left running alone at the end; the table keeps the plan's order."""
    sizes = []
    submit = Pool.submit

    def recorded(pool: Pool, fn: Callable[..., Any], *args: Any) -> Any:
        if fn is point_rows:
            sizes.append(args[0].population.n_households)
        return submit(pool, fn, *args)

    monkeypatch.setattr(Pool, "submit", recorded)
    table = sweep(
        read_yaml(scenario),
        [parse_vary("population.n_households=300,500")],
        replicates=2,
        base_dir=scenario.parent,
        workers=Workers(2),
    )
    assert sizes == [500, 500, 300, 300]
    assert table.drop_duplicates("point")["population.n_households"].tolist() == [
        300,
        500,
    ]


def _sweep_args(scenario: Path, out: Path) -> list[str]:
    return ["sweep", str(scenario), "--vary", VARY, "-o", str(out), "-q"]


def test_a_sweep_failing_while_its_workers_run_is_one_line_and_leaves_nothing(
    scenario, tmp_path, monkeypatch, capsys
):
    def fail() -> None:
        raise ImportError("no matplotlib here")

    monkeypatch.setattr("audits.report.sweep_chart.load_matplotlib", fail)
    out = tmp_path / "out"
    assert main([*_sweep_args(scenario, out), "--workers", "2"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("linkaudit: unexpected error (ImportError: no matplotlib")
    assert len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # no output, nothing partial
    assert parallel._worker_processes() == []  # workers and their server killed


def test_a_command_starts_its_workers_before_importing_libraries(tmp_path):
    """The fork server imports linkaudit while this process does: started first,
    once the arguments are parsed (which needs none of the libraries).

    A bad scenario path still fails as one line, after the server has started.
    """
    child = textwrap.dedent(
        """
        import sys
        from simulator.pipeline import parallel
        start = parallel.start_workers
        def noting(workers):
            libraries = [m for m in ("numpy", "pandas", "pydantic") if m in sys.modules]
            print("imported:", libraries, file=sys.stderr)
            start(workers)
        parallel.start_workers = noting
        from simulator.cli import main
        sys.exit(main(sys.argv[1:]))
        """
    )
    missing = tmp_path / "missing.yaml"
    args = [*_sweep_args(missing, tmp_path / "out"), "--workers", "2"]
    done = subprocess.run(
        [sys.executable, "-c", child, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "imported: []",
        f"linkaudit: {missing}: no such file; give a scenario YAML file",
    ]


def test_a_sweep_on_a_dask_cluster_writes_the_local_bytes(
    scenario, serial_sweep, tmp_path
):
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        assert sweep_files(scenario, tmp_path / "c", "--cluster", address) == (
            serial_sweep
        )


def test_an_unreachable_cluster_is_one_line(scenario, capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("simulator.pipeline.cluster.CONNECT_TIMEOUT_S", 1)
    address = "tcp://127.0.0.1:9"
    args = ["sweep", str(scenario), "--vary", VARY, "-q", "--cluster", address]
    assert main(args) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"linkaudit: --cluster {address}: cannot reach the Dask")


def test_without_dask_cluster_says_how_to_install(scenario, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    args = ["sweep", str(scenario), "--vary", VARY, "-q", "--cluster", "tcp://x:1"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("linkaudit: --cluster tcp://x:1: Dask is not installed")
    assert "linkaudit[cluster]" in err and len(err.splitlines()) == 1


# ----------------------------------------------------------------- how many workers


def test_workers_come_from_the_option_then_the_environment(monkeypatch):
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    assert workers_from_env(None) == Workers(None)
    monkeypatch.setenv(WORKERS_ENV, "3")
    assert workers_from_env(None) == Workers(3)
    assert workers_from_env(2) == Workers(2)
    monkeypatch.setenv(WORKERS_ENV, "many")
    with pytest.raises(WorkerError, match=f"{WORKERS_ENV}='many'"):
        workers_from_env(None)
    with pytest.raises(WorkerError, match="--workers 0"):
        workers_from_env(0)


def test_workers_0_is_one_line(scenario, capsys):
    assert main(["run", str(scenario), "-o", "x", "-q", "--workers", "0"]) == 1
    assert capsys.readouterr().err == (
        "linkaudit: --workers 0: expected a whole number of workers >= 1\n"
    )


def test_automatic_workers_are_the_cores_for_big_work_else_one(monkeypatch):
    monkeypatch.setattr(parallel, "cores", lambda: 8)
    monkeypatch.setattr(parallel, "available_memory", lambda: 2**40)
    assert processes(Workers(), 100_000, 20) == 8
    assert processes(Workers(), 100_000, 3) == 3  # never more than the tasks
    assert processes(Workers(), 1_000, 4) == 1  # small: serial
    assert processes(Workers(2), 1_000, 4) == 2  # asked for: honoured


def test_memory_lowers_the_workers_and_says_so(monkeypatch):
    monkeypatch.setattr(parallel, "available_memory", lambda: 16 * 2**30)
    with pytest.warns(UserWarning, match="--workers 8 lowered to 2"):
        assert processes(Workers(8), 1_000_000, 8) == 2
    assert processes(Workers(1), 1_000_000, 8) == 1


def test_whole_runs_count_a_runs_memory_not_a_tasks(monkeypatch):
    """A sweep's worker runs whole runs, which keep their data to the end: at
    1,000,000 households with 12 GiB two tasks fit, but only one whole run."""
    monkeypatch.setattr(parallel, "available_memory", lambda: 2**40)
    workers = Workers(2, memory_limit=12 * 2**30)
    assert Pool(workers, 1_000_000, 6).size == 2
    with pytest.warns(UserWarning, match="lowered to 1.*about 6.5 GiB"):
        assert Pool(workers, 1_000_000, 6, whole_runs=True).size == 0  # serial


@given(
    households=st.integers(1, 20_000_000),
    kept=st.integers(0, 1),
    available=st.integers(2**28, 2**40),
)
def test_the_memory_cap_fits_its_worlds_or_is_one(households, kept, available):
    n = memory_cap(households, kept=kept, available=available)
    task = households * parallel.TASK_BYTES_PER_HOUSEHOLD + parallel.PROCESS_BYTES
    held = kept * households * parallel.KEPT_BYTES_PER_HOUSEHOLD
    need = held + n * task
    assert n == 1 or need <= parallel.MEMORY_SHARE * available
    more = held + (n + 1) * task
    assert more > parallel.MEMORY_SHARE * available  # and no more would fit


# ------------------------------------------------------------------------- failures


@given(st.lists(st.text(min_size=1), min_size=1, max_size=4), st.text(min_size=1))
def test_linkaudit_errors_travel_back_from_a_worker_whole(problems, name):
    for error in (
        ScenarioError(problems),
        ModelContractError(name, problems),
        LinkageSQLError(name, "SELECT 1", ValueError(problems[0])),
        InputDataError(problems[0]),
        OutputError(problems[0]),
    ):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and str(back) == str(error)
        assert getattr(back, "problems", None) == getattr(error, "problems", None)


def _bad_scenario(workers: Workers) -> int:
    with Pool(workers, 100_000, 2) as pool:
        bad = {"population": {"n_households": -5}}
        tasks = [pool.submit(scenario_from_dict, bad, "bad.yaml") for _ in range(2)]
        for task in tasks:
            task.result()
    return 0


def test_an_error_in_a_worker_reads_as_in_a_serial_run(capsys):
    assert run_command(_bad_scenario, Workers(1)) == 2
    serial = capsys.readouterr().err
    assert "bad.yaml: population.n_households" in serial
    assert run_command(_bad_scenario, Workers(2)) == 2
    assert capsys.readouterr().err == serial


def test_a_dead_worker_is_one_line(capsys):
    def die(workers: Workers) -> int:
        with Pool(workers, 100_000, 2) as pool:
            return pool.submit(partial(os._exit, 3)).result()

    assert run_command(die, Workers(2)) == 1
    err = capsys.readouterr().err
    assert err.startswith("linkaudit: a worker process died") and "--workers" in err
    assert len(err.splitlines()) == 1


def test_warnings_in_a_worker_are_issued_here():
    import warnings

    def warn() -> int:
        warnings.warn("from a task", UserWarning, stacklevel=1)
        return 7

    for n in (1, 2):
        with (
            pytest.warns(UserWarning, match="from a task"),
            Pool(Workers(n), 100_000, 2) as pool,
        ):
            assert pool.submit(warn).result() == 7


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_a_busy_pool_runs_unstarted_tasks_from_the_end_here():
    """A run's own process helps: it takes the queue's last tasks while the worker
    takes its first ones, and the values come back in submission order."""
    with Pool(Workers(2), 100_000, 8, busy=True) as pool:
        assert pool.size == 1  # this process and one worker
        tasks = [pool.submit(_pid_after, 0.5) for _ in range(8)]
        pool.help()
        pids = [task.result() for task in tasks]
    here = [pid == os.getpid() for pid in pids]
    assert here[-1] and not here[0]  # the end here, the front in the worker
    assert here == sorted(here)  # the worker's share first, then this process's


def _when(started: Path, go: Path, fn: Callable[..., Any], *args: Any) -> Any:
    """Say the task started (a file), wait for the go (another file), then ``fn``."""
    started.touch()
    _wait_for(go)
    return fn(*args)


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never came"
        time.sleep(0.01)


def _once(directory: Path, i: int) -> tuple[int, int]:
    """Task ``i``'s index and process; it fails if it ever runs twice."""
    (directory / str(i)).open("x").close()
    return i, os.getpid()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_busy_pool_can_take_back_every_task_no_worker_has(tmp_path, workers):
    """loky would move several queued tasks into its call queue ahead of its
    workers, where they can no longer be cancelled; the pool hands it a task only
    when a worker is free, so while the workers are busy this process can take
    back every other task, by help() or by asking for its result."""
    go, ran = tmp_path / "go", tmp_path / "ran"
    ran.mkdir()
    with Pool(Workers(workers + 1), 100_000, workers + 6, busy=True) as pool:
        assert pool.size == workers
        started = [tmp_path / f"started{w}" for w in range(workers)]
        held = [pool.submit(_when, s, go, os.getpid) for s in started]
        rest = [pool.submit(_once, ran, i) for i in range(6)]
        for path in started:  # every worker holds a task until the go
            _wait_for(path)
        assert rest[0].result() == (0, os.getpid())  # still queued: run here
        pool.help()  # the others, from the end
        go.touch()
        pids = [task.result() for task in held]
        values = [task.result() for task in rest]
    assert values == [(i, os.getpid()) for i in range(6)]  # in submission order
    assert os.getpid() not in pids and len(set(pids)) == workers


def test_a_busy_pools_tasks_all_run_once_in_order_whoever_takes_them(tmp_path):
    """Workers, the dispatcher and this process race for the queue: every task
    runs exactly once (a second run would fail) and values come back in order."""
    with Pool(Workers(2), 100_000, 40, busy=True) as pool:
        tasks = [pool.submit(_once, tmp_path, i) for i in range(40)]
        pool.help()
        values = [task.result() for task in tasks]
    assert [i for i, _ in values] == list(range(40))
    assert sorted(int(p.name) for p in tmp_path.iterdir()) == list(range(40))


def _warned(value: int) -> int:
    warnings.warn("from a task", UserWarning, stacklevel=1)
    return value


def _with_one_worker_busy(tmp_path: Path, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``'s result from a busy pool's worker (not taken back here)."""
    from simulator.pipeline.timings import Timings

    timings = Timings()
    tmp_path.mkdir(exist_ok=True)
    with Pool(Workers(2), 100_000, 1, busy=True) as pool:
        task = pool.submit(_when, tmp_path / "started", tmp_path / "go", fn, *args)
        _wait_for(tmp_path / "started")
        (tmp_path / "go").touch()
        value = task.result(timings, "tasks")
    worker = timings.stages["tasks"]
    assert worker.workers == 1 and worker.worker_peak_memory_bytes > 0
    return value


def test_a_busy_pools_worker_sends_back_warnings_and_costs(tmp_path):
    with pytest.warns(UserWarning, match="from a task"):
        assert _with_one_worker_busy(tmp_path, _warned, 7) == 7


def test_a_busy_pools_worker_sends_back_errors_and_deaths(tmp_path):
    bad = {"population": {"n_households": -5}}
    with pytest.raises(ScenarioError, match="bad.yaml: population.n_households"):
        _with_one_worker_busy(tmp_path / "a", scenario_from_dict, bad, "bad.yaml")
    with pytest.raises(WorkerError, match="a worker process died"):
        _with_one_worker_busy(tmp_path / "b", os._exit, 3)


def test_workers_fork_from_a_server_running_one_thread():
    # a fork copies only the forking thread: any other thread of the server (BLAS,
    # jemalloc) could leave a lock held for ever in every worker
    with Pool(Workers(2), 100_000, 2) as pool:
        parent = psutil.Process(pool.submit(os.getpid).result()).ppid()
    servers = [
        p
        for p in psutil.Process().children()
        if parallel.WORKER_MODULE in " ".join(p.cmdline())
    ]
    assert len(servers) == 1
    assert parent == servers[0].pid  # forked by the server
    assert servers[0].num_threads() == 1


def test_a_pools_workers_exit_once_it_is_left():
    """They exit while the command goes on (writing its outputs), not at its exit."""
    with Pool(Workers(2), 100_000, 2) as pool:
        worker = psutil.Process(pool.submit(os.getpid).result())
        assert worker.is_running()
    _, alive = psutil.wait_procs([worker], timeout=10)
    assert not alive


def _collector() -> tuple[bool, bool]:
    import gc

    return gc.isenabled(), gc.get_freeze_count() > 0


def test_workers_collect_garbage_but_not_what_the_server_imported():
    """The server imports with the collector off, then freezes what it made: a
    worker's collections skip those objects (and do not copy their pages)."""
    with Pool(Workers(2), 100_000, 2) as pool:
        assert pool.submit(_collector).result() == (True, True)


def _names_cached() -> int:
    from simulator.world.identity import name_vocabulary

    return name_vocabulary.cache_info().currsize


def test_workers_inherit_the_name_pools_the_server_made():
    """Every run's first need, made once by the server rather than by each worker."""
    with Pool(Workers(2), 100_000, 2) as pool:
        assert pool.submit(_names_cached).result() == 1


# ------------------------------------------------------------------------ interrupts

CHILD = textwrap.dedent(
    """
    import faulthandler, signal, sys, time
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # stacks, if it hangs
    import simulator.pipeline.run as r
    def slow_rung(*args):  # sent to the workers by value: they sleep too
        time.sleep(120)
    r.rung_outcomes = slow_rung
    from simulator.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def _started(me: psutil.Process, what: str) -> bool:
    """Whether the command ``me`` has its fork server, or a worker forked from it."""
    for p in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):  # it ended meanwhile
            named = p if what == "server" else p.parent()
            if parallel.WORKER_MODULE in " ".join(named.cmdline()):
                return True
    return False


@pytest.mark.parametrize(
    ("signum", "what"), [(signal.SIGINT, "worker"), (signal.SIGTERM, "server")]
)
def test_an_interrupt_stops_the_workers_and_cleans_up(tmp_path, seed, signum, what):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO.format(seed=seed), encoding="utf-8")
    out = tmp_path / "out"
    args = ["run", str(scenario), "-o", str(out), "-q", "--workers", "2"]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job
    )
    me = psutil.Process(child.pid)
    deadline = time.monotonic() + 90
    while not _started(me, what) or not list(tmp_path.glob(".out.*.partial")):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "no worker started"
        time.sleep(0.1)
    time.sleep(0.5)  # the fork server importing, or a worker at its task: both stop
    workers = me.children(recursive=True)
    if signum == signal.SIGINT:
        os.killpg(child.pid, signum)  # Ctrl-C reaches the whole group
    else:
        child.send_signal(signum)
    try:
        _, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # say where it hangs, then fail
        pytest.fail(_hang_report(child, me))
    assert child.returncode == 128 + signum
    name = signal.Signals(signum).name
    assert err.startswith(f"linkaudit: interrupted by {name}; removed the partial")
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


SWEEP_CHILD = textwrap.dedent(
    """
    import faulthandler, pathlib, signal, sys, time
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # stacks, if it hangs
    import audits.report.sweep_chart as chart
    def slow_import():  # the command's own work while its workers run
        pathlib.Path(sys.argv[1]).touch()
        time.sleep(120)
    chart.load_matplotlib = slow_import
    from simulator.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


def test_an_interrupt_while_a_sweeps_workers_run_cleans_up(tmp_path, seed):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO.format(seed=seed), encoding="utf-8")
    meanwhile = tmp_path / "meanwhile"
    args = [*_sweep_args(scenario, tmp_path / "out"), "--workers", "2"]
    child = subprocess.Popen(
        [sys.executable, "-c", SWEEP_CHILD, str(meanwhile), *args],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    me = psutil.Process(child.pid)
    deadline = time.monotonic() + 90
    while not meanwhile.exists():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the runs were never submitted"
        time.sleep(0.1)
    workers = me.children(recursive=True)
    assert any(parallel.WORKER_MODULE in " ".join(p.cmdline()) for p in workers)
    os.killpg(child.pid, signal.SIGINT)
    try:
        _, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(_hang_report(child, me))
    assert child.returncode == 128 + signal.SIGINT
    assert err.startswith("linkaudit: interrupted by SIGINT; removed the partial")
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meanwhile", "s.yaml"]


def _hang_report(child: subprocess.Popen, me: psutil.Process) -> str:
    """What is still alive, and every thread's stack of the command (SIGUSR1)."""
    alive = []
    for p in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            alive.append(f"{p.pid} {p.status()} {' '.join(p.cmdline())[:160]}")
    with contextlib.suppress(ProcessLookupError):
        child.send_signal(signal.SIGUSR1)
    time.sleep(2)
    os.killpg(child.pid, signal.SIGKILL)
    _, err = child.communicate()
    return "hung after the interrupt; alive:\n" + "\n".join(alive) + "\n" + err


def test_kill_workers_kills_a_worker_the_pool_does_not_know():
    from simulator.pipeline.parallel import WORKER_MODULE, kill_workers

    # a child that looks like a worker (its command line names the module), as one
    # being started when an interrupt came would, and a child that is not one
    worker = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", WORKER_MODULE]
    )
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        deadline = time.monotonic() + 10
        while WORKER_MODULE not in " ".join(psutil.Process(worker.pid).cmdline()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        kill_workers()
        assert worker.wait(timeout=10) == -signal.SIGKILL
        assert other.poll() is None  # not a worker: left alone
    finally:
        for p in (worker, other):
            p.kill()
            p.wait()


def test_a_worker_restarted_for_its_growth_is_not_reported_as_a_leak():
    """loky recycles a worker whose memory grew after its first task and warns of a
    leak; tasks of different sizes grow workers on purpose, so only that warning
    is silenced: a worker that stopped unasked is still reported."""
    recycled = (
        "A worker was restarted while some jobs were given to the executor because "
        "it was using more than 300 MB more memory than when it started"
    )
    stopped = "A worker stopped while some jobs were given to the executor."
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        quiet_recycling()
        warnings.warn(recycled, UserWarning, stacklevel=1)
        warnings.warn(stopped, UserWarning, stacklevel=1)
    assert [str(w.message) for w in seen] == [stopped]


def test_a_report_worker_is_sized_by_the_report_not_a_world():
    # At 8,200,000 households, with the run's process holding its results (17.7 GiB
    # left), a streamed task's line refused the report's worker; the report's own
    # tables leave room for it.
    households, left = 8_200_000, int(17.7 * 2**30)
    streamed = memory_cap(households, available=left, **task_bytes(streamed=True))
    report = memory_cap(households, available=left, **task_bytes(report=True))
    assert streamed == 1 < 2 <= report
