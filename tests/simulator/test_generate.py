"""Generation does not depend on how it is split into chunks, down to the bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simtools import build_scenario

import simulator.world.generate as generate_module
from simulator import io
from simulator.rng import BLOCK_SIZE, BlockStreams, block_generators, stream
from simulator.schema.agencies import ErrorRates
from simulator.schema.scenario import Scenario
from simulator.vocabulary import AGENCIES
from simulator.world.generate import (
    AREAS_FILE,
    HOUSEHOLDS_FILE,
    REPEATING,
    SCRATCH_STATISTICS,
    SPILL_DIRECTORY,
    SPINE_FILE,
    TRUTH_VIEWED,
    Written,
    dataset_files,
    generate,
    generate_dataset,
    same_records_before_errors,
    spine_again,
    unread,
    write_dataset,
    write_dataset_files,
    write_generated,
    write_generated_worlds,
)


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


@settings(max_examples=4, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    coverage=st.floats(0.0, 1.0),
    error_share=st.floats(0.0, 3.0),
    withhold_rate=st.sampled_from([0.0, 0.2]),
)
def test_another_spine_changes_only_the_spine(
    seed, coverage, error_share, withhold_rate
):
    """A scenario that differs only in its spine section has the same population
    and records, and :func:`spine_again` draws its spine from them, as generating
    it would (the attribution ladder's ``spine`` rung beside its ``model`` rung)."""
    n = BLOCK_SIZE + 700  # two chunks, the last partial
    consent = {"withhold_rate": withhold_rate}
    one = build_scenario(n, seed, consent=consent)
    rates = {k: min(1.0, v * error_share) for k, v in dict(ErrorRates()).items()}
    other = build_scenario(
        n,
        seed,
        consent=consent,
        agencies={"spine": {"coverage": coverage, "errors": rates}},
    )
    drawn, again = generate(one), generate(other)
    files, files_again = dataset_files(drawn), dataset_files(again)
    for rel, frame in files.items():
        if rel != "spine.parquet":
            pd.testing.assert_frame_equal(frame, files_again[rel], obj=rel)
    spine = spine_again(other, drawn.households, drawn.people)
    pd.testing.assert_frame_equal(spine, again.spine, check_exact=True)
    back = spine_again(one, drawn.households, drawn.people)
    pd.testing.assert_frame_equal(back, drawn.spine, check_exact=True)


@pytest.mark.parametrize("spine_off", [False, True])
@settings(max_examples=2, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_lean_world_is_the_world_without_its_unread_identity(seed, spine_off):
    """Every table of a lean world (the ladder's, linked by the truth) is the full
    world's without the identity fields :func:`unread` names, and its spine keeps
    what the view reads."""
    from simulator.council.view import VIEW_SPINE_IDENTITY

    n = BLOCK_SIZE + 700  # two chunks, the last partial
    spine = {"spine": {"enabled": False}} if spine_off else {}
    scenario = build_scenario(n, seed, agencies=spine)
    full, lean = generate(scenario), generate(scenario, lean=True)
    for name in ("households", "people"):
        pd.testing.assert_frame_equal(getattr(full, name), getattr(lean, name))
    for source, frame in {**full.sources, "spine": full.spine}.items():
        held = lean.spine if source == "spine" else lean.sources[source]
        expected = frame.drop(columns=list(unread(source, True)))
        pd.testing.assert_frame_equal(held, expected, check_exact=True, obj=source)
    assert set(VIEW_SPINE_IDENTITY) <= set(lean.spine.columns)
    again = spine_again(scenario, full.households, full.people, lean=True)
    pd.testing.assert_frame_equal(again, lean.spine, check_exact=True)


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


def test_an_output_has_dictionaries_where_its_values_repeat(tmp_path):
    frame = pd.DataFrame(
        {"record_id": np.arange(5000), "sex": np.where(np.arange(5000) % 3, "F", "M")}
    )
    io.write_parquet(frame, tmp_path / "a.parquet")
    meta = pq.ParquetFile(tmp_path / "a.parquet").metadata.row_group(0)
    encodings = {
        meta.column(i).path_in_schema: meta.column(i).encodings
        for i in range(meta.num_columns)
    }
    assert "RLE_DICTIONARY" in encodings["sex"]
    assert "RLE_DICTIONARY" not in encodings["record_id"]
    assert pq.read_table(tmp_path / "a.parquet").to_pandas().equals(frame)


def _files(directory):
    return {
        p.relative_to(directory): p.read_bytes()
        for p in directory.rglob("*")
        if p.is_file()
    }


def _switched_off(off: tuple[str, ...]) -> dict[str, dict[str, bool]]:
    """The agencies section with the sources (or the spine) in ``off`` disabled."""
    return {s: {"enabled": s not in off} for s in (*AGENCIES, "spine")}


@settings(max_examples=4, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    blocks_per_chunk=st.integers(1, 3),
    row_group_rows=st.sampled_from([1_500, 6_000, 1024 * 1024]),
    withhold_rate=st.sampled_from([0.0, 0.3]),
    off=st.sampled_from([(), ("spine",), ("police", "benefits")]),
)
def test_generating_to_disk_writes_the_same_bytes_as_in_memory(
    tmp_path_factory, seed, blocks_per_chunk, row_group_rows, withhold_rate, off
):
    """``linkaudit generate`` streams chunks to disk and numbers the ids in a
    second pass; every file, the manifest included, is the same as generating in
    memory and writing, whatever the chunk and row-group sizes."""
    out = tmp_path_factory.mktemp("dataset")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(io, "ROW_GROUP_ROWS", row_group_rows)
        scenario = build_scenario(
            2 * BLOCK_SIZE + 900,  # the last chunk partial
            seed,
            chunk_size=blocks_per_chunk * BLOCK_SIZE,
            consent={"withhold_rate": withhold_rate},
            agencies=_switched_off(off),
        )
        write_dataset(generate(scenario), out / "memory")
        rows = generate_dataset(scenario, out / "streamed")
    memory, streamed = _files(out / "memory"), _files(out / "streamed")
    assert streamed.keys() == memory.keys()
    assert not any(SPILL_DIRECTORY in str(rel) for rel in streamed)
    for rel, content in memory.items():
        assert streamed[rel] == content, f"{rel}: streamed bytes differ"
    people = pq.read_metadata(out / "streamed" / "truth/people.parquet")
    assert rows["truth/people.parquet"] == people.num_rows


@settings(max_examples=3, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    blocks_per_chunk=st.integers(1, 2),
    off=st.sampled_from([(), ("spine",), ("education",)]),
)
def test_a_lean_world_written_to_disk_is_the_lean_world_written(
    tmp_path_factory, seed, blocks_per_chunk, off
):
    """A streamed task's lean scratch world (:func:`write_generated` with ``lean``)
    has the files of the lean world generated in memory and written."""
    out = tmp_path_factory.mktemp("lean")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(io, "ROW_GROUP_ROWS", 2_000)
        scenario = build_scenario(
            BLOCK_SIZE + 900,
            seed,
            chunk_size=blocks_per_chunk * BLOCK_SIZE,
            agencies=_switched_off(off),
        )
        write_dataset_files(generate(scenario, lean=True), out / "memory")
        (out / "disk").mkdir()
        write_generated(scenario, out / "disk", lean=True)
    memory, disk = _files(out / "memory"), _files(out / "disk")
    memory = {rel: b for rel, b in memory.items() if rel.name != "scenario.json"}
    assert disk.keys() == memory.keys()
    for rel, content in memory.items():
        assert disk[rel] == content, f"{rel}: lean bytes differ"


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    blocks_per_chunk=st.integers(1, 2),
    withhold_rate=st.sampled_from([0.0, 0.3]),
    safeguarding=st.sampled_from([(), ("police", "social_care"), ("health",)]),
    error_share=st.floats(0.0, 3.0),
    off=st.sampled_from([(), ("spine",), ("education",), ("police", "benefits")]),
    lean=st.booleans(),
    scratch=st.booleans(),
)
def test_worlds_of_one_population_drawn_once_are_the_worlds_drawn_apart(
    tmp_path_factory,
    seed,
    blocks_per_chunk,
    withhold_rate,
    safeguarding,
    error_share,
    off,
    lean,
    scratch,
):
    """The attribution ladder's worlds of one world written from one pass of the
    population (:func:`write_generated_worlds`) have the bytes of each written
    alone: the world's own, its error-free twin (the ``visibility`` rung's world,
    its records the world's own before their errors: lean and scratch), the
    ``model`` rung's and the ``spine`` rung's spine alone (``spine_only``), with
    errors at any rate and whoever withholds consent from whichever sources."""
    from audits.counterfactuals import (
        with_spine_of,
        without_errors,
        without_visibility_bias,
    )

    out = tmp_path_factory.mktemp("shared")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(io, "ROW_GROUP_ROWS", 2_000)
        rates = {k: min(1.0, v * error_share) for k, v in dict(ErrorRates()).items()}
        scenario = build_scenario(
            BLOCK_SIZE + 900,
            seed,
            chunk_size=blocks_per_chunk * BLOCK_SIZE,
            consent={
                "withhold_rate": withhold_rate,
                "safeguarding_sources": safeguarding,
            },
            agencies={
                s: {**on, "errors": rates} for s, on in _switched_off(off).items()
            },
        )
        clean = without_errors(scenario)
        perfect = without_visibility_bias(clean)
        together = [
            Written(scenario, out / "own", people=True),
            Written(clean, out / "twin", people=False, before_errors_of=0),
            Written(perfect, out / "perfect", people=False),
            Written(with_spine_of(perfect, clean), out / "spine", spine_only=True),
            Written(clean, out / "clean", people=True),
        ]
        for world in together:
            world.directory.mkdir()
        rows = write_generated_worlds(together, lean=lean, scratch=scratch)
        for world, counts in zip(together, rows, strict=True):
            apart = out / f"apart-{world.directory.name}"
            apart.mkdir()
            twin = world.before_errors_of is not None
            alone = write_generated(
                world.scenario,
                apart,
                lean=lean or twin,
                scratch=scratch or twin,
                people=world.people,
            )
            expected = _files(apart)
            if world.spine_only:
                expected = {p: b for p, b in expected.items() if p == Path(SPINE_FILE)}
                alone = {SPINE_FILE: alone[SPINE_FILE]}
            assert counts == alone, world.directory.name
            assert _files(world.directory) == expected, world.directory.name
        first: dict[tuple[bool, str], int] = {}  # scratch worlds alike share truth
        for world in together:
            if world.spine_only:
                continue
            for rel in (AREAS_FILE, HOUSEHOLDS_FILE):
                file = (world.directory / rel).stat()
                if scratch or world.before_errors_of is not None:
                    key = (world.people, rel)
                    assert file.st_ino == first.setdefault(key, file.st_ino), rel
                else:
                    assert file.st_nlink == 1, rel  # an output's file is its own


def test_a_twin_must_be_its_world_without_errors(tmp_path):
    """A twin whose scenario is not its world's without errors, or that comes
    before its world, is refused before anything is drawn."""
    from audits.counterfactuals import without_errors, without_visibility_bias

    scenario = build_scenario(BLOCK_SIZE, 3)
    clean = without_errors(scenario)
    for i, (world, twin) in enumerate(
        [(scenario, without_visibility_bias(clean)), (scenario, scenario)]
    ):
        worlds = [
            Written(world, tmp_path / f"w{i}"),
            Written(twin, tmp_path / f"t{i}", before_errors_of=0),
        ]
        for w in worlds:
            w.directory.mkdir()
        with pytest.raises(ValueError, match="without errors"):
            write_generated_worlds(worlds)
    assert same_records_before_errors(scenario, clean)
    assert not same_records_before_errors(clean, scenario)


@settings(max_examples=4, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    lean=st.booleans(),
    off=st.sampled_from([(), ("spine",), ("education",)]),
    room=st.booleans(),
)
def test_a_scratch_world_holds_the_values_of_the_world_written(
    tmp_path_factory, seed, lean, off, room
):
    """A streamed task's scratch world (``scratch``: uncompressed, spill too, where
    the disk has room, else lz4; dictionaries only for dictionary and
    :data:`REPEATING` columns; statistics only for :data:`SCRATCH_STATISTICS`; row
    groups as its chunks come) reads back as the same tables, schema and pandas
    metadata included, in row groups no larger than the output's, its ids bounded
    as the output's (:func:`io.id_bound`), its integers and flags declared
    required; without ``people`` it has no people file. A lean one's records and
    spine are the columns of :data:`TRUTH_VIEWED` of the lean world's, the same
    values."""
    out = tmp_path_factory.mktemp("scratch")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(io, "ROW_GROUP_ROWS", 2_000)
        patch.setattr(io, "SCRATCH_ROOM", 0 if room else 1e30)
        scenario = build_scenario(
            BLOCK_SIZE + 900,
            seed,
            agencies=_switched_off(off),
        )
        for name, scratch in (("output", False), ("scratch", True)):
            (out / name).mkdir()
            write_generated(
                scenario, out / name, lean=lean, scratch=scratch, people=not scratch
            )
    written = {p.relative_to(out / "output") for p in (out / "output").rglob("*")}
    people = Path("truth/people.parquet")
    scratch = {p.relative_to(out / "scratch") for p in (out / "scratch").rglob("*")}
    assert scratch == written - {people}
    for rel in written - {people}:
        if rel.suffix != ".parquet":
            continue
        a, b = (
            pq.ParquetFile(out / "output" / rel),
            pq.ParquetFile(out / "scratch" / rel),
        )
        for g in range(b.num_row_groups):
            group = b.metadata.row_group(g)
            for c in range(group.num_columns):
                column = group.column(c)
                field = b.schema_arrow.field(column.path_in_schema)
                plain = field.name not in REPEATING and field.type == pa.large_string()
                lz4 = plain or not room
                codec = column.compression
                assert codec == ("LZ4" if lz4 else "UNCOMPRESSED"), (rel, c)
                if field.name in REPEATING and group.num_rows:  # codes, not strings
                    assert "RLE_DICTIONARY" in column.encodings, (rel, c)
                counted = column.path_in_schema in SCRATCH_STATISTICS
                stats = column.is_stats_set and column.statistics.has_min_max
                assert stats == (counted and group.num_rows > 0), (rel, c)
        for name in set(SCRATCH_STATISTICS) & set(b.schema_arrow.names):
            bound = io.id_bound(out / "output" / rel, name)
            assert io.id_bound(out / "scratch" / rel, name) == bound, (rel, name)
        expected, got = a.read(), b.read()
        # Ids, integers and flags are declared without nulls (required), no other.
        required = {f.name for f in got.schema if not f.nullable}
        numbers = {
            f.name
            for f in got.schema
            if pa.types.is_integer(f.type) or pa.types.is_boolean(f.type)
        }
        assert required == numbers, rel
        got = pa.Table.from_arrays(
            got.columns,
            schema=pa.schema(
                [f.with_nullable(True) for f in got.schema], got.schema.metadata
            ),
        )
        if lean and rel.parts[0] != "truth":  # records and the spine
            kept = TRUTH_VIEWED["spine" if rel.name == "spine.parquet" else "records"]
            names = [c for c in expected.column_names if c in kept]
            assert got.column_names == names, rel
            assert got.to_pandas().equals(expected.to_pandas()[names]), rel
            expected = expected.select(names).replace_schema_metadata(
                got.schema.metadata
            )
        assert got.equals(expected, check_metadata=True), rel
        assert got.to_pandas().equals(expected.to_pandas()), rel
        groups = [b.metadata.row_group(i).num_rows for i in range(b.num_row_groups)]
        assert sum(groups) == a.metadata.num_rows
        assert max(groups) <= 2_000  # ROW_GROUP_ROWS while it was written


def _world_and_other_spine(
    seed: int, error_share: float, withhold_rate: float, agencies: dict
) -> tuple[Scenario, Scenario]:
    """A small world with errors at ``error_share`` of the defaults in each source of
    ``agencies`` (their settings), and the same world with another spine section."""
    rates = {k: min(1.0, v * error_share) for k, v in dict(ErrorRates()).items()}
    agencies = {s: {**on, "errors": rates} for s, on in agencies.items()}
    consent = {"withhold_rate": withhold_rate}
    scenario = build_scenario(
        BLOCK_SIZE + 900, seed, consent=consent, agencies=agencies
    )
    spine = {**agencies["spine"], "coverage": 0.8}
    other = build_scenario(
        BLOCK_SIZE + 900, seed, consent=consent, agencies={**agencies, "spine": spine}
    )
    return scenario, other


@settings(max_examples=5, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    error_share=st.floats(0.0, 3.0),
    withhold_rate=st.sampled_from([0.0, 0.3]),
    off=st.sampled_from([(), ("spine",), ("education",)]),
)
def test_a_lean_scratch_world_writes_the_full_worlds_values(
    tmp_path_factory, seed, error_share, withhold_rate, off
):
    """A lean scratch world, which attaches and corrupts no identity it does not
    write (:func:`simulator.world.generate._unattached`), writes the full world's
    truth and the full world's values of each :data:`TRUTH_VIEWED` column, its
    spine drawn again (:func:`write_spine_again`) too: with errors at any rate,
    the identity errors it skips move no other draw."""
    from simulator.world.generate import SPINE_FILE, write_spine_again

    out = tmp_path_factory.mktemp("lean-full")
    switched = _switched_off(off)
    scenario, other = _world_and_other_spine(seed, error_share, withhold_rate, switched)
    for name, world in (("full", scenario), ("other", other)):
        (out / name).mkdir()
        write_generated(world, out / name)
    (out / "lean").mkdir()
    write_generated(scenario, out / "lean", lean=True, scratch=True)

    def compare(lean_dir: Path, full_dir: Path) -> None:
        for path in sorted(lean_dir.rglob("*.parquet")):
            rel = path.relative_to(lean_dir)
            got = pq.read_table(path).to_pandas()
            expected = pq.read_table(full_dir / rel).to_pandas()
            if rel.parts[0] != "truth":
                kept = TRUTH_VIEWED["spine" if rel == Path(SPINE_FILE) else "records"]
                assert list(got.columns) == [c for c in expected if c in kept], rel
            pd.testing.assert_frame_equal(
                got, expected[list(got.columns)], check_exact=True, obj=str(rel)
            )

    compare(out / "lean", out / "full")
    write_spine_again(other, out / "lean", lean=True, scratch=True)
    compare(out / "lean", out / "other")


def test_scratch_files_are_compressed_only_when_the_disk_lacks_room(tmp_path):
    """:func:`io.scratch_compression`: only strings compressed while the free room
    is :data:`io.SCRATCH_ROOM` times the files written so, else every column."""
    free = io.shutil.disk_usage(tmp_path).free
    assert io.scratch_compression(tmp_path, 0) == io.ROOMY
    assert io.scratch_compression(tmp_path, free / io.SCRATCH_ROOM / 2) == io.ROOMY
    lacking = 2 * free / io.SCRATCH_ROOM
    assert io.scratch_compression(tmp_path, lacking) == io.SCRATCH_COMPRESSION


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 2_500), max_size=6),
    row_group_rows=st.integers(1, 3_000),
)
def test_a_file_written_in_parts_is_the_file_written_whole(
    tmp_path_factory, sizes, row_group_rows
):
    """:class:`io.RowGroupWriter` gives the bytes of ``pq.write_table`` of the
    whole table in row groups of ``ROW_GROUP_ROWS``, however the rows come."""
    out = tmp_path_factory.mktemp("parts")
    starts = np.cumsum([0, *sizes])
    words = pa.array([f"w{i}" if i % 7 else None for i in range(starts[-1])])
    whole = pa.table({"n": np.arange(starts[-1]), "s": words})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(io, "ROW_GROUP_ROWS", row_group_rows)
        with io.RowGroupWriter(out / "parts.parquet", whole.schema) as writer:
            for start, stop in zip(starts[:-1], starts[1:], strict=True):
                writer.write(whole.slice(start, stop - start))
    pq.write_table(
        whole, out / "whole.parquet", compression="zstd", row_group_size=row_group_rows
    )
    parts = pq.ParquetFile(out / "parts.parquet")
    assert parts.metadata.num_row_groups == max(1, -(-starts[-1] // row_group_rows))
    assert (out / "parts.parquet").read_bytes() == (out / "whole.parquet").read_bytes()


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**70),
    names=st.lists(st.text(max_size=6) | st.integers(0, 2**40), max_size=5),
    blocks=st.lists(
        st.integers(0, 300)
        | st.integers(2**32 - 2, 2**32 + 2)
        | st.integers(0, 2**36)
        | st.integers(2**64 - 3, 2**64 + 3),
        max_size=12,
    ),
)
def test_block_generators_are_the_named_streams(seed, names, blocks):
    """The shortcut draws exactly what numpy's SeedSequence of each block draws
    (blocks of one and two 32-bit words mixed together, and past 2**64)."""
    fast = block_generators(seed, names, blocks)
    for block, gen in zip(blocks, fast, strict=True):
        expected = stream(seed, *names, block)
        np.testing.assert_array_equal(gen.random(3), expected.random(3))
        assert gen.integers(0, 2**63) == expected.integers(0, 2**63)


