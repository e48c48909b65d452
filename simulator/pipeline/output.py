"""Run directories: what a run, a linked dataset and their tables write and read.

Every directory is written atomically (:func:`simulator.io.atomic_directory`) with
its manifest last; :func:`read_dataset` and :func:`read_audit_inputs` read them back
for ``linkaudit audit``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from simulator.council.models import FlagRule, apply_flag_rule
from simulator.io import MANIFEST, atomic_directory, write_json, write_parquet
from simulator.pipeline.run import stage_bar
from simulator.schema.scenario import Scenario
from simulator.world.generate import (
    SyntheticData,
    package_versions,
    write_dataset_files,
)

if TYPE_CHECKING:
    from audits.attribution import Attribution
    from audits.link_quality import LinkQuality
    from audits.report import ReportInputs
    from simulator.pipeline.run import Run

LINKS_FILE = "links.parquet"
LINKAGE_DIR = "linkage"
VIEW_FILE = "view.parquet"
FLAGS_FILE = "flags.parquet"
AUDIT_DIR = "audit"
ATTRIBUTION_DIR = "attribution"


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


def write_tables(tables: dict[str, pd.DataFrame], directory: Path) -> dict[str, int]:
    """Write tables as Parquet and CSV (``<stem>.parquet``, ``<stem>.csv``)."""
    rows = {}
    for stem, table in tables.items():
        write_parquet(table, directory / f"{stem}.parquet")
        (directory / stem).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(directory / f"{stem}.csv", index=False)
        rows[f"{stem}.parquet"] = len(table)
    return rows


def write_linkage_files(
    links: pd.DataFrame, quality: LinkQuality, directory: Path
) -> dict[str, int]:
    """Write the links table and the link-quality tables (CSV and Parquet)."""
    write_parquet(links, directory / LINKS_FILE)
    tables = {f"{LINKAGE_DIR}/{k}": v for k, v in linkage_tables(quality).items()}
    return {LINKS_FILE: len(links)} | write_tables(tables, directory)


def attribution_tables(attribution: Attribution) -> dict[str, pd.DataFrame]:
    """The attribution tables, by file stem."""
    return {
        f"{ATTRIBUTION_DIR}/counts": attribution.counts,
        f"{ATTRIBUTION_DIR}/by_rung": attribution.flagged_by_rung,
        f"{ATTRIBUTION_DIR}/households": attribution.households,
    }


def _manifest(kind: str, scenario: Scenario, seeds: dict, rows: dict) -> dict:
    return {
        "kind": f"{kind} (synthetic people only)",
        "scenario": scenario.name,
        "seeds": seeds,
        "linkage_method": scenario.linkage.method,
        "model": scenario.model.kind,
        "versions": package_versions(),
        "rows": rows,
    }


def write_linked(
    data: SyntheticData,
    links: pd.DataFrame,
    quality: LinkQuality,
    seeds: dict[str, int],
    out_dir: str | Path,
    *,
    overwrite: bool = False,
) -> Path:
    """Write a dataset with its links and link quality, atomically (``link``)."""
    out_dir = Path(out_dir)
    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        rows = write_dataset_files(data, tmp)
        rows |= write_linkage_files(links, quality, tmp)
        write_json(
            _manifest("linkaudit linked dataset", data.scenario, seeds, rows),
            tmp / MANIFEST,
        )
    return out_dir


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
    from simulator.schema.scenario import scenario_from_dict

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


def read_audit_inputs(
    *,
    run_dir: Path | None,
    scores: Path | None,
    truth: Path | None,
    flag_rule: FlagRule | None,
    overrides: list[str],
) -> tuple[SyntheticData, pd.DataFrame, Scenario]:
    """What an audit audits: the truth, flags and the (overridden) scenario.

    With ``run_dir``, the run's own flags (re-flagged by ``flag_rule`` if given); with
    ``scores`` and ``truth``, a score file validated against the dataset's spine
    households and turned into flags by ``flag_rule`` (or the scenario model's rule).
    ``overrides`` may change only ``audit.*`` fields.
    """
    from simulator.council.models.external import read_score_file, validate_scores
    from simulator.errors import InputDataError, ScenarioError
    from simulator.schema.scenario import apply_overrides, scenario_from_dict

    if (run_dir is None) == (scores is None):
        raise ScenarioError(["audit: give either a run directory, or scores and truth"])
    if scores is not None and truth is None:
        raise ScenarioError(["audit: scores need the dataset they score (truth)"])
    directory = Path(run_dir if run_dir is not None else truth)  # type: ignore[arg-type]
    outside = [o for o in overrides if not o.strip().startswith("audit.")]
    if outside:
        raise ScenarioError(
            [
                f"--set {o}: an audit can change only audit.* fields (the data, "
                "links and flags are already made)"
                for o in outside
            ]
        )
    data = read_dataset(directory)
    scenario_file = directory / "scenario.json"
    scenario = scenario_from_dict(
        apply_overrides(data.scenario.model_dump(mode="json"), overrides),
        f"{scenario_file} with --set",
    )
    if run_dir is not None:
        path = directory / FLAGS_FILE
        if not path.is_file():
            raise InputDataError(
                f"{path}: missing; RUN_DIR must be written by `linkaudit run` (for a "
                "dataset from `generate` or `link`, audit a score file with --scores)"
            )
        flags = pd.read_parquet(path)[["spine_household_id", "flagged", "score"]]
        if flag_rule is not None:
            s = pd.Series(
                flags["score"].to_numpy(),
                index=pd.Index(flags["spine_household_id"], name="spine_household_id"),
            )
            flags["flagged"] = apply_flag_rule(s, flag_rule).to_numpy()
        return data, flags, scenario
    households = pd.Index(
        pd.unique(data.spine["spine_household_id"].to_numpy()),
        name="spine_household_id",
    ).sort_values()
    assert scores is not None
    s = validate_scores(read_score_file(scores), households, scores)
    rule = flag_rule if flag_rule is not None else scenario.model.flag_rule()
    flagged = apply_flag_rule(s, rule)
    flags = pd.DataFrame(
        {
            "spine_household_id": households.to_numpy(),
            "flagged": flagged.to_numpy(),
            "score": s.to_numpy(),
        }
    )
    return data, flags, scenario


def report_inputs(run_: Run) -> ReportInputs:
    """What the report reads from a run: its tables and results, not the run itself."""
    from audits.report import ReportInputs

    data = run_.data
    return ReportInputs(
        scenario=run_.scenario,
        areas=data.areas,
        households=data.households,
        people=data.people,
        sources=data.sources,
        spine=data.spine,
        links=run_.council.links,
        flags=run_.council.flags,
        link_quality=run_.link_quality,
        audit=run_.audit,
        attribution=run_.attribution,
        seeds=run_.seeds,
    )


def write_run(
    run_: Run,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    progress: bool = False,
) -> Path:
    """Write every stage's output into ``out_dir``, atomically, manifest last.

    The same scenario and seed give byte-identical files (timings are logged, not
    written).
    """
    from audits.report import write_report
    from audits.tables import write_audit_files

    out_dir = Path(out_dir)
    with (
        atomic_directory(out_dir, overwrite=overwrite) as tmp,
        stage_bar("write outputs and report", 2, progress) as bar,
    ):
        rows = write_dataset_files(run_.data, tmp)
        rows |= write_linkage_files(run_.links, run_.link_quality, tmp)
        write_parquet(run_.council.view.reset_index(), tmp / VIEW_FILE)
        write_parquet(run_.council.flags, tmp / FLAGS_FILE)
        rows |= {VIEW_FILE: len(run_.council.view), FLAGS_FILE: len(run_.council.flags)}
        audit_rows = write_audit_files(run_.audit, tmp / AUDIT_DIR)
        rows |= {f"{AUDIT_DIR}/{k}": v for k, v in audit_rows.items()}
        if run_.attribution is not None:
            rows |= write_tables(attribution_tables(run_.attribution), tmp)
        if run_.replicates:
            rows |= write_tables(
                {f"{AUDIT_DIR}/replicates/{k}": v for k, v in run_.replicates.items()},
                tmp,
            )
        bar.update()
        rows[write_report(report_inputs(run_), tmp).name] = 1
        bar.update()
        write_json(
            _manifest("linkaudit run", run_.scenario, run_.seeds, rows), tmp / MANIFEST
        )
    return out_dir
