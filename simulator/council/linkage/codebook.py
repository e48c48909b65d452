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

    def places(self, column: str, entries: pa.Array) -> pa.Array:
        """Each of ``entries``' place among ``column``'s raw strings seen in the link.

        Strings first seen now are added after the others (null entries have no
        place), so a raw string keeps its place for the link: what
        :meth:`raw_codes` is indexed by.
        """
        return self._places(("raw", column), entries)

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
        others (each distinct one once), so a string keeps its place for the link.
        """
        strings = entries.cast(pa.large_string())
        known = self._seen.get(key, _NONE)
        found = pc.index_in(strings, value_set=known).cast(pa.int64())
        unseen = pc.and_(pc.is_null(found), pc.is_valid(strings))
        if not pc.any(unseen).as_py():
            return found
        added = pc.unique(pc.filter(strings, unseen))
        self._seen[key] = pa.concat_arrays([known, added])
        later = pc.index_in(strings, value_set=added).cast(pa.int64())
        return pc.coalesce(found, pc.add(later, len(known)))
