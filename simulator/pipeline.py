"""Run a scenario's stages in order and keep every stage's output.

``generate`` (the truth, every source's records and the spine) ->
``link`` (records to the spine, with the scenario's method, and the links' quality
against the truth). Each stage is a pure function of the previous outputs and a
named seed stream; :func:`write_run` writes everything atomically.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from simulator.generate import (
    SyntheticData,
    generate,
    package_versions,
    write_dataset_files,
)
from simulator.io import MANIFEST, atomic_directory, write_json, write_parquet
from simulator.linkage import LinkageConfig, LinkQuality, link, link_quality
from simulator.rng import draw_seed, stream
from simulator.scenario import Scenario

logger = logging.getLogger(__name__)

LINKS_FILE = "links.parquet"
LINKAGE_DIR = "linkage"


@dataclass
class Run:
    """Everything one scenario run produced, stage by stage.

    Attributes
    ----------
    scenario : Scenario
        The resolved scenario.
    data : SyntheticData
        The truth, every source's records and the spine.
    links : DataFrame
        The links table (:mod:`simulator.linkage.links`).
    link_quality : LinkQuality
        The links measured against the truth.
    seeds : dict
        The seed of every stage that draws at random.
    timings : dict
        Wall seconds per stage.
    """

    scenario: Scenario
    data: SyntheticData
    links: pd.DataFrame
    link_quality: LinkQuality
    seeds: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def stage_seed(scenario: Scenario, stage: str) -> int:
    """The integer seed a stage hands to libraries (Splink, scikit-learn)."""
    return draw_seed(stream(scenario.seed, "stage", stage))


def link_data(
    data: SyntheticData,
    config: LinkageConfig,
    seed: int,
    *,
    progress: bool = False,
) -> tuple[pd.DataFrame, LinkQuality]:
    """Link every source to the spine, then measure the links against the truth.

    Linkage itself only sees what the council holds (:func:`simulator.linkage.link`
    drops the hidden columns); the quality step reads the truth.
    """
    links = link(data.sources, data.spine, config, seed, progress=progress)
    quality = link_quality(links, data.sources, data.spine, data.households)
    return links, quality


def run(scenario: Scenario, *, progress: bool = False) -> Run:
    """Run every stage of a scenario.

    Parameters
    ----------
    scenario : Scenario
        The scenario to run.
    progress : bool
        Show a progress bar per stage.

    Returns
    -------
    Run
    """
    timings: dict[str, float] = {}
    seeds = {"scenario": scenario.seed, "linkage": stage_seed(scenario, "linkage")}
    t0 = time.perf_counter()
    data = generate(scenario, progress=progress)
    timings["generate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    links, quality = link_data(
        data, scenario.linkage, seeds["linkage"], progress=progress
    )
    timings["link"] = time.perf_counter() - t0
    logger.info(
        "run %s: %s",
        scenario.name,
        ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()),
    )
    return Run(scenario, data, links, quality, seeds, timings)


def linkage_tables(quality: LinkQuality) -> dict[str, pd.DataFrame]:
    """The link-quality tables, by file stem."""
    overall = quality.overall.assign(source="all")
    return {
        "quality": pd.concat(
            [overall, quality.by_source.reset_index()], ignore_index=True
        )[["source", *quality.overall.columns]],
        "quality_by_group": quality.by_group,
        "link_errors": quality.errors,
        "link_error_causes": quality.causes,
    }


def write_linkage_files(run_: Run, directory: Path) -> dict[str, int]:
    """Write the links table and the link-quality tables (CSV and Parquet)."""
    write_parquet(run_.links, directory / LINKS_FILE)
    rows = {LINKS_FILE: len(run_.links)}
    for stem, table in linkage_tables(run_.link_quality).items():
        rel = f"{LINKAGE_DIR}/{stem}"
        write_parquet(table, directory / f"{rel}.parquet")
        table.to_csv(directory / f"{rel}.csv", index=False)
        rows[f"{rel}.parquet"] = len(table)
    return rows


def read_dataset(directory: str | Path) -> SyntheticData:
    """Read a dataset written by ``linkaudit generate`` (or a run directory).

    Raises
    ------
    InputDataError
        If the directory is not a complete linkaudit output (no manifest) or a file
        is missing.
    """
    import pyarrow.parquet as pq

    from simulator.errors import InputDataError
    from simulator.scenario import scenario_from_dict

    directory = Path(directory)
    manifest = directory / MANIFEST
    if not manifest.is_file():
        raise InputDataError(
            f"{directory}: not a complete linkaudit output directory (no {MANIFEST})"
        )
    scenario_file = directory / "scenario.json"
    try:
        scenario = scenario_from_dict(
            json.loads(scenario_file.read_text(encoding="utf-8")), str(scenario_file)
        )
    except OSError as e:
        raise InputDataError(f"{scenario_file}: cannot read ({e.strerror})") from e

    def read(rel: str) -> pd.DataFrame:
        path = directory / rel
        if not path.is_file():
            raise InputDataError(f"{path}: missing from the output directory")
        return pq.read_table(path).to_pandas()

    sources = {
        p.stem: read(f"records/{p.name}")
        for p in sorted((directory / "records").glob("*.parquet"))
    }
    return SyntheticData(
        scenario,
        read("truth/areas.parquet"),
        read("truth/households.parquet"),
        read("truth/people.parquet"),
        sources,
        read("spine.parquet"),
    )


def write_run(run_: Run, out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Write every stage's output into ``out_dir``, atomically, manifest last.

    The same scenario and seed give byte-identical files (timings are logged, not
    written).
    """
    out_dir = Path(out_dir)
    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        rows = write_dataset_files(run_.data, tmp)
        rows |= write_linkage_files(run_, tmp)
        write_json(
            {
                "kind": "linkaudit run (synthetic people only)",
                "scenario": run_.scenario.name,
                "seeds": run_.seeds,
                "linkage_method": run_.scenario.linkage.method,
                "versions": package_versions(),
                "rows": rows,
            },
            tmp / MANIFEST,
        )
    return out_dir
