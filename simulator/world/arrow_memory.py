"""Where generation's Arrow buffers are allocated: glibc malloc, not mimalloc.

pyarrow's default pool (mimalloc) gives freed pages back to the kernel and faults
them in again for the next chunk's strings: at 200,000 households that was 1.0 to
2.1 s of system CPU of a 4 to 5 s :func:`~simulator.world.generate.generate`;
with the system pool 0.4 s (and a lower peak). Values and bytes do not depend on
the pool: a buffer keeps the pool it came from, so it is freed there whatever the
default is by then.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa


@contextmanager
def system_arrow_memory() -> Iterator[None]:
    """Allocate Arrow buffers from the system pool inside the block (or function).

    The default pool is set back on leaving, error or not. Usable as a decorator.
    """
    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(before)
