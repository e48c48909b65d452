"""Generation does not depend on how it is split into chunks, down to the bytes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from simtools import build_scenario

from simulator import io
from simulator.rng import BLOCK_SIZE
from simulator.world.generate import dataset_files, generate, write_dataset


def test_output_is_the_same_whatever_the_chunk_size(seed, tmp_path, monkeypatch):
    # Small row groups, so that files are written a row group at a time.
    monkeypatch.setattr(io, "ROW_GROUP_ROWS", 4_000)
    n = 2 * BLOCK_SIZE + 700  # the last block partial
    one = generate(build_scenario(n, seed, chunk_size=BLOCK_SIZE))
    two = generate(build_scenario(n, seed, chunk_size=2 * BLOCK_SIZE))
    files_one, files_two = dataset_files(one), dataset_files(two)
    assert files_one.keys() == files_two.keys()
    for rel, frame in files_one.items():
        pd.testing.assert_frame_equal(frame, files_two[rel], obj=rel)
    write_dataset(one, tmp_path / "one")
    write_dataset(two, tmp_path / "two")
    for rel in files_one:
        a = (tmp_path / "one" / rel).read_bytes()
        b = (tmp_path / "two" / rel).read_bytes()
        assert a == b, f"{rel}: bytes differ with the chunk size"


def test_writing_a_row_group_at_a_time_gives_the_same_file(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "ROW_GROUP_ROWS", 1_000)
    words = pa.chunked_array(
        [pa.array([f"w{i}" if i % 7 else None for i in range(k)]) for k in (700, 1900)]
    )
    frame = pd.DataFrame(
        {"n": np.arange(2600), "s": pd.array(words, dtype="str")}, copy=False
    )
    io.write_parquet(frame, tmp_path / "a.parquet")
    table = pa.Table.from_pandas(frame, preserve_index=False).combine_chunks()
    pq.write_table(
        table, tmp_path / "b.parquet", compression="zstd", row_group_size=1_000
    )
    a, b = (tmp_path / "a.parquet").read_bytes(), (tmp_path / "b.parquet").read_bytes()
    assert pq.ParquetFile(tmp_path / "a.parquet").metadata.num_row_groups == 3
    assert a == b
