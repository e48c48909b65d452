"""The view from files (:mod:`simulator.council.view_files`) is the in-memory view.

``write_view_file`` must write the bytes of ``write_parquet(build_view(...)
.reset_index())`` of the same data in memory, whatever the households per range, the
Parquet row groups and DuckDB's memory limit, and read no hidden truth column.
"""

from __future__ import annotations

import os
from dataclasses import replace
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from councilfiles import World, scenario, world
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from simulator import io
from simulator.council import view_files, view_partitions
from simulator.council.linkage.backend import LinkageDB, sql_text
from simulator.council.view_files import (
    _check_links,
    _links_tables,
    write_view_file,
)
from simulator.council.view_spine import HeldSpine
from simulator.errors import InputDataError
from simulator.vocabulary import AGENCIES, INDEX
from simulator.world import true_links
from simulator.world.true_links import write_oracle_view_file


def _view_bytes(
    w: World, out: Path, *, oracle: bool = False, **kwargs: object
) -> bytes:
    """The view written from the world's files: of its links file, or (``oracle``)
    of the truth, the oracle's links never written."""
    write = (
        write_oracle_view_file
        if oracle
        else partial(write_view_file, links_file=w.links_file)
    )
    path = out / ("oracle_view.parquet" if oracle else "view.parquet")
    rows = write(
        record_files=w.record_files,
        spine_file=w.spine_file,
        deprivation=w.deprivation,
        scenario=w.data.scenario,
        out=path,
        work_dir=out / "work",
        **kwargs,
    )
    assert not (out / "work").exists(), "the work directory is left behind"
    assert rows == pd.read_parquet(path).shape[0]
    return path.read_bytes()


def _memory_bytes(w: World, out: Path) -> bytes:
    io.write_parquet(w.view().reset_index(), out / "memory.parquet")
    return (out / "memory.parquet").read_bytes()


CUTS = st.sampled_from([None, 7, 1 << 20])
"""DuckDB's join (None), or tables of ids with a batch of so many rows."""


def _cut_by(
    patch: pytest.MonkeyPatch, cut: int | None, module: object, tables: str
) -> None:
    """The view cut into ranges by ``module``'s ``tables`` a batch of ``cut``
    records at a time, or (None) joined and sorted by DuckDB."""
    if cut is None:
        patch.setattr(module, tables, lambda *_: None)
    else:
        patch.setattr(view_partitions, "BATCH_ROWS", cut)


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_households=st.integers(10, 300),
    per_range=st.sampled_from([1, 2, 7, 64, 10**9]),
    row_group_rows=st.sampled_from([50, 333, 1024 * 1024]),
    memory_limit_gb=st.sampled_from([None, 0.25]),
    method=st.sampled_from(["deterministic", "oracle"]),
    off=st.sampled_from([(), ("police",), ("education",), ("education", "health")]),
    cut=CUTS,
)
def test_the_view_from_files_has_the_in_memory_bytes(
    tmp_path_factory,
    seed,
    n_households,
    per_range,
    row_group_rows,
    memory_limit_gb,
    method,
    off,
    cut,
):
    """By DuckDB's join and sort, or cut into ranges by tables of record ids (a
    batch of a few rows, or of many)."""
    out = tmp_path_factory.mktemp("view")
    s = scenario(
        n_households, seed, agencies={a: {"enabled": a not in off} for a in AGENCIES}
    )
    w = world(s, out, method)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(io, "ROW_GROUP_ROWS", row_group_rows)
        expected = _memory_bytes(w, out)
        _cut_by(patch, cut, view_files, "_links_tables")
        assert (
            _view_bytes(
                w,
                out,
                households_per_range=per_range,
                memory_limit_gb=memory_limit_gb,
            )
            == expected
        )


def test_every_range_gives_the_same_bytes(tmp_path, seed):
    """A larger world, ranges of several sizes (one, a few, all at once)."""
    w = world(scenario(1_500, seed), tmp_path, "deterministic")
    expected = _memory_bytes(w, tmp_path)
    for per_range in (97, 500, 1_500, 10**9):
        got = _view_bytes(w, tmp_path, households_per_range=per_range)
        assert got == expected, f"{per_range} households a range"


