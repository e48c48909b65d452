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
from simulator.frames import STRING


def true_spine_person(spine: pd.DataFrame) -> pd.Series:
    """The spine person id chosen for each true person: the lowest of their rows.

    Parameters
    ----------
    spine : DataFrame
        With ``spine_person_id`` and hidden ``true_person_id``.

    Returns
    -------
    Series
        ``spine_person_id`` indexed by ``true_person_id``.
    """
    return spine.groupby("true_person_id", sort=True)["spine_person_id"].min()


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
    best = true_spine_person(spine)
    rows = spine.groupby("true_person_id", sort=True).size()
    truth = (
        np.concatenate(
            [f["true_person_id"].to_numpy(np.int64) for f in sources.values()]
        )
        if sources
        else np.empty(0, np.int64)
    )
    person = best.reindex(truth).to_numpy()
    linked = ~pd.isna(person)
    rid = np.flatnonzero(linked)
    return pd.DataFrame(
        {
            "rid": rid.astype(np.int64),
            "spine_person_id": person[linked].astype(np.int64),
            "match_key": pd.array(["oracle"] * len(rid), dtype=STRING),
            "match_probability": np.full(len(rid), np.nan),
            "n_candidates": rows.reindex(truth[linked]).to_numpy(np.int64),
        }
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