def test_generated_strings_come_from_the_system_pool_and_the_default_is_kept(
    seed, monkeypatch
):
    """Generation allocates its Arrow strings with glibc malloc (mimalloc's page
    faults cost a fifth of its CPU) and leaves pyarrow's default pool as it was,
    also when it fails."""
    before = pa.default_memory_pool()
    held = pa.system_memory_pool().bytes_allocated()
    data = generate(build_scenario(BLOCK_SIZE + 300, seed))
    assert pa.default_memory_pool().backend_name == before.backend_name
    names = pa.array(data.sources["health"]["first_name"].array)
    assert pa.system_memory_pool().bytes_allocated() - held >= names.nbytes > 0

    def fail(*args, **kwargs):
        assert pa.default_memory_pool().backend_name == "system"
        raise ValueError("failed inside")

    monkeypatch.setattr(generate_module, "make_areas", fail)
    with pytest.raises(ValueError, match="failed inside"):
        generate(build_scenario(BLOCK_SIZE, seed))
    assert pa.default_memory_pool().backend_name == before.backend_name


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    counts=st.lists(st.integers(0, 40), min_size=1, max_size=6),
    k=st.integers(2, 4),
)
def test_block_draws_are_each_blocks_own_draws_joined(seed, counts, k):
    """Draws written in place are each block's stream drawn in turn and joined;
    k draws per row are the stream's k draws one after another, as columns."""
    names, blocks = ("corruption", "health", "x"), range(3, 3 + len(counts))
    c = np.array(counts)

    def joined(draw):
        gens = [stream(seed, *names, b) for b in blocks]
        return np.concatenate([draw(g, n) for g, n in zip(gens, counts, strict=True)])

    np.testing.assert_array_equal(
        BlockStreams(seed, names, blocks).random(c),
        joined(lambda g, n: g.random(n)),
    )
    np.testing.assert_array_equal(
        BlockStreams(seed, names, blocks).normal(c),
        joined(lambda g, n: g.standard_normal(n)),
    )
    s = BlockStreams(seed, names, blocks)
    several = np.empty((k, c.sum()))
    for column in several:
        s.random(c, out=column)
    gens = [stream(seed, *names, b) for b in blocks]
    plain = np.stack(
        [
            np.concatenate([g.random(n) for g, n in zip(gens, counts, strict=True)])
            for _ in range(k)
        ],
        axis=1,
    )
    np.testing.assert_array_equal(several.T, plain)