def test_no_truth_column_is_read(tmp_path, seed):
    """Files without any hidden column give the view of files with them."""
    s = scenario(400, seed)
    full = world(s, tmp_path / "full", "oracle")
    blind = world(s, tmp_path / "blind", "oracle", hidden=False)
    assert _view_bytes(blind, tmp_path / "blind", households_per_range=37) == (
        _view_bytes(full, tmp_path / "full", households_per_range=37)
    )


def test_a_view_without_deprivation(tmp_path, seed):
    w = world(scenario(200, seed), tmp_path, "oracle")
    got = write_view_file(
        w.record_files,
        w.spine_file,
        w.links_file,
        None,
        w.data.scenario,
        tmp_path / "view.parquet",
        tmp_path / "work",
        households_per_range=50,
    )
    view = pd.read_parquet(tmp_path / "view.parquet")
    assert got == len(view) and view["imd_unknown"].all()


def _rewrite_links(w: World, change) -> None:
    io.write_parquet(change(w.links.copy()), w.links_file)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda lk: lk.iloc[1:], "have no row"),
        (lambda lk: pd.concat([lk, lk.iloc[:1]]), "two rows or more"),
        (
            lambda lk: lk.assign(spine_household_id=lk["spine_household_id"] + 10**6),
            "not on the spine",
        ),
    ],
)
def test_bad_links_are_refused_as_in_memory(tmp_path, seed, change, message):
    w = world(scenario(200, seed), tmp_path, "oracle")
    _rewrite_links(w, change)
    bad = replace(w, links=change(w.links.copy()))
    with pytest.raises(InputDataError, match=message):
        bad.view()
    with pytest.raises(InputDataError, match=message):
        _view_bytes(w, tmp_path, households_per_range=30)
    assert not (tmp_path / "work").exists()


IDS = st.integers(0, 12)
SHIFTS = st.sampled_from([0, 0, 0, -3, 10**6])  # ids numbered from 0, or not


@settings(max_examples=300, deadline=None)
@given(
    records=st.dictionaries(
        st.sampled_from(["health", "police"]), st.lists(IDS, max_size=12), min_size=1
    ),
    drop=st.integers(0, 3),
    extra=st.lists(
        st.tuples(st.sampled_from(["health", "police", "x"]), st.integers(0, 14)),
        max_size=3,
    ),
    rows=st.integers(1, 9),
    shift=SHIFTS,
)
def test_the_links_check_by_id_tables_is_duckdbs(
    tmp_path_factory, records, drop, extra, rows, shift
):
    """Every record with exactly one links row, by tables of record ids read a
    batch at a time: never where DuckDB's queries find a record without a row or
    with two, and always where they do not and the ids are numbered from 0 (as
    generated); else DuckDB names the records. The tables give each record its
    links row's household (-1: none)."""
    out = tmp_path_factory.mktemp("links_check")
    records = {n: [i + shift for i in ids] for n, ids in records.items()}
    extra = [(n, i + shift) for n, i in extra]
    files = {}
    for name, ids in records.items():
        files[name] = out / f"{name}.parquet"
        table = pa.table({"record_id": pa.array(ids, pa.int64())})
        pq.write_table(table, files[name], row_group_size=rows)
    one_each = sorted({(n, i) for n, ids in records.items() for i in ids})
    links = one_each[drop:] + extra  # some records without a row, some rows more
    table = pa.table(
        {
            "source": pa.array([n for n, _ in links], pa.string()),
            "record_id": pa.array([i for _, i in links], pa.int64()),
            "spine_household_id": pa.array(
                [None if i % 5 == 1 else i % 3 for _, i in links], pa.int64()
            ),
        }
    )
    pq.write_table(table, out / "links.parquet", row_group_size=rows)
    db = LinkageDB(duckdb.connect())
    links_file = sql_text(out / "links.parquet")
    db.con.execute(f"CREATE VIEW lk AS SELECT * FROM read_parquet({links_file})")
    try:
        for name in sorted(files):
            _check_links(db, name, f"read_parquet({sql_text(files[name])})", "lk")
        passes = True
    except InputDataError:
        passes = False
    got = _links_tables(out / "links.parquet", files, sorted(files))
    if got is not None:
        assert passes, "a bad links table got through"
        for name, ids in records.items():
            wanted = [-1 if i % 5 == 1 else i % 3 for i in ids]
            assert got.of(name, np.array(ids, np.int64)).tolist() == wanted
    bound = {
        n: max(ids) + 1
        for n, ids in records.items()
        if ids and min(ids) >= 0 and max(ids) < 4 * len(ids)
    }
    dense = len(bound) == len(records) and all(
        0 <= i < bound[n] for n, i in links if n in bound
    )
    if passes and dense:
        assert got is not None, "ids as generated were sent to DuckDB"


