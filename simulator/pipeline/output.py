"""Run directories: what a run, a linked dataset and their tables write and read.

Every directory is written atomically
(:func:`simulator.output_dirs.atomic_directory`) with its manifest last;
:func:`read_dataset` and :func:`read_audit_inputs` read them back for ``linkaudit
audit``, each file checked against the manifest first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow.parquet as pq

from audits.run_tables import (
    AREAS,
    FLAGS,
    HOUSEHOLDS,
    LINKS,
    PEOPLE,
    SPINE,
    RunTables,
    source_table,
)
from simulator.council.models import FlagRule, apply_flag_rule
from simulator.errors import InputDataError
from simulator.io import (
    MANIFEST,
    read_manifest,
    read_parquet,
    verify_file,
    write_json,
    write_manifest,
    write_parquet,
)
from simulator.output_dirs import atomic_directory
from simulator.pipeline.parallel import SERIAL, Pool, Task, Workers
from simulator.pipeline.timings import MEASURED, measure, measured_fields, stage_bar
from simulator.schema.scenario import Scenario
from simulator.vocabulary import AGENCIES, OVERALL
from simulator.world.generate import (
    AREAS_FILE,
    HOUSEHOLDS_FILE,
    PEOPLE_FILE,
    SPINE_FILE,
    SyntheticData,
    package_versions,
    records_file,
    write_dataset_files,
)

if TYPE_CHECKING:
    from audits.attribution import Attribution
    from audits.link_quality import LinkQuality
    from audits.pooled_attribution import PooledAttribution
    from audits.report import ReportInputs
    from audits.result import AuditResult
    from simulator.pipeline.run import Run

LINKS_FILE = "links.parquet"
LINKAGE_DIR = "linkage"
VIEW_FILE = "view.parquet"
FLAGS_FILE = "flags.parquet"
AUDIT_DIR = "audit"
ATTRIBUTION_DIR = "attribution"
FLAG_COLUMNS = ("spine_household_id", "flagged", "score")
"""The columns of ``flags.parquet`` an audit reads."""
WRITE_STAGE = "write outputs and report"
"""The stage (:mod:`simulator.pipeline.timings`) of :func:`write_run` and of
:class:`ReportMeanwhile`."""
SECTIONS_ELSEWHERE = frozenset({"scores", "cases", "linkage"})
"""The report's sections a run whose world is in files draws on a worker while this
process writes the rest and draws the other sections (:func:`write_run`): about half
the drawing's CPU, by a profile of a 300,000-household run (score diagnostics and
curves, case files, the linkage chart)."""
MEANWHILE_ELSEWHERE = frozenset({"linkage", "scores"})
"""The sections :class:`ReportMeanwhile` sends the run's pool (its worker draws them
once free of its tasks) while this process writes the audit's files and draws the
other sections that read no attribution: the linkage chart and the pooled score
diagnostics, about half the CPU of those sections at 1,000,000 households (the
rates' charts, ``flags``, are drawn here; the population's were drawn ahead,
:data:`audits.report.sections.FIRST_WORLD_SECTIONS`); none of them reads the
attribution's families (:func:`audits.report.sections.inputs_for`)."""
WORLD_TABLES = {
    AREAS: AREAS_FILE,
    HOUSEHOLDS: HOUSEHOLDS_FILE,
    PEOPLE: PEOPLE_FILE,
    SPINE: SPINE_FILE,
    LINKS: LINKS_FILE,
    FLAGS: FLAGS_FILE,
}
"""The file of each table the report reads (but the sources'), in a run directory."""


