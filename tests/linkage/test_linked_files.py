"""``linkaudit link`` from files on disk writes the in-memory path's bytes.

The streamed path (:func:`simulator.pipeline.linked_files.write_linked_files`:
generation to disk, deterministic linkage in DuckDB on disk, link quality a batch at
a time) must write every file, the manifest included, as :func:`write_linked` of
:func:`link_data` does, whatever the generation chunk, the rows read at a time, the
Parquet row groups and DuckDB's memory limit; a failure part-way leaves nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from linktools import scenario

from simulator import io
from simulator.cli import main
from simulator.council.linkage import link
from simulator.council.linkage.backend import LinkageDB, to_arrow
from simulator.council.linkage.codebook import Codebook
from simulator.council.linkage.links import links_frame, links_table
from simulator.council.linkage.normalise import match_columns
from simulator.council.linkage.on_disk import (
    FROM_WRITTEN,
    as_slice,
    link_files,
    match_view,
    written_recipes,
)
from simulator.errors import InputDataError
from simulator.frames import STRING
from simulator.pipeline.linked_files import write_linked_files
from simulator.pipeline.output import write_linked
from simulator.pipeline.run import link_data, stage_seeds
from simulator.rng import BLOCK_SIZE
from simulator.schema.linkage import DEFAULT_MATCH_KEYS, LinkageConfig
from simulator.schema.scenario import Scenario
from simulator.vocabulary import AGENCIES
from simulator.world.generate import SyntheticData, generate


def _files(directory: Path) -> dict[Path, bytes]:
    return {
        p.relative_to(directory): p.read_bytes()
        for p in directory.rglob("*")
        if p.is_file()
    }


def _assert_same_as_in_memory(s: Scenario, out: Path, rows: int | None) -> None:
    seeds = stage_seeds(s)
    data = generate(s)
    links, quality = link_data(data, s.linkage, seeds["linkage"])
    write_linked(data, links, quality, seeds, out / "memory")
    _, streamed_quality = write_linked_files(s, seeds, out / "disk", rows=rows)
    memory, disk = _files(out / "memory"), _files(out / "disk")
    assert disk.keys() == memory.keys()
    for rel, content in memory.items():
        assert disk[rel] == content, f"{rel}: bytes differ from the in-memory path"
    pd.testing.assert_frame_equal(streamed_quality.overall, quality.overall)


@settings(max_examples=5, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    blocks_per_chunk=st.integers(1, 2),
    rows=st.sampled_from([None, 700, 4_096]),
    row_group_rows=st.sampled_from([3_000, 1024 * 1024]),
    memory_limit_gb=st.sampled_from([None, 0.25, 2.0]),
    ties=st.sampled_from(["drop", "first"]),
    off=st.sampled_from([(), ("police",), ("education", "benefits")]),
    room=st.booleans(),
)
def test_linking_from_files_writes_the_in_memory_bytes(
    tmp_path_factory,
    seed,
    blocks_per_chunk,
    rows,
    row_group_rows,
    memory_limit_gb,
    ties,
    off,
    room,
):
    """The same bytes, whatever the sizes and whether the disk has room for
    uncompressed scratch files (match files and scratch worlds LZ4 if not)."""
    out = tmp_path_factory.mktemp("linked")
    s = scenario(
        2 * BLOCK_SIZE + 700,  # the last chunk partial
        seed,
        generation={"chunk_size": blocks_per_chunk * BLOCK_SIZE},
        linkage={
            "memory_limit_gb": memory_limit_gb,
            "deterministic": {"ties": ties},
        },
        agencies={a: {"enabled": a not in off} for a in AGENCIES},
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(io, "ROW_GROUP_ROWS", row_group_rows)
        if not room:
            patch.setattr(io, "SCRATCH_ROOM", float("inf"))
        _assert_same_as_in_memory(s, out, rows)


NAMES = st.sampled_from(["Ann", "ann", "Bo", "O'Neil", " ", "Smith-Jones"])


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(
                st.none(), st.dates(pd.Timestamp.min.date(), pd.Timestamp.max.date())
            ),
            st.one_of(st.none(), NAMES),
            st.one_of(st.none(), NAMES),
        ),
        max_size=20,
    )
)
def test_match_columns_worked_out_in_the_view_are_normalises_numbers(
    tmp_path_factory, rows
):
    """What the match files' views work out from the columns written
    (``FROM_WRITTEN``: from the date, the names' codes) are the numbers
    ``match_columns`` gives with the same book: the same, missing where what they
    read is."""
    dob, first, last = zip(*rows, strict=True) if rows else ((), (), ())
    frame = pd.DataFrame(
        {
            "dob": pd.to_datetime(pd.Series(dob, dtype=object)),
            "first_name": pd.Series(first, dtype=STRING),
            "last_name": pd.Series(last, dtype=STRING),
        }
    )
    recipes = [*FROM_WRITTEN]
    expected = match_columns(frame, recipes, book=Codebook())
    written = match_columns(frame, written_recipes(recipes), book=Codebook())
    assert not set(written.columns) & set(FROM_WRITTEN)
    path = tmp_path_factory.mktemp("derived") / "match.parquet"
    pq.write_table(to_arrow(written), path)
    got = LinkageDB().frame(match_view(path, recipes))
    for recipe in FROM_WRITTEN:
        assert got[recipe].tolist() == expected[recipe].astype("Int64").tolist()


@pytest.fixture(scope="module")
def world_files(tmp_path_factory) -> tuple[SyntheticData, dict[str, Path], Path]:
    """A small generated world, its sources and spine written as Parquet files."""
    data = generate(scenario(1_500, 11))
    directory = tmp_path_factory.mktemp("world")
    files = {name: directory / f"{name}.parquet" for name in data.sources}
    for name, frame in data.sources.items():
        io.write_parquet(frame, files[name])
    io.write_parquet(data.spine, directory / "spine.parquet")
    return data, files, directory / "spine.parquet"


@settings(max_examples=6, deadline=None)
@given(
    order=st.permutations(range(len(DEFAULT_MATCH_KEYS))),
    n_keys=st.integers(1, len(DEFAULT_MATCH_KEYS)),
    ties=st.sampled_from(["drop", "first"]),
    rows=st.sampled_from([300, 100_000]),
)
def test_any_cascade_from_files_writes_the_in_memory_links(
    tmp_path_factory, world_files, order, n_keys, ties, rows
):
    """Whatever the keys and their order, the links from the match files (each key's
    name worked out from its number after the final sort) are ``link()``'s bytes."""
    data, files, spine = world_files
    keys = [DEFAULT_MATCH_KEYS[i].model_dump() for i in order[:n_keys]]
    config = LinkageConfig.model_validate(
        {"deterministic": {"keys": keys, "ties": ties}}
    )
    out = tmp_path_factory.mktemp("links")
    link_files(files, spine, config, out / "disk.parquet", out / "work", rows=rows)
    io.write_parquet(link(data.sources, data.spine, config, 0), out / "memory.parquet")
    assert (out / "disk.parquet").read_bytes() == (out / "memory.parquet").read_bytes()
    assert not (out / "work").exists()


@pytest.mark.parametrize("method", ["oracle", "splink"])
def test_methods_read_in_memory_write_the_same_bytes(tmp_path, seed, method):
    """Splink and the oracle still link whole frames, read back from the files."""
    s = scenario(1_500, seed, linkage={"method": method})
    _assert_same_as_in_memory(s, tmp_path, rows=500)


def _assert_refused(
    tmp_path: Path, records: pd.DataFrame, spine: pd.DataFrame, message: str
) -> None:
    """Health ``records`` and ``spine`` linked from files by the NHS number are
    refused with ``message``, and nothing is left beside the inputs."""
    io.write_parquet(records, tmp_path / "r.parquet")
    io.write_parquet(spine, tmp_path / "s.parquet")
    config = LinkageConfig.model_validate(
        {"deterministic": {"keys": [{"name": "nhs", "columns": ["nhs_number"]}]}}
    )
    with pytest.raises(InputDataError, match=message):
        link_files(
            {"health": tmp_path / "r.parquet"},
            tmp_path / "s.parquet",
            config,
            tmp_path / "links.parquet",
            tmp_path / "work",
            rows=2,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.parquet", "s.parquet"]


@pytest.mark.parametrize("ids", [[0, 1, 1], [0, 500, 500]])  # a table, or DuckDB
def test_a_repeated_record_id_is_named(tmp_path, ids):
    """A source whose record ids repeat is named, its ids numbered from 0 (marked
    in a table) or sparse (DuckDB's distinct count)."""
    records = pd.DataFrame({"record_id": ids, "nhs_number": ["9434765919", None, "x"]})
    spine = pd.DataFrame(
        {
            "spine_person_id": [0],
            "spine_household_id": [0],
            "nhs_number": ["9434765919"],
        }
    )
    _assert_refused(tmp_path, records, spine, "health: record_id is not unique")


def _quality_of_small_files(tmp_path, record_ids, linked_ids, rows):
    """``link_quality_files`` of one source's records ``record_ids`` (people 3, 4,
    4 in turn), two spine people (7, 8) and links of ``linked_ids`` (to 7, 8, 7)."""
    from audits.link_quality_files import link_quality_files

    truth = {
        "true_person_id": [3, 4, 4][: len(record_ids)],
        "true_household_id": [0] * len(record_ids),
    }
    io.write_parquet(
        pd.DataFrame({"record_id": record_ids, **truth}), tmp_path / "r.parquet"
    )
    io.write_parquet(
        pd.DataFrame({"spine_person_id": [7, 8], "true_person_id": [3, 4]}),
        tmp_path / "s.parquet",
    )
    io.write_parquet(pd.DataFrame({"household_id": [0]}), tmp_path / "h.parquet")
    links = {
        "source": ["health"] * len(linked_ids),
        "record_id": linked_ids,
        "spine_person_id": [7, 8, 7][: len(linked_ids)],
    }
    io.write_parquet(pd.DataFrame(links), tmp_path / "l.parquet")
    return link_quality_files(
        tmp_path / "l.parquet",
        {"health": tmp_path / "r.parquet"},
        tmp_path / "s.parquet",
        tmp_path / "h.parquet",
        rows=rows,
    )


def test_link_quality_from_files_refuses_a_record_linked_twice(tmp_path):
    """Each source's links are looked up by ``record_id``: a record twice in the
    links is named, not judged twice."""
    with pytest.raises(InputDataError, match="links table has a record more than"):
        _quality_of_small_files(tmp_path, [0, 1], [0, 1, 1], rows=1)


@settings(max_examples=40, deadline=None)
@given(
    sources=st.lists(st.sampled_from(["health", "police", "upn", None]), max_size=60),
    ordered=st.booleans(),
    row_group_rows=st.integers(1, 25),
    data=st.data(),
)
def test_a_sources_links_are_its_rows_of_the_links_file(
    tmp_path_factory, sources, ordered, row_group_rows, data
):
    """:class:`SourceLinks` gives each source's links, as filtering the file does,
    whether its links are one run of rows (read from their row groups alone) or
    not, whatever the row groups and the order the sources are read in; links
    without a ``record_id`` are left out. A row group is read once at most."""
    from audits.link_quality_files import SourceLinks

    if ordered:
        sources = sorted(sources, key=lambda s: (s is None, s or ""))
    n = len(sources)
    persons = data.draw(st.lists(st.none() | st.integers(0, 9), min_size=n, max_size=n))
    no_id = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    frame = pd.DataFrame(
        {
            "source": pd.array(sources, dtype="str"),
            "record_id": pd.array(
                [None if gone else i for i, gone in enumerate(no_id)], dtype="Int64"
            ),
            "spine_person_id": pd.array(persons, dtype="Int64"),
        }
    )
    path = tmp_path_factory.mktemp("links") / "links.parquet"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(io, "ROW_GROUP_ROWS", row_group_rows)
        io.write_parquet(frame, path)
    links = SourceLinks(path)
    file, groups = links._file, []
    one, some = file.read_row_group, file.read_row_groups
    file.read_row_group = lambda g, **kw: groups.append(g) or one(g, **kw)
    file.read_row_groups = lambda gs, **kw: groups.extend(gs) or some(gs, **kw)
    for name in data.draw(st.permutations(["health", "police", "upn", "absent"])):
        ids, person = links.of(name)
        expected = frame[(frame["source"] == name).fillna(False).to_numpy(bool)]
        expected = expected[expected["record_id"].notna()]
        got = ids.positions(expected["record_id"].to_numpy("int64"))
        assert got.tolist() == list(range(len(expected)))
        want = expected["spine_person_id"].astype(object)
        assert person.to_pylist() == want.where(want.notna(), None).tolist()
    assert len(groups) == len(set(groups)), "a row group read twice"


def test_a_failure_while_measuring_leaves_nothing(tmp_path, capsys, monkeypatch, seed):
    """Linkage written, link quality fails: one ``linkaudit:`` line, no output,
    no temporary directory, nothing DuckDB spilled left behind."""

    def broken(*args, **kwargs):
        raise InputDataError("the truth is unreadable")

    monkeypatch.setattr("audits.link_quality_files.link_quality_files", broken)
    path = tmp_path / "s.yaml"
    path.write_text(
        f"name: t\nseed: {seed}\npopulation: {{n_households: 500}}\n", encoding="utf-8"
    )
    assert main(["link", str(path), "-o", str(tmp_path / "out"), "-q"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line]
    assert err == ["linkaudit: the truth is unreadable"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


@pytest.mark.parametrize("first_id", [0, 10**12])  # counted in a table, or by DuckDB
def test_a_repeated_spine_person_is_named(tmp_path, first_id):
    """Linking from files refuses a spine whose persons repeat, their ids numbered
    from 0 (marked in a table) or not (DuckDB's distinct count), writing nothing."""
    records = pd.DataFrame({"record_id": [0, 1], "nhs_number": ["9434765919", None]})
    spine = pd.DataFrame(
        {
            "spine_person_id": [first_id, first_id + 1, first_id + 1],
            "spine_household_id": [0, 0, 1],
            "nhs_number": ["9434765919", "x", "y"],
        }
    )
    _assert_refused(tmp_path, records, spine, "spine: spine_person_id is not unique")


NAMES = st.sampled_from(["Ann", "ann", "Bob", None])
SURNAMES = st.sampled_from(["Smith", "Jones", None])
NHS = st.sampled_from(["9434765919", "x", None])


def _identities(data: st.DataObject, ids: list[int]) -> dict[str, list]:
    """Names and NHS numbers from small pools (so records share them), per id."""
    n = len(ids)
    return {
        "first_name": data.draw(st.lists(NAMES, min_size=n, max_size=n)),
        "last_name": data.draw(st.lists(SURNAMES, min_size=n, max_size=n)),
        "nhs_number": data.draw(st.lists(NHS, min_size=n, max_size=n)),
    }


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    names=st.lists(st.sampled_from(["b", "a", "c"]), min_size=1, unique=True),
    first_person=st.sampled_from([0, 10**12]),
    ties=st.sampled_from(["drop", "first"]),
    rows=st.integers(1, 4),
)
def test_links_by_id_tables_are_the_sorted_joins(
    tmp_path_factory, data, names, first_person, ties, rows
):
    """The links placed in tables indexed by id (:func:`links_by_id`: record ids and
    spine persons numbered from 0) are the bytes of DuckDB's joins and sort
    (:func:`links_sql`) and of ``link()`` in memory, on any records: ids in any
    order, with gaps or sparse, sources empty, persons tied, ranges of any size."""
    from simulator.council.linkage import on_disk

    directory = tmp_path_factory.mktemp("by_id")
    sources, files = {}, {}
    for name in names:
        n = data.draw(st.integers(0, 12))
        top = data.draw(st.sampled_from([3 * n, 10**9]))  # numbered from 0, or not
        ids = data.draw(
            st.lists(st.integers(0, top), min_size=n, max_size=n, unique=True)
        )
        sources[name] = pd.DataFrame({"record_id": ids, **_identities(data, ids)})
        files[name] = directory / f"{name}.parquet"
        io.write_parquet(sources[name], files[name])
    m = data.draw(st.integers(0, 8))
    persons = data.draw(st.permutations(range(first_person, first_person + m)))
    spine = pd.DataFrame(
        {
            "spine_person_id": list(persons),
            "spine_household_id": data.draw(
                st.lists(st.integers(0, 3), min_size=m, max_size=m)
            ),
            **_identities(data, list(persons)),
        }
    )
    io.write_parquet(spine, directory / "spine.parquet")
    keys = [
        {"name": "nhs", "columns": ["nhs_number"]},
        {"name": "names", "columns": ["first_name", "last_name"]},
    ]
    config = LinkageConfig.model_validate(
        {"deterministic": {"keys": keys, "ties": ties}}
    )

    def links(name: str, scratch: bool = False) -> bytes:
        out = directory / name
        link_files(
            files,
            directory / "spine.parquet",
            config,
            out,
            directory / "w",
            rows=rows,
            scratch=scratch,
        )
        return out.read_bytes()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(on_disk, "RANGE_BATCHES", data.draw(st.integers(1, 3)))
        patch.setattr(on_disk, "MOST_RANGES", data.draw(st.integers(1, 4)))
        if not data.draw(st.booleans(), label="room"):
            patch.setattr(io, "SCRATCH_ROOM", float("inf"))
        by_id = links("by_id.parquet")
        links("by_id_scratch.parquet", scratch=True)
        patch.setattr(on_disk, "households_by_person", lambda path: None)
        joined = links("joined.parquet")
        links("joined_scratch.parquet", scratch=True)
    io.write_parquet(link(sources, spine, config, 0), directory / "memory.parquet")
    assert by_id == joined == (directory / "memory.parquet").read_bytes()
    expected = pq.read_table(directory / "memory.parquet")
    for name in ("by_id_scratch.parquet", "joined_scratch.parquet"):
        _assert_scratch_links(directory / name, expected)


def _assert_scratch_links(path: Path, expected: pa.Table) -> None:
    """A scratch links file holds ``expected``'s values, encoded as a scratch file:
    the names with a dictionary, statistics for the source and record ids only."""
    got = pq.read_table(path)
    assert got.schema.names == expected.schema.names
    assert got.cast(expected.schema).equals(expected)
    meta = pq.ParquetFile(path).metadata
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            column = group.column(c)
            name = column.path_in_schema
            if group.num_rows and name in ("source", "match_key"):
                assert column.has_dictionary_page, name
            if name not in ("source", "record_id"):
                assert not column.is_stats_set, name
            elif group.num_rows:
                assert column.is_stats_set, name


@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["health", "police"]),
            st.integers(0, 2**40 - 1),
            st.integers(-(2**63), 2**63 - 1),
            st.integers(-(2**63), 2**63 - 1),
            st.sampled_from(["nhs_dob", "name_dob", None]),
            st.integers(0, 9),
        ),
        max_size=20,
    )
)
def test_links_table_is_the_links_frame_as_arrow(rows):
    """Links written from files as Arrow (:func:`links_table`) are ``from_pandas`` of
    the in-memory path's :func:`links_frame`: values, nulls and schema metadata."""
    columns = [[row[i] for row in rows] for i in range(6)]
    source, record, person, household, key, candidates = columns
    arrays = (
        pa.array(source, pa.string()),
        np.array(record, dtype=np.int64),
        np.array(person, dtype=np.int64),
        np.array(household, dtype=np.int64),
        pa.array(key, pa.string()),
    )
    counts = np.array(candidates, dtype=np.int64)
    frame = links_frame(*arrays, np.full(len(rows), np.nan), counts)
    expected = pa.Table.from_pandas(frame, preserve_index=False)
    table = links_table(*arrays, counts)
    assert table.equals(expected, check_metadata=True)


