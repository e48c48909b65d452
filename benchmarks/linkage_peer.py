"""Peer of the deterministic cascade: the same match keys as pandas merges.

What an analyst would write without a database: for each key in order, group the
spine by the key's columns, merge the pending records on them, keep records matching
exactly one spine person, and drop them from the pending records. It gets the same
normalised match columns (``simulator.council.linkage.links.prepare``, timed in both)
and
must find exactly the same links as ``simulator.council.linkage.link``; the benchmark
checks
that before reporting the times.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from benchmarks import peak_rss_bytes


def pandas_cascade(records: pd.DataFrame, spine: pd.DataFrame, keys) -> pd.DataFrame:
    """``rid``, ``spine_person_id`` and ``match_key`` of each record linked."""
    pending = records
    found = []
    for key in keys:  # sixteen match keys, not rows
        cols = list(key.columns)
        side = spine.dropna(subset=cols)
        agg = side.groupby(cols, observed=True, sort=False).agg(
            n=("spine_person_id", "size"), spine_person_id=("spine_person_id", "min")
        )
        hits = pending.dropna(subset=cols).merge(
            agg.reset_index(), on=cols, how="inner"
        )
        hits = hits[hits["n"] == 1]
        found.append(hits[["rid", "spine_person_id"]].assign(match_key=key.name))
        pending = pending[~pending["rid"].isin(hits["rid"])]
    return pd.concat(found, ignore_index=True).sort_values("rid", ignore_index=True)


def run(households: int) -> dict:
    """Time the pandas cascade and linkaudit's DuckDB cascade on the same dataset.

    ``linkaudit_s`` is all of ``link()``; ``pandas_s`` is the same normalisation
    (``prepare_s``) plus the pandas cascade; the ``*_cascade_s`` figures compare the
    two cascades alone on the same prepared tables.
    """
    from benchmarks.linkage import dataset
    from simulator.council.linkage import LinkageConfig, LinkageDB, link
    from simulator.council.linkage.deterministic import link_deterministic
    from simulator.council.linkage.links import prepare
    from simulator.pipeline.output import read_dataset

    data = read_dataset(dataset(households))
    config = LinkageConfig(method="deterministic")
    n_records = sum(len(f) for f in data.sources.values())

    t0 = time.perf_counter()
    ours = link(data.sources, data.spine, config, seed=0)
    ours_s = time.perf_counter() - t0
    peak_ours = peak_rss_bytes()

    t0 = time.perf_counter()
    prepared = prepare(data.sources, data.spine, config.recipes())
    prepare_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours_cascade = link_deterministic(
        prepared,
        config.deterministic,
        LinkageDB(memory_limit=f"{config.memory_limit_gb:g}GB"),
    )
    ours_cascade_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    peer = pandas_cascade(prepared.records, prepared.spine, config.deterministic.keys)
    peer_cascade_s = time.perf_counter() - t0
    peer_s = prepare_s + peer_cascade_s
    peak_both = peak_rss_bytes()
    assert len(ours_cascade) == len(peer)

    linked = ours["spine_person_id"].notna().to_numpy()
    same = np.array_equal(
        ours.loc[linked, "spine_person_id"].to_numpy(np.int64),
        peer.set_index("rid")
        .reindex(np.flatnonzero(linked))["spine_person_id"]
        .to_numpy(np.int64, na_value=-1),
    ) and len(peer) == int(linked.sum())
    if not same:
        raise AssertionError("the pandas cascade found other links than linkaudit's")
    return {
        "households": households,
        "records": n_records,
        "linkaudit_s": ours_s,
        "pandas_s": peer_s,
        "pandas_vs_linkaudit": peer_s / ours_s,
        "prepare_s": prepare_s,
        "linkaudit_cascade_s": ours_cascade_s,
        "pandas_cascade_s": peer_cascade_s,
        "pandas_vs_linkaudit_cascade": peer_cascade_s / ours_cascade_s,
        "same_links": same,
        "peak_rss_linkaudit_bytes": peak_ours,
        "peak_rss_with_pandas_bytes": peak_both,
    }
