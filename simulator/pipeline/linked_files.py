"""``linkaudit link`` straight to disk: generate, link and measure from files.

The same directory, byte for byte, as :func:`simulator.pipeline.output.write_linked`
of the in-memory stages, written in memory bounded by settings rather than by the
population: the dataset is generated into the output's temporary directory a chunk
at a time (:func:`simulator.world.generate.write_generated`); deterministic linkage
reads those files a batch of rows at a time into DuckDB on disk
(:func:`simulator.council.linkage.on_disk.link_files`, within the linkage section's
``memory_limit_gb``); link quality joins them back to the truth a batch at a time
(:func:`audits.link_quality_files.link_quality_files`). The oracle links in DuckDB
from the files too (:func:`simulator.world.true_links.write_oracle_links`); Splink
still links whole frames read from those files.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.io import read_parquet, write_json, write_manifest, write_parquet
from simulator.output_dirs import atomic_directory
from simulator.pipeline.output import (
    LINKS_FILE,
    linked_manifest,
    write_linkage_tables,
)
from simulator.schema.linkage import LinkageConfig
from simulator.schema.scenario import Scenario
from simulator.world.generate import (
    HOUSEHOLDS_FILE,
    SPINE_FILE,
    records_source,
    write_generated,
)

if TYPE_CHECKING:
    from audits.link_quality import LinkQuality

WORK_DIRECTORY = ".linkage"
"""Inside the output being written: what DuckDB spills, removed after."""
ROWS_PER_HOUSEHOLD = 16
"""Rows read at a time per household of ``generation.chunk_size`` (about six
records a household: a batch is a few chunks' records)."""


def batch_rows(scenario: Scenario) -> int:
    """Rows linkage and link quality read at a time, from ``generation.chunk_size``."""
    return ROWS_PER_HOUSEHOLD * scenario.generation.chunk_size


def link_dataset_files(
    directory: Path,
    record_files: dict[str, Path],
    config: LinkageConfig,
    seed: int,
    rows: int,
    progress: bool = False,
    scratch: bool = False,
) -> int:
    """Write ``links.parquet`` for a dataset in ``directory``; returns its rows.

    Deterministic linkage and the oracle run on disk in DuckDB (within the linkage
    section's ``memory_limit_gb``); Splink reads the records and the spine into
    memory (it does not stream yet) and spills beyond the memory limit inside
    ``directory``. ``scratch``: a world no output keeps, its
    links encoded as such (:class:`simulator.io.RowGroupWriter`).
    """
    from simulator.council.linkage.on_disk import link_files
    from simulator.world.true_links import write_oracle_links

    spine_file = directory / SPINE_FILE
    out, work = directory / LINKS_FILE, directory / WORK_DIRECTORY
    if config.method == "deterministic":
        return link_files(
            record_files,
            spine_file,
            config,
            out,
            work,
            rows=rows,
            progress=progress,
            scratch=scratch,
        )
    if config.method == "oracle":
        return write_oracle_links(
            record_files,
            spine_file,
            out,
            work,
            memory_limit_gb=config.memory_limit_gb,
            rows=rows,
            scratch=scratch,
        )
    from simulator.council.linkage import link

    sources = {name: read_parquet(path) for name, path in record_files.items()}
    spine = read_parquet(spine_file)
    links = link(sources, spine, config, seed, progress=progress, spill_root=directory)
    write_parquet(links, out, scratch=scratch)
    return len(links)


def write_linked_files(
    scenario: Scenario,
    seeds: dict[str, int],
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    progress: bool = False,
    rows: int | None = None,
) -> tuple[Path, LinkQuality]:
    """Generate, link and measure a scenario into ``out_dir``, atomically.

    ``rows`` read at a time by linkage and link quality: by default
    :func:`batch_rows`. Returns the directory and the link quality (without its
    per-record table).
    """
    from audits.link_quality_files import link_quality_files

    out_dir = Path(out_dir)
    rows_at_once = rows or batch_rows(scenario)
    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        written = write_generated(scenario, tmp, progress)
        write_json(scenario.model_dump(mode="json"), tmp / "scenario.json")
        record_files = {
            name: tmp / rel
            for rel in written
            if (name := records_source(rel)) is not None
        }
        written[LINKS_FILE] = link_dataset_files(
            tmp,
            record_files,
            scenario.linkage,
            seeds["linkage"],
            rows_at_once,
            progress,
        )
        quality = link_quality_files(
            tmp / LINKS_FILE,
            record_files,
            tmp / SPINE_FILE,
            tmp / HOUSEHOLDS_FILE,
            rows=rows_at_once,
        )
        written |= write_linkage_tables(quality, tmp)
        shutil.rmtree(tmp / WORK_DIRECTORY, ignore_errors=True)
        write_manifest(tmp, linked_manifest(scenario, seeds, written))
    return out_dir, quality
