"""Link quality pooled over a run's replicate worlds, and the range between them.

A run with ``audit.replicates`` above 1 pools every audit figure over its worlds
(:mod:`audits.replicates`): counts summed, rates of the sums. The links are pooled
by the same rule, so the report's linkage section and the console line of
``linkaudit run`` describe every world the audit pooled rather than the first one;
the spread of each rate between the worlds says how much one world's figure could
have differed. The ``linkage/`` files stay the first world's (the per-record tables
are not pooled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from audits.link_quality import METRIC_COLUMNS, LinkQuality, with_rates

COUNT_COLUMNS = [c for c in METRIC_COLUMNS if c.startswith("n_")]
"""The link counts summed over worlds."""
RATE_COLUMNS = ["precision", "recall", "f1", "subject_precision"]
"""The rates recomputed from the summed counts (and ranged over the worlds)."""


def tables_only(quality: LinkQuality) -> LinkQuality:
    """``quality`` without its per-record tables (``records``, ``errors`` empty).

    What a replicate world sends back for pooling: the summary tables are a few
    rows, the per-record ones as long as the world's records and never pooled.
    """
    return replace(
        quality, records=quality.records.iloc[:0], errors=quality.errors.iloc[:0]
    )


def _summed(frames: Sequence[pd.DataFrame], keys: Sequence[str]) -> pd.DataFrame:
    """Link counts summed over worlds by ``keys`` (in first appearance), rates anew.

    Each world's subject-precision numerator is recovered from its rate (the
    tables keep the rate, not the count; the product of an integer ratio and its
    denominator rounds back to the integer exactly).
    """
    both = pd.concat(frames)
    subject = (both["subject_precision"].fillna(0.0) * both["n_linked"]).round()
    both = both.assign(n_subject=subject.astype(np.int64))
    columns = [*COUNT_COLUMNS, "n_subject"]
    if keys:
        grouped = both.groupby(list(keys), sort=False, observed=True, dropna=False)
        counts = grouped[columns].sum()
    else:
        counts = both[columns].sum().to_frame().T.astype(np.int64)
    return with_rates(counts)


def pool_quality(worlds: Sequence[LinkQuality]) -> LinkQuality:
    """Link quality pooled over replicate worlds: counts summed, rates of the sums.

    Every count of ``overall``, ``by_source``, ``by_group`` and ``causes`` is
    summed over the worlds, and precision, recall, F1 and subject precision are
    those of the sums, so the pooled figures equal one measurement of every
    world's records together. The per-record tables (``records``, ``errors``)
    stay the first world's.

    Parameters
    ----------
    worlds : sequence of LinkQuality
        World 0 first.

    Returns
    -------
    LinkQuality
        ``worlds[0]`` itself when there is one world.
    """
    if len(worlds) == 1:
        return worlds[0]
    by_source = _summed([w.by_source for w in worlds], [worlds[0].by_source.index.name])
    by_group = _summed([w.by_group for w in worlds], ["group", "value"])
    causes = pd.concat([w.causes for w in worlds])
    keys = [c for c in causes.columns if not c.startswith("n_")]
    return replace(
        worlds[0],
        overall=_summed([w.overall for w in worlds], []),
        by_source=by_source,
        by_group=by_group.reset_index(),
        causes=causes.groupby(keys, sort=False).sum().reset_index(),
    )


def rate_range(worlds: Sequence[LinkQuality]) -> pd.DataFrame:
    """The smallest and largest overall rate of any one world.

    Parameters
    ----------
    worlds : sequence of LinkQuality
        One or more worlds.

    Returns
    -------
    DataFrame
        Indexed by :data:`RATE_COLUMNS`, columns ``min`` and ``max`` (equal with
        one world; NaN worlds ignored).
    """
    rates = pd.concat([w.overall[RATE_COLUMNS] for w in worlds], ignore_index=True)
    return pd.DataFrame({"min": rates.min(), "max": rates.max()})
