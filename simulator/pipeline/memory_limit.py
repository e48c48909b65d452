"""``--memory-limit``: its default, its text as bytes, and the sizes it gives a stream.

Apart from :mod:`simulator.pipeline.estimate`, which enforces it, so that the command
line's parser can check the option without importing the scenario's libraries: a
command's workers start (:func:`simulator.pipeline.parallel.start_workers`) only
once its arguments are parsed.

A world streamed through files (``run --stream``) holds a few pieces at a time
rather than the population: :class:`StreamSizes` says how large, and
:func:`stream_sizes` picks them from the memory each process may use, so that a
streamed task's peak follows ``--memory-limit``. No output depends on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.schema.linkage import LinkageConfig
    from simulator.schema.scenario import Scenario

DEFAULT_MEMORY_LIMIT = "80%"
"""The default ``--memory-limit``: 80% of the machine's RAM (the rest for the OS)."""

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1 << 10,
    "kb": 1000,
    "kib": 1 << 10,
    "m": 1 << 20,
    "mb": 1000**2,
    "mib": 1 << 20,
    "g": 1 << 30,
    "gb": 1000**3,
    "gib": 1 << 30,
    "t": 1 << 40,
    "tb": 1000**4,
    "tib": 1 << 40,
}


def memory_limit_bytes(text: str, total: int | None = None) -> int | None:
    """The memory a run may use: a share of RAM (``80%``) or a size (``16GiB``).

    ``0`` or ``none`` means no limit (``None``).

    Examples
    --------
    >>> memory_limit_bytes("50%", total=8 << 30) == 4 << 30
    True
    >>> memory_limit_bytes("1.5GiB"), memory_limit_bytes("none")
    (1610612736, None)

    Raises
    ------
    ValueError
        If ``text`` is neither.
    """
    from simulator.pipeline.timings import total_memory_bytes

    t = text.strip().lower().replace(" ", "")
    if t in ("0", "none"):
        return None
    if t.endswith("%"):
        share = float(t[:-1])
        if not 0 < share <= 100:
            raise ValueError(f"{text!r}: a share of RAM is above 0% and at most 100%")
        return int(share / 100 * (total or total_memory_bytes()))
    number = t.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = t[len(number) :]
    if unit not in _UNITS or not number:
        raise ValueError(
            f"{text!r}: give a share of RAM (80%) or a size (16GiB, 500MB), or 0"
        )
    return int(float(number) * _UNITS[unit])


GB = 1000**3
"""DuckDB's ``memory_limit`` unit (``2GB``: 10**9 bytes)."""
BLOCK = 5_000
"""Households are generated in whole seeding blocks (``simulator.rng.BLOCK_SIZE``)."""


@dataclass(frozen=True)
class StreamSizes:
    """How much of a world a streamed task's steps hold at once.

    Outputs are the same bytes whatever these (each step's tests vary them); they
    bound the memory of the steps that read or write the world a piece at a time.
    The defaults are the sizes ``run --stream`` was measured with before they
    followed ``--memory-limit``
    (:data:`~simulator.pipeline.parallel.STREAMED_TASK_BYTES`).
    """

    chunk_households: int = 50_000
    """Households generated at a time (``generation.chunk_size``; whole blocks)."""
    batch_rows: int = 800_000
    """Records linkage and link quality read at a time."""
    range_households: int = 100_000
    """Spine households whose view is built at a time."""
    duckdb_gb: float = 2.0
    """DuckDB's memory limit (GB) in link quality and the view; it spills the rest
    to the world's directory."""
    link_duckdb_gb: float = 2.0
    """DuckDB's memory limit (GB) in linkage. A task links before it builds the
    per-household tables it holds later (the view's rows, scores and outcomes:
    :data:`~simulator.pipeline.parallel.STREAMED_BYTES_PER_HOUSEHOLD`), so linkage
    may use their room: at 8,200,000 households in two processes the rest left
    DuckDB 1 GB, in which a match key's join ran out of memory."""

    def generating(self, scenario: Scenario) -> Scenario:
        """``scenario`` generated ``chunk_households`` at a time: the same world."""
        chunked = scenario.generation.model_copy(
            update={"chunk_size": self.chunk_households}
        )
        return scenario.model_copy(update={"generation": chunked})

    def linking(self, config: LinkageConfig) -> LinkageConfig:
        """``config`` with DuckDB's limit :attr:`link_duckdb_gb`: the same links."""
        return config.model_copy(update={"memory_limit_gb": self.link_duckdb_gb})


