"""What each spine household's own spine rows give the view, summed from the file.

The spine's features of the view (:func:`simulator.council.view.view_of_linked`)
are counts per household (members, adults, children, of school age, of unknown
age) and one member's area: the decile of the first member, by lowest
``spine_person_id`` (then file order), whose postcode sector the deprivation lookup
knows. So they are summed into arrays with a row per spine household as the
spine's file is read a batch at a time (:class:`SpineCounts`): the spine is not
cut into ranges of households, written and read back, and each person's age group
and decile is found once, not once a view's range. Memory is the arrays (36 bytes
a household) and a batch. A world's views of the same spine file with other
links (its own, then the truth's for the ladder's ``data_error`` rung) take the
first one's sums (:class:`HeldSpine`).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from simulator.council.view import (
    Deprivation,
    age_groups,
    area_of,
    birth_dates,
    composition_of,
    deprivation_lookup,
    person_deciles,
    rows_of,
)
from simulator.council.view_counts import ONE
from simulator.frames import arrow_text
from simulator.schema.view import ViewConfig

UNSET = np.iinfo(np.int64).max
"""A household's lowest ``spine_person_id`` before any member with a known area
(its decile NaN until then)."""
ADULTS, CHILDREN, UNKNOWN_AGE, SCHOOL = (np.int8(k) for k in range(4))
"""A household's counts: its members of each age group (every member in one of
the first three), and of school age."""
GROUPS = 4
NO_ROW = np.iinfo(np.int32).max
"""A household's first row of a batch, outside :meth:`SpineCounts.add`."""


def _dates(dob: pa.Array) -> np.ndarray:
    """:func:`~simulator.council.view.birth_dates` of a spine file's ``dob``."""
    if pa.types.is_timestamp(dob.type) and dob.type.tz is None:
        return dob.to_numpy(zero_copy_only=False)
    return birth_dates(dob.to_pandas())  # dates, text, times in a zone: as pandas


def _text(postcodes: pa.Array) -> pa.Array:
    """A spine file's ``postcode`` as :func:`~simulator.frames.arrow_text` gives it.

    Or its values dictionary-encoded, where the file's reader gave a dictionary.
    """
    kind = postcodes.type
    if pa.types.is_dictionary(kind) and _is_text(kind.value_type):
        return pa.DictionaryArray.from_arrays(
            postcodes.indices, postcodes.dictionary.cast(pa.large_string())
        )
    if _is_text(kind):
        return postcodes.cast(pa.large_string())
    return arrow_text(postcodes.to_pandas())  # as the frame's column would be


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_large_string(kind) or pa.types.is_string(kind)


