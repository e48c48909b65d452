"""Generation does not depend on how it is split into chunks, down to the bytes."""

from __future__ import annotations

import pandas as pd
from simtools import build_scenario

from simulator.generate import dataset_files, generate, write_dataset
from simulator.rng import BLOCK_SIZE


def test_output_is_the_same_whatever_the_chunk_size(seed, tmp_path):
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
