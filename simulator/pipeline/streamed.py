"""A world on disk: generated, linked, measured, viewed and audited from its files.

What :func:`simulator.pipeline.run.run` does with a world held in memory, done from
the files of a directory: the world is generated into it a chunk at a time
(:func:`simulator.world.generate.write_generated`), linked from those files
(:func:`simulator.pipeline.linked_files.link_dataset_files`), measured from them
(:func:`audits.link_quality_files.link_quality_files`), viewed a range of spine
households at a time into ``view.parquet`` and scored a batch of its rows at a time
(:func:`world_view`, :func:`world_flags`; a task's view is scored as it is made, not
written), and its household outcomes read only the few columns they need: no step
holds a whole world's records or view (but a learner's history cohort, fitted on its
whole view). The values are those of the in-memory
stages, equal.

A pool's task (a replicate world, a rung of the ladder) runs in a scratch directory
of its own (:func:`scratch_directory`), removed when it ends, however it ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow.parquet as pq

from simulator.council.flagging import ScoredView, score_view_file
from simulator.council.view import (
    DEPRIVATION_COLUMNS,
    LABEL_EVENT,
    observed_labels,
)
from simulator.council.view_files import LINK_COLUMNS, write_view_file
from simulator.council.view_records import CountedRecords
from simulator.council.view_spine import HeldSpine
from simulator.frames import release_memory
from simulator.io import write_parquet
from simulator.pipeline.linked_files import WORK_DIRECTORY, link_dataset_files
from simulator.pipeline.memory_limit import StreamSizes, sizes_for
from simulator.pipeline.output import FLAGS_FILE, LINKS_FILE, VIEW_FILE
from simulator.schema.linkage import LinkageConfig
from simulator.schema.scenario import Scenario
from simulator.world.generate import (
    AREAS_FILE,
    HOUSEHOLDS_FILE,
    SPINE_FILE,
    Written,
    records_source,
    write_generated_worlds,
)
from simulator.world.true_links import write_oracle_view_file

if TYPE_CHECKING:
    from audits.link_quality import LinkQuality
    from simulator.council.models.base import RiskModel

DEFAULT_SIZES = StreamSizes()
"""A streamed world's sizes unless its run shares out ``--memory-limit``."""
SCRATCH_PREFIX = ".linkaudit-world."
"""A scratch world's directory name starts so (``tempfile.mkdtemp``'s prefix)."""

LABEL_RECORD_COLUMNS = ("record_id", "event_type", "event_date")
"""The label's source's columns the label reads."""
SPINE_IDS = ("spine_household_id", "true_household_id")
"""The spine's id columns the outcomes read."""
VIEW_WORK_DIRECTORY = ".view-work"
"""Inside a world's directory: what DuckDB spills while the view is written."""


@contextlib.contextmanager
def scratch_directory(root: str | Path | None = None) -> Iterator[Path]:
    """A new directory of this process's own under ``root``, removed on leaving.

    Removed after success, an error or an interrupt; only the directory made here
    is removed (``root`` is left as it was). Without ``root``, the system's
    temporary directory holds it.
    """
    if root is not None:
        Path(root).mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class WorldFiles:
    """A world generated into ``directory`` (:func:`generate_world`).

    ``sizes`` are how much of it each step holds at once (the same values whatever
    they are). A ``scratch`` world is no output's (a task's): its files, links
    included, are encoded for speed (:data:`simulator.io.SCRATCH_COMPRESSION`).
    ``spine_sums``: what the last view of its spine file summed, for the next
    (:class:`~simulator.council.view_spine.HeldSpine`: its own links' view, then
    its ``data_error`` rung's); shared by the copies ``dataclasses.replace``
    makes (:func:`~simulator.pipeline.run_world.shared_world`'s).
    """

    scenario: Scenario
    directory: Path
    record_files: dict[str, Path]
    sizes: StreamSizes = DEFAULT_SIZES
    scratch: bool = False
    spine_sums: HeldSpine = field(default_factory=HeldSpine, compare=False, repr=False)

    @property
    def spine_file(self) -> Path:
        """The spine."""
        return self.directory / SPINE_FILE

    @property
    def links_file(self) -> Path:
        """The links of the last :func:`link_world` (one links file at a time)."""
        return self.directory / LINKS_FILE

    @property
    def rows(self) -> int:
        """Records read at a time by linkage and link quality."""
        return self.sizes.batch_rows


def generate_world(
    scenario: Scenario,
    directory: Path,
    *,
    lean: bool = False,
    progress: bool = False,
    sizes: StreamSizes = DEFAULT_SIZES,
    scratch: bool = False,
    people: bool = True,
) -> WorldFiles:
    """Generate ``scenario``'s world into ``directory``, a chunk at a time.

    ``lean`` leaves out the identity fields only linkage reads (a world linked by
    the truth: :func:`simulator.world.generate.generate`); chunks of
    ``sizes.chunk_households``; ``scratch`` as for :class:`WorldFiles`; without
    ``people`` (a scratch world whose spine is not drawn again), no people file.
    """
    (world,) = generate_worlds(
        [Written(scenario, directory, people)],
        lean=lean,
        progress=progress,
        sizes=sizes,
        scratch=scratch,
    )
    return world