# What a piece adds to a step's peak, per unit: ``python -m benchmarks.stream_sizes
# --households 100000`` on 2026-12-03 (one thread, load 7; memory does not depend
# on it), the least and the default sizes, the difference over the sizes' plus
# about a tenth: generation 559 against 775 MiB (chunks of 5,000 and 50,000
# households), linkage 657 against 785 MiB (batches of 20,000 and 800,000 rows,
# DuckDB 0.25 and 2 GB), the view 459 against 588 MiB (5,000 and 100,000
# households a range).
CHUNK_BYTES_PER_HOUSEHOLD = 5_500
"""Generating a chunk: its households' people and records, decoded and assembled."""
BATCH_BYTES_PER_ROW = 200
"""Linkage's and link quality's batch of records read, normalised and written."""
RANGE_BYTES_PER_HOUSEHOLD = 1_500
"""The view of a range of spine households: their rows and their records."""
DUCKDB_SHARE = 0.5
"""Share of a task's room DuckDB may hold; the batch or the range it reads out has
the rest (they are held at once)."""
_MOST = StreamSizes()
BOUNDS = {
    "chunk_households": (2 * BLOCK, _MOST.chunk_households),
    "batch_rows": (100_000, _MOST.batch_rows),
    "range_households": (10_000, _MOST.range_households),
    "duckdb_gb": (1.0, _MOST.duckdb_gb),
    "link_duckdb_gb": (1.0, _MOST.link_duckdb_gb),
}
"""Each size's least and greatest. Smaller pieces cost CPU (a Parquet row group or a
DuckDB query a piece) for little memory: at 100,000 households the least sizes of
the measurement above took about twice the defaults' wall time to generate and
link. DuckDB needs 1 GB at least: at 0.25 GB the oracle's links of a
1,000,000-household world ran out of memory (its sort does not spill all of
itself). The greatest are the defaults, with which a streamed task's peak was
measured (:data:`~simulator.pipeline.parallel.STREAMED_TASK_BYTES`): so that line
bounds a task whatever the setting, and a larger setting takes no more than it."""


def _within(name: str, value: float) -> float:
    low, high = BOUNDS[name]
    return min(max(value, low), high)


def _duckdb_gb(name: str, room: float) -> float:
    """DuckDB's limit ``name`` in ``room`` bytes: :data:`DUCKDB_SHARE`, in quarters."""
    return round(_within(name, DUCKDB_SHARE * room / GB) * 4) / 4


def stream_sizes(room: float, linking: float | None = None) -> StreamSizes:
    """The sizes whose pieces fit in ``room`` bytes (the least sizes if none do).

    ``room`` is what a streamed task may hold besides its libraries and what it
    keeps per household (:func:`task_room`). The steps run one after another, so
    generation's chunk may take all of it; linkage, link quality and the view hold
    DuckDB's limit (:data:`DUCKDB_SHARE` of it) and a batch or a range at once.
    ``linking`` (``room`` if not given) is the room while the task links, before
    it holds anything per household: linkage's DuckDB limit is a share of it.

    Examples
    --------
    >>> stream_sizes(0)
    StreamSizes(chunk_households=10000, batch_rows=100000, range_households=10000, \
duckdb_gb=1.0, link_duckdb_gb=1.0)
    >>> stream_sizes(1 << 40) == StreamSizes()
    True
    """
    room = max(room, 0.0)
    linking = room if linking is None else max(linking, room)
    rest = room - DUCKDB_SHARE * room
    chunk = _within("chunk_households", room / CHUNK_BYTES_PER_HOUSEHOLD)
    rows = _within("batch_rows", rest / BATCH_BYTES_PER_ROW)
    per_range = _within("range_households", rest / RANGE_BYTES_PER_HOUSEHOLD)
    return StreamSizes(
        chunk_households=int(chunk // BLOCK * BLOCK),
        batch_rows=int(rows // 10_000 * 10_000),
        range_households=int(per_range // 1_000 * 1_000),
        duckdb_gb=_duckdb_gb("duckdb_gb", room),
        link_duckdb_gb=_duckdb_gb("link_duckdb_gb", linking),
    )


def task_room(
    limit: int | None,
    processes: int,
    households: int,
    *,
    kept: int = 0,
    available: int | None = None,
) -> float:
    """Bytes a streamed task's pieces may hold, of ``limit`` shared by ``processes``.

    The memory the processes may use (``limit``, else the machine's:
    :func:`simulator.pipeline.parallel.memory_budget`, less ``kept`` worlds held
    in memory) divided among them, less each one's libraries and what a streamed
    task holds per household of its world.
    """
    from simulator.pipeline.parallel import (
        PROCESS_BYTES,
        STREAMED_BYTES_PER_HOUSEHOLD,
        memory_budget,
    )

    share = memory_budget(households, kept, available, limit) / max(processes, 1)
    return share - PROCESS_BYTES - STREAMED_BYTES_PER_HOUSEHOLD * households


def sizes_for(
    limit: int | None, processes: int, households: int, *, kept: int = 0
) -> StreamSizes:
    """:func:`stream_sizes` of :func:`task_room`: a streamed run's sizes.

    Linkage's room adds what the task holds per household only after it links
    (:data:`~simulator.pipeline.parallel.STREAMED_BYTES_PER_HOUSEHOLD`): while it
    links, its DuckDB and batch stay within the same share.
    """
    from simulator.pipeline.parallel import STREAMED_BYTES_PER_HOUSEHOLD

    room = task_room(limit, processes, households, kept=kept)
    return stream_sizes(room, room + STREAMED_BYTES_PER_HOUSEHOLD * households)
