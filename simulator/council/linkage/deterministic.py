"""Deterministic linkage: an ordered cascade of exact match keys, run in DuckDB.

Each match key is a small pure function of table names returning ``(name, sql)``
(:func:`match_key_sql`); :func:`cascade` executes them in order. A record linked
by one key is not offered to later keys. When a key's values are shared by several
spine persons (twins with the same initial, duplicates on the spine), the tie policy
decides: ``drop`` leaves the record for later keys, ``first`` takes the lowest
``spine_person_id``.

The spine side of every key is aggregated first (one row per key value with the
number of spine persons holding it and the lowest id), so a key never multiplies
rows, and linking 10 million records to 3.4 million spine rows is a handful of hash
joins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from simulator.council.linkage.backend import LinkageDB, to_arrow
from simulator.council.linkage.links import Prepared
from simulator.council.linkage.normalise import OFTEN_MISSING, RARELY_REPEATED
from simulator.schema.linkage import DeterministicConfig, MatchKey

logger = logging.getLogger(__name__)


def match_key_sql(key: MatchKey, records: str, spine: str) -> tuple[str, str]:
    """The SQL of one match key: every record's candidate spine persons under it.

    The records are joined to the spine rows first and grouped by record after, so
    only the spine rows some record agrees with are counted: a late key, offered a
    few hundred thousand records, no longer groups all 3.4 million spine rows at
    1,000,000 households. A missing field never agrees (``NULL = x`` is not true),
    so a record or spine row missing one of the key's fields takes no part; where
    a field is an identifier only some people hold
    (:data:`~simulator.council.linkage.normalise.OFTEN_MISSING`), both sides say
    so in a filter, which DuckDB applies as it reads them, before the join and
    the records not linked yet: the same candidates.

    Parameters
    ----------
    key : MatchKey
        The key's name and columns.
    records : str
        Table (or parenthesised query) of records: unique ``rid`` and the key's
        columns.
    spine : str
        Table of spine rows: unique ``spine_person_id`` and the key's columns.

    Returns
    -------
    name : str
        The key's name.
    sql : str
        A query with one row per record whose key columns are all present and
        agree with at least one spine row: ``rid``, ``n_candidates`` (spine persons
        agreeing) and ``spine_person_id`` (the lowest of them).

    Examples
    --------
    >>> name, sql = match_key_sql(MatchKey(name="nhs", columns=("nhs_number",)),
    ...                           "recs", "spine")
    >>> print(sql)  # doctest: +NORMALIZE_WHITESPACE
    SELECT r.rid, count(*) AS n_candidates,
           min(s.spine_person_id) AS spine_person_id
    FROM recs AS r
    JOIN spine AS s ON r.nhs_number = s.nhs_number
    WHERE r.nhs_number IS NOT NULL AND s.nhs_number IS NOT NULL
    GROUP BY r.rid
    """
    on = " AND ".join(f"r.{c} = s.{c}" for c in key.columns)
    held = [
        f"{t}.{c} IS NOT NULL" for c in key.columns if c in OFTEN_MISSING for t in "rs"
    ]
    where = f"\nWHERE {' AND '.join(held)}" if held else ""
    sql = f"""SELECT r.rid, count(*) AS n_candidates,
       min(s.spine_person_id) AS spine_person_id
FROM {records} AS r
JOIN {spine} AS s ON {on}{where}
GROUP BY r.rid"""
    return key.name, sql


def accepted_sql(candidates: str, ties: str) -> str:
    """Rows of a key's candidates that the tie policy accepts."""
    where = "WHERE n_candidates = 1" if ties == "drop" else ""
    return f"SELECT rid, spine_person_id, n_candidates FROM {candidates} {where}"


def offered_sql(records: str, pending: str | None, key: MatchKey) -> str:
    """The records a key is offered: those in ``pending`` (all if None), its columns.

    ``pending`` holds only record ids, so the cascade never copies the records'
    strings: each key reads its own columns of the records where it needs them.
    """
    if pending is None:
        return records
    return f"({narrowed_sql(records, pending, [key])})"


def _count(table: str) -> str:
    """A query counting a table's rows."""
    return f"SELECT count(*) FROM {table}"


