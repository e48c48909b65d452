"""Input checks, the prepared (normalised) match tables, and the links table.

The links table has one row per input record, sorted by source then record id:

==================  ===========  ======================================================
column              dtype        meaning
==================  ===========  ======================================================
source              string       the agency (the key of the ``sources`` mapping)
record_id           int64        the record's id within its source
spine_person_id     Int64        the spine person linked to; NA if unlinked
spine_household_id  Int64        that person's spine household; NA if unlinked
match_key           string       deterministic: the key that linked it; ``"splink"``
                                 or ``"oracle"`` otherwise; NA if unlinked
match_probability   float64      Splink's match probability; NaN for other methods
                                 and for unlinked records
n_candidates        int64        spine persons the linking key (or Splink, above the
                                 threshold) matched; 0 if unlinked
==================  ===========  ======================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa

from simulator.council.linkage.normalise import match_columns, required_columns
from simulator.errors import InputDataError
from simulator.frames import STRING, council_view
from simulator.id_positions import IdPositions
from simulator.schema.linkage import Recipe

LINK_COLUMNS = (
    "source",
    "record_id",
    "spine_person_id",
    "spine_household_id",
    "match_key",
    "match_probability",
    "n_candidates",
)
"""Columns of every links table, in order."""


def is_unique(ids: pd.Series) -> bool:
    """Whether no id repeats; ids numbered from 0, as generated, by one count.

    Examples
    --------
    >>> is_unique(pd.Series([2, 0, 1])), is_unique(pd.Series([5, 5]))
    (True, False)
    """
    if ids.dtype == np.int64 and len(ids):
        values = ids.to_numpy()
        if values.min() >= 0 and values.max() < 4 * len(values):
            return bool(np.bincount(values).max() <= 1)
    return bool(ids.is_unique)


def check_inputs(
    sources: Mapping[str, pd.DataFrame],
    spine: pd.DataFrame,
    identity_columns: Iterable[str],
) -> None:
    """Raise one error naming every missing column (and its agency) and bad id.

    Parameters
    ----------
    sources : mapping of str to DataFrame
        Each agency's records.
    spine : DataFrame
        The council's family index.
    identity_columns : iterable of str
        Raw identity columns the linkage method reads.

    Raises
    ------
    InputDataError
        Listing, per agency, every required column that is missing, and every id
        column that is not unique.
    """
    identity = list(identity_columns)
    problems = []
    frames = {**sources, "spine": spine}
    for name, frame in frames.items():
        ids = (
            ["spine_person_id", "spine_household_id"]
            if name == "spine"
            else ["record_id"]
        )
        missing = [c for c in [*ids, *identity] if c not in frame.columns]
        if missing:
            problems.append(f"{name}: missing column(s) {', '.join(missing)}")
        key = ids[0]
        if key in frame.columns and not is_unique(frame[key]):
            problems.append(f"{name}: {key} is not unique")
        if key in frame.columns and frame[key].isna().any():
            problems.append(f"{name}: {key} has missing values")
    if problems:
        raise InputDataError(
            "linkage inputs are not as expected:\n  " + "\n  ".join(problems)
        )


@dataclass(frozen=True)
class Prepared:
    """Normalised match tables, what the council-side methods link.

    Attributes
    ----------
    records : DataFrame
        ``rid`` (0..n-1 over all sources, in ``index`` order: by source, then
        ``record_id``; rows stay in the order they came) and one column per recipe.
    index : DataFrame
        ``source`` and ``record_id`` of each ``rid`` (row ``rid``).
    spine : DataFrame
        ``spine_person_id`` and one column per recipe.
    spine_households : DataFrame
        ``spine_person_id`` and ``spine_household_id``.
    """

    records: pd.DataFrame
    index: pd.DataFrame
    spine: pd.DataFrame
    spine_households: pd.DataFrame


def record_index(sources: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """``source`` and ``record_id`` of every record, sources in mapping order."""
    names = list(sources)
    lengths = np.array([len(sources[s]) for s in names], dtype=np.int64)
    source = pd.Categorical.from_codes(
        np.repeat(np.arange(len(names)), lengths), categories=names
    )
    record_id = (
        np.concatenate([sources[s]["record_id"].to_numpy(np.int64) for s in names])
        if names
        else np.empty(0, np.int64)
    )
    return pd.DataFrame({"source": source, "record_id": record_id})


def id_order(codes: np.ndarray, record_id: np.ndarray) -> np.ndarray:
    """The row order by source code, then ``record_id`` (a stable sort).

    Record ids numbered from 0 within each source, as generated, are placed by a
    counting sort (one pass, a fifth of :func:`numpy.lexsort`'s time at 1,000,000
    households); other ids, and an id repeated within a source, by ``lexsort``.

    Examples
    --------
    >>> id_order(np.array([1, 0, 0, 1]), np.array([3, 9, 2, 0])).tolist()
    [2, 1, 3, 0]
    """
    n = len(codes)
    codes = codes.astype(np.int64, copy=False)
    record_id = record_id.astype(np.int64, copy=False)
    if n and record_id.min() >= 0:
        top = np.zeros(int(codes.max()) + 1, dtype=np.int64)
        np.maximum.at(top, codes, record_id)
        sizes = top + 1
        if sizes.sum() <= 4 * n:
            slot = np.concatenate([[0], np.cumsum(sizes)[:-1]])[codes] + record_id
            table = np.full(int(sizes.sum()), -1, dtype=np.int64)
            table[slot] = np.arange(n, dtype=np.int64)
            order = table[table >= 0]
            if len(order) == n:  # else an id repeats within a source
                return order
    return np.lexsort((record_id, codes))


def rid_by_id(index: pd.DataFrame) -> np.ndarray:
    """Each record's ``rid``: its place in order of source, then ``record_id``.

    The council works in the order of its own identifiers, never in the order rows
    arrive: files are written in true household order, and whatever follows row
    order (Splink's profile ids, its random u sample) must not carry that order into
    a result. Rows stay where they are; only their numbers follow the ids.

    Examples
    --------
    >>> idx = pd.DataFrame({"source": pd.Categorical(["b", "a", "a"], ["b", "a"]),
    ...                     "record_id": [5, 9, 2]})
    >>> rid_by_id(idx).tolist()
    [0, 2, 1]
    """
    order = id_order(index["source"].array.codes, index["record_id"].to_numpy())
    rid = np.empty(len(index), dtype=np.int64)
    rid[order] = np.arange(len(index), dtype=np.int64)
    return rid


def prepare(
    sources: Mapping[str, pd.DataFrame],
    spine: pd.DataFrame,
    recipes: Iterable[Recipe],
) -> Prepared:
    """Check inputs, drop hidden columns and compute the match columns.

    Parameters
    ----------
    sources : mapping of str to DataFrame
        Each agency's records (hidden ``true_``/``err_`` columns are dropped here).
    spine : DataFrame
        The council's family index.
    recipes : iterable of Recipe
        Normalised columns to compute.

    Returns
    -------
    Prepared
        ``rid`` numbers records by source (mapping order), then ``record_id``
        (:func:`rid_by_id`), whatever order the rows came in.
    """
    recipes = list(dict.fromkeys(recipes))
    check_inputs(sources, spine, required_columns(recipes))
    views = {name: council_view(f) for name, f in sources.items()}
    arrived = record_index(views)
    rid = rid_by_id(arrived)
    in_rid_order = np.empty_like(rid)
    in_rid_order[rid] = np.arange(len(rid), dtype=np.int64)
    index = arrived.iloc[in_rid_order].reset_index(drop=True)
    parts = [match_columns(v, recipes).reset_index(drop=True) for v in views.values()]
    records = (
        pd.concat(parts, ignore_index=True)
        if parts
        else match_columns(council_view(spine).iloc[:0], recipes)
    )
    records.insert(0, "rid", rid)
    sv = council_view(spine).reset_index(drop=True)
    spine_m = match_columns(sv, recipes)
    spine_m.insert(0, "spine_person_id", sv["spine_person_id"].to_numpy(np.int64))
    households = pd.DataFrame(
        {
            "spine_person_id": sv["spine_person_id"].to_numpy(np.int64),
            "spine_household_id": sv["spine_household_id"].to_numpy(np.int64),
        }
    )
    return Prepared(records, index, spine_m, households)


def _household_of(spine_households: pd.DataFrame, person: np.ndarray) -> np.ndarray:
    """Each spine person's household (every person must be on the spine)."""
    spine = IdPositions(spine_households["spine_person_id"].to_numpy(np.int64))
    at = spine.positions(person)
    if len(at) and at.min() < 0:
        raise KeyError("a linked spine person is not on the spine")
    return spine_households["spine_household_id"].to_numpy(np.int64)[at]


@cache
def links_schema() -> pa.Schema:
    """The schema ``pa.Table.from_pandas`` gives :func:`links_frame`'s rows."""
    none = pa.array([], pa.string())
    empty = np.zeros(0, dtype=np.int64)
    frame = links_frame(none, empty, empty, empty, none, np.zeros(0), empty)
    return pa.Table.from_pandas(frame, preserve_index=False).schema


def links_table(
    source: pa.Array,
    record_id: np.ndarray,
    person: np.ndarray,
    household: np.ndarray,
    match_key: pa.Array,
    n_candidates: np.ndarray,
) -> pa.Table:
    """Deterministic links as Arrow: ``pa.Table.from_pandas`` of :func:`links_frame`.

    The same columns, nulls and schema (pandas metadata included), so a file
    written from either has the same bytes, built without a DataFrame (its
    construction and conversion were a tenth of writing links from files); the
    match probability is missing throughout, as NaN converts.
    """
    unlinked = np.asarray(match_key.is_null().to_numpy(zero_copy_only=False), bool)
    columns = [
        source.cast(pa.large_string()),
        pa.array(np.asarray(record_id, dtype=np.int64)),
        pa.array(np.asarray(person, dtype=np.int64), mask=unlinked),
        pa.array(np.asarray(household, dtype=np.int64), mask=unlinked),
        match_key.cast(pa.large_string()),
        pa.nulls(len(unlinked), pa.float64()),
        pa.array(np.asarray(n_candidates, dtype=np.int64)),
    ]
    return pa.Table.from_arrays(columns, schema=links_schema())


def _strings(values: pa.Array) -> pd.Series:
    """A ``string[pyarrow]`` Series of an Arrow string array (no Python strings)."""
    return pd.Series(
        pd.arrays.ArrowStringArray(values.cast(pa.large_string())), dtype=STRING
    )


def assemble(
    index: pd.DataFrame,
    found: pd.DataFrame,
    spine_households: pd.DataFrame,
) -> pd.DataFrame:
    """Build the links table from per-record results.

    Parameters
    ----------
    index : DataFrame
        ``source`` (categorical) and ``record_id`` of every record (row number =
        ``rid``).
    found : DataFrame
        One row per linked record: ``rid``, ``spine_person_id``, ``match_key``,
        ``match_probability`` and ``n_candidates``.
    spine_households : DataFrame
        ``spine_person_id`` -> ``spine_household_id``.

    Returns
    -------
    DataFrame
        The links table (:data:`LINK_COLUMNS`), one row per record of ``index``,
        sorted by source name, then record id.
    """
    n = len(index)
    rid = found["rid"].to_numpy(np.int64)
    if len(rid) and np.bincount(rid, minlength=n).max() > 1:
        raise ValueError("a record was linked twice; each record links at most once")
    source = index["source"].array
    names = np.asarray(source.categories, dtype=object)
    by_name = np.empty(len(names), dtype=np.int64)
    by_name[np.argsort(names, kind="stable")] = np.arange(len(names))
    record_id = index["record_id"].to_numpy(np.int64)
    order = id_order(by_name[source.codes], record_id)
    row = np.full(n, -1, dtype=np.int64)  # each record's row of found, -1 if none
    row[rid] = np.arange(len(rid), dtype=np.int64)
    row = row[order]
    linked = row >= 0

    def spread(values: np.ndarray, missing: object) -> np.ndarray:
        """Each record's value from its row of ``found``, or ``missing``."""
        out = np.full(n, missing, dtype=values.dtype)
        out[linked] = values[row[linked]]
        return out

    person = found["spine_person_id"].to_numpy(np.int64)
    key = pa.array(found["match_key"].array).cast(pa.string())
    return links_frame(
        pa.array(names.tolist(), pa.string()).take(source.codes[order]),
        record_id[order],
        spread(person, 0),
        spread(_household_of(spine_households, person), 0),
        key.take(pa.array(row, mask=~linked)),
        spread(
            found["match_probability"].to_numpy(np.float64, na_value=np.nan), np.nan
        ),
        spread(found["n_candidates"].to_numpy(np.int64), 0),
    )


def links_frame(
    source: pa.Array,
    record_id: np.ndarray,
    person: np.ndarray,
    household: np.ndarray,
    match_key: pa.Array,
    match_probability: np.ndarray,
    n_candidates: np.ndarray,
) -> pd.DataFrame:
    """Rows of the links table, with its dtypes, from one array per column.

    ``match_key`` is null exactly where a record is unlinked; ``person`` and
    ``household`` hold any value there (they become NA). Shared by :func:`assemble`
    and the links written from disk in chunks
    (:mod:`simulator.council.linkage.on_disk`), so both give the same bytes.
    """
    unlinked = np.asarray(match_key.is_null().to_numpy(zero_copy_only=False), bool)
    return pd.DataFrame(
        {
            "source": _strings(source),
            "record_id": np.asarray(record_id, dtype=np.int64),
            "spine_person_id": pd.arrays.IntegerArray(
                np.asarray(person, dtype=np.int64), unlinked
            ),
            "spine_household_id": pd.arrays.IntegerArray(
                np.asarray(household, dtype=np.int64), unlinked
            ),
            "match_key": _strings(match_key),
            "match_probability": np.asarray(match_probability, dtype=np.float64),
            "n_candidates": np.asarray(n_candidates, dtype=np.int64),
        }
    )
