"""Small pandas helpers shared by every layer: the string dtype and the council's view.

Kept apart from :mod:`simulator.vocabulary`, which stays free of pandas so the schema
can import it cheaply.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import pyarrow as pa

from simulator.vocabulary import is_hidden

STRING = pd.StringDtype("pyarrow")
"""The dtype of every text column the stages write (Arrow-backed strings)."""


def council_view(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without hidden truth columns: what the council actually holds.

    Used by the world before handing records over and by the council on what it is
    given, so neither side depends on the other.
    """
    return frame.drop(columns=[c for c in frame.columns if is_hidden(c)])


def arrow_text(values: pd.Series | pd.Index) -> pa.Array:
    """A pandas text column as one Arrow ``large_string`` array.

    Arrow-backed strings are taken without copying their characters.
    """
    arr = pa.array(values.array if isinstance(values, pd.Series) else values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


def release_memory() -> None:
    """Give the memory freed frames leave behind back to the operating system.

    Arrow's allocator (mimalloc) and the C library's keep freed blocks for reuse, so
    a process that has built and dropped large tables (linkage's normalised copies,
    DuckDB's results) stays as large as at its peak: measured at 200,000 households,
    a process held 470 MiB more after linkage than it used. A long stage that frees
    such tables calls this, so what is free is free for the other processes of a
    parallel run. It changes no value, only the process's resident size.
    """
    import ctypes
    import ctypes.util

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    libc = ctypes.util.find_library("c")
    if libc is not None:
        trim = getattr(ctypes.CDLL(libc), "malloc_trim", None)  # glibc only
        if trim is not None:
            trim(0)


@contextmanager
def system_arrow_memory() -> Iterator[None]:
    """Allocate Arrow buffers from the system pool (glibc malloc) inside the block.

    pyarrow's default pool (mimalloc) gives freed pages back to the kernel and
    faults them in again for the next chunk's or batch's strings: at 200,000
    households that was 1.0 to 2.1 s of system CPU of a 4 to 5 s generation, 0.4 s
    with the system pool (and a lower peak). Values and bytes do not depend on the
    pool: a buffer keeps the pool it came from, so it is freed there whatever the
    default is by then. The default pool is set back on leaving, error or not.
    Usable as a decorator (generation, linkage and link quality from files).
    """
    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(before)
