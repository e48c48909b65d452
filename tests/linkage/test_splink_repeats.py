"""Splink's links repeat bit for bit, whatever DuckDB's thread count.

Before the EM tables were stored sorted (``ORDERED_SPLINK_TABLES`` in
simulator/council/linkage/backend.py), one and two threads trained m probabilities
differing in the last bit on these data, and so match probabilities (2,000 and 8,000
households, seed 42: 16 of 118,562 differed at 20,000).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from simulator.council.linkage import link
from simulator.council.linkage.backend import LinkageDB
from simulator.schema.linkage import LinkageConfig


def links_with_threads(data, threads: int):
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    return link(
        data.sources, data.spine, LinkageConfig(method="splink"), 7, connection=con
    )


@pytest.mark.parametrize("threads", [1, 2])
def test_splink_links_repeat_bit_for_bit_on_any_thread_count(
    messy_data, links_of, threads
):
    default = links_of(messy_data, "splink")  # DuckDB's own thread count
    again = links_with_threads(messy_data, threads)
    assert list(again.dtypes) == list(default.dtypes)
    for column in default.columns:
        a, b = default[column].to_numpy(), again[column].to_numpy()
        if a.dtype.kind == "f":  # bits, so -0.0 and NaN payloads count too
            a, b = a.view(np.int64), b.view(np.int64)
            assert np.array_equal(a, b), column
        else:
            assert default[column].equals(again[column]), column


def test_the_splink_api_sorts_only_the_tables_it_sums_over():
    api = LinkageDB().splink_api()
    sorted_sql = api._setup_for_execute_sql("SELECT 1 AS x", "__splink__m_u_counts_1")
    plain_sql = api._setup_for_execute_sql("SELECT 1 AS x", "__splink__df_predict_1")
    assert "ORDER BY ALL" in sorted_sql
    assert "ORDER BY ALL" not in plain_sql
