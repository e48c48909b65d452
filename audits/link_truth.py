"""Every source's records side by side with the truth, and the links found for them.

What :mod:`audits.link_quality` joins before judging: the records of every source one
after another, with whose identity each carries; each record's row in the links table,
found by integer positions (:mod:`simulator.id_positions`) rather than a merge on
(source, record_id) strings; and, for the few false and missed links, their
``err_*`` flags. Reads the hidden ``true_``/``err_`` columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from audits.link_counts import GroupKey
from simulator.errors import InputDataError
from simulator.id_positions import IdPositions
from simulator.vocabulary import CARRIED_IDENTITY

ERR = "err_"
"""The prefix of the hidden error flags."""
CARRIED = CARRIED_IDENTITY
COLUMNS = ["record_id", "true_person_id", CARRIED, "true_household_id"]
"""The columns of :attr:`Truth.frame`."""


@dataclass(frozen=True)
class Truth:
    """Every source's records one after another, in the mapping's order.

    ``frame`` has ``record_id``, ``true_person_id``, the identity carried and
    ``true_household_id``; source ``k``'s records are rows ``starts[k]`` to
    ``starts[k + 1]``; ``source`` is the key of each record's source
    (:meth:`source_names` gives the names of some).
    """

    frame: pd.DataFrame
    sources: Mapping[str, pd.DataFrame]
    starts: np.ndarray
    source: GroupKey

    def source_names(self, rows: np.ndarray | None = None) -> pd.Series:
        """The source of records ``rows`` (every record's if None), as strings.

        Taken from the key's names, so a batch builds the column for the few rows
        it lists, not for every record.
        """
        codes = self.source.codes if rows is None else self.source.codes[rows]
        return self.source.values.iloc[codes].reset_index(drop=True)


def truth_of(sources: Mapping[str, pd.DataFrame]) -> Truth:
    """Every source's records one after another, with their truth.

    Raises
    ------
    InputDataError
        If a source lacks a truth column (all are named), or there is none.
    """
    need = ("record_id", "true_person_id", "true_household_id")
    missing = [
        f"{name}: {', '.join(c for c in need if c not in f.columns)}"
        for name, f in sources.items()
        if any(c not in f.columns for c in need)
    ]
    if missing:
        raise InputDataError(
            "link quality needs the truth columns:\n  " + "\n  ".join(missing)
        )
    if not sources:
        raise InputDataError("link quality needs at least one source")
    parts = []
    for f in sources.values():  # sources, not rows
        part = {c: f[c].reset_index(drop=True) for c in need}
        part[CARRIED] = pd.Series(carried(f))
        parts.append(pd.DataFrame(part, columns=COLUMNS, copy=False))
    frame = _concatenated(parts)
    names = [str(name) for name in sources]
    lengths = [len(f) for f in sources.values()]
    codes = np.repeat(np.arange(len(names), dtype=np.int64), lengths)
    key = GroupKey("source", codes, _source_names(names))
    return Truth(frame, sources, np.cumsum([0, *lengths]), key)


def _concatenated(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """``pd.concat(parts, ignore_index=True)`` of frames with the same columns.

    A batch of one source comes with every other source's frame empty
    (:mod:`audits.link_quality_files`): if only one part has rows and every part
    has its dtypes, that part is the concatenation, not copied again.
    """
    full = [part for part in parts if len(part)]
    if len(full) == 1 and all(p.dtypes.equals(full[0].dtypes) for p in parts):
        return full[0]
    return pd.concat(parts, ignore_index=True)


def _source_names(names: Sequence[str]) -> pd.Series:
    """The source names as strings, Arrow's ``large_string`` (a records column's)."""
    strings = pa.array(list(names), pa.large_string())
    return pd.Series(pd.array(strings, dtype=str), name="source")


def record_errors(truth: Truth, rows: np.ndarray) -> pd.DataFrame:
    """The ``err_*`` flags of records ``rows`` (ascending) of ``truth``.

    Every source's error columns, in the order a concatenation of the sources
    gives them; an error a source does not record is False.
    """
    return source_errors(truth.sources, truth.starts, rows)


def source_errors(
    sources: Mapping[str, pd.DataFrame], starts: np.ndarray, rows: np.ndarray
) -> pd.DataFrame:
    """:func:`record_errors` of records whose sources are ``sources``.

    Source ``k``'s records are ``starts[k]`` to ``starts[k + 1]`` (as
    :attr:`Truth.starts`): the frames may hold only the records wanted.
    """
    frames = [f[[c for c in f.columns if c.startswith(ERR)]] for f in sources.values()]
    columns = pd.concat([f.iloc[:0] for f in frames]).columns
    parts = []
    for k, f in enumerate(frames):  # sources, not rows
        lo, hi = np.searchsorted(rows, starts[k : k + 2])
        part = f.iloc[rows[lo:hi] - starts[k]]
        parts.append(part.reindex(columns=columns, fill_value=False))
    out = pd.concat(parts, ignore_index=True)
    loose = [c for c in out.columns if out[c].dtype != bool]  # NA in a source's flags
    out[loose] = out[loose].astype(object).fillna(False)
    return out.astype(bool)


def carried(frame: pd.DataFrame) -> np.ndarray:
    """Whose identity each row carries.

    ``true_person_id`` where the column is absent (datasets written before it).
    """
    col = CARRIED if CARRIED in frame.columns else "true_person_id"
    return frame[col].to_numpy(np.int64)


def link_rows(links: pd.DataFrame, truth: Truth) -> np.ndarray:
    """Each truth record's row in ``links``, -1 if it has none.

    Raises
    ------
    InputDataError
        If ``links`` has a record twice or a record that is in no source, or a
        source has a ``record_id`` twice.
    """
    codes, names = pd.factorize(links["source"])
    known = {str(name): k for k, name in enumerate(truth.sources)}
    to_source = np.array([known.get(str(n), -1) for n in names], dtype=np.int64)
    source = np.append(to_source, -1)[codes]  # an NA source (code -1) is no source
    record_ids = links["record_id"]
    found = np.full(len(links), -1, dtype=np.int64)  # the truth row of each link
    for k, (name, f) in enumerate(truth.sources.items()):  # sources, not rows
        ids = IdPositions(f["record_id"])
        if not ids.is_unique:
            raise InputDataError(f"source {name} has a record_id more than once")
        at = np.flatnonzero(source == k)
        pos = ids.positions(record_ids.iloc[at])
        found[at] = np.where(pos >= 0, pos + truth.starts[k], -1)
    if (found < 0).any():
        keys = links[["source", "record_id"]].astype({"source": str})
        if keys.duplicated().any():
            raise InputDataError("links table has a record more than once")
        raise InputDataError("links table has records that are in no source")
    n = len(truth.frame)
    if len(found) and np.bincount(found, minlength=n).max() > 1:
        raise InputDataError("links table has a record more than once")
    rows = np.full(n, -1, dtype=np.int64)
    rows[found] = np.arange(len(found))
    return rows
