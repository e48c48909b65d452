"""A source's rows being corrupted, with the truth the errors may consult."""

from __future__ import annotations

import numpy as np

from simulator.schema.agencies import ErrorMultiplier
from simulator.world.agencies.base import PopulationChunk
from simulator.world.records import Column, Rows, Strings, repeated_rows


class SourceRows:
    """A source's rows being corrupted, with the truth it may consult.

    ``rows`` are not changed: a column is copied the first time it is written
    (copy on write), so columns no error touches are never copied.
    """

    def __init__(
        self,
        rows: Rows,
        chunk: PopulationChunk,
        source: str,
        streams_prefix: tuple[str, ...],
    ):
        self.rows, self.chunk, self.source = rows, chunk, source
        self.streams_prefix = streams_prefix
        self.h_pos = chunk.household_positions(rows["true_household_id"])
        """Each row's household position in the chunk."""
        self.p_pos = chunk.person_positions(rows["true_person_id"])
        """Each row's (true) person position in the chunk."""
        self.counts = chunk.counts(rows["true_household_id"])
        """Rows per block."""
        self.rows = Rows(rows.columns)  # columns shared until written
        self._owned: set[str] = set()

    def own(self, column: str) -> Column:
        """``column``, copied first if still shared with the rows given."""
        if column not in self._owned:
            self.rows[column] = self.rows[column].copy()
            self._owned.add(column)
        return self.rows[column]

    def repeat(self, times: np.ndarray) -> None:
        """Keep each row ``times`` times in a row (still sorted by household)."""
        added = np.repeat(self.rows["true_household_id"], times - 1)
        rows = repeated_rows(times)  # Rows.repeat's, for the positions too
        self.rows = self.rows.take(rows)
        self._owned = set(self.rows.columns)  # every column is a new array
        self.h_pos = self.h_pos[rows]
        self.p_pos = self.p_pos[rows]
        self.counts = self.counts + self.chunk.counts(added)  # rows added per block

    def uniforms(self, name: str, k: int = 1) -> np.ndarray:
        """``k`` uniforms per row from stream ``name``: shape (n,) or (n, k)."""
        s = self.chunk.streams(*self.streams_prefix, name)
        if k == 1:
            return s.random(self.counts)
        out = np.empty((k, len(self.rows)))
        for column in out:  # the stream's k draws one after another, as columns
            s.random(self.counts, out=column)
        return out.T

    def other_member(self, u: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Row in ``people`` of another member of the household of each of ``rows``.

        ``u``: one uniform per row of ``rows``. Worked out at those rows only.
        """
        h_pos = self.h_pos[rows]
        s = self.chunk.household_start[h_pos]
        z = self.chunk.household_size[h_pos]
        own = self.p_pos[rows] - s
        return s + (own + 1 + np.floor(u * np.maximum(z - 1, 1)).astype(np.int64)) % z

    def strings(self, column: str, rows: np.ndarray) -> np.ndarray:
        """Current values of ``column`` at ``rows`` as a str array ('' for missing)."""
        return self.rows[column].values(rows)

    def hit_rows(self, hit: np.ndarray, *columns: str) -> np.ndarray:
        """The rows ``hit`` selects where every one of ``columns`` holds a value.

        ``np.flatnonzero(hit & ...)`` of each column's values, read at the hit rows
        only (an error hits a few rows in a hundred).
        """
        return self.present_rows(np.flatnonzero(hit), *columns)

    def present_rows(self, rows: np.ndarray, *columns: str) -> np.ndarray:
        """Those of ``rows`` where every one of ``columns`` holds a value."""
        for column in columns:
            col = self.rows[column]
            if isinstance(col, Strings):
                rows = rows[col.codes[rows] >= 0]
            else:
                rows = rows[~np.isnat(col[rows])]
        return rows

    def set_strings(
        self, column: str, rows: np.ndarray, new: np.ndarray | None
    ) -> None:
        """Set ``column`` at ``rows`` to strings ``new`` (None: missing)."""
        self.own(column).set(rows, new)

    def set_codes(self, column: str, rows: np.ndarray, codes: np.ndarray) -> None:
        """Set ``column`` at ``rows`` to values of the chunk's coded identity column."""
        col, truth = self.own(column), self.chunk.identity(column)
        if col.base is truth.base:
            col.codes[rows] = codes
        else:  # a column not coded against the chunk's pool: copy the strings
            new = Strings(codes, truth.base, truth.extra)
            ok = new.present()
            col.set(rows[ok], new.values(np.flatnonzero(ok)))
            col.set(rows[~ok], None)

    def rates(
        self, error: str, base: float, multipliers: tuple[ErrorMultiplier, ...]
    ) -> np.ndarray:
        """Each row's rate for ``error``: base times group multipliers, capped at 1.

        One rate for every row (a 0-d array) when no multiplier applies.
        """
        applies = [
            m
            for m in multipliers
            if not (m.errors and error not in m.errors)
            and not (m.sources and self.source not in m.sources)
        ]
        if not applies:
            return np.minimum(np.asarray(float(base)), 1.0)
        return self._household_rates(float(base), tuple(applies))[self.h_pos]

    def _household_rates(
        self, base: float, applies: tuple[ErrorMultiplier, ...]
    ) -> np.ndarray:
        """Each household's capped rate for ``base`` and the multipliers ``applies``.

        The same for every source and error with that base and those multipliers
        (several share them), so worked out once a chunk.
        """
        key = (
            "error_rates",
            base,
            tuple((m.column, m.value, m.factor) for m in applies),
        )

        def make() -> np.ndarray:
            rate = np.full(len(self.chunk.households), base)
            for m in applies:
                rate = np.where(
                    self.chunk.in_group(m.column, m.value), rate * m.factor, rate
                )
            return np.minimum(rate, 1.0)

        return self.chunk.cached(key, make)