@settings(max_examples=4, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    error_share=st.floats(0.0, 3.0),
    withhold_rate=st.sampled_from([0.0, 0.3]),
    lean=st.booleans(),
)
def test_worlds_without_a_people_file_are_the_worlds_with_one(
    tmp_path_factory, seed, error_share, withhold_rate, lean
):
    """Worlds written without a people file make their people without the columns
    nothing else reads (:func:`simulator.world.generate._unmade`: the addresses,
    and a lean scratch world's names and identifiers): every other file has the
    bytes of the worlds written with one, a ``spine_only`` world's too."""
    out = tmp_path_factory.mktemp("unmade")
    every = {s: {} for s in (*AGENCIES, "spine")}
    scenario, other = _world_and_other_spine(seed, error_share, withhold_rate, every)
    for people in (True, False):
        worlds = []
        for name, world, spine_only in (("w", scenario, False), ("s", other, True)):
            at = out / f"{people}" / name
            at.mkdir(parents=True)
            worlds.append(Written(world, at, people, spine_only))
        write_generated_worlds(worlds, lean=lean, scratch=True)
    with_people, without = out / "True", out / "False"
    written = sorted(p.relative_to(with_people) for p in with_people.rglob("*.parquet"))
    assert [p for p in written if p.name != "people.parquet"] == sorted(
        p.relative_to(without) for p in without.rglob("*.parquet")
    )
    for rel in written:
        if rel.name != "people.parquet":
            assert (with_people / rel).read_bytes() == (without / rel).read_bytes(), rel


