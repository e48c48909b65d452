"""Linking every agency's records to the council's family index (the spine).

Three methods share one entry point, :func:`link`, and one output, the links table
(see :mod:`simulator.linkage.links`):

- ``deterministic``: an ordered cascade of exact match keys
  (:mod:`simulator.linkage.deterministic`);
- ``splink``: probabilistic linkage with Splink on DuckDB
  (:mod:`simulator.linkage.probabilistic`);
- ``oracle``: the true links (:mod:`simulator.linkage.oracle`).

The council-side methods drop the hidden ``true_``/``err_`` columns before doing
anything, so their links are the same with or without them. Link quality against the
truth is :func:`simulator.linkage.quality.link_quality`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import duckdb
import pandas as pd

from simulator.linkage.backend import LinkageDB, LinkageSQLError
from simulator.linkage.config import (
    ComparisonSpec,
    DeterministicConfig,
    LinkageConfig,
    MatchKey,
    SplinkConfig,
)
from simulator.linkage.links import LINK_COLUMNS, assemble, prepare
from simulator.linkage.oracle import oracle_links
from simulator.linkage.quality import LinkQuality, link_quality

logger = logging.getLogger(__name__)

__all__ = [
    "LINK_COLUMNS",
    "ComparisonSpec",
    "DeterministicConfig",
    "LinkQuality",
    "LinkageConfig",
    "LinkageDB",
    "LinkageSQLError",
    "MatchKey",
    "SplinkConfig",
    "link",
    "link_quality",
    "oracle_links",
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
) -> pd.DataFrame:
    """Link every source's records to the spine with the configured method.

    Parameters
    ----------
    sources : mapping of str to DataFrame
        Each agency's records (``record_id`` and the identity columns of
        :data:`simulator.records.IDENTITY_COLUMNS`), keyed by source name. Hidden
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
        links = oracle_links(sources, spine)
    else:
        prepared = prepare(sources, spine, config.recipes())
        logger.info(
            "prepared %d records and %d spine rows in %.1fs",
            len(prepared.records),
            len(prepared.spine),
            time.perf_counter() - start,
        )
        limit = config.memory_limit_gb
        db = LinkageDB(
            connection,
            debug=debug,
            memory_limit=None if limit is None else f"{limit:g}GB",
        )
        if config.method == "deterministic":
            from simulator.linkage.deterministic import link_deterministic

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
            from simulator.linkage.probabilistic import link_splink, n_steps

            bar = tqdm(
                total=n_steps(config.splink),
                desc="link (splink)",
                unit="step",
                disable=not progress,
            )
            with bar:
                found = link_splink(prepared, config.splink, db, seed, step=bar.update)
        links = assemble(prepared.index, found, prepared.spine_households)
        links.attrs.update(found.attrs)
    logger.info(
        "%s linkage: %d of %d records linked in %.1fs",
        config.method,
        int(links["spine_person_id"].notna().sum()),
        len(links),
        time.perf_counter() - start,
    )
    return links
