"""The true links: what perfect linkage would give. Reads the hidden truth columns.

A record links to the spine row of its true person (``true_person_id``); when that
person has several spine rows (duplicates on the spine), the lowest
``spine_person_id``; when the person is not on the spine, the record is unlinked.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from simulator.council.linkage.links import assemble, record_index
from simulator.errors import InputDataError


def spine_rows_of(
    true_person: np.ndarray, spine_person: np.ndarray, wanted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each wanted true person's spine rows: how many, and the lowest spine id.

    ``true_person`` and ``spine_person`` are the spine's two columns. Person ids
    as generated (from 0, fewer than four slots a row) are looked up in tables
    indexed by id; others by pandas' groups.

    Returns
    -------
    n_rows : ndarray of int64
        Per ``wanted`` id, its spine rows (0: not on the spine).
    lowest : ndarray of int64
        Per ``wanted`` id, the lowest ``spine_person_id`` (undefined where
        ``n_rows`` is 0).

    Examples
    --------
    >>> n, low = spine_rows_of(np.array([4, 2, 4]), np.array([7, 8, 5]),
    ...                        np.array([4, 3, 2]))
    >>> n.tolist(), low[n > 0].tolist()
    ([2, 0, 1], [5, 8])
    """
    low = min(true_person.min(initial=0), wanted.min(initial=0))
    top = int(max(true_person.max(initial=-1), wanted.max(initial=-1))) + 1
    if low >= 0 and top <= 4 * (len(true_person) + len(wanted)):
        n_rows = np.bincount(true_person, minlength=top)
        lowest = np.full(top, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(lowest, true_person, spine_person)
        return n_rows[wanted].astype(np.int64), lowest[wanted]
    spine = pd.Series(spine_person, index=pd.Index(true_person, name="true_person_id"))
    groups = spine.groupby(level=0, sort=True)
    first = groups.min()
    at = first.index.get_indexer(wanted)  # -1, not there: the appended 0
    n_rows = np.append(groups.size().to_numpy(np.int64), 0)[at]
    return n_rows, np.append(first.to_numpy(np.int64), 0)[at]


def oracle_found(
    sources: Mapping[str, pd.DataFrame], spine: pd.DataFrame
) -> pd.DataFrame:
    """Per linked record (``rid`` in source order), its true spine person."""
    missing = [
        f"{name}: true_person_id"
        for name, f in {**sources, "spine": spine}.items()
        if "true_person_id" not in f.columns
    ]
    if missing:
        raise InputDataError(
            "oracle linkage needs the hidden truth column:\n  " + "\n  ".join(missing)
        )
    truth = (
        np.concatenate(
            [f["true_person_id"].to_numpy(np.int64) for f in sources.values()]
        )
        if sources
        else np.empty(0, np.int64)
    )
    n_rows, lowest = spine_rows_of(
        spine["true_person_id"].to_numpy(np.int64),
        spine["spine_person_id"].to_numpy(np.int64),
        truth,
    )
    rid = np.flatnonzero(n_rows > 0)
    return pd.DataFrame(
        {
            "rid": rid.astype(np.int64),
            "spine_person_id": lowest[rid],
            "match_key": pd.Categorical.from_codes(
                np.zeros(len(rid), np.int8), categories=["oracle"]
            ),
            "match_probability": np.full(len(rid), np.nan),
            "n_candidates": n_rows[rid],
        },
        copy=False,  # new arrays, for assembly only
    )


def oracle_links(
    sources: Mapping[str, pd.DataFrame], spine: pd.DataFrame
) -> pd.DataFrame:
    """The links table of perfect linkage.

    Parameters
    ----------
    sources : mapping of str to DataFrame
        Each agency's records, with ``record_id`` and hidden ``true_person_id``.
    spine : DataFrame
        With ``spine_person_id``, ``spine_household_id`` and ``true_person_id``.

    Returns
    -------
    DataFrame
        The links table (see :mod:`simulator.council.linkage.links`); ``match_key`` is
        ``"oracle"`` for every linked record.
    """
    found = oracle_found(sources, spine)
    households = spine[["spine_person_id", "spine_household_id"]]
    return assemble(record_index(sources), found, households)
