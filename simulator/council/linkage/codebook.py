"""What linking from files keeps across its batches: strings' codes and normal forms.

Linking from files normalises records and spine rows a batch at a time; a key then
joins the records' columns to the spine's in DuckDB. A :class:`Codebook` serves one
link (records and spine alike):

- **codes**: each distinct normalised string of a column gets one integer for the
  whole link, so the match files hold integers and the keys join integers, as the
  in-memory path's :func:`~simulator.council.linkage.deterministic.shared_codes`
  does: equal strings, equal codes; a missing string stays missing. Which code a
  string gets follows the order batches come in; nothing but equality is read.
- **raw strings' codes**: an element-wise normalisation of a raw column's distinct
  values (names, postcodes) is computed and coded once a value for the link, not
  once a batch (most of a batch's names were in the batch before): a batch's rows
  then take the codes of their raw strings' places.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CODE = pa.int32()
"""The codes' type: a column has far fewer than 2**31 distinct values."""
_NONE = pa.array([], pa.large_string())


class Codebook:
    """Strings seen so far in a link, per column, by place; and what was made of them.

    Examples
    --------
    >>> book = Codebook()
    >>> at = book.places("raw", pa.array(["y", "x", None, "Y"]))
    >>> codes = book.raw_codes("raw", "upper", pc.utf8_upper)
    >>> pc.take(codes, at).to_pylist()
    [0, 1, None, 0]
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], pa.Array] = {}
        self._codes: dict[tuple[str, str], pa.Array] = {}
        self._last: dict[str, tuple[pa.Array, pa.Array]] = {}

    def places(self, column: str, entries: pa.Array) -> pa.Array:
        """Each of ``entries``' place among ``column``'s raw strings seen in the link.

        Strings first seen now are added after the others (null entries have no
        place), so a raw string keeps its place for the link: what
        :meth:`raw_codes` is indexed by. ``entries`` equal to the column's last
        take its places again, not looked up: batches of a row group read as a
        dictionary share the file's.
        """
        last = self._last.get(column)
        if last is not None and last[0].equals(entries):
            return last[1]
        at = self._places(("raw", column), entries)
        self._last[column] = (entries, at)
        return at

    def raw_codes(
        self, column: str, what: str, fn: Callable[[pa.Array], pa.Array]
    ) -> pa.Array:
        """The code of ``fn`` of each of ``column``'s raw strings, by :meth:`places`.

        ``fn`` must be element-wise (a column's normalisation); ``what`` names it.
        It is computed, and its results coded, only for raw strings placed since
        the last call: once a string for the link, not once a batch. Codes are
        shared by every column under one ``what`` (the first and last names'
        normal forms, one code a name): equal exactly where ``fn``'s strings are,
        missing where they are.
        """
        known = self._seen.get(("raw", column), _NONE)
        codes = self._codes.get((column, what))
        done = 0 if codes is None else len(codes)
        if codes is None or done < len(known):
            made = fn(known.slice(done))
            new = self._places(("code", what), made).cast(CODE)
            codes = new if codes is None else pa.concat_arrays([codes, new])
            self._codes[(column, what)] = codes
        return codes

    def _places(self, key: tuple[str, str], entries: pa.Array) -> pa.Array:
        """Each entry's place among the strings seen under ``key``.

        A null entry has none; the strings first seen now are added after the
        others (each distinct one once, in the order they first come), so a
        string keeps its place for the link. The strings seen are looked up in a
        hash table of the entries' distinct values, not one of theirs: a batch
        has far fewer than the link (building Arrow's table of every string seen
        again for each batch cost three times as much).
        """
        encoded = pc.dictionary_encode(entries.cast(pa.large_string()))
        distinct = encoded.dictionary
        known = self._seen.get(key, _NONE)
        found = pc.index_in(known, value_set=distinct)
        held = np.asarray(found.is_valid().to_numpy(zero_copy_only=False), bool)
        place = np.full(len(distinct), -1, np.int64)
        place[pc.filter(found, held).to_numpy()] = np.flatnonzero(held)
        new = place < 0
        if new.any():
            place[new] = len(known) + np.arange(np.count_nonzero(new))
            self._seen[key] = pa.concat_arrays([known, distinct.filter(new)])
        return pc.take(pa.array(place), encoded.indices)