@given(st.lists(st.integers(0, 30), unique=True).map(sorted))
def test_positions_as_a_slice_read_the_same_rows(positions):
    values = np.arange(100, 131)
    at = np.array(positions, dtype=np.int64)
    assert values[as_slice(at)].tolist() == values[at].tolist()


@pytest.mark.parametrize("given_root", [True, False])
def test_linkage_in_memory_spills_in_a_directory_of_its_own_removed_after(
    tmp_path, monkeypatch, clean_data, given_root
):
    """DuckDB spills beyond its memory limit into a new directory under
    ``spill_root`` (else the system's temporary directory), removed after: never
    into DuckDB's default, ``.tmp`` in the current directory."""
    import tempfile

    import simulator.council.linkage as linkage

    settings_seen = []

    class Watched(linkage.LinkageDB):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            sql = "SELECT current_setting('temp_directory')"
            settings_seen.append(Path(self.con.execute(sql).fetchall()[0][0]))

    monkeypatch.setattr(linkage, "LinkageDB", Watched)
    here, root = tmp_path / "here", tmp_path / "root"
    here.mkdir()
    root.mkdir()
    monkeypatch.chdir(here)
    spill_root = root if given_root else None
    link(
        clean_data.sources, clean_data.spine, LinkageConfig(), 1, spill_root=spill_root
    )
    (spill,) = settings_seen
    assert spill.parent == (root if given_root else Path(tempfile.gettempdir()))
    assert spill.name.startswith(linkage.SPILL_PREFIX)
    assert not spill.exists()
    assert list(here.iterdir()) == [] and list(root.iterdir()) == []