class SpineCounts:
    """Each spine household's composition and area, summed a batch of rows at a time.

    ``households`` are the spine's (sorted, unique: the view's rows). Add the
    spine's rows in file order (:meth:`add`), then take the
    :data:`~simulator.council.view.COMPOSITION_COLUMNS` and
    :data:`~simulator.council.view.AREA_COLUMNS` of any range of households
    (:meth:`rows`): what :func:`~simulator.council.view.view_of_linked` finds of
    their spine rows. ``deprivation`` as for
    :func:`~simulator.council.view.build_view` (checked at the first row).
    """

    def __init__(
        self,
        households: np.ndarray,
        reference_date: dt.date,
        deprivation: pd.DataFrame | None,
        config: ViewConfig,
    ) -> None:
        n = len(households)
        self._where = pd.Index(households)
        self._reference_date = reference_date
        self._config = config
        self._deprivation = deprivation
        self._lookup: Deprivation | None = None
        self._counts = np.zeros((n, GROUPS), np.int32)  # members of each group
        self._lowest = np.full(n, UNSET, np.int64)  # of members with a known area
        self._decile = np.full(n, np.nan)
        self._first = np.full(n, NO_ROW, np.int32)  # a batch's row, while added

    def add(
        self,
        households: np.ndarray,
        persons: np.ndarray,
        dob: pa.Array,
        postcodes: pa.Array,
    ) -> None:
        """Count a batch of spine rows (the next in file order).

        ``households`` and ``persons`` are the rows' ``spine_household_id`` and
        ``spine_person_id``; ``dob`` and ``postcode`` their columns as read.
        """
        pos = rows_of(self._where, households)
        if pos.min(initial=0) < 0:
            raise ValueError("a spine row's household is not among the households")
        adult, child, school = age_groups(
            _dates(dob), self._reference_date, self._config
        )
        # One count a row (adult, child or unknown age), one more at school age:
        # a household's counts share a cache line. Indexes of 4 bytes where they
        # fit, and no concatenated copy: a fifth less time than one of int64.
        flat = self._counts.reshape(-1)
        base = pos.astype(np.int32 if len(flat) <= NO_ROW else np.int64)
        base *= GROUPS
        group = np.where(adult, ADULTS, np.where(child, CHILDREN, UNKNOWN_AGE))
        np.add.at(flat, base + group, ONE)
        np.add.at(flat, base[school] + SCHOOL, ONE)
        if self._deprivation is None or not len(pos):
            return
        if self._lookup is None:
            self._lookup = deprivation_lookup(self._deprivation)
        decile = person_deciles(_text(postcodes), self._lookup)
        known = ~np.isnan(decile)
        if not known.all():
            ok = np.flatnonzero(known)
            pos, persons, decile = pos[ok], persons[ok], decile[ok]
        before = self._lowest[pos]
        np.minimum.at(self._lowest, pos, persons)
        # Rows that lower their household's lowest id (earlier batches win ties),
        # and of those, each household's first (file order), as lowest_rows does.
        lower = persons < before
        unset = persons == UNSET  # the id an unset household holds: is it set?
        if unset.any():
            lower |= unset & np.isnan(self._decile[pos])
        new = np.flatnonzero(lower & (persons == self._lowest[pos]))
        at = pos[new]
        np.minimum.at(self._first, at, np.arange(len(new), dtype=np.int32))
        self._decile[at] = decile[new[self._first[at]]]
        self._first[at] = NO_ROW

    def rows(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Households ``start`` to ``stop`` (rows): their composition and area."""
        adults, children, unknown, school = self._counts[start:stop].T
        members = adults.astype(np.int64) + children + unknown
        out = composition_of(members, adults, children, school)
        return out | area_of(self._decile[start:stop])


class HeldSpine:
    """A spine file's households and sums, kept for the next view of that file.

    A world's own view and its ``data_error`` rung's view (the truth's links) read
    the same spine file: the same households and :class:`SpineCounts`, whatever
    the records' households. A view keeps them here (:meth:`keep`); the next
    takes them (:meth:`take`) if the file is the same one (device, inode, size
    and time: a hard link is, a replaced or rewritten file is not) and the view's
    settings are equal. They are given once and then forgotten, and a miss
    forgets them too: one file's sums at most (36 bytes a household, and 8 for
    its id), held between two views only. Pickled empty: a world sent to another
    process sums afresh.
    """

    def __init__(self) -> None:
        self._key: tuple[int, ...] | None = None
        self._settings: dict[str, Any] = {}
        self._held: tuple[np.ndarray, SpineCounts] | None = None

    def __reduce__(self) -> tuple[type[HeldSpine], tuple[()]]:
        return (HeldSpine, ())

    def take(
        self, spine_file: Path, settings: dict[str, Any]
    ) -> tuple[np.ndarray, SpineCounts] | None:
        """The households and sums kept of ``spine_file`` with ``settings``, or None.

        Nothing is held after.
        """
        held, key, kept = self._held, self._key, self._settings
        self._key, self._settings, self._held = None, {}, None
        if held is None or key != _file_key(spine_file):
            return None
        return held if _same_settings(kept, settings) else None

    def keep(
        self,
        spine_file: Path,
        settings: dict[str, Any],
        households: np.ndarray,
        counts: SpineCounts,
    ) -> None:
        """Hold ``spine_file``'s households and sums (all its rows added)."""
        self._key = _file_key(spine_file)
        self._settings = dict(settings)
        self._held = (households, counts)


def _file_key(path: Path) -> tuple[int, ...]:
    """What tells one file from another: its device, inode, size and time."""
    at = os.stat(path)
    return (at.st_dev, at.st_ino, at.st_size, at.st_mtime_ns)


def _same_settings(held: dict[str, Any], asked: dict[str, Any]) -> bool:
    """The view's settings are equal (the deprivation lookup by its values)."""
    if held.keys() != asked.keys():
        return False
    for name, value in asked.items():
        kept = held[name]
        if isinstance(value, pd.DataFrame) or isinstance(kept, pd.DataFrame):
            if not (
                isinstance(value, pd.DataFrame)
                and isinstance(kept, pd.DataFrame)
                and kept.equals(value)
            ):
                return False
        elif kept != value:
            return False
    return True
