"""Integer codes for strings, kept across the batches of one linkage from files.

Linking from files normalises records and spine rows a batch at a time; a key then
joins the records' columns to the spine's in DuckDB. Joined as strings, every key
hashes and compares every row's characters. A :class:`Codebook` gives each distinct
string of a column one integer for the whole link (records and spine alike), so the
match files hold integers and the keys join integers, as the in-memory path's
:func:`~simulator.council.linkage.deterministic.shared_codes` does: equal strings,
equal codes; a missing string stays missing. Which code a string gets follows the
order batches come in, and nothing but equality is read from it.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

CODE = pa.int32()
"""The codes' type: a column has far fewer than 2**31 distinct values."""


class Codebook:
    """One dictionary per column name: its distinct strings so far, by code.

    Examples
    --------
    >>> book = Codebook()
    >>> book.codes("k", pa.array(["b", "a", None, "b"]).dictionary_encode()).to_pylist()
    [0, 1, None, 0]
    >>> book.codes("k", pa.array(["a", "c"]).dictionary_encode()).to_pylist()
    [1, 2]
    """

    def __init__(self) -> None:
        self._known: dict[str, pa.Array] = {}

    def codes(self, column: str, values: pa.DictionaryArray) -> pa.Array:
        """Each row's code of ``values`` (dictionary-encoded strings) in ``column``.

        Only the dictionary's entries are looked up (once each), then the rows
        take theirs; entries not seen before get the next codes.
        """
        entries = self._entries(column, values.dictionary).cast(CODE)
        return pc.take(entries, values.indices)

    def chunked(self, column: str, values: pa.ChunkedArray) -> pa.ChunkedArray:
        """:meth:`codes` of each chunk of dictionary-encoded strings."""
        return pa.chunked_array(
            [self.codes(column, chunk) for chunk in values.chunks], CODE
        )

    def _entries(self, column: str, entries: pa.Array) -> pa.Array:
        """The code of each of a dictionary's ``entries`` (null for a null entry).

        Entries not seen before are added (each distinct one once) after those
        seen, so a string keeps its code for the rest of the link.
        """
        strings = entries.cast(pa.large_string())
        known = self._known.get(column, pa.array([], pa.large_string()))
        found = pc.index_in(strings, value_set=known)
        unseen = pc.and_(pc.is_null(found), pc.is_valid(strings))
        if not pc.any(unseen).as_py():
            return found
        added = pc.unique(pc.filter(strings, unseen))
        self._known[column] = pa.concat_arrays([known, added])
        later = pc.index_in(strings, value_set=added).cast(pa.int64())
        return pc.coalesce(
            found.cast(pa.int64()), pc.add(later, pa.scalar(len(known), pa.int64()))
        )