def linkage_tables(quality: LinkQuality) -> dict[str, pd.DataFrame]:
    """The link-quality tables, by file stem."""
    from audits.link_quality import by_source_and_group

    overall = quality.overall.assign(source=OVERALL)
    return {
        "quality": pd.concat(
            [overall, quality.by_source.reset_index()], ignore_index=True
        )[["source", *quality.overall.columns]],
        "quality_by_group": by_source_and_group(
            quality.by_group, quality.by_source_group
        ),
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
    return {LINKS_FILE: len(links)} | write_linkage_tables(quality, directory)


def write_linkage_tables(quality: LinkQuality, directory: Path) -> dict[str, int]:
    """Write the link-quality tables under ``linkage/`` (CSV and Parquet)."""
    tables = {f"{LINKAGE_DIR}/{k}": v for k, v in linkage_tables(quality).items()}
    return write_tables(tables, directory)


def attribution_tables(attribution: PooledAttribution) -> dict[str, pd.DataFrame]:
    """The attribution tables, by file stem.

    ``counts`` and ``by_rung`` are pooled over the worlds (mean per world, smallest
    and largest world); ``*_by_world`` hold each world's own, ``households`` the
    first world's families.
    """
    return {
        f"{ATTRIBUTION_DIR}/counts": attribution.counts,
        f"{ATTRIBUTION_DIR}/by_rung": attribution.flagged_by_rung,
        f"{ATTRIBUTION_DIR}/counts_by_world": attribution.counts_by_world,
        f"{ATTRIBUTION_DIR}/by_rung_by_world": attribution.by_rung_by_world,
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
        write_manifest(tmp, linked_manifest(data.scenario, seeds, rows))
    return out_dir


def linked_manifest(scenario: Scenario, seeds: dict, rows: dict) -> dict:
    """The manifest fields of a linked dataset (``link``), however it was written."""
    return _manifest("linkaudit linked dataset", scenario, seeds, rows)


def _seed_of(manifest: dict[str, Any]) -> Any:
    """The scenario seed a manifest records (``seed`` or ``seeds.scenario``)."""
    seeds = manifest.get("seeds")
    return seeds.get("scenario") if isinstance(seeds, dict) else manifest.get("seed")


class _CheckedDirectory:
    """An output directory whose files are read only after checking the manifest.

    Each file read must be listed in ``manifest.json`` with the same size and
    sha256, and hold the rows the manifest says: a file changed, truncated or copied
    from another output is refused, naming it.
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.manifest = read_manifest(directory)
        rows = self.manifest.get("rows")
        self.rows: dict[str, Any] = rows if isinstance(rows, dict) else {}

    def json(self, rel: str) -> Any:
        path = verify_file(self.directory, rel, self.manifest)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputDataError(f"{path}: not valid JSON ({e})") from None

    def table(self, rel: str) -> pd.DataFrame:
        path = verify_file(self.directory, rel, self.manifest)
        frame = read_parquet(path)
        if rel in self.rows and self.rows[rel] != len(frame):
            raise InputDataError(
                f"{path}: holds {len(frame):,} rows but {self.directory / MANIFEST} "
                f"says {self.rows[rel]}; the directory is damaged: write it again"
            )
        return frame

    def listed(self, folder: str, suffix: str) -> list[str]:
        """Files under ``folder`` that are listed or present (each is checked)."""
        present = {
            p.relative_to(self.directory).as_posix()
            for p in (self.directory / folder).glob(f"*{suffix}")
        }
        listed = {
            rel
            for rel in self.manifest["files"]
            if rel.startswith(f"{folder}/") and rel.endswith(suffix)
        }
        return sorted(present | listed)


def read_dataset(directory: str | Path) -> SyntheticData:
    """Read a dataset written by ``linkaudit generate`` (or a run directory).

    Every file is checked against the manifest (size, sha256, rows) and the
    scenario's seed against the manifest's.

    Raises
    ------
    InputDataError
        Naming the file: no or damaged manifest, a file missing, changed, truncated
        or copied from another output, or files that do not belong together.
    """
    from simulator.errors import InputDataError
    from simulator.schema.loading import scenario_from_dict

    checked = _CheckedDirectory(Path(directory))
    scenario_file = checked.directory / "scenario.json"
    scenario = scenario_from_dict(checked.json("scenario.json"), str(scenario_file))
    if _seed_of(checked.manifest) != scenario.seed:
        raise InputDataError(
            f"{scenario_file}: seed {scenario.seed} but {checked.directory / MANIFEST} "
            f"records seed {_seed_of(checked.manifest)}: the files do not belong "
            "together; write the directory again"
        )
    sources = {
        Path(rel).stem: checked.table(rel)
        for rel in checked.listed("records", ".parquet")
    }
    data = SyntheticData(
        scenario,
        checked.table(AREAS_FILE),
        checked.table(HOUSEHOLDS_FILE),
        checked.table(PEOPLE_FILE),
        sources,
        checked.table(SPINE_FILE),
    )
    _check_truth_covers_spine(data, checked.directory)
    return data


def _check_truth_covers_spine(data: SyntheticData, directory: Path) -> None:
    """Every spine person's true household is in the truth's households."""
    true_households = data.spine.get("true_household_id")
    if true_households is None:
        return
    unknown = ~true_households.isin(data.households["household_id"])
    if unknown.any():
        raise InputDataError(
            f"{directory / 'truth/households.parquet'}: {int(unknown.sum()):,} spine "
            "people belong to households it does not hold: it is from another "
            "dataset; write the directory again"
        )


def _read_flags(checked_dir: Path) -> pd.DataFrame:
    """A run's flags, checked against its manifest."""
    path = checked_dir / FLAGS_FILE
    if not path.is_file():
        raise InputDataError(
            f"{path}: missing; RUN_DIR must be written by `linkaudit run` (for a "
            "dataset from `generate` or `link`, audit a score file with --scores)"
        )
    flags = _CheckedDirectory(checked_dir).table(FLAGS_FILE)
    missing = [c for c in FLAG_COLUMNS if c not in flags.columns]
    if missing:
        raise InputDataError(
            f"{path}: missing column(s) {', '.join(missing)}; write the run again"
        )
    return flags[list(FLAG_COLUMNS)]


def _check_flags_match_spine(flags: pd.DataFrame, data: SyntheticData, path: Path):
    """One flag row per spine household of the dataset, no other."""
    spine = pd.Index(pd.unique(data.spine["spine_household_id"].to_numpy()))
    ids = pd.Index(flags["spine_household_id"].to_numpy())
    if len(ids) != len(spine) or not ids.isin(spine).all() or ids.has_duplicates:
        raise InputDataError(
            f"{path}: {len(ids):,} rows for {len(spine):,} spine households of the "
            "run's dataset: the flags are from another run; write the run again"
        )


def read_link_quality(run_dir: Path) -> pd.DataFrame | None:
    """A run's ``linkage/quality_by_group`` (by source and group), if it has one.

    None for a run written before the table had a ``source`` column, or without
    links: an audit's headline on a linkage metric then says it is unavailable.
    """
    path = Path(run_dir) / LINKAGE_DIR / "quality_by_group.parquet"
    if not path.is_file():
        return None
    table = pd.read_parquet(path)
    return table if "source" in table.columns else None


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
    from simulator.errors import ScenarioError
    from simulator.schema.loading import apply_overrides, scenario_from_dict

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
        flags = _read_flags(directory)
        _check_flags_match_spine(flags, data, directory / FLAGS_FILE)
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
    """What the report reads from a run: its tables and results, not the run itself.

    A run whose world is in files (:attr:`Run.files`) is read from them
    (:func:`report_inputs_from_files`).
    """
    from audits.run_tables import FrameTables

    results = {
        "scenario": run_.scenario,
        "audit": run_.audit,
        "attribution": run_.attribution,
        "link_quality": run_.link_quality,
        "link_quality_worlds": run_.link_quality_worlds,
        "seeds": run_.seeds,
        "periods": run_.periods,
    }
    if run_.files is not None:
        return report_inputs_from_files(run_.files.directory, **results)
    data = run_.data
    assert isinstance(data, SyntheticData)
    frames = {
        AREAS: data.areas,
        HOUSEHOLDS: data.households,
        PEOPLE: data.people,
        SPINE: data.spine,
        LINKS: run_.council.links,
        FLAGS: run_.council.flags,
    }
    tables = FrameTables(
        frames | {source_table(s): frame for s, frame in data.sources.items()},
        sources=list(data.sources),
    )
    return _report_inputs(tables, **results)


def report_inputs_from_files(
    directory: Path,
    *,
    scenario: Scenario,
    audit: AuditResult | None,
    attribution: PooledAttribution | None,
    link_quality: LinkQuality,
    link_quality_worlds: tuple[LinkQuality, ...] = (),
    seeds: dict[str, int],
    periods: dict[str, pd.DataFrame] | None = None,
) -> ReportInputs:
    """What the report reads from a run directory's world files, in bounded memory.

    The truth, records, spine, links and flags are read from ``directory`` as
    :func:`_write_world_files` writes them, a few households' rows or a batch at a
    time (:class:`audits.run_tables.FileTables`); the results are given. The report,
    lesson and transparency record are those of :func:`report_inputs` of the same
    run, byte for byte.
    """
    from audits.run_tables import FileTables

    directory = Path(directory)
    sources = sources_written(directory)
    tables = FileTables(
        directory,
        WORLD_TABLES | {source_table(s): records_file(s) for s in sources},
        sources=sources,
    )
    return _report_inputs(
        tables,
        scenario=scenario,
        audit=audit,
        attribution=attribution,
        link_quality=link_quality,
        link_quality_worlds=link_quality_worlds,
        seeds=seeds,
        periods=periods or {},
    )


def _report_inputs(tables: RunTables, **results: Any) -> ReportInputs:
    """The report's inputs from a run's tables and results, with its record."""
    from audits.report import ReportInputs
    from audits.transparency import run_record

    record = run_record(
        results["scenario"],
        results["audit"],
        tables.shapes(),
        link_quality=results["link_quality"],
        link_quality_worlds=results["link_quality_worlds"],
    )
    return ReportInputs(tables=tables, transparency=record, **results)


def write_replicate_outcomes(audit: AuditResult, directory: Path) -> dict[str, int]:
    """Write the outcomes of replicate worlds 1, 2, ... (those that kept them).

    Under ``audit/`` as :data:`audits.tables.REPLICATE_OUTCOMES` names them
    (world 0's are ``audit/outcomes.parquet``): ``linkaudit compare`` pools a run's
    worlds from them.
    """
    from audits.tables import REPLICATE_OUTCOMES

    rows = {}
    for r, world in enumerate(audit.replicates, start=1):
        if world.outcomes is not None:
            name = f"{AUDIT_DIR}/{REPLICATE_OUTCOMES.format(replicate=r)}"
            write_parquet(world.outcomes, directory / name)
            rows[name] = len(world.outcomes)
    return rows


def sources_written(directory: Path) -> list[str]:
    """The sources whose records a dataset or run directory holds, in their order."""
    return [s for s in AGENCIES if (directory / records_file(s)).is_file()]


@contextmanager
def _report_pool(run_: Run, workers: Workers) -> Iterator[Pool | None]:
    """A pool with one worker to draw part of ``run_``'s report, or None.

    Only for a world in files (:attr:`Run.files`), whose report reads the run
    directory (:func:`report_inputs_from_files`): the worker is sent the run's
    results and reads the tables itself. Not on a cluster, which cannot read the
    directory, nor when ``workers`` gives this machine one process.
    """
    if run_.files is None or workers.cluster is not None:
        yield None
        return
    households = run_.scenario.population.n_households
    with Pool(workers, households, 1, busy=True, report=True, kept=0) as pool:
        yield pool if pool.size else None


class _DrawnElsewhere(Mapping[str, Any]):
    """The report's sections drawn before (``drawn``) or by a worker, by anchor.

    The worker's (``anchors``, its ``task``) are asked for at the first look-up of
    one of them (:meth:`~simulator.pipeline.parallel.Task.result`: drawn here if no
    worker has started it), which the report makes once it has drawn every other
    section.
    """

    def __init__(self, drawn: Mapping[str, Any], task: Task, anchors: frozenset[str]):
        self.before, self.task, self.anchors = dict(drawn), task, anchors
        self._drawn: dict[str, Any] | None = None

    def __getitem__(self, anchor: str) -> Any:
        if anchor in self.before:
            return self.before[anchor]
        if self._drawn is None:
            self._drawn = self.task.result()
        return self._drawn[anchor]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.anchors | self.before.keys()))

    def __len__(self) -> int:
        return len(self.anchors | self.before.keys())

    def __contains__(self, anchor: object) -> bool:
        return anchor in self.anchors or anchor in self.before


