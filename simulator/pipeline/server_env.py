"""Imported first by the workers' fork server: libraries loaded after start no threads.

The server (:mod:`simulator.pipeline.fork_server`) forks the pool's workers, and a
fork copies only the forking thread: a lock another thread held at that moment
would stay held in the child for ever. So the server must run one thread. Importing
numpy and scipy would start OpenBLAS's thread pool, and pyarrow (through pandas)
jemalloc's background thread; these settings, made before anything loads them, keep
both from starting. Each worker's task then sets its share of threads itself
(:func:`simulator.pipeline.parallel.thread_share`), and jemalloc turns its
background thread off in every forked child anyway, so the workers run as before.

The garbage collector is also off while the server imports (its collections took
about 0.14 s of the 1.2 s of CPU the imports cost, on the path to the first run);
:mod:`simulator.pipeline.server_warm`, imported last, freezes what was made and turns
it back on, so the workers collect as usual.

Only the server imports this module (it changes the process's environment).
"""

from __future__ import annotations

import gc
import os

SERVER_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
}
"""Set in the server's environment before it imports linkaudit."""

os.environ.update(SERVER_ENV)
gc.disable()