def narrowed_sql(records: str, pending: str, keys: Sequence[MatchKey]) -> str:
    """The columns ``keys`` read of the records ``pending`` lists (by ``rid``)."""
    cols = ", ".join(dict.fromkeys(["rid", *(c for k in keys for c in k.columns)]))
    return f"SELECT {cols} FROM {records} SEMI JOIN {pending} USING (rid)"


def cascade(
    db: LinkageDB,
    records: str,
    spine: str,
    keys: Sequence[MatchKey],
    ties: str,
    step: Callable[[], object] | None = None,
    narrow_below: float | None = None,
) -> tuple[str, list[str]]:
    """Run match keys in order over registered tables; the query of what they linked.

    Parameters
    ----------
    db : LinkageDB
        The connection holding ``records`` and ``spine``.
    records, spine : str
        Table names (see :func:`match_key_sql`).
    keys : sequence of MatchKey
        In the order tried.
    ties : {'drop', 'first'}
        Tie policy.
    step : callable, optional
        Called once after each key (a progress bar's ``update``).
    narrow_below : float, optional
        Once the records not linked yet are at most this share of ``records``,
        their columns that later keys read are copied into a table once
        (:func:`narrowed_sql`), and later keys read that, not every record's
        columns again to pick theirs out: the same records offered, the same
        links. None: never (records in memory are read where they are).

    Returns
    -------
    sql : str
        A query with one row per linked record (unordered): ``rid``,
        ``spine_person_id``, ``key`` (the position in ``keys`` of the key that
        linked it) and ``n_candidates``.
    tables : list of str
        The tables it reads, one per key: drop them once it has run.
    """
    pending: str | None = None  # rids of records not linked yet; None: all
    accepted: list[str] = []
    source = records  # where keys read the records' columns: all, or a copy
    whole = False  # the pending records are all of source's rows
    everyone = None if narrow_below is None else db.scalar(_count(records))
    for i, key in enumerate(keys):
        offered = source if whole else offered_sql(source, pending, key)
        name, sql = match_key_sql(key, offered, spine)
        cand = db.name(f"key{i}_{name}")
        db.create(cand, sql)
        n_unique, n_tied = db.row(
            f"SELECT count(*) FILTER (WHERE n_candidates = 1), "
            f"count(*) FILTER (WHERE n_candidates > 1) FROM {cand}"
        )
        n_linked = n_unique + (n_tied if ties == "first" else 0)
        logger.info(
            "match key %d %s: %d records linked, %d matched several spine persons (%s)",
            i + 1,
            name,
            n_linked,
            n_tied,
            "dropped" if ties == "drop" else "lowest id kept",
        )
        accepted.append(cand)
        if step is not None:
            step()
        whole = False
        if i + 1 < len(keys):
            nxt = db.name(f"pending{i + 1}")
            db.create(
                nxt,
                f"SELECT rid FROM {pending or records} "
                f"ANTI JOIN ({accepted_sql(cand, ties)}) AS a USING (rid)",
            )
            if pending is not None:
                db.drop(pending)
            pending = nxt
            if (
                source == records
                and narrow_below is not None
                and int(db.scalar(_count(pending))) <= narrow_below * int(everyone)  # type: ignore[call-overload]
            ):
                source = db.name("narrowed")
                db.create(source, narrowed_sql(records, pending, keys[i + 1 :]))
                whole = True
    if pending is not None:
        db.drop(pending)
    if source != records:
        db.drop(source)
    union = "\nUNION ALL\n".join(
        f"SELECT rid, spine_person_id, {i} AS key, n_candidates "
        f"FROM ({accepted_sql(cand, ties)})"
        for i, cand in enumerate(accepted)
    )
    return union, accepted


def key_kinds(keys: Sequence[MatchKey]) -> tuple[list[str], np.ndarray]:
    """The distinct key names in order, and each key's place among them.

    Two keys may share a name (one rule tried twice): ``match_key`` holds names.

    >>> key_kinds([MatchKey(name="a", columns=("upn",)),
    ...            MatchKey(name="b", columns=("upn",)),
    ...            MatchKey(name="a", columns=("nhs_number",))])[1].tolist()
    [0, 1, 0]
    """
    names = [k.name for k in keys]
    kinds = list(dict.fromkeys(names))
    return kinds, np.array([kinds.index(n) for n in names], dtype=np.int32)


