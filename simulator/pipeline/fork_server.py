"""Worker processes forked from a server that has already imported linkaudit.

A worker started as a fresh interpreter imports linkaudit and its libraries before
its first task: about 2 s of CPU and 2.5 s of waiting per worker, per command, on
this machine (docs/performance.md). The pool's workers are instead forked from
multiprocessing's fork server: one process per command that imports them once
(:data:`PRELOAD`) and then only forks, so each worker starts with everything
imported, in milliseconds, sharing the server's memory until it writes to it.

Why forking is safe here. Forking copies the memory of a process but only the
thread that called ``fork``: whatever another thread held then (a lock, a DuckDB
connection's state, a half-written buffer) stays as it was in the child, for ever.
The command's own process may run such threads and connections, so it never forks
a worker. The server is a fresh interpreter (spawned, not forked from this
process): it has imported modules and done nothing else, so it holds no DuckDB
connection, no open output, no lock of this process; and it runs a single thread,
because :mod:`simulator.pipeline.server_env`, imported first, keeps the libraries'
thread pools from starting (``tests/pipeline/test_parallel.py`` checks the count).
A worker's DuckDB connections and thread pools are made in the worker, at its task.

The server and its workers all run the server's command line, which holds
:data:`SERVER_COMMAND`; that is how :func:`simulator.pipeline.parallel.kill_workers`
finds them. The server ends when this process does (multiprocessing closes its pipe).
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import BaseContext

PRELOAD = (
    "simulator.pipeline.server_env",
    "simulator.pipeline.sweep",
    "simulator.pipeline.explore",
    "simulator.pipeline.server_warm",
)
"""What the server imports, in order: its environment first, then every task's
module (runs, rungs, replicates, history cohorts, sweeps and explorations), then
what every task computes first (:mod:`simulator.pipeline.server_warm`)."""
SERVER_COMMAND = "from multiprocessing.forkserver import main"
"""Part of the command line of the server and of every worker forked from it."""


def context() -> BaseContext:
    """The multiprocessing context whose processes fork from the preloaded server."""
    forks = multiprocessing.get_context("forkserver")
    forks.set_forkserver_preload(list(PRELOAD))
    return forks


def start() -> None:
    """Start the server now if it is not running (it imports while work goes on)."""
    from multiprocessing import forkserver

    context()
    forkserver.ensure_running()