def generate_worlds(
    worlds: Sequence[Written],
    *,
    lean: bool = False,
    progress: bool = False,
    sizes: StreamSizes = DEFAULT_SIZES,
    scratch: bool = False,
) -> list[WorldFiles]:
    """:func:`generate_world` of each world, their population drawn once.

    Their scenarios draw one population
    (:func:`simulator.world.generate.same_population`), drawn once for all:
    :func:`simulator.world.generate.write_generated_worlds` (an error-free twin
    is lean and scratch; a ``spine_only`` world has no records of its own).
    """
    chunked = [
        dataclasses.replace(world, scenario=sizes.generating(world.scenario))
        for world in worlds
    ]
    written = write_generated_worlds(chunked, progress, lean=lean, scratch=scratch)
    return [
        WorldFiles(
            world.scenario,
            world.directory,
            {
                name: world.directory / rel
                for rel in rows
                if (name := records_source(rel)) is not None
            },
            sizes,
            scratch or world.before_errors_of is not None,
        )
        for world, rows in zip(worlds, written, strict=True)
    ]


def link_world(
    world: WorldFiles, config: LinkageConfig, seed: int, progress: bool = False
) -> Path:
    """Link ``world``'s records to its spine with ``config``: its links file.

    The file replaces any earlier links of the world; DuckDB's spill is removed.
    DuckDB holds at most the world's ``sizes.duckdb_gb``.
    """
    try:
        link_dataset_files(
            world.directory,
            world.record_files,
            world.sizes.linking(config),
            seed,
            world.rows,
            progress,
            world.scratch,
        )
    finally:
        shutil.rmtree(world.directory / WORK_DIRECTORY, ignore_errors=True)
    return world.links_file


def world_quality(world: WorldFiles) -> LinkQuality:
    """The world's links measured against its truth, a batch of records at a time."""
    from audits.link_quality_files import link_quality_files

    return link_quality_files(
        world.links_file,
        world.record_files,
        world.spine_file,
        world.directory / HOUSEHOLDS_FILE,
        rows=world.rows,
    )


def _columns(path: Path, wanted: tuple[str, ...]) -> pd.DataFrame:
    """The ``wanted`` columns of a Parquet file (those it has), nothing else."""
    names = pq.read_schema(path).names
    return pq.read_table(path, columns=[c for c in wanted if c in names]).to_pandas()


def world_view(
    world: WorldFiles,
    out: Path | None = None,
    *,
    oracle: bool = False,
    records: CountedRecords | None = None,
) -> Path:
    """Write the council's view of the world's last links to ``out``; its path.

    :func:`simulator.council.view_files.write_view_file`, the world's
    ``sizes.range_households`` spine households at a time within its
    ``sizes.duckdb_gb``: the bytes of :func:`simulator.council.view.scenario_view`
    of the whole tables, never held whole. ``out`` is the world's ``view.parquet``
    unless given. With ``oracle``, the view of the true links, which are never
    written (:func:`simulator.world.true_links.write_oracle_view_file`; the
    world's links file is not read; ``records``: its records read once for the
    views of them with other spines, as a rung task's). A scratch world's view
    is a scratch file, a range at a time (the same values). The spine's sums are
    taken from ``world.spine_sums`` where the world's last view of the same
    spine file kept them, else kept there for the next.
    """
    out = world.directory / VIEW_FILE if out is None else out
    _view(world, out, oracle=oracle, records=records)
    return out


def _view(
    world: WorldFiles,
    out: Path | ScoredView,
    *,
    oracle: bool,
    records: CountedRecords | None,
) -> None:
    """:func:`world_view` written to ``out``, or scored there (never written)."""
    write = (
        partial(write_oracle_view_file, records=records)
        if oracle
        else partial(write_view_file, links_file=world.links_file)
    )
    write(
        record_files=world.record_files,
        spine_file=world.spine_file,
        deprivation=_columns(world.directory / AREAS_FILE, DEPRIVATION_COLUMNS),
        scenario=world.scenario,
        out=out,
        work_dir=world.directory / VIEW_WORK_DIRECTORY,
        households_per_range=world.sizes.range_households,
        memory_limit_gb=world.sizes.duckdb_gb,
        scratch=world.scratch,
        spine=world.spine_sums,
    )
    release_memory()  # what the view freed: the C library's heap, not Arrow's pool


def world_flags(
    world: WorldFiles,
    model: RiskModel,
    *,
    oracle: bool = False,
    drivers: bool = True,
    records: CountedRecords | None = None,
) -> pd.DataFrame:
    """The flags table of the world's last links (or ``oracle``: the true links).

    :func:`world_view`, then :func:`simulator.council.flagging.score_view_file` (a
    batch of view rows at a time): :func:`~simulator.council.flagging.score_and_flag`'s
    table of the view in memory; without ``drivers``, only the columns the
    outcomes read (:data:`~simulator.council.flagging.SCORED_COLUMNS`), the view
    scored as its rows are made and never written
    (:class:`~simulator.council.flagging.ScoredView`: no view row is read again).
    ``records`` as for :func:`world_view`.
    """
    rule = world.scenario.model.flag_rule()
    if drivers:
        view = world_view(world, oracle=oracle, records=records)
        return score_view_file(model, view, rule)
    scored = ScoredView(model, rule)
    _view(world, scored, oracle=oracle, records=records)
    assert scored.flags is not None  # taken by the view's last range
    return scored.flags


