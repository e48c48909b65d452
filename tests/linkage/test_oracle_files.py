"""The oracle's links from files (DuckDB, bounded memory) are the in-memory bytes.

:func:`write_oracle_links` must write exactly ``write_parquet(oracle_links(...))``
of the same files read whole, whatever the rows written at a time, the Parquet row
groups and DuckDB's memory limit: for generated worlds (lean ones too, which hold
no identity columns) and for small made-up ones with the edge cases (records of
people not on the spine, people on it twice, repeated and negative record ids,
large ids, empty sources, no sources).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from linktools import scenario

from simulator import io
from simulator.errors import InputDataError
from simulator.rng import BLOCK_SIZE
from simulator.world.generate import generate
from simulator.world.true_links import oracle_links, write_oracle_links


def _same_bytes(
    sources: dict[str, pd.DataFrame],
    spine: pd.DataFrame,
    out: Path,
    rows: int,
    memory_limit_gb: float | None,
) -> None:
    """Files of ``sources`` and ``spine``, linked both ways, give equal bytes."""
    files = {name: out / f"{name}.parquet" for name in sources}
    for name, frame in sources.items():
        io.write_parquet(frame, files[name])
    io.write_parquet(spine, out / "spine.parquet")
    read = {name: io.read_parquet(path) for name, path in files.items()}
    io.write_parquet(
        oracle_links(read, io.read_parquet(out / "spine.parquet")),
        out / "memory.parquet",
    )
    n = write_oracle_links(
        files,
        out / "spine.parquet",
        out / "disk.parquet",
        out / "work",
        memory_limit_gb=memory_limit_gb,
        rows=rows,
    )
    assert not (out / "work").exists()
    assert n == sum(len(f) for f in sources.values())
    memory = (out / "memory.parquet").read_bytes()
    assert (out / "disk.parquet").read_bytes() == memory


@settings(max_examples=4, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    blocks_per_chunk=st.integers(1, 2),
    lean=st.booleans(),
    rows=st.sampled_from([700, 4_096, 1 << 17]),
    row_group_rows=st.sampled_from([3_000, 1024 * 1024]),
    memory_limit_gb=st.sampled_from([None, 0.25]),
)
def test_generated_worlds_link_to_the_in_memory_bytes(
    tmp_path_factory,
    seed,
    blocks_per_chunk,
    lean,
    rows,
    row_group_rows,
    memory_limit_gb,
):
    s = scenario(
        BLOCK_SIZE + 700,
        seed,
        generation={"chunk_size": blocks_per_chunk * BLOCK_SIZE},
    )
    data = generate(s, lean=lean)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(io, "ROW_GROUP_ROWS", row_group_rows)
        _same_bytes(
            dict(data.sources),
            data.spine,
            tmp_path_factory.mktemp("oracle"),
            rows,
            memory_limit_gb,
        )


@st.composite
def worlds(draw) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Records and a spine of ids only, with every edge case the oracle meets."""
    n_people = draw(st.integers(1, 40))
    base = draw(st.sampled_from([0, -20, 10**12]))  # direct tables, or hash indexes
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_spine = draw(st.integers(0, 50))
    on_spine = rng.integers(0, n_people, n_spine)  # some twice, some never
    spine = pd.DataFrame(
        {
            "spine_person_id": base + rng.permutation(3 * n_spine)[:n_spine],
            "spine_household_id": rng.integers(0, 9, n_spine),
            "true_person_id": base + on_spine,
        }
    )
    names = draw(st.lists(st.sampled_from(["b", "a", "police", "Z", "é"]), unique=True))
    sources = {}
    for name in names:
        n = draw(st.integers(0, 30))
        ids = rng.integers(-3, 12, n) if draw(st.booleans()) else rng.permutation(n)
        sources[name] = pd.DataFrame(
            {
                "record_id": ids,  # repeated ids keep their rows' order
                "true_person_id": base + rng.integers(0, n_people + 5, n),
                "first_name": pd.Series(["x"] * n, dtype="string"),  # not read
            }
        )
    return sources, spine


@settings(max_examples=60, deadline=None)
@given(
    world=worlds(),
    rows=st.sampled_from([1, 7, 1 << 17]),
    row_group_rows=st.sampled_from([5, 1024 * 1024]),
)
def test_edge_cases_link_to_the_in_memory_bytes(
    tmp_path_factory, world, rows, row_group_rows
):
    sources, spine = world
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(io, "ROW_GROUP_ROWS", row_group_rows)
        _same_bytes(sources, spine, tmp_path_factory.mktemp("oracle"), rows, None)


def test_missing_truth_and_repeated_spine_ids_are_named(tmp_path):
    io.write_parquet(pd.DataFrame({"record_id": [0, 1]}), tmp_path / "h.parquet")
    io.write_parquet(
        pd.DataFrame({"record_id": [0], "true_person_id": pd.array([None], "Int64")}),
        tmp_path / "p.parquet",
    )
    io.write_parquet(
        pd.DataFrame(
            {
                "spine_person_id": [3, 3],
                "spine_household_id": [0, 0],
                "true_person_id": [1, 2],
            }
        ),
        tmp_path / "s.parquet",
    )
    with pytest.raises(InputDataError) as e:
        write_oracle_links(
            {"health": tmp_path / "h.parquet", "police": tmp_path / "p.parquet"},
            tmp_path / "s.parquet",
            tmp_path / "links.parquet",
            tmp_path / "work",
        )
    assert str(e.value).splitlines()[1:] == [
        "  health: missing column(s) true_person_id",
        "  police: true_person_id has missing values",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "h.parquet",
        "p.parquet",
        "s.parquet",
    ]
    io.write_parquet(
        pd.DataFrame({"record_id": [0], "true_person_id": [1]}), tmp_path / "h.parquet"
    )
    with pytest.raises(InputDataError, match="spine: spine_person_id is not unique"):
        write_oracle_links(
            {"health": tmp_path / "h.parquet"},
            tmp_path / "s.parquet",
            tmp_path / "links.parquet",
            tmp_path / "work",
        )