_ADDRESS_POOL = ["1 Oak St", "2 Oak St", "", "1 Oak St|AB1", "AB1|"]
"""Addresses of a spine's pools: equal strings under other codes, the empty one (a
missing value's key too), and keys that would meet a separator."""


@st.composite
def _spine_chunks(draw) -> list[dict[str, pa.DictionaryArray]]:
    """Spine chunks' coded addresses: pools with repeats, missing codes."""
    chunks = []
    for _ in range(draw(st.integers(1, 4))):
        n = draw(st.integers(0, 30))
        columns = {}
        for column, values in (("address", _ADDRESS_POOL), ("postcode", ["AB1", ""])):
            pool = draw(st.lists(st.sampled_from(values), min_size=1, max_size=6))
            codes = draw(
                st.lists(st.integers(-1, len(pool) - 1), min_size=n, max_size=n)
            )
            indices = pa.array(codes, pa.int32()).to_numpy()
            columns[column] = pa.DictionaryArray.from_arrays(
                pa.array(indices, mask=indices < 0), pa.array(pool, pa.large_string())
            )
        chunks.append(columns)
    return chunks


@settings(max_examples=80, deadline=None)
@given(chunks=_spine_chunks())
def test_households_found_from_address_codes_are_those_of_the_joined_addresses(chunks):
    # The spine's households numbered from each chunk's pairs of codes, as a world
    # written to disk numbers them, are those of its whole address keys.
    spine = pd.DataFrame(
        {
            c: pd.array(
                pa.chunked_array(
                    [ch[c].dictionary_decode() for ch in chunks], pa.large_string()
                ),
                dtype="str",
            )
            for c in ("address", "postcode")
        }
    )
    expected = generate_module.assign_spine_households(
        generate_module.address_keys(spine)
    )
    held = [generate_module._address_codes(ch) for ch in chunks]
    assert generate_module._households_held(held).tolist() == expected.tolist()