class ReportMeanwhile:
    """What a run whose world is in files writes and draws before its attribution.

    The run (``run(meanwhile=)``) tells it first of world 0 and its attribution,
    while it waits on the replicates' tasks (:meth:`first_world`: the run's process
    would otherwise wait alone, 2.6 s at 1,000,000 households and 55 s at
    8,200,000): it completes the world's files and, on a thread of its own,
    chooses and gathers the case files, which read only world 0
    (:data:`audits.report.sections.AHEAD`: mostly Parquet scans, which pyarrow
    runs without the GIL), and draws the sections that read only the run's tables
    (:data:`audits.report.sections.FIRST_WORLD_SECTIONS`), while this thread goes
    on. Then,
    once every world's results but the pooled attribution are known, while the
    pool's workers may still run rung tasks, the call writes the audit, replicate
    and transparency files into the run directory and draws the sections that
    read no attribution, those of :data:`MEANWHILE_ELSEWHERE` on the pool, which
    :meth:`finish` collects once the run has pooled the attribution meanwhile;
    :func:`write_run` then writes and draws the rest. The same bytes as
    :func:`write_run` alone.
    """

    def __init__(self) -> None:
        self.inputs: ReportInputs | None = None
        """The report's inputs without the attribution; None until called."""
        self.rows: dict[str, int] = {}
        """The rows of each file written, by path in the run directory."""
        self.drawn: dict[str, Any] = {}
        """The sections drawn, by anchor."""
        self._ahead: Future[tuple[dict[str, Any], dict[str, Any]]] | None = None
        """The sections' parts computed from world 0, and the sections drawn from
        it alone, on a thread (:func:`_first_world_parts`)."""
        self._elsewhere: Task | None = None
        """The sections the call sent the pool, until :meth:`finish`."""

    @property
    def ahead(self) -> dict[str, Any]:
        """The sections' parts computed from world 0 (``ReportInputs.ahead``).

        Waits for the thread (raising its error); empty if none was started.
        """
        return {} if self._ahead is None else self._ahead.result()[0]

    @property
    def drawn_ahead(self) -> dict[str, Any]:
        """The sections drawn whole from world 0, by anchor (empty if none)."""
        return {} if self._ahead is None else self._ahead.result()[1]

    def first_world(self, run_: Run, attribution: Attribution) -> None:
        """Complete the world's files and compute what the report needs of world 0.

        ``run_`` holds world 0 alone (no replicates yet) and ``attribution`` is its
        own. Only for a world in files (:attr:`Run.files`), whose directory is the
        output being written.
        """
        from audits.pooled_attribution import pool_attribution

        if run_.files is None:
            return
        with measure() as cost:
            self.rows = _finish_world_files(run_, run_.files.directory)
            first = replace(run_, attribution=pool_attribution([attribution]))
            inputs = report_inputs(first)
        run_.timings.add(WRITE_STAGE, cost[0])
        thread = ThreadPoolExecutor(1, thread_name_prefix="linkaudit-ahead")
        self._ahead = thread.submit(_first_world_parts, inputs)
        thread.shutdown(wait=False)  # the thread ends once its one task is done

    def __call__(self, run_: Run, pool: Pool) -> None:
        """Write and draw what ``run_`` (no attribution yet) needs no more for.

        Only for a world in files (:attr:`Run.files`), whose directory is the
        output being written; on the pool only if its workers are this machine's
        processes (a cluster cannot read the directory).
        """
        from audits.report.sections import (
            ATTRIBUTION_READERS,
            draw_sections,
            inputs_for,
            sections_of,
        )

        if run_.files is None:
            return
        directory = run_.files.directory
        with measure() as cost:
            rows = self.rows or _finish_world_files(run_, directory)
            inputs = report_inputs(run_)
            elsewhere = MEANWHILE_ELSEWHERE if pool.shares_cores else frozenset()
            task = (
                pool.submit(draw_sections, inputs_for(inputs, elsewhere), elsewhere)
                if elsewhere
                else None
            )
            rows |= _results_files(run_, inputs, directory)
            drawn = self.drawn_ahead
            here = [
                s.anchor
                for s in sections_of(inputs)
                if s.anchor not in ATTRIBUTION_READERS | elsewhere | drawn.keys()
            ]
            drawn = drawn | draw_sections(inputs, here)
        run_.timings.add(WRITE_STAGE, cost[0])
        self.inputs, self.rows, self.drawn = inputs, rows, drawn
        self._elsewhere = task

    def finish(self, run_: Run) -> None:
        """Wait for the sections the call sent the pool (drawn here if unstarted).

        The run calls it once it has pooled the attribution, which this process
        does while the pool's worker draws them.
        """
        task, self._elsewhere = self._elsewhere, None
        if task is not None:
            with measure() as cost:
                self.drawn |= task.result(run_.timings, WRITE_STAGE)
            run_.timings.add(WRITE_STAGE, cost[0])