def run_cascade(
    db: LinkageDB,
    records: str,
    spine: str,
    keys: Sequence[MatchKey],
    ties: str,
    step: Callable[[], object] | None = None,
) -> pd.DataFrame:
    """Run match keys in order over registered tables (:func:`cascade`), in memory.

    Returns
    -------
    DataFrame
        One row per linked record, by ``rid``: ``rid``, ``spine_person_id``,
        ``match_key`` (categorical: numbers, not strings, come back from DuckDB),
        ``match_probability`` (NaN) and ``n_candidates``.
    """
    union, tables = cascade(db, records, spine, keys, ties, step)
    found = db.arrow(f"{union}\nORDER BY rid")
    db.drop(*tables)
    kinds, kind_of_key = key_kinds(keys)
    return pd.DataFrame(
        {
            "rid": found["rid"].to_numpy(),
            "spine_person_id": found["spine_person_id"].to_numpy(),
            "match_key": pd.Categorical.from_codes(
                kind_of_key[found["key"].to_numpy()], categories=kinds
            ),
            "match_probability": np.full(len(found), np.nan),
            "n_candidates": found["n_candidates"].to_numpy(),
        }
    )


def shared_codes(
    records: pd.DataFrame, spine: pd.DataFrame
) -> tuple[pa.Table, pa.Table]:
    """Both match tables as Arrow, each string column as integer codes both share.

    Equal strings get equal codes and a missing string stays missing, so every key
    finds the same candidates, while DuckDB reads the codes without converting
    strings and hashes and compares integers in its joins. Columns whose values
    rarely repeat (:data:`~simulator.council.linkage.normalise.RARELY_REPEATED`)
    stay strings: coding them would cost more than their few keys save.

    Examples
    --------
    >>> r, s = shared_codes(
    ...     pd.DataFrame({"rid": [0, 1], "k": pd.array(["a", None], "str")}),
    ...     pd.DataFrame({"spine_person_id": [7], "k": pd.array(["a"], "str")}),
    ... )
    >>> r["k"].to_pylist(), s["k"].to_pylist()
    ([0, None], [0])
    """
    strings = [
        c
        for c in records.columns
        if c in spine.columns
        and c not in RARELY_REPEATED
        and isinstance(records[c].dtype, pd.StringDtype)
    ]
    tables = [
        to_arrow(records.drop(columns=strings)),
        to_arrow(spine.drop(columns=strings)),
    ]
    for column in strings:
        parts = [pa.chunked_array(pa.array(f[column].array)) for f in (records, spine)]
        both = pa.chunked_array(
            [c.cast(pa.large_string()) for p in parts for c in p.chunks],
            pa.large_string(),
        )
        codes = pa.chunked_array(
            [chunk.indices for chunk in pc.dictionary_encode(both).chunks],
            pa.int32(),
        )
        tables[0] = tables[0].append_column(column, codes.slice(0, len(records)))
        tables[1] = tables[1].append_column(column, codes.slice(len(records)))
    return tables[0], tables[1]


def link_deterministic(
    prepared: Prepared,
    config: DeterministicConfig,
    db: LinkageDB,
    step: Callable[[], object] | None = None,
) -> pd.DataFrame:
    """Link prepared records to the spine with the match-key cascade.

    Parameters
    ----------
    prepared : Prepared
        Normalised records and spine (:func:`simulator.council.linkage.links.prepare`).
    config : DeterministicConfig
        Keys and tie policy.
    db : LinkageDB
        Where the SQL runs.
    step : callable, optional
        Called once after each key.

    Returns
    -------
    DataFrame
        Per linked record, as :func:`run_cascade`.
    """
    records, spine = db.name("records"), db.name("spine")
    coded_records, coded_spine = shared_codes(prepared.records, prepared.spine)
    db.register(records, coded_records)
    db.register(spine, coded_spine)
    try:
        found = run_cascade(db, records, spine, config.keys, config.ties, step)
    finally:
        db.unregister(records, spine)
    logger.info(
        "deterministic linkage: %d of %d records linked",
        len(found),
        len(prepared.records),
    )
    return found