def test_a_file_without_a_view_column_is_named(tmp_path, seed):
    w = world(scenario(50, seed), tmp_path, "oracle")
    io.write_parquet(w.data.spine.drop(columns="dob"), w.spine_file)
    with pytest.raises(InputDataError, match="spine: missing column"):
        _view_bytes(w, tmp_path, households_per_range=30)


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_households=st.integers(10, 300),
    per_range=st.sampled_from([1, 2, 7, 64, 10**9]),
    row_group_rows=st.sampled_from([50, 333, 1024 * 1024]),
    memory_limit_gb=st.sampled_from([None, 0.25]),
    spine_errors=st.sampled_from([0.0, 0.2]),
    off=st.sampled_from([(), ("police",), ("education",), ("education", "health")]),
    cut=CUTS,
)
def test_the_oracle_view_from_the_truth_has_the_in_memory_bytes(
    tmp_path_factory,
    seed,
    n_households,
    per_range,
    row_group_rows,
    memory_limit_gb,
    spine_errors,
    off,
    cut,
):
    """The truth's households joined in DuckDB: the view of the oracle's links.

    A spine with duplicates (``spine_errors``) puts people on it twice, and its
    coverage leaves some off it: their records link to the lowest
    ``spine_person_id``'s household, or to none. Joined in DuckDB, or cut into
    ranges by a table of true persons (``cut``).
    """
    out = tmp_path_factory.mktemp("oracle_view")
    spine = {"coverage": 0.9, "errors": {"duplicate": spine_errors}}
    agencies = {a: {"enabled": a not in off} for a in AGENCIES}
    s = scenario(n_households, seed, agencies={**agencies, "spine": spine})
    w = world(s, out, "oracle")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(io, "ROW_GROUP_ROWS", row_group_rows)
        expected = _memory_bytes(w, out)
        _cut_by(patch, cut, true_links, "_truth_tables")
        got = _view_bytes(
            w,
            out,
            oracle=True,
            households_per_range=per_range,
            memory_limit_gb=memory_limit_gb,
        )
    assert got == expected


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_households=st.integers(10, 300),
    per_range=st.sampled_from([1, 7, 64, 10**9]),
    oracle=st.booleans(),
)
def test_a_scratch_view_has_the_in_memory_values(
    tmp_path_factory, seed, n_households, per_range, oracle
):
    """A task's view (``scratch``): other bytes, a row group a range, the same table."""
    out = tmp_path_factory.mktemp("scratch_view")
    w = world(
        scenario(n_households, seed), out, "oracle" if oracle else "deterministic"
    )
    _view_bytes(w, out, oracle=oracle, households_per_range=per_range, scratch=True)
    file = pq.ParquetFile(out / ("oracle_view.parquet" if oracle else "view.parquet"))
    expected = w.view().reset_index()
    assert file.metadata.num_row_groups == -(-len(expected) // per_range)
    pd.testing.assert_frame_equal(file.read().to_pandas(), expected)


def test_the_oracle_view_names_missing_truth(tmp_path, seed):
    """As the oracle's links do: a file without its truth column is refused."""
    w = world(scenario(50, seed), tmp_path, "oracle")
    io.write_parquet(w.data.spine.drop(columns="true_person_id"), w.spine_file)
    with pytest.raises(InputDataError, match="spine: missing column.*true_person_id"):
        _view_bytes(w, tmp_path, oracle=True, households_per_range=30)
    assert not (tmp_path / "work").exists()


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    n=st.integers(1, 60),
    big=st.sampled_from([0, 2**31 - 2, 2**31, 2**40]),
)
def test_the_truth_tables_hold_each_persons_lowest_spine_household(
    tmp_path_factory, data, n, big
):
    """Each true person's household is that of their lowest ``spine_person_id``.

    Ids of 4 bytes or more (``big`` added to the spine ids or the households):
    the table is of 4 bytes only where they all fit, and gives the same values.
    """
    people = data.draw(st.lists(st.integers(0, n), min_size=n, max_size=n))
    ids = data.draw(st.lists(st.integers(0, 99), min_size=n, max_size=n, unique=True))
    homes = data.draw(st.lists(st.integers(0, 9), min_size=n, max_size=n))
    on_ids = data.draw(st.booleans())
    spine = pd.DataFrame(
        {
            "true_person_id": np.array(people, np.int64),
            "spine_person_id": np.array(ids, np.int64) + (big if on_ids else 0),
            INDEX: np.array(homes, np.int64) + (0 if on_ids else big),
        }
    )
    path = tmp_path_factory.mktemp("truth") / "spine.parquet"
    io.write_parquet(spine, path)
    tables = true_links._truth_tables(path, ["a", "b"])
    assert tables is not None
    table = tables.of("a", np.arange(n + 2))
    first = spine.sort_values("spine_person_id").drop_duplicates("true_person_id")
    expected = np.full(n + 2, view_partitions.NO_HOUSEHOLD, np.int64)
    expected[first["true_person_id"]] = first[INDEX]
    assert table.tolist() == expected.tolist()