def _first_world_parts(
    inputs: ReportInputs,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the report needs of world 0 alone (``inputs``), computed ahead.

    The sections' costly parts (:func:`audits.report.sections.ahead_of`) and the
    bodies of the sections that read only the run's tables
    (:data:`audits.report.sections.FIRST_WORLD_SECTIONS`).
    """
    from audits.report.sections import FIRST_WORLD_SECTIONS, ahead_of, draw_sections

    return ahead_of(inputs), draw_sections(inputs, FIRST_WORLD_SECTIONS)


def _write_world_files(run_: Run, directory: Path) -> dict[str, int]:
    """Write the run's world: its dataset, links, view and flags; their row counts."""
    assert isinstance(run_.data, SyntheticData)
    rows = write_dataset_files(run_.data, directory)
    rows |= write_linkage_files(run_.links, run_.link_quality, directory)
    council = run_.council
    write_parquet(council.view.reset_index(), directory / VIEW_FILE)
    write_parquet(council.flags, directory / FLAGS_FILE)
    return rows | {VIEW_FILE: len(council.view), FLAGS_FILE: len(council.flags)}


def _check_in_place(run_: Run, directory: Path) -> None:
    """Refuse to write a world in files anywhere but where it was generated."""
    files = run_.files
    assert files is not None
    if Path(directory).resolve() != files.directory.resolve():
        raise ValueError(
            f"{directory}: a streamed run is written where its world was generated "
            f"({files.directory}): the directory run() was given"
        )


def _finish_world_files(run_: Run, directory: Path) -> dict[str, int]:
    """What is left of a world in files (:attr:`Run.files`); every file's rows.

    Its dataset, links, view and flags are in ``directory`` already (flags held
    in memory are written here): this writes ``scenario.json`` and the
    link-quality tables, and counts the others' rows from their Parquet footers,
    nothing read back whole.
    """
    _check_in_place(run_, directory)
    write_json(run_.scenario.model_dump(mode="json"), directory / "scenario.json")
    flags = run_.council.flags
    if isinstance(flags, pd.DataFrame):  # else written when scored (run.council_view)
        write_parquet(flags, directory / FLAGS_FILE)
    counted = [
        *WORLD_TABLES.values(),
        *(records_file(s) for s in sources_written(directory)),
        VIEW_FILE,
    ]
    rows = {rel: pq.ParquetFile(directory / rel).metadata.num_rows for rel in counted}
    return rows | write_linkage_tables(run_.link_quality, directory)


def _results_files(run_: Run, inputs: ReportInputs, directory: Path) -> dict:
    """Write the audit, replicate, period and transparency files; their rows.

    Everything of the run's but its world, attribution, report and lesson.
    """
    from audits.tables import write_audit_files
    from audits.transparency_files import write_transparency

    audit_rows = write_audit_files(run_.audit, directory / AUDIT_DIR)
    rows = {f"{AUDIT_DIR}/{k}": v for k, v in audit_rows.items()}
    if run_.replicates:
        replicates = {
            f"{AUDIT_DIR}/replicates/{k}": v for k, v in run_.replicates.items()
        }
        rows |= write_tables(replicates, directory)
        rows |= write_replicate_outcomes(run_.audit, directory)
    if run_.periods:
        rows |= write_tables(run_.periods, directory)
    return rows | write_transparency(dict(inputs.transparency or {}), directory)


def write_run(
    run_: Run,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    progress: bool = False,
    workers: Workers = SERIAL,
    meanwhile: ReportMeanwhile | None = None,
) -> Path:
    """Write every stage's output into ``out_dir``, atomically, manifest last.

    The same scenario and seed give byte-identical files, but for the manifest's
    ``measured`` fields: each stage's wall time, CPU time and peak memory
    (:mod:`simulator.pipeline.timings`), this stage's included. With ``workers``
    (the run's setting) and a world in files, a worker draws part of the report
    (:func:`_report_pool`); ``meanwhile``, if the run called it, has written and
    drawn all but the attribution's part. The same bytes.
    """
    from audits.report import write_report
    from audits.report.lesson import write_lesson
    from audits.report.sections import draw_sections, inputs_for

    out_dir = Path(out_dir)
    early = meanwhile if meanwhile is not None and meanwhile.inputs else None
    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        with (
            measure() as written,
            stage_bar(WRITE_STAGE, 2, progress) as bar,
            ThreadPoolExecutor(1, thread_name_prefix="linkaudit-writer") as writer,
            _report_pool(run_, workers) if early is None else nullcontext() as pool,
        ):
            # The world's large Parquet files are mostly encoding and compression,
            # which pyarrow does without the GIL: they are written on a thread while
            # this one draws the report, mostly Python. Leaving the block waits for
            # the thread, so an error never removes a directory it still writes to.
            # A world in files is there already: the rest is written before the
            # report reads it, and part of the report is drawn on a worker
            # (:data:`SECTIONS_ELSEWHERE`) while this process writes the rest;
            # after ``meanwhile`` only the attribution's sections are left, drawn
            # here (the case files' costly part is in ``inputs.ahead``).
            in_memory = run_.files is None
            world = writer.submit(_write_world_files, run_, tmp) if in_memory else None
            if early is not None:
                assert early.inputs is not None
                _check_in_place(run_, tmp)
                rows = dict(early.rows)
                inputs = replace(
                    early.inputs, attribution=run_.attribution, ahead=early.ahead
                )
            else:
                rows = {} if in_memory else _finish_world_files(run_, tmp)
                inputs = report_inputs(run_)
            elsewhere = (
                None
                if pool is None
                else pool.submit(
                    draw_sections,
                    inputs_for(inputs, SECTIONS_ELSEWHERE),
                    SECTIONS_ELSEWHERE,
                )
            )
            if early is None:
                rows |= _results_files(run_, inputs, tmp)
            if run_.attribution is not None:
                rows |= write_tables(attribution_tables(run_.attribution), tmp)
            bar.update()
            drawn = {} if early is None else early.drawn
            if elsewhere is not None:
                inputs = replace(
                    inputs, drawn=_DrawnElsewhere(drawn, elsewhere, SECTIONS_ELSEWHERE)
                )
            elif drawn:
                inputs = replace(inputs, drawn=drawn)
            rows[write_report(inputs, tmp).name] = 1
            if run_.scenario.report.view == "lesson":
                rows[write_lesson(inputs, tmp).name] = 1
            if world is not None:
                rows |= world.result()
            bar.update()
        # The manifest goes last, once the stage above is measured.
        timings = run_.timings.plus(WRITE_STAGE, written[0])
        if elsewhere is not None and elsewhere.cost is not None:
            timings.add_worker(WRITE_STAGE, elsewhere.cost)
        fields = _manifest("linkaudit run", run_.scenario, run_.seeds, rows)
        write_manifest(tmp, fields | {MEASURED: measured_fields(timings)})
    return out_dir