@settings(max_examples=60, deadline=None)
@given(chunks=_spine_chunks())
def test_coded_columns_are_written_as_codes_and_read_back_as_strings(
    tmp_path_factory, chunks
):
    # A scratch file's columns given coded (RowGroupWriter's ``coded``), their
    # pools' repeated strings merged and unheld ones left out (_distinct_codes),
    # are written with Parquet's dictionary (not fallen back to plain strings)
    # and read back as the strings, typed as the schema says, its metadata kept.
    out = tmp_path_factory.mktemp("coded") / "coded.parquet"
    names = ["address", "postcode"]
    schema = pa.schema([(c, pa.large_string()) for c in names], metadata={b"k": b"v"})
    with io.RowGroupWriter(
        out, schema, scratch=True, as_given=True, required=(), coded=names
    ) as writer:
        for chunk in chunks:
            coded = [generate_module._distinct_codes(chunk[c]) for c in names]
            for column in coded:  # each string once, and held by a row
                assert len(column.dictionary.unique()) == len(column.dictionary)
                held = column.indices.drop_null().unique()
                assert len(held) == len(column.dictionary)
            writer.write(pa.Table.from_arrays(coded, names=names))
    expected = pa.Table.from_arrays(
        [
            pa.chunked_array(
                [ch[c].dictionary_decode() for ch in chunks], schema.field(c).type
            )
            for c in names
        ],
        schema=schema,
    )
    file = pq.ParquetFile(out)
    assert file.read().equals(expected, check_metadata=True)
    for g in range(file.num_row_groups):
        group = file.metadata.row_group(g)
        for c in range(group.num_columns):
            if group.num_rows:
                assert "RLE_DICTIONARY" in group.column(c).encodings, (g, c)


@settings(max_examples=40, deadline=None)
@given(flags=st.lists(st.booleans(), max_size=40), start=st.integers(0, 3))
def test_spilled_flags_are_arrows_conversion_of_them(flags, start):
    values = np.array(flags, dtype=bool)[start:]
    got = generate_module._numpy_column(values, pa.bool_())
    got.validate(full=True)
    assert got.equals(pa.array(values, pa.bool_(), from_pandas=True))
