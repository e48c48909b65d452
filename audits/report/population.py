"""The population in sums: who lives in the simulated area, and their true needs.

The report's population section and chart show counts and shares of families, never
a family: :func:`population` sums the truth's households a batch at a time
(:meth:`audits.run_tables.RunTables.batches`), whole counts that add up exactly, so a
run in memory (one batch) and on disk (many) give the same numbers and bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from audits.report.curves import ordered_values
from audits.report.text import NEED_LABELS
from audits.run_tables import HOUSEHOLDS, PEOPLE, RunTables

GROUPS = ("imd_quintile", "ethnicity", "tenure", "lone_parent")
"""The groupings whose shares of families the population section tabulates."""
OUTCOMES = ("eligible", "harm")
"""The true outcomes shown beside the needs."""


@dataclass(frozen=True)
class Population:
    """Counts of the truth's families and people.

    Attributes
    ----------
    households, people : int
        How many families and people.
    totals : dict of str to int
        Families with each ``need_*`` and outcome column the truth has.
    counts : dict of str to dict of str to int
        For each of :data:`GROUPS` the truth has, families by value (as text).
    order : dict of str to list of str
        For each of those, the values present in their natural order
        (:func:`~audits.report.curves.ordered_values`).
    by_quintile : DataFrame
        By deprivation quintile (the index), the share of families with each
        ``need_*`` and outcome column.
    """

    households: int
    people: int
    totals: dict[str, int]
    counts: dict[str, dict[str, int]]
    order: dict[str, list[str]]
    by_quintile: pd.DataFrame

    def share(self, column: str) -> float:
        """The share of all families with ``column`` (NaN without families)."""
        n = self.households
        return self.totals[column] / n if n else float("nan")


def _quintile(frame: pd.DataFrame) -> pd.Series:
    if "imd_quintile" in frame:
        return frame["imd_quintile"]
    return (frame["imd_decile"].astype(int) + 1) // 2


def population(tables: RunTables) -> Population:
    """Sum the truth's households (and count its people), a batch at a time."""
    present = set(tables.columns(HOUSEHOLDS))
    needs = [f"need_{n}" for n in NEED_LABELS if f"need_{n}" in present]
    flags = needs + [c for c in OUTCOMES if c in present]
    groups = [c for c in GROUPS if c in present]
    quintile = ["imd_quintile"] if "imd_quintile" in present else ["imd_decile"]
    columns = list(dict.fromkeys([*groups, *flags, *quintile]))
    n = 0
    totals = dict.fromkeys(flags, 0)
    counts: dict[str, dict[str, int]] = {c: {} for c in groups}
    seen: dict[str, list[pd.Series]] = {c: [] for c in groups}
    sums, sizes = [], []
    for batch in tables.batches(HOUSEHOLDS, columns):  # one, or a file's slices
        n += len(batch)
        for c in flags:
            totals[c] += int(batch[c].sum())
        for c in groups:
            by_value = batch[c].value_counts(sort=False)
            for value, k in by_value.items():  # a handful of values
                counts[c][str(value)] = counts[c].get(str(value), 0) + int(k)
            seen[c].append(by_value.index[by_value.to_numpy() > 0].to_series())
        values = batch[flags].astype(float).groupby(_quintile(batch).to_numpy())
        sums.append(values.sum())
        sizes.append(values.count())
    by_quintile = (
        pd.concat(sums).groupby(level=0).sum() / pd.concat(sizes).groupby(level=0).sum()
    )
    return Population(
        households=n,
        people=tables.n_rows(PEOPLE),
        totals=totals,
        counts=counts,
        order={c: ordered_values(pd.concat(seen[c])) for c in groups},
        by_quintile=by_quintile,
    )
