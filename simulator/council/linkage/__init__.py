"""Linking every agency's records to the council's family index (the spine).

Two council methods share one entry point, :func:`link`, and one output, the links table
(see :mod:`simulator.council.linkage.links`):

- ``deterministic``: an ordered cascade of exact match keys
  (:mod:`simulator.council.linkage.deterministic`);
- ``splink``: probabilistic linkage with Splink on DuckDB
  (:mod:`simulator.council.linkage.probabilistic`);

The ``oracle`` method (the true links) belongs to the hidden world
(:mod:`simulator.world.true_links`): the pipeline calls it instead of :func:`link`.
Both methods here drop the hidden ``true_``/``err_`` columns before doing anything, so
their links are the same with or without them. Link quality against the truth is
:func:`audits.link_quality.link_quality`.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from simulator.council.linkage.backend import LinkageDB, LinkageSQLError
from simulator.council.linkage.links import LINK_COLUMNS, assemble, prepare
from simulator.frames import release_memory
from simulator.schema.linkage import (
    ComparisonSpec,
    DeterministicConfig,
    LinkageConfig,
    MatchKey,
    SplinkConfig,
)

logger = logging.getLogger(__name__)

__all__ = [
    "LINK_COLUMNS",
    "ComparisonSpec",
    "DeterministicConfig",
    "LinkageConfig",
    "LinkageDB",
    "LinkageSQLError",
    "MatchKey",
    "SplinkConfig",
    "link",
]


def link(
    sources: Mapping[str, pd.DataFrame],
    spine: pd.DataFrame,
    config: LinkageConfig,
    seed: int,
    *,
    connection: duckdb.DuckDBPyConnection | None = None,
    debug: bool = False,
    progress: bool = False,
    prepared_hook: Callable[[], object] | None = None,
    spill_root: Path | None = None,
) -> pd.DataFrame:
    """Link every source's records to the spine with the configured method.

    Parameters
    ----------
    sources : mapping of str to DataFrame
        Each agency's records (``record_id`` and the identity columns of
        :data:`simulator.world.records.IDENTITY_COLUMNS`), keyed by source name. Hidden
        ``true_``/``err_`` columns may be present: council-side methods drop them.
    spine : DataFrame
        The council's family index: ``spine_person_id``, ``spine_household_id`` and
        the identity columns.
    config : LinkageConfig
        The scenario's ``linkage`` section.
    seed : int
        Seed of Splink's random sampling (u estimation); unused by the other
        methods, whose results do not depend on it.
    connection : duckdb.DuckDBPyConnection, optional
        DuckDB connection to run on; by default a new in-memory one.
    debug : bool
        Keep every intermediate table in the connection.
    progress : bool
        Show a progress bar over the method's steps (match keys, or Splink's
        training and scoring).
    prepared_hook : callable, optional
        Called once the match columns are computed, after which this function no
        longer reads ``sources`` or ``spine``: a caller that does not need their
        raw identity fields can free them there, for the rest of linkage.
    spill_root : path, optional
        Without ``connection``: where DuckDB spills beyond the memory limit, in a
        new directory under it removed after (default: the system's temporary
        directory), never DuckDB's default (``.tmp`` in the current directory).

    Returns
    -------
    DataFrame
        The links table: one row per record, columns :data:`LINK_COLUMNS`. For
        Splink, ``attrs["splink"]`` holds the blocked pair counts.

    Raises
    ------
    simulator.errors.InputDataError
        If a frame lacks a column the method needs (all are named) or an id is not
        unique.
    """
    from tqdm import tqdm

    start = time.perf_counter()
    if config.method == "oracle":
        raise ValueError(
            "oracle links read the truth: the pipeline takes them from "
            "simulator.world.true_links.oracle_links"
        )
    prepared = prepare(sources, spine, config.recipes())
    logger.info(
        "prepared %d records and %d spine rows in %.1fs",
        len(prepared.records),
        len(prepared.spine),
        time.perf_counter() - start,
    )
    del sources, spine  # not read again: the caller may free them now
    if prepared_hook is not None:
        prepared_hook()
    limit = config.memory_limit_gb
    with _spill_directory(connection, spill_root) as spill:
        db = LinkageDB(
            connection,
            debug=debug,
            memory_limit=None if limit is None else f"{limit:g}GB",
            temp_directory=spill,
        )
        if config.method == "deterministic":
            from simulator.council.linkage.deterministic import link_deterministic

            bar = tqdm(
                total=len(config.deterministic.keys),
                desc="link (match keys)",
                unit="key",
                disable=not progress,
            )
            with bar:
                found = link_deterministic(
                    prepared, config.deterministic, db, step=bar.update
                )
        else:
            from simulator.council.linkage.probabilistic import link_splink, n_steps

            bar = tqdm(
                total=n_steps(config.splink),
                desc="link (splink)",
                unit="step",
                disable=not progress,
            )
            with bar:
                found = link_splink(prepared, config.splink, db, seed, step=bar.update)
        if connection is None:
            db.con.close()  # its tables and buffers are freed now, not after assembly
    index, spine_households = prepared.index, prepared.spine_households
    del prepared, db  # the normalised copies: assembly needs only the ids
    release_memory()
    links = assemble(index, found, spine_households)
    links.attrs.update(found.attrs)
    del found
    release_memory()
    logger.info(
        "%s linkage: %d of %d records linked in %.1fs",
        config.method,
        int(links["spine_person_id"].notna().sum()),
        len(links),
        time.perf_counter() - start,
    )
    return links


SPILL_PREFIX = "linkaudit-spill-"
"""Name of the directory :func:`link` has DuckDB spill into (a random tail)."""


@contextmanager
def _spill_directory(
    connection: duckdb.DuckDBPyConnection | None, root: Path | None
) -> Iterator[Path | None]:
    """A new directory under ``root`` for a connection :func:`link` opens.

    Removed on leaving; None for a caller's ``connection``, whose settings are
    its own.
    """
    if connection is not None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix=SPILL_PREFIX, dir=root) as spill:
        yield Path(spill)
