"""The attribution ladder over a run's replicate worlds: cause counts pooled.

Each replicate world gets its own ladder (:func:`audits.attribution.attribute` of its
rungs, same seeds as that world), so each world says why its own families were
wrongly flagged or missed. The counts of the worlds are pooled as the mean count per
world, with the smallest and largest world beside it (the spread between worlds): a
reader sees how many families a council of this size would typically see wrongly
flagged for each cause, and how far one world's draw can stray from that. A cause or
group absent from a world's table counts 0 there (no family had that error).

Every world's own counts are kept, with a ``replicate`` column (0 is the scenario's
seed), in ``counts_by_world`` and ``by_rung_by_world``. The family-by-family table
(``households``) is the first world's only: the case files are drawn from it, and the
first world is the one whose records the run writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from audits.attribution import Attribution
from simulator.errors import InputDataError

REPLICATE = "replicate"
"""The column naming a table's world (0 is the scenario's own seed)."""
WORLDS = "worlds"
"""The column holding how many worlds a pooled row's mean is over."""
COUNT_KEYS = ("group", "value", "error")
"""What identifies a row of ``Attribution.counts``."""
RUNG_KEYS = ("rung",)
"""What identifies a row of ``Attribution.flagged_by_rung``."""
LOW, HIGH = "_low", "_high"
"""Suffixes of the smallest and largest world's count beside each mean."""


@dataclass(frozen=True)
class PooledAttribution:
    """The causes of wrong flags and missed families, over every world laddered.

    Attributes
    ----------
    households : DataFrame
        The first world's families, as :class:`audits.attribution.Attribution`'s
        (the case files come from it).
    counts : DataFrame
        ``group``, ``value``, ``error``; the mean count per world of each cause and
        of ``total``; ``<cause>_low`` and ``<cause>_high`` (and ``total_low``,
        ``total_high``), the smallest and largest world's; ``worlds``.
    flagged_by_rung : DataFrame
        ``rung``; the mean per world of ``flagged``, ``false_positives`` and
        ``false_negatives``, each with its ``_low`` and ``_high``; ``worlds``.
    counts_by_world, by_rung_by_world : DataFrame
        Every world's own ``counts`` and ``flagged_by_rung``, with ``replicate``
        first.
    """

    households: pd.DataFrame
    counts: pd.DataFrame
    flagged_by_rung: pd.DataFrame
    counts_by_world: pd.DataFrame
    by_rung_by_world: pd.DataFrame

    @property
    def worlds(self) -> int:
        """How many worlds the counts pool."""
        return int(self.counts_by_world[REPLICATE].nunique())


def by_world(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The worlds' tables one under the other, ``replicate`` (0, 1, ...) first.

    Examples
    --------
    >>> t = pd.DataFrame({"rung": ["model"], "flagged": [3]})
    >>> by_world([t, t.assign(flagged=5)]).values.tolist()
    [[0, 'model', 3], [1, 'model', 5]]
    """
    if not tables:
        raise InputDataError("attribution needs at least one world's ladder")
    return pd.concat(
        [t.assign(**{REPLICATE: r}) for r, t in enumerate(tables)], ignore_index=True
    )[[REPLICATE, *tables[0].columns]]


def pool_counts(stacked: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Every count column's mean per world, with the smallest and largest world.

    Parameters
    ----------
    stacked : DataFrame
        :func:`by_world`'s table: ``replicate``, ``keys``, then count columns.
    keys : sequence of str
        The columns identifying a row within one world.

    Returns
    -------
    DataFrame
        One row per key (in order of first appearance): ``keys``, each count's
        mean (float), then each count's ``_low`` and ``_high``, then ``worlds``.
        A key missing from a world counts 0 there.

    Examples
    --------
    >>> t = pd.DataFrame({"replicate": [0, 0, 1], "rung": ["a", "b", "a"],
    ...                   "flagged": [2, 1, 4]})
    >>> pool_counts(t, ["rung"]).values.tolist()
    [['a', 3.0, 2, 4, 2], ['b', 0.5, 0, 1, 2]]
    """
    keys = list(keys)
    values = [c for c in stacked.columns if c not in (REPLICATE, *keys)]
    replicates = pd.DataFrame({REPLICATE: pd.unique(stacked[REPLICATE])})
    rows = stacked[keys].drop_duplicates()
    every = pd.MultiIndex.from_frame(replicates.merge(rows, how="cross"))
    full = stacked.set_index([REPLICATE, *keys])[values].reindex(every, fill_value=0)
    grouped = full.groupby(level=keys, sort=False)
    mean = grouped.mean().astype(float)
    low, high = grouped.min(), grouped.max()
    spread = pd.concat([low.add_suffix(LOW), high.add_suffix(HIGH)], axis=1)[
        [f"{c}{s}" for c in values for s in (LOW, HIGH)]
    ]
    out = pd.concat([mean, spread], axis=1).reset_index()
    out[WORLDS] = len(replicates)
    return out


def pool_attribution(worlds: Sequence[Attribution]) -> PooledAttribution:
    """Pool the ladders of a run's worlds (the first is the scenario's own seed).

    One world pools to itself: its means are its counts, and low equals high.

    Parameters
    ----------
    worlds : sequence of Attribution
        Each world's attribution, replicate 0 first.

    Returns
    -------
    PooledAttribution
    """
    counts = by_world([w.counts for w in worlds])
    rungs = by_world([w.flagged_by_rung for w in worlds])
    return PooledAttribution(
        households=worlds[0].households,
        counts=pool_counts(counts, COUNT_KEYS),
        flagged_by_rung=pool_counts(rungs, RUNG_KEYS),
        counts_by_world=counts,
        by_rung_by_world=rungs,
    )
