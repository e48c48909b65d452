"""A run's tables read from memory and from Parquet files give the same frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.run_tables import FileTables, FrameTables
from simulator.io import write_parquet

ids = st.integers(0, 30)
frames = st.integers(0, 40).flatmap(
    lambda n: st.fixed_dictionaries(
        {
            "household_id": st.lists(ids, min_size=n, max_size=n),
            "person_id": st.lists(ids, min_size=n, max_size=n),
            "name": st.lists(
                st.sampled_from(["ada", "bo", "cy", ""]), min_size=n, max_size=n
            ),
            "score": st.lists(st.floats(0, 1, allow_nan=False), min_size=n, max_size=n),
            "flagged": st.lists(st.booleans(), min_size=n, max_size=n),
        }
    )
)
wanted = st.lists(st.one_of(ids.map(float), st.just(np.nan)), max_size=6)


@settings(max_examples=40, deadline=None)
@given(
    columns=frames,
    households=wanted,
    people=wanted,
    some=st.booleans(),
    size=st.integers(1, 7),
)
def test_files_give_the_frames_rows(
    columns, households, people, some, size, tmp_path_factory
):
    """rows() and batches() of a file equal those of the frame it was written from:
    the same rows in order, numbered from 0, whatever the ids asked (missing, absent,
    as floats) and the columns kept; batches sum to the whole."""
    import audits.run_tables as run_tables

    frame = pd.DataFrame(columns).astype(
        {"household_id": "int64", "person_id": "int64"}
    )
    frame = frame.astype({"score": "float64", "flagged": "bool", "name": "str"})
    directory = tmp_path_factory.mktemp("tables")
    write_parquet(frame, directory / "t.parquet")
    memory = FrameTables({"t": frame}, ())
    files = FileTables(directory, {"t": "t.parquet"}, ())
    where = {"household_id": np.array(households), "person_id": pd.Series(people)}
    keep = ["name", "score"] if some else None
    pd.testing.assert_frame_equal(
        files.rows("t", where, keep), memory.rows("t", where, keep)
    )
    assert files.columns("t") == memory.columns("t")
    assert files.n_rows("t") == memory.n_rows("t") == len(frame)
    run_tables.BATCH_ROWS, before = size, run_tables.BATCH_ROWS
    try:
        parts = list(files.batches("t", ["score", "flagged"]))
    finally:
        run_tables.BATCH_ROWS = before
    assert len(parts) == max(1, -(-len(frame) // size))
    whole = pd.concat(parts, ignore_index=True)
    pd.testing.assert_frame_equal(whole, frame[["score", "flagged"]])
