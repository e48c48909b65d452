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

import numpy as np
import pandas as pd

from simulator.council.linkage.normalise import match_columns, required_columns
from simulator.errors import InputDataError
from simulator.frames import STRING, council_view
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
        if key in frame.columns and not frame[key].is_unique:
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
    order = np.lexsort(
        (index["record_id"].to_numpy(np.int64), index["source"].array.codes)
    )
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
    index = arrived.iloc[np.argsort(rid)].reset_index(drop=True)
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


def assemble(
    index: pd.DataFrame,
    found: pd.DataFrame,
    spine_households: pd.DataFrame,
) -> pd.DataFrame:
    """Build the links table from per-record results.

    Parameters
    ----------
    index : DataFrame
        ``source`` and ``record_id`` of every record (row number = ``rid``).
    found : DataFrame
        One row per linked record: ``rid``, ``spine_person_id``, ``match_key``,
        ``match_probability`` and ``n_candidates``.
    spine_households : DataFrame
        ``spine_person_id`` -> ``spine_household_id``.

    Returns
    -------
    DataFrame
        The links table (:data:`LINK_COLUMNS`), one row per record of ``index``.
    """
    n = len(index)
    rid = found["rid"].to_numpy(np.int64)
    if len(rid) and np.bincount(rid, minlength=n).max() > 1:
        raise ValueError("a record was linked twice; each record links at most once")
    person = np.zeros(n, dtype=np.int64)
    linked = np.zeros(n, dtype=bool)
    person[rid] = found["spine_person_id"].to_numpy(np.int64)
    linked[rid] = True
    hh = spine_households.set_index("spine_person_id")["spine_household_id"]
    household = np.zeros(n, dtype=np.int64)
    household[rid] = hh.reindex(found["spine_person_id"].to_numpy()).to_numpy(np.int64)
    key = np.full(n, None, dtype=object)
    key[rid] = found["match_key"].astype(object).to_numpy()
    prob = np.full(n, np.nan)
    prob[rid] = found["match_probability"].to_numpy(np.float64, na_value=np.nan)
    cands = np.zeros(n, dtype=np.int64)
    cands[rid] = found["n_candidates"].to_numpy(np.int64)
    out = pd.DataFrame(
        {
            "source": pd.array(index["source"].astype(str).to_numpy(), dtype=STRING),
            "record_id": index["record_id"].to_numpy(np.int64),
            "spine_person_id": pd.arrays.IntegerArray(person, ~linked),
            "spine_household_id": pd.arrays.IntegerArray(household, ~linked),
            "match_key": pd.array(key, dtype=STRING),
            "match_probability": prob,
            "n_candidates": cands,
        }
    )
    return out.sort_values(["source", "record_id"], kind="stable", ignore_index=True)