@pytest.mark.parametrize("second", ["same", "hard link", "rewritten", "no deprivation"])
@settings(max_examples=3, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_households=st.integers(10, 200),
    per_range=st.sampled_from([1, 7, 10**9]),
)
def test_a_worlds_next_view_takes_its_spines_sums(
    tmp_path_factory, seed, n_households, per_range, second
):
    """A world's own view keeps its spine's sums (``HeldSpine``); the truth's view
    of the same spine file (or a hard link to it) takes them, not summed again,
    and gives the bytes of a view summed afresh. A spine file rewritten since, or
    other settings, is summed again: the bytes of its own view. (A world whose
    links file the view joins in DuckDB keeps none: left out.)"""
    out = tmp_path_factory.mktemp("held")
    w = world(scenario(n_households, seed), out, "deterministic")
    links_view = _view_bytes(w, out, households_per_range=per_range)
    kwargs: dict[str, object] = {}
    if second == "hard link":
        os.link(w.spine_file, out / "linked_spine.parquet")
        w2 = replace(w, spine_file=out / "linked_spine.parquet")
    elif second == "rewritten":  # a person fewer, written in the file's place
        spine = pq.read_table(w.spine_file)
        pq.write_table(spine.slice(1), out / "new_spine.parquet")
        os.replace(out / "new_spine.parquet", w.spine_file)
        w2 = w
    else:
        w2 = w
        if second == "no deprivation":
            kwargs["deprivation"] = None
    fresh = out / "fresh"
    fresh.mkdir()
    expected = _oracle_view(w2, fresh, per_range, **kwargs)
    if second == "rewritten":  # the first view of the spine before it changed
        (out / "old").mkdir()
        pq.write_table(spine, out / "old" / "spine.parquet")
        w = replace(w, spine_file=out / "old" / "spine.parquet")
    summed: list[Path] = []
    real = view_files._spine_counts
    held = HeldSpine()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            view_files,
            "_spine_counts",
            lambda path, *args: summed.append(path) or real(path, *args),
        )
        got = _view_bytes(w, out, households_per_range=per_range, spine=held)
        assert got == links_view
        assume(summed)  # else its links are joined in DuckDB: no sums kept
        kept = out / "kept"
        kept.mkdir()
        if second == "rewritten":  # the kept sums' file replaced by another
            os.replace(w2.spine_file, w.spine_file)
            w2 = w
        assert _oracle_view(w2, kept, per_range, spine=held, **kwargs) == expected
    taken = second in ("same", "hard link")
    assert len(summed) == (1 if taken else 2)
    assert held.take(w2.spine_file, {}) is None  # given once, then forgotten


def _oracle_view(w: World, out: Path, per_range: int, **kwargs: object) -> bytes:
    """The truth's view of ``w``'s files (``kwargs`` replace the world's)."""
    arguments: dict[str, object] = {
        "record_files": w.record_files,
        "spine_file": w.spine_file,
        "deprivation": w.deprivation,
        "scenario": w.data.scenario,
        "out": out / "oracle_view.parquet",
        "work_dir": out / "work",
        "households_per_range": per_range,
    }
    write_oracle_view_file(**(arguments | kwargs))
    return (out / "oracle_view.parquet").read_bytes()