@settings(max_examples=100)
@given(
    batches=st.lists(
        st.lists(st.integers(-2, 40) | st.integers(10**9, 10**9 + 2), max_size=12),
        max_size=5,
    )
)
def test_a_batch_repeats_an_id_as_a_pandas_index_says(batches):
    """Batch after batch, the marks reused: a batch's ids repeat exactly when a
    pandas index of them is not unique (marked, or looked up if negative or far
    apart), and the marks are left clear."""
    from audits.link_quality_files import _repeated

    marks = np.zeros(0, dtype=bool)
    for ids in batches:
        array = np.array(ids, dtype=np.int64)
        repeated, marks = _repeated(array, marks)
        assert repeated == (not pd.Index(array).is_unique)
        assert not marks.any()


def test_link_quality_from_files_refuses_a_record_id_twice_in_a_batch(tmp_path):
    """A source whose records file has a ``record_id`` twice is named, as the
    links looked up by it would be judged twice."""
    with pytest.raises(InputDataError, match="source health has a record_id more"):
        _quality_of_small_files(tmp_path, [0, 1, 1], [0, 1], rows=3)


@st.composite
def small_linked_worlds(draw):
    """Spine, sources, households and links with every awkward case: records
    unlinked, absent from the links, linked to another identity or to no spine
    row; identities carried by two spine rows or none; flags missing (NA) or not
    recorded by a source; record ids sparse or dense."""
    n_spine = draw(st.integers(1, 8))
    spine = pd.DataFrame(
        {
            "spine_person_id": draw(
                st.lists(
                    st.integers(0, 40), min_size=n_spine, max_size=n_spine, unique=True
                )
            ),
            "true_person_id": draw(
                st.lists(st.integers(0, 6), min_size=n_spine, max_size=n_spine)
            ),
        }
    )
    flag = st.none() | st.booleans()
    for err in ("err_a", "err_b"):
        spine[err] = pd.array(
            draw(st.lists(flag, min_size=n_spine, max_size=n_spine)), dtype="boolean"
        )
    households = pd.DataFrame(
        {"household_id": [0, 1, 2], "tenure": ["own", "rent", None], "imd": [1, 2, 1]}
    )
    sources, links = {}, []
    for name in draw(
        st.lists(
            st.sampled_from(["health", "police", "upn"]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    ):
        m = draw(st.integers(0, 10))
        ids = draw(st.lists(st.integers(0, 60), min_size=m, max_size=m, unique=True))
        frame = pd.DataFrame(
            {
                "record_id": np.array(ids, dtype=np.int64),
                "true_person_id": np.array(
                    draw(st.lists(st.integers(0, 8), min_size=m, max_size=m)),
                    dtype=np.int64,
                ),
                "true_household_id": np.array(
                    draw(st.lists(st.integers(0, 2), min_size=m, max_size=m)),
                    dtype=np.int64,
                ),
            }
        )
        if draw(st.booleans()):
            frame["true_identity_person_id"] = np.array(
                draw(st.lists(st.integers(0, 8), min_size=m, max_size=m)),
                dtype=np.int64,
            )
        for err in draw(
            st.lists(st.sampled_from(["err_b", "err_c", "err_a"]), unique=True)
        ):
            values = draw(st.lists(flag, min_size=m, max_size=m))
            frame[err] = pd.array(values, dtype="boolean")
        sources[name] = frame
        spine_ids = spine["spine_person_id"].tolist()
        for record in ids:
            kind = draw(st.sampled_from(["absent", "unlinked", "linked", "nowhere"]))
            if kind != "absent":
                to = {"unlinked": None, "nowhere": 99}.get(kind)
                to = draw(st.sampled_from(spine_ids)) if kind == "linked" else to
                links.append((name, record, to))
    links_frame = pd.DataFrame(
        {
            "source": pd.array([s for s, _, _ in links], dtype="str"),
            "record_id": pd.array([r for _, r, _ in links], dtype="Int64"),
            "spine_person_id": pd.array([t for _, _, t in links], dtype="Int64"),
        }
    )
    return spine, sources, households, links_frame


@settings(max_examples=60, deadline=None)
@given(world=small_linked_worlds(), rows=st.integers(1, 6))
def test_link_quality_from_files_is_that_of_the_frames(tmp_path_factory, world, rows):
    """Batch by batch from files, whatever the rows at a time, every table is
    :func:`link_quality`'s of the same frames in memory, dtypes included."""
    from audits.link_quality import link_quality
    from audits.link_quality_files import link_quality_files

    spine, sources, households, links = world
    assume(any(len(frame) for frame in sources.values()))  # none: judged apart
    out = tmp_path_factory.mktemp("quality")
    files = {name: out / f"{name}.parquet" for name in sources}
    for name, frame in sources.items():
        io.write_parquet(frame, files[name])
    io.write_parquet(spine, out / "spine.parquet")
    io.write_parquet(households, out / "households.parquet")
    io.write_parquet(links, out / "links.parquet")
    read = {name: pd.read_parquet(path) for name, path in files.items()}
    want = link_quality(
        pd.read_parquet(out / "links.parquet"),
        read,
        pd.read_parquet(out / "spine.parquet"),
        pd.read_parquet(out / "households.parquet"),
    )
    got = link_quality_files(
        out / "links.parquet",
        files,
        out / "spine.parquet",
        out / "households.parquet",
        rows=rows,
    )
    for table in ("overall", "by_source", "by_group", "errors", "causes"):
        pd.testing.assert_frame_equal(
            getattr(got, table), getattr(want, table), check_exact=True
        )
    pd.testing.assert_frame_equal(
        got.by_source_group, want.by_source_group, check_exact=True
    )