def write_flags(world: WorldFiles, flags: pd.DataFrame) -> Path:
    """Write a world's flags table into its directory (a run's ``flags.parquet``).

    Its path: a run streamed into its output holds the path, not the table
    (:func:`world_outcomes` reads the three columns it needs back).
    """
    path = world.directory / FLAGS_FILE
    write_parquet(flags, path)
    return path


OUTCOME_FLAG_COLUMNS = ("spine_household_id", "flagged", "score")
"""The flags table's columns the outcomes read."""


def world_labels(world: WorldFiles, households: pd.Index) -> pd.Series:
    """What the council observes later, from the world's last links: the label.

    :func:`simulator.council.view.observed_labels` of the label's source's event
    columns and its links only (none read if the world has no such source: the
    label's own error).
    """
    source = LABEL_EVENT.split(".", 1)[0]
    records = {
        name: _columns(path, LABEL_RECORD_COLUMNS)
        for name, path in world.record_files.items()
        if name == source
    }
    links = pq.read_table(
        world.links_file, columns=list(LINK_COLUMNS), filters=[("source", "=", source)]
    ).to_pandas()
    return observed_labels(
        records,
        links,
        reference_date=world.scenario.time.reference_date,
        households=households,
    )


def rung_households(scenario: Scenario) -> tuple[str, str]:
    """The households' columns a rung's outcomes read (:func:`world_outcomes`)."""
    return "household_id", scenario.audit.target


def world_outcomes(
    world: WorldFiles, flags: pd.DataFrame | Path, *, rung: bool = False
) -> pd.DataFrame:
    """One row per true household with its flag: the audit's outcomes, from files.

    :func:`audits.outcomes.household_outcomes` of the households' columns it reads
    (:func:`audits.outcomes.truth_columns`), the spine's two household ids and
    the flags' :data:`OUTCOME_FLAG_COLUMNS` (of the table, or read from its file).
    A ``rung``'s: :func:`audits.outcomes.household_flags`, the columns attribution
    reads, of the households' ids and target and the flags' ids and flags alone.
    """
    from audits.outcomes import household_flags, household_outcomes, truth_columns

    target = world.scenario.audit.target
    path = world.directory / HOUSEHOLDS_FILE
    if rung:
        columns = list(rung_households(world.scenario))
        wanted = OUTCOME_FLAG_COLUMNS[:2]
        outcomes = household_flags
    else:
        columns = truth_columns(pq.read_schema(path).names)
        wanted = OUTCOME_FLAG_COLUMNS
        outcomes = household_outcomes
    households = pq.read_table(path, columns=columns).to_pandas()
    spine = _columns(world.spine_file, SPINE_IDS)
    flagged = (
        _columns(flags, wanted) if isinstance(flags, Path) else flags[list(wanted)]
    )
    return outcomes(households, spine, flagged, target=target)


@dataclass(frozen=True)
class Streamed:
    """A run's worlds streamed through files: where their scratch directories go.

    ``root`` holds each task's scratch directory (:func:`scratch_directory`): the
    run's temporary output directory, or None for the system's temporary directory.
    ``sizes``: how much of its world a task holds at once
    (:func:`simulator.pipeline.memory_limit.sizes_for`, once the run knows how many
    processes share ``--memory-limit``).
    """

    root: Path | None = None
    sizes: StreamSizes = DEFAULT_SIZES

    def shared(
        self, limit: int | None, processes: int, households: int, kept: int = 1
    ) -> Streamed:
        """These worlds with the sizes of ``processes`` sharing ``limit`` bytes.

        :func:`simulator.pipeline.memory_limit.sizes_for`: ``kept`` worlds held in
        memory besides (a run's own), the rest divided among the processes.
        """
        sizes = sizes_for(limit, processes, households, kept=kept)
        return dataclasses.replace(self, sizes=sizes)


SCRATCH_DIRECTORY = ".scratch"
"""Inside the output being written: the scratch directories of a run's tasks."""


@contextlib.contextmanager
def scratch_root(
    partial: Path, stream: bool, local: bool = True
) -> Iterator[Streamed | None]:
    """A run's tasks streamed into ``partial`` (an output being written), or not.

    Yields None unless ``stream`` (the tasks hold their worlds in memory); else a
    :class:`Streamed` whose scratch directories go in :data:`SCRATCH_DIRECTORY`
    inside ``partial``, removed on leaving, so the finished output holds none of it
    (and a failed one is removed whole by its claim). Tasks not ``local`` (a
    cluster's workers, on other machines) use their own temporary directory.
    """
    if not stream or not local:
        yield Streamed() if stream else None
        return
    root = Path(partial) / SCRATCH_DIRECTORY
    try:
        yield Streamed(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
