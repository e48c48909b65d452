"""Run a scenario's stages in order and keep every stage's output.

``generate`` (the truth, every source's records and the spine) -> ``link`` (records
to the spine with the scenario's method, and the links' quality against the truth)
-> ``view`` (one feature row per spine household) -> ``model`` (fitted on an
independently generated history cohort if it learns; scores and flags) -> ``audit``
(flags against the truth, by group, with intervals) -> ``attribution`` (the same
seeds re-run without each imperfection, to say why each wrong flag happened).

Each stage is a pure function of the previous outputs and a named seed stream;
:func:`write_run` writes everything atomically, and the same scenario gives
byte-identical files. The history cohort, the replicates and the attribution rungs do
not depend on one another: with ``workers`` they run on other processes
(:mod:`simulator.pipeline.parallel`) while this one runs the real world, with the
same bytes; a Splink link of the real world runs first, on every core
(:func:`links_alone`).
"""

# Over 600 lines: every stage of a run and the tasks it sends to workers, read in
# the order they run; the files are output.py's, the workers parallel.py's.
from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd
import pyarrow.parquet as pq

from audits.attribution import rung_flags
from audits.link_quality import LinkQuality, by_source_and_group, link_quality
from simulator.council.flagging import read_view, score_and_flag, score_view_file
from simulator.council.linkage import link
from simulator.council.models import make_model
from simulator.council.models.base import RiskModel
from simulator.council.view import (
    DEPRIVATION_COLUMNS,
    VIEW_SPINE_IDENTITY,
    observed_labels,
    scenario_view,
)
from simulator.council.view_records import CountedRecords
from simulator.frames import release_memory
from simulator.pipeline.memory_limit import StreamSizes
from simulator.pipeline.parallel import SERIAL, Pool, Task, Workers
from simulator.pipeline.run_world import shared_world
from simulator.pipeline.streamed import (
    DEFAULT_SIZES,
    Streamed,
    WorldFiles,
    generate_world,
    generate_worlds,
    link_world,
    rung_households,
    scratch_directory,
    world_flags,
    world_labels,
    world_outcomes,
    world_quality,
    world_view,
    write_flags,
)
from simulator.pipeline.timings import Timings, stage_bar, stage_timer
from simulator.rng import draw_seed, stream
from simulator.schema.linkage import LinkageConfig
from simulator.schema.model import ExternalConfig, LearnedConfig
from simulator.schema.scenario import Scenario
from simulator.world.generate import (
    SyntheticData,
    Written,
    generate,
    same_population,
    same_records_before_errors,
    spine_again,
)
from simulator.world.records import IDENTITY_COLUMNS
from simulator.world.true_links import oracle_links

if TYPE_CHECKING:
    from audits.attribution import Attribution
    from audits.pooled_attribution import PooledAttribution
    from audits.result import AuditResult

logger = logging.getLogger(__name__)


@dataclass
class Council:
    """What the council side produced from one dataset: links, view, scores, flags.

    ``flags`` is the flags table (:func:`simulator.council.models.flag_table`): one row
    per spine household with its score, flag, rank and the features that drove it.
    Of a world in files (:class:`~simulator.pipeline.streamed.WorldFiles`),
    ``links``, ``view`` and ``flags`` are the paths of its links, view and flags
    files.
    """

    links: pd.DataFrame | Path
    view: pd.DataFrame | Path
    flags: pd.DataFrame | Path


@dataclass(frozen=True)
class Run:
    """Everything one scenario run produced, stage by stage, complete when built.

    Attributes
    ----------
    scenario : Scenario
        The resolved scenario.
    data : SyntheticData or WorldFiles
        The truth, every source's records and the spine: in memory, or in files
        (a run streamed into its output directory: :attr:`files`).
    council : Council
        Links, the linked view and the flags (of a world in files, the paths of
        its links and view).
    link_quality : LinkQuality
        The links measured against the truth.
    model : RiskModel
        The fitted model.
    audit : AuditResult
        Flags against the truth, by group.
    seeds : dict
        The seed of every stage that draws at random.
    attribution : PooledAttribution or None
        Why each wrong flag happened, the ladder run in every world and its counts
        pooled over them (:mod:`audits.pooled_attribution`); None if not asked for.
    replicates : dict of str to DataFrame
        With ``audit.replicates`` > 1: every figure pooled across the replicate
        runs (:func:`audits.replicates.pool_replicates`); empty otherwise.
    link_quality_worlds : tuple of LinkQuality
        Replicates 1, 2, ...'s link quality, summary tables only (pooled with
        ``link_quality``: :mod:`audits.pooled_links`); empty without replicates.
    timings : Timings
        Each stage's wall time, CPU time and peak memory (the manifest's
        ``measured`` fields, the only ones that differ between identical runs).
    periods : dict of str to DataFrame
        With ``dynamics.periods`` > 1: the per-period tables
        (:mod:`simulator.pipeline.periods`); empty otherwise.
    """

    scenario: Scenario
    data: SyntheticData | WorldFiles
    council: Council
    link_quality: LinkQuality
    model: RiskModel
    audit: AuditResult
    seeds: dict[str, int]
    attribution: PooledAttribution | None = None
    replicates: dict[str, pd.DataFrame] = field(default_factory=dict)
    link_quality_worlds: tuple[LinkQuality, ...] = ()
    timings: Timings = field(default_factory=Timings, compare=False)
    periods: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def links(self) -> pd.DataFrame | Path:
        """The links table (of a world in files, its path)."""
        return self.council.links

    @property
    def files(self) -> WorldFiles | None:
        """The world's files if it was streamed into a directory, else None."""
        return self.data if isinstance(self.data, WorldFiles) else None


def stage_seed(scenario: Scenario, stage: str) -> int:
    """The integer seed a stage hands to libraries (Splink, scikit-learn, bootstrap)."""
    return draw_seed(stream(scenario.seed, "stage", stage))


def stage_seeds(scenario: Scenario) -> dict[str, int]:
    """Every stage seed of a scenario, recorded in the outputs."""
    return {
        "scenario": scenario.seed,
        **{
            s: stage_seed(scenario, s) for s in ("linkage", "history", "model", "audit")
        },
    }


def replicate_seed(seed: int, replicate: int) -> int:
    """The scenario seed of replicate ``replicate``: the seed itself for 0.

    The one derivation of replicate seeds: ``linkaudit run`` with
    ``audit.replicates``, ``linkaudit sweep --replicates`` and any later caller
    draw replicate ``r``'s world from this seed, so they simulate the same worlds.

    Parameters
    ----------
    seed : int
        The scenario's seed.
    replicate : int
        0, 1, 2, ...

    Returns
    -------
    int
        A stable derivation from ``seed`` and ``replicate``
        (:func:`simulator.rng.stream`), the same on every machine.
    """
    if replicate == 0:
        return int(seed)
    return draw_seed(stream(int(seed), "replicate", int(replicate)))


def replicate_scenario(scenario: Scenario, replicate: int) -> Scenario:
    """Replicate ``replicate`` (0 is the scenario itself): the same scenario, reseeded.

    Its population, records, errors, links and bootstrap all draw from
    :func:`replicate_seed`.
    """
    if replicate == 0:
        return scenario
    return scenario.model_copy(
        update={"seed": replicate_seed(scenario.seed, replicate)}
    )


def history_scenario(scenario: Scenario) -> Scenario:
    """The history cohort: the same scenario with an independent population.

    A learned model is trained on it, with the label the council could observe
    (a later children's social care referral), never on the truth.
    """
    return scenario.model_copy(update={"seed": stage_seed(scenario, "history")})


def needs_history(scenario: Scenario) -> bool:
    """True if the scenario's model is fitted on labelled data (learned, plug-in)."""
    m = scenario.model
    return isinstance(m, LearnedConfig) or (
        isinstance(m, ExternalConfig) and m.plugin is not None
    )


def pool_tasks(
    scenario: Scenario,
    attribution: bool,
    history: bool,
    streamed: bool = False,
    own_twin: bool = False,
) -> int:
    """Tasks a run gives its pool: the history cohort, replicates and rungs.

    A world's rungs in its own world (:data:`audits.attribution.REAL_WORLD_RUNGS`)
    are no tasks: the world's run computes them; the others are
    :func:`rung_tasks` (``streamed`` as there; a replicate's error-free twin is
    its own task's, but the :func:`handed_twin`'s), and with ``own_twin`` the run's
    own world's twin (:func:`twin_outcomes`).
    """
    replicates = scenario.audit.replicates
    if not attribution:
        return int(history) + replicates - 1
    own = len(rung_tasks(scenario, streamed, twin=own_twin)) + int(own_twin)
    handed = handed_twin(scenario, own_twin)
    per_world = [
        len(rung_tasks(scenario, streamed, twin=streamed and r != handed))
        for r in range(1, replicates)
    ]
    return int(history) + replicates - 1 + own + sum(per_world)


def handed_twin(scenario: Scenario, own_twin: bool) -> int | None:
    """The replicate whose visibility world its rung task draws, not its own task.

    A streamed replicate draws its visibility rung's world as its error-free twin
    (:func:`replicate_audit`), which the pool's worker then generates, views and
    scores with the replicate; the run's own process, which takes the rung tasks
    from the queue's end (:meth:`Pool.help`) once its world is done, then waited
    for the worker's last replicate (about 5 s at 1,000,000 households,
    docs/performance.md). So the last replicate hands its visibility world to its
    rung task, drawn there with the ``model`` world's population and counted as
    drawn (:func:`rung_outcomes_files`): the same outcomes. Only when the run's
    own world has its twin (``own_twin``: a world in files, on this machine's
    pool) and its link does not run alone first (:data:`LINKED_ALONE`, whose
    last replicate is the run's own process's); None otherwise.
    """
    replicates = scenario.audit.replicates
    if own_twin and replicates > 1 and scenario.linkage.method not in LINKED_ALONE:
        return replicates - 1
    return None


def link_records(
    data: SyntheticData,
    config: LinkageConfig,
    seed: int,
    *,
    progress: bool = False,
    lean: bool = False,
) -> pd.DataFrame:
    """Link every source to the spine: the council's method, or the true links.

    The council's methods (:func:`simulator.council.linkage.link`) see only what the
    council holds; ``oracle`` is the hidden world's own answer (attribution's
    first rungs and teaching runs). With ``lean``, ``data`` loses its identity
    fields (:func:`shed_identity`) as soon as linkage no longer reads them.
    """
    shed = partial(shed_identity, data) if lean else None
    if config.method == "oracle":
        if shed is not None:
            shed()  # the true links read ids only
        return oracle_links(data.sources, data.spine)
    return link(
        data.sources, data.spine, config, seed, progress=progress, prepared_hook=shed
    )


def link_data(
    data: SyntheticData,
    config: LinkageConfig,
    seed: int,
    *,
    progress: bool = False,
) -> tuple[pd.DataFrame, LinkQuality]:
    """Link every source to the spine, then measure the links against the truth.

    Linkage itself only sees what the council holds
    (:func:`simulator.council.linkage.link`
    drops the hidden columns); the quality step reads the truth.
    """
    links = link_records(data, config, seed, progress=progress)
    return links, measure_links(data, links)


def measure_links(
    data: SyntheticData | WorldFiles, links: pd.DataFrame | Path
) -> LinkQuality:
    """The links measured against the truth: in memory, or from a world's files."""
    if isinstance(data, WorldFiles):
        return world_quality(data)
    assert isinstance(links, pd.DataFrame)
    return link_quality(links, data.sources, data.spine, data.households)


def linked_view(
    data: SyntheticData, links: pd.DataFrame, scenario: Scenario
) -> pd.DataFrame:
    """The council's feature view of linked data (the public IMD lookup included)."""
    deprivation = data.areas[list(DEPRIVATION_COLUMNS)]
    return scenario_view(data.sources, data.spine, links, scenario, deprivation)


def fit_model(
    scenario: Scenario,
    *,
    base_dir: str | Path | None = None,
    progress: bool = False,
    streamed: Streamed | None = None,
) -> RiskModel:
    """Build the scenario's model and fit it; learners train on a history cohort.

    The history cohort is generated with :func:`history_scenario`, linked with the
    scenario's method and labelled with :func:`simulator.council.view.observed_labels`;
    with ``streamed``, through files in a scratch directory (as
    :func:`replicate_audit`), the same view and labels: the view file
    (:func:`world_view`) is read back whole, as the learner learns from all of it.
    """
    model = make_model(
        scenario.model, random_state=stage_seed(scenario, "model"), base_dir=base_dir
    )
    if not needs_history(scenario):
        return model  # stateless (criteria, scorecard, score files, skops files)
    history = history_scenario(scenario)
    seed = stage_seed(history, "linkage")
    with (
        stage_bar("model: history cohort", 4, progress) as bar,
        nullcontext() if streamed is None else scratch_directory(streamed.root) as at,
    ):
        if at is None:
            data = generate(history)
            bar.update()
            drop_people(data)
            links = link_records(data, history.linkage, seed, lean=True)
            bar.update()
            view = linked_view(data, links, history)
            labels = observed_labels(
                data.sources,
                links,
                reference_date=history.time.reference_date,
                households=view.index,
            )
        else:
            world = generate_world(
                history, at, sizes=streamed.sizes, scratch=True, people=False
            )
            bar.update()
            link_world(world, history.linkage, seed)
            bar.update()
            view = read_view(pq.read_table(world_view(world)))
            labels = world_labels(world, view.index)
        bar.update()
        logger.info(
            "history cohort: %d spine households, %d labelled (%.1f%%)",
            len(view),
            int(labels.sum()),
            100 * labels.mean() if len(labels) else 0.0,
        )
        fitted = model.fit(view, labels)
        bar.update()
    return fitted


def council_run(
    data: SyntheticData,
    scenario: Scenario,
    model: RiskModel,
    *,
    method: str | None = None,
    progress: bool = False,
    timings: Timings | None = None,
    lean: bool = False,
) -> Council:
    """Link, build the view, score and flag: everything the council does.

    With ``timings``, the ``link`` and ``view, scores and flags`` stages are
    measured into it. With ``lean`` (a pool task's world, of which nothing is
    written), ``data`` is trimmed in place of what no later step reads
    (:func:`shed_identity`), so the task holds less while it views, scores and audits.
    """
    links = council_links(
        data, scenario, method=method, progress=progress, timings=timings, lean=lean
    )
    return council_view(
        data, links, scenario, model, progress=progress, timings=timings
    )


def council_links(
    data: SyntheticData | WorldFiles,
    scenario: Scenario,
    *,
    method: str | None = None,
    progress: bool = False,
    timings: Timings | None = None,
    lean: bool = False,
) -> pd.DataFrame | Path:
    """The council's links (:func:`council_run`'s first half, its ``link`` stage).

    Of a world in files, its links file (:func:`link_world`).
    """
    config = method_config(scenario, method)
    seed = stage_seed(scenario, "linkage")
    with stage_timer(timings, "link"):
        if isinstance(data, WorldFiles):
            return link_world(data, config, seed, progress)
        return link_records(data, config, seed, progress=progress, lean=lean)


def method_config(scenario: Scenario, method: str | None) -> LinkageConfig:
    """The scenario's linkage section with ``method`` (None: its own method)."""
    config = scenario.linkage
    if method is not None and method != config.method:
        config = config.model_copy(update={"method": method})
    return config


def council_view(
    data: SyntheticData | WorldFiles,
    links: pd.DataFrame | Path,
    scenario: Scenario,
    model: RiskModel,
    *,
    progress: bool = False,
    timings: Timings | None = None,
) -> Council:
    """The view, scores and flags of linked data (:func:`council_run`'s second half).

    Of a world in files, its view is written beside them and scored from there
    (:func:`world_view`), and its flags table written there as soon as it is made
    (:func:`write_flags`): the same tables, and the run's process does not hold its
    flags while the pool's worlds come in.
    """
    rule = scenario.model.flag_rule()
    with (
        stage_timer(timings, "view, scores and flags"),
        stage_bar("view, scores and flags", 2, progress) as bar,
    ):
        if isinstance(data, WorldFiles):
            view: pd.DataFrame | Path = world_view(data)
            bar.update()
            flags: pd.DataFrame | Path = write_flags(
                data, score_view_file(model, view, rule)
            )
        else:
            view = linked_view(data, links, scenario)  # type: ignore[arg-type]
            bar.update()
            flags = score_and_flag(model, view, rule)
        bar.update()
    return Council(links, view, flags)


def drop_people(data: SyntheticData) -> None:
    """Empty, in place, a task's people table: nothing after generation reads it."""
    data.people = data.people.iloc[:0]


def shed_identity(data: SyntheticData) -> None:
    """Drop, in place, the identity fields no step after linkage reads.

    The records' names, dates of birth, addresses and identifiers are read by
    linkage only; the view reads the spine's ``dob`` and ``postcode``, link quality
    and the audit the ids and hidden truth columns. Measured at 1,000,000
    households, the raw identity fields are most of a world's records
    (docs/performance.md, "Memory of a pool task").
    """
    data.sources = {
        name: frame.drop(columns=[c for c in IDENTITY_COLUMNS if c in frame])
        for name, frame in data.sources.items()
    }
    spine_only = [c for c in IDENTITY_COLUMNS if c not in VIEW_SPINE_IDENTITY]
    data.spine = data.spine.drop(columns=[c for c in spine_only if c in data.spine])
    release_memory()


def audit_council(
    data: SyntheticData | WorldFiles, council: Council, scenario: Scenario
) -> pd.DataFrame:
    """One row per true household: groups, truth, and whether a flag reached it."""
    return flag_outcomes(data, council.flags, scenario)


def flag_outcomes(
    data: SyntheticData | WorldFiles, flags: pd.DataFrame | Path, scenario: Scenario
) -> pd.DataFrame:
    """:func:`audit_council` from the flags table alone (links and view freed).

    Of a world in files, from the few columns it reads (:func:`world_outcomes`).
    """
    from audits.outcomes import household_outcomes

    if isinstance(data, WorldFiles):
        return world_outcomes(data, flags)
    assert isinstance(flags, pd.DataFrame)
    return household_outcomes(
        data.households,
        data.spine,
        flags[["spine_household_id", "flagged", "score"]],
        target=scenario.audit.target,
    )


@contextmanager
def _audit_warnings_held(hold: bool) -> Iterator[None]:
    """Silence audit warnings while ``hold``: replicates warn once, when pooled."""
    from audits.errors import AuditWarning

    with warnings.catch_warnings():
        if hold:
            warnings.simplefilter("ignore", AuditWarning)
        yield


def _warn_audit(messages: Sequence[str]) -> None:
    """Issue the pooled audit's warnings (small groups, reference fallbacks) once."""
    from audits.errors import AuditWarning

    for message in messages:
        warnings.warn(message, AuditWarning, stacklevel=3)


def audit_outcomes(
    outcomes: pd.DataFrame, scenario: Scenario, seeds: dict[str, int]
) -> AuditResult:
    """The audit of a run's household outcomes, with its scenario and seeds."""
    from audits.result import run_audit

    return run_audit(
        outcomes,
        scenario.audit,
        seed=seeds["audit"],
        scenario=scenario.model_dump(mode="json"),
        seeds=seeds,
    )


class Meanwhile(Protocol):
    """What writes a run's output while the run waits on its pool's workers.

    :class:`~simulator.pipeline.output.ReportMeanwhile`: :meth:`first_world` once
    world 0 and its attribution are known, before the replicates are collected;
    the call once every world is, before the pooled attribution; :meth:`finish`
    once that is made.
    """

    def first_world(self, run_: Run, attribution: Attribution) -> None:
        """Do what needs only world 0's run (no replicates) and attribution."""

    def __call__(self, run_: Run, pool: Pool) -> None:
        """Do what needs every world's run but no pooled attribution."""

    def finish(self, run_: Run) -> None:
        """Wait for what the call left to the pool."""


# Over 80 lines: every stage of a run in the order it runs, each timed, with the
# pool's tasks sent before the real world's work (after a Splink link: links_alone)
# and collected after it.
def run(
    scenario: Scenario,
    *,
    attribution: bool = True,
    base_dir: str | Path | None = None,
    progress: bool = False,
    model: RiskModel | None = None,
    workers: Workers = SERIAL,
    streamed: Streamed | None = None,
    directory: Path | None = None,
    meanwhile: Meanwhile | None = None,
) -> Run:
    """Run every stage of a scenario.

    Parameters
    ----------
    scenario : Scenario
        The scenario to run.
    attribution : bool
        Also run the attribution ladder (four more runs of the council's side in
        every world).
    base_dir : str or Path, optional
        Directory that relative paths in the scenario (score files, skops files)
        are resolved against: the scenario file's directory.
    progress : bool
        Show a progress bar per stage.
    model : RiskModel, optional
        An already fitted model to use instead of fitting the scenario's (replicate
        runs share one).
    workers : Workers
        Where the history cohort, replicates and rungs run (default: here, one
        after another); the outputs are the same.
    streamed : Streamed, optional
        Run the replicates and rungs through files, each in a scratch directory of
        its own under ``streamed.root`` (:mod:`simulator.pipeline.streamed`); the
        outputs are the same.
    directory : Path, optional
        Generate the real world into this directory (the run's output being
        written, which :func:`~simulator.pipeline.output.write_run` completes)
        and link, view, score, measure and audit it from the files there
        (:mod:`simulator.pipeline.run_world`); the outputs are the same.
    meanwhile : Meanwhile, optional
        With attribution: told of world 0's run and attribution once this process
        has taken back every rung task no worker has started (before it waits on
        the replicates), then called with the run so far (all but its
        attribution) and its pool, so that it writes what it can of the run's
        output rather than wait alone on the workers' last tasks, and finished
        once the attribution is pooled
        (:class:`~simulator.pipeline.output.ReportMeanwhile`).

    Returns
    -------
    Run
        With ``directory``, its world in files (:attr:`Run.files`).
    """
    timings = Timings()
    seeds = stage_seeds(scenario)
    history = model is None and needs_history(scenario)
    n_replicates = scenario.audit.replicates
    own_twin = (  # the visibility rung's world drawn with the run's own, in files
        attribution
        and streamed is not None
        and directory is not None
        and workers.cluster is None  # a task reads it where it is written
        and twin_rung(scenario) is not None
    )
    tasks = pool_tasks(scenario, attribution, history, streamed is not None, own_twin)
    households = scenario.population.n_households
    with (
        Pool(
            workers,
            households,
            tasks,
            busy=True,
            streamed=streamed is not None,
            kept=0 if directory is not None else None,  # a world in files: none kept
        ) as pool,
        ExitStack() as held,  # the run's own twin's scratch directory
    ):
        if streamed is not None and pool.cluster is None:  # sizes from its share
            streamed = streamed.shared(
                workers.memory_limit, pool.processes, households, kept=pool.kept
            )
        fit = partial(
            fit_model,
            scenario,
            base_dir=base_dir,
            progress=progress and not pool.size,
            streamed=streamed,
        )
        send = partial(
            submit_worlds,
            pool,
            scenario,
            attribution,
            streamed=streamed,
            own_twin=own_twin,
        )
        alone = links_alone(scenario, pool)
        if history:  # fitted on a cohort of its own, on the pool, while this generates
            fitting = pool.submit(fit)
        else:  # fitted without a world: the pool starts before this one generates
            with timings.stage("model"):
                fitted = model or fit()
            if not alone:
                others, rungs = send(fitted)
        twin = None
        with timings.stage("generate"):
            data: SyntheticData | WorldFiles
            if directory is None:
                data = generate(scenario, progress=progress)
            else:
                sizes = DEFAULT_SIZES if streamed is None else streamed.sizes
                data, twin = own_world(
                    scenario, directory, progress, sizes, held if own_twin else None
                )
        if history:
            with timings.stage("model: history cohort"):
                fitted = collect([fitting], "model: history cohort", False, timings)[0]
            if not alone:
                others, rungs = send(fitted)
        with pool.every_core() if alone else nullcontext():
            links = council_links(data, scenario, progress=progress, timings=timings)
        if alone:  # the pool starts now; this process takes the last replicate
            others, rungs = send(fitted, largest_last=True)
        if twin is not None:  # world 0's visibility rung, from its twin's files
            rungs[0].append(pool.submit(twin_outcomes, *twin, fitted))
        council = council_view(
            data, links, scenario, fitted, progress=progress, timings=timings
        )
        with (
            timings.stage("link quality"),
            stage_bar("link quality", 1, progress) as bar,
        ):
            quality = measure_links(data, council.links)
            bar.update()
        pooling = n_replicates > 1
        with (
            timings.stage("audit"),
            stage_bar("audit", 2, progress) as bar,
            _audit_warnings_held(pooling),
        ):
            outcomes = audit_council(data, council, scenario)
            bar.update()
            audit = audit_outcomes(outcomes, scenario, seeds)
            audit = replace(
                audit,
                link_quality=by_source_and_group(
                    quality.by_group, quality.by_source_group
                ),
            )
            bar.update()
        known = []  # each world's rungs in its own world, from its run
        if attribution:  # a world in files links its rungs apart from its links
            apart = shared_world if isinstance(data, WorldFiles) else nullcontext
            with (
                timings.stage("attribution"),  # before waiting on any task
                apart(data) as own,
            ):
                known.append(real_world_rungs(own, scenario, fitted, outcomes))
        release_memory()  # what the stages freed, while the pool's worlds are held
        first = Run(
            scenario, data, council, quality, fitted, audit, seeds, timings=timings
        )
        firsts: tuple[Attribution, ...] = ()  # world 0's, made before the replicates
        if attribution and meanwhile is not None:
            with timings.stage("attribution"):
                pool.help()  # the rung tasks no worker has started: here first
                firsts = (attribute_first(scenario, known[0], rungs[0], timings),)
            meanwhile.first_world(first, firsts[0])
        replicates: dict[str, pd.DataFrame] = {}
        qualities: tuple[LinkQuality, ...] = ()
        if pooling:
            from audits.pooled_tables import pooled_audit
            from audits.replicates import pool_replicates

            with timings.stage("replicates"):
                worlds = collect(others, "replicates", progress, timings)
                audit = replace(audit, replicates=tuple(a for a, _, _ in worlds))
                qualities = tuple(q for _, q, _ in worlds)
                known.extend(k for _, _, k in worlds)
                replicates = pool_replicates(audit.worlds)
            _warn_audit(pooled_audit(audit).disparities.warnings)
        done = replace(
            first, audit=audit, replicates=replicates, link_quality_worlds=qualities
        )
        attributed = None
        if attribution:
            if meanwhile is not None:  # every unstarted rung task taken back above
                meanwhile(done, pool)
            with timings.stage("attribution"):
                attributed = attribute_rungs(
                    scenario, known, rungs, progress, timings, firsts
                )
            if meanwhile is not None:
                meanwhile.finish(done)
    logger.info("run %s: %s", scenario.name, timings.summary())
    return replace(done, attribution=attributed)


LINKED_ALONE = frozenset({"splink"})
"""Linkage methods whose real-world link runs before the pool gets any task, on
every core (:func:`links_alone`)."""


def links_alone(scenario: Scenario, pool: Pool) -> bool:
    """Whether the run's real world links before its pool gets work, on every core.

    Splink's link is a run's longest stage (at 1,000,000 households, 391 s on the one
    DuckDB thread of its share while a worker ran replicates, against 154 s alone on
    two: docs/performance.md), and DuckDB spreads it over threads; so with workers
    on this machine (:attr:`Pool.shares_cores`) they get their tasks once it is done.
    A deterministic link is short and mostly one thread: the pool starts first.
    """
    return pool.shares_cores and scenario.linkage.method in LINKED_ALONE


def submit_worlds(
    pool: Pool,
    scenario: Scenario,
    attribution: bool,
    fitted: RiskModel,
    *,
    largest_last: bool = False,
    streamed: Streamed | None = None,
    own_twin: bool = False,
) -> tuple[list[Task], list[list[Task]]]:
    """Send the replicate worlds 1, 2, ... and every world's rungs to ``pool``.

    Returns the replicates' tasks and, with ``attribution``, each world's rung
    tasks (:func:`submit_rungs`), world 0's first. With ``largest_last``, the last
    replicate (a whole world, the largest task: rungs link with the oracle) is sent
    after the rungs: a busy pool's own process, helping from the queue's end
    (:meth:`Pool.help`), starts on it while the worker has the first replicate, and
    the short rungs fill in at the end. ``streamed`` as for :func:`replicate_audit`
    (a replicate draws its visibility world as its error-free twin: not in its
    rung tasks); with ``own_twin``, world 0's visibility world is its run's twin
    (:func:`own_world`), which the run sends once drawn (:func:`twin_outcomes`).
    """
    replicates = scenario.audit.replicates
    last = {replicates - 1} if largest_last and replicates > 1 else set()

    handed = handed_twin(scenario, own_twin)

    def replicate(r: int) -> Task:
        twin = r != handed
        return pool.submit(
            replicate_audit, scenario, r, fitted, attribution, streamed, twin
        )

    others = {r: replicate(r) for r in range(1, replicates) if r not in last}
    rungs = [
        submit_rungs(
            pool,
            replicate_scenario(scenario, r),
            fitted,
            streamed,
            twin=own_twin if r == 0 else streamed is not None and r != handed,
        )
        for r in range(replicates if attribution else 0)
    ]
    others.update({r: replicate(r) for r in last})
    return [others[r] for r in range(1, replicates)], rungs


def collect(
    tasks: list[Task], stage: str, progress: bool, timings: Timings | None = None
) -> tuple[Any, ...]:
    """The tasks' results in the order submitted, with a progress bar.

    What a task cost in a worker process is recorded in ``timings`` under
    ``stage`` (a task run here is in this process's own measure already). Before
    waiting, this process runs the pool's unstarted tasks from the end of its
    queue (:meth:`simulator.pipeline.parallel.Pool.help`): a later stage's task
    taken here is measured in this stage.
    """
    results = []
    if tasks:
        tasks[0].pool.help()  # run unstarted tasks here rather than wait
    with stage_bar(stage, len(tasks), progress) as bar:
        for task in tasks:
            results.append(task.result(timings, stage))
            bar.update()
    return tuple(results)


def replicate_audit(
    scenario: Scenario,
    replicate: int,
    model: RiskModel,
    attribution: bool = False,
    streamed: Streamed | None = None,
    twin: bool = True,
) -> tuple[AuditResult, LinkQuality, dict[str, pd.DataFrame]]:
    """Run the scenario again with replicate ``replicate``'s seed; audit and measure.

    The fitted model is the same in every replicate (the council's model as
    deployed); replicate ``r`` draws a new world (population, records, errors,
    links) and its own bootstrap seed from :func:`replicate_scenario`. Its audit
    warnings (small groups, reference fallbacks) are not issued: :func:`run` issues
    the pooled audit's once (:func:`audits.pooled_tables.pooled_audit`), and each
    replicate keeps its own in its ``disparities.warnings``.

    Parameters
    ----------
    scenario : Scenario
        The scenario (replicate 0).
    replicate : int
        1, 2, ...
    model : RiskModel
        The fitted model.
    attribution : bool
        Also compute the world's rungs of the ladder in its own world
        (:func:`real_world_rungs`), from the data it holds.
    streamed : Streamed, optional
        Generate, link and audit the world through files in a scratch directory of
        its own (:mod:`simulator.pipeline.streamed`), removed after; the same
        results.
    twin : bool
        With ``attribution`` and ``streamed``, draw the world's visibility rung's
        world as its error-free twin, with it; else its rung task draws it
        (:func:`handed_twin`). The same results.

    Returns
    -------
    audit : AuditResult
        With its outcomes (written for ``linkaudit compare`` to pool each run's
        worlds).
    quality : LinkQuality
        Its links against its truth, summary tables only (pooled with the run's);
        the audit carries its table by source and group too, for a headline on a
        linkage metric (``audit.headline``).
    rungs : dict of str to DataFrame
        With ``attribution``, the outcomes of its rungs in its own world; else empty.
    """
    from audits.errors import AuditWarning
    from audits.pooled_links import tables_only
    from audits.result import run_audit

    world = replicate_scenario(scenario, replicate)
    if streamed is None:
        data = generate(world)
        drop_people(data)
        council = council_run(data, world, model, lean=True)
        quality = measure_links(data, council.links)
        flags = council.flags
        del council  # links and view: the audit and the rungs read the flags only
        outcomes = flag_outcomes(data, flags, world)
        rungs = real_world_rungs(data, world, model, outcomes) if attribution else {}
    else:
        drawn = twin_rung(world) if attribution and twin else None
        with scratch_directory(streamed.root) as directory:
            worlds = [Written(world, directory, people=False)]
            if drawn is not None:  # its visibility rung's world, drawn with it
                (directory / TWIN_DIRECTORY).mkdir()
                twin = Written(drawn[1], directory / TWIN_DIRECTORY, people=False)
                worlds.append(replace(twin, before_errors_of=0))
            files, *twins = generate_worlds(worlds, sizes=streamed.sizes, scratch=True)
            outcomes = files_outcomes(
                files, model, world.linkage.method, keep_links=True
            )
            quality = world_quality(files)
            rungs = (
                real_world_rungs(files, world, model, outcomes) if attribution else {}
            )
            for twin_files in twins:
                rungs.update(twin_outcomes(twin_files, drawn[0], model))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuditWarning)  # once, not R times
        audit = run_audit(
            outcomes,
            world.audit,
            seed=stage_seed(world, "audit"),
            seeds=stage_seeds(world),
        )
    table = by_source_and_group(quality.by_group, quality.by_source_group)
    audit = replace(audit, link_quality=table)  # for a headline on link quality
    logger.info("replicate %d of %d done", replicate + 1, scenario.audit.replicates)
    return audit, tables_only(quality), rungs


def council_outcomes(
    data: SyntheticData | WorldFiles,
    scenario: Scenario,
    model: RiskModel,
    method: str,
    *,
    lean: bool = False,
) -> pd.DataFrame:
    """The council's side on ``data`` with ``method``'s links, and its outcomes.

    ``lean`` as for :func:`council_run`; the links and view are freed once the
    flags exist. A world on disk is linked, viewed and audited from its files
    (:func:`files_outcomes`), and gives a rung's columns only (``rung``).
    """
    if isinstance(data, WorldFiles):
        return files_outcomes(data, model, method, rung=True)
    flags = council_run(data, scenario, model, method=method, lean=lean).flags
    return rung_logged(flag_outcomes(data, flags, scenario), method)


def files_outcomes(
    world: WorldFiles,
    model: RiskModel,
    method: str,
    *,
    keep_links: bool = False,
    rung: bool = False,
    records: CountedRecords | None = None,
) -> pd.DataFrame:
    """:func:`council_outcomes` of a world on disk: links written, then read lean.

    The world's links file is replaced by ``method``'s (:func:`link_world`); their
    view is scored as its rows are made, never written (:func:`world_flags`): only
    the flags are held, without drivers (no task keeps them). The true links
    (``oracle``) are not written unless ``keep_links`` (a world whose links are
    measured after): a rung's view is made from the truth directly, and the links
    file is left as it was. A ``rung``'s outcomes are the columns attribution
    reads (:func:`world_outcomes`). ``records``: the oracle's view takes the
    world's counted records there, read by the first view of them (a rung task's
    worlds that differ only in their spine, :func:`rung_outcomes_files`).
    """
    oracle = method == "oracle" and not keep_links
    if not oracle:
        scenario = world.scenario
        config = method_config(scenario, method)
        link_world(world, config, stage_seed(scenario, "linkage"))
    held = records if oracle else None
    flags = world_flags(world, model, oracle=oracle, drivers=False, records=held)
    return rung_logged(world_outcomes(world, flags, rung=rung), method)


def rung_logged(outcomes: pd.DataFrame, method: str) -> pd.DataFrame:
    """``outcomes``, once a line says how many families ``method``'s links flag."""
    logger.info(
        "attribution rung (%s links): %d families flagged",
        method,
        int(outcomes["flagged"].sum()),
    )
    return outcomes


Rungs = dict[str, tuple[Scenario, str]]
"""Rungs of the ladder by name: each one's scenario and linkage method."""


def rung_worlds(scenario: Scenario) -> list[Rungs]:
    """The ladder's rungs that draw worlds of their own, one group per world drawn.

    Rungs whose scenarios differ only in the spine section share their population
    and every agency's records (only the spine's draws read that section:
    :func:`simulator.world.generate.spine_again`), so they are one group: the
    ladder's ``model`` and ``spine`` rungs. The rungs in the world's own scenario
    (:data:`audits.attribution.REAL_WORLD_RUNGS`) are not among them.

    Examples
    --------
    >>> [list(world) for world in rung_worlds(Scenario())]
    [['model', 'spine'], ['visibility']]
    """
    from audits.attribution import REAL_WORLD_RUNGS, ladder

    rungs = ladder(scenario)
    return by_world({r: rungs[r] for r in rungs if r not in REAL_WORLD_RUNGS})


def by_world(rungs: Rungs) -> list[Rungs]:
    """``rungs`` grouped by the world they draw, in order (:func:`rung_worlds`).

    Rungs whose scenarios and linkage methods differ at most in the spine section
    share a world.
    """
    from audits.counterfactuals import with_spine_of

    worlds: list[tuple[tuple[Scenario, str], Rungs]] = []
    reference = next(iter(rungs.values()))[0] if rungs else None
    for rung, (rung_scenario, method) in rungs.items():
        assert reference is not None
        key = (with_spine_of(rung_scenario, reference), method)  # all but the spine
        group = next((g for k, g in worlds if k == key), None)
        if group is None:
            worlds.append((key, group := {}))
        group[rung] = (rung_scenario, method)
    return [group for _, group in worlds]


def rung_tasks(
    scenario: Scenario, streamed: bool = False, *, twin: bool = False
) -> list[Rungs]:
    """The rungs a run sends its pool, one task's rungs each (:func:`submit_rungs`).

    In memory, one task per world drawn (:func:`rung_worlds`). ``streamed``
    (worlds through files), one task per population: worlds that draw the same
    population (:func:`simulator.world.generate.same_population`, the ``model``
    and ``visibility`` rungs' worlds) and are linked alike are generated in one
    pass (:func:`rung_outcomes_files`), the population drawn once for both. With
    ``twin``, not the :func:`twin_rung`: the world's own generation draws it.

    Examples
    --------
    >>> [list(rungs) for rungs in rung_tasks(Scenario(), streamed=True)]
    [['model', 'spine', 'visibility']]
    >>> [list(rungs) for rungs in rung_tasks(Scenario(), True, twin=True)]
    [['model', 'spine']]
    """
    worlds = rung_worlds(scenario)
    drawn = twin_rung(scenario) if twin else None
    if drawn is not None:
        worlds = [{r: v for r, v in w.items() if r != drawn[0]} for w in worlds]
        worlds = [w for w in worlds if w]
    if not streamed:
        return worlds
    tasks: list[Rungs] = []
    for world in worlds:
        scenario_, method = next(iter(world.values()))
        task = next(
            (
                t
                for t in tasks
                if same_population(next(iter(t.values()))[0], scenario_)
                and _lean(next(iter(t.values()))[1]) == _lean(method)
            ),
            None,
        )
        if task is None:
            tasks.append(dict(world))
        else:
            task.update(world)
    return tasks


def _lean(method: str) -> bool:
    """Whether a world linked by ``method`` is generated lean (the true links)."""
    return method == "oracle"


def twin_rung(scenario: Scenario) -> tuple[str, Scenario] | None:
    """The rung whose world is ``scenario``'s error-free twin, and its scenario.

    The ladder's ``visibility`` rung: ``scenario`` without errors, linked by the
    truth, so its world's records are the world's own before their errors
    (:func:`simulator.world.generate.same_records_before_errors`): a world
    streamed through files writes it as it is drawn (:class:`Written`'s
    ``before_errors_of``) rather than a rung task drawing it again. None if no
    rung is.

    >>> twin_rung(Scenario())[0]
    'visibility'
    """
    for world in rung_worlds(scenario):
        for rung, (rung_scenario, method) in world.items():
            if _lean(method) and same_records_before_errors(scenario, rung_scenario):
                return rung, rung_scenario
    return None


TWIN_DIRECTORY = ".twin"
"""Inside a replicate's scratch directory: its error-free twin (:func:`twin_rung`)."""


def twin_outcomes(
    twin: WorldFiles, rung: str, model: RiskModel
) -> dict[str, pd.DataFrame]:
    """The :func:`twin_rung` ``rung``'s outcomes from a world's error-free twin.

    As a rung task would give them (:func:`rung_outcomes`): the twin's files are
    those its world would be generated into (its scenario the rung's).
    """
    return {rung: rung_flags(files_outcomes(twin, model, "oracle", rung=True))}


def own_world(
    scenario: Scenario,
    directory: Path,
    progress: bool,
    sizes: StreamSizes,
    held: ExitStack | None = None,
) -> tuple[WorldFiles, tuple[WorldFiles, str] | None]:
    """The run's own world generated into ``directory``, and its twin if ``held``.

    With ``held``, the world's error-free twin (its :func:`twin_rung`'s world) is
    drawn with it into a scratch directory inside ``directory`` that ``held``
    removes: the twin's files and its rung's name (for :func:`twin_outcomes`).
    """
    drawn = twin_rung(scenario) if held is not None else None
    worlds = [Written(scenario, directory)]
    if drawn is not None:
        assert held is not None
        rung, clean = drawn
        at = held.enter_context(scratch_directory(directory))
        worlds.append(Written(clean, at, people=False, before_errors_of=0))
    files = generate_worlds(worlds, progress=progress, sizes=sizes)
    return files[0], None if drawn is None else (files[1], rung)


def rung_outcomes(
    rungs: Rungs, model: RiskModel, streamed: Streamed | None = None
) -> dict[str, pd.DataFrame]:
    """Rungs of the ladder that share a world but for its spine: their outcomes.

    Only the columns attribution reads are returned
    (:func:`audits.attribution.rung_flags`): a task pickles them to the run, which
    holds every world's rungs until it attributes. The first rung's world is
    generated; each other rung takes its population and records and draws only its
    own spine (:func:`simulator.world.generate.spine_again`),
    the tables :func:`generate` would give it. A world linked by the truth is
    generated lean: without the identity fields nothing of it reads. ``streamed``
    as for :func:`replicate_audit`: each rung's world is generated whole into the
    scratch directory (the same tables), one after the other.
    """
    if streamed is not None:
        return rung_outcomes_files(rungs, model, streamed)
    out = {}
    for world in by_world(rungs):
        data: SyntheticData | None = None
        last = list(world)[-1]
        for rung, (rung_scenario, method) in world.items():  # one or two rungs
            lean = _lean(method)
            if data is None:
                data = generate(rung_scenario, lean=lean)
            else:
                spine = spine_again(rung_scenario, data.households, data.people, lean)
                data = replace(data, scenario=rung_scenario, spine=spine)
            if rung == last:
                drop_people(data)  # read by spine_again only
            outcomes = council_outcomes(data, rung_scenario, model, method, lean=True)
            out[rung] = rung_flags(outcomes)
    return out


def rung_outcomes_files(
    rungs: Rungs, model: RiskModel, streamed: Streamed
) -> dict[str, pd.DataFrame]:
    """:func:`rung_outcomes` through files, in a scratch directory removed after.

    Every world of the rungs (:func:`by_world`) is generated into a directory of
    its own there, all in one pass (:func:`generate_worlds`: they must draw one
    population, as :func:`rung_tasks` groups them); of each other rung of a world,
    only its spine is drawn in that pass (``spine_only``), which replaces the
    world's once the rungs before it are done. Their records files being the
    same, the truth's views of them read their counted records once
    (:class:`~simulator.council.view_records.CountedRecords`). A world linked by
    the truth (``lean``) writes no records files: nothing but those views reads
    them, and what they count is drawn as the records are generated
    (:class:`~simulator.world.generate.Written`'s ``counted``). Its households
    file holds only what the outcomes read (:func:`rung_households`).
    """
    worlds = by_world(rungs)
    (lean,) = {_lean(method) for w in worlds for _, method in w.values()}
    out = {}
    with scratch_directory(streamed.root) as directory:
        made = []
        held: list[CountedRecords | None] = []
        for i, world in enumerate(worlds):
            held.append(CountedRecords() if lean or len(world) > 1 else None)
            for j, (rung_scenario, _) in enumerate(world.values()):
                at = directory / f"{i}.{j}"
                at.mkdir()
                counted = held[i] if lean and j == 0 else None
                made.append(
                    Written(
                        rung_scenario,
                        at,
                        people=False,
                        spine_only=j > 0,
                        counted=counted,
                        households=rung_households(rung_scenario),
                    )
                )
        sizes = streamed.sizes
        files = iter(generate_worlds(made, lean=lean, sizes=sizes, scratch=True))
        for world, records in zip(worlds, held, strict=True):
            world_files = next(files)
            for j, (rung, (rung_scenario, method)) in enumerate(world.items()):
                if j > 0:  # the world's files with this rung's spine
                    os.replace(next(files).spine_file, world_files.spine_file)
                    world_files = replace(world_files, scenario=rung_scenario)
                outcomes = files_outcomes(
                    world_files, model, method, rung=True, records=records
                )
                out[rung] = rung_flags(outcomes)
    return out


def real_world_rungs(
    data: SyntheticData | WorldFiles,
    scenario: Scenario,
    model: RiskModel,
    real: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """A world's rungs drawn in that world itself, from the data a run holds.

    The ladder gives these rungs (:data:`audits.attribution.REAL_WORLD_RUNGS`:
    ``data_error`` and the real run, ``linkage``) the world's own scenario, so
    generating it again would draw ``data`` byte for byte; only the linkage method
    differs. A rung linked with the run's own method is the run: its outcomes are
    ``real``.

    Parameters
    ----------
    data : SyntheticData or WorldFiles
        The world the run generated from ``scenario``, in memory or on disk.
    scenario : Scenario
        Its scenario (the run's, or a replicate's).
    model : RiskModel
        The fitted model.
    real : DataFrame
        The run's household outcomes (:func:`audit_council`).

    Returns
    -------
    dict of str to DataFrame
        Each of those rungs' household outcomes: ``real`` itself, or the columns
        attribution reads (:func:`audits.attribution.rung_flags`).
    """
    from audits.attribution import REAL_WORLD_RUNGS, ladder

    methods = {rung: method for rung, (_, method) in ladder(scenario).items()}
    return {
        rung: real
        if methods[rung] == scenario.linkage.method
        else rung_flags(council_outcomes(data, scenario, model, methods[rung]))
        for rung in REAL_WORLD_RUNGS  # two rungs
    }


def submit_rungs(
    pool: Pool,
    scenario: Scenario,
    model: RiskModel,
    streamed: Streamed | None = None,
    *,
    twin: bool = False,
) -> list[Task]:
    """Send the rungs of the ladder that draw worlds of their own to ``pool``.

    One task per :func:`rung_tasks` (``twin`` as there); the others
    (:func:`real_world_rungs`, and the twin's) come from the world's run.
    ``streamed`` as for :func:`replicate_audit`.
    """
    return [
        pool.submit(rung_outcomes, rungs, model, streamed)
        for rungs in rung_tasks(scenario, streamed is not None, twin=twin)
    ]


def attribute_rungs(
    scenario: Scenario,
    known: Sequence[dict[str, pd.DataFrame]],
    rungs: Sequence[list[Task]],
    progress: bool = False,
    timings: Timings | None = None,
    done: Sequence[Attribution] = (),
) -> PooledAttribution:
    """Attribute each world's errors from its rungs, and pool the worlds' counts.

    ``known`` are each world's rungs in its own world (:func:`real_world_rungs`:
    world 0's, then each replicate's); ``rungs`` each world's other rungs,
    generated from the ladder's scenarios of that world with the same fitted model
    (:func:`submit_rungs`); ``done`` the attributions of the first worlds, made
    already (:func:`attribute_first`).
    """
    from audits.pooled_attribution import pool_attribution

    later = len(done)
    tasks = [task for world in rungs[later:] for task in world]
    results = iter(collect(tasks, "attribution", progress, timings))
    worlds = list(done)
    for mine, world in zip(known[later:], rungs[later:], strict=True):  # per world
        worlds.append(_attributed(scenario, mine, [next(results) for _ in world]))
    return pool_attribution(worlds)


def attribute_first(
    scenario: Scenario,
    known: dict[str, pd.DataFrame],
    rungs: list[Task],
    timings: Timings | None = None,
) -> Attribution:
    """World 0's attribution alone, from its rungs (:func:`attribute_rungs`).

    What the run's report needs of the attribution but its pooled counts (the
    case files: :meth:`~simulator.pipeline.output.ReportMeanwhile.first_world`),
    made while the replicates' tasks still run.
    """
    return _attributed(scenario, known, collect(rungs, "attribution", False, timings))


def _attributed(
    scenario: Scenario,
    known: dict[str, pd.DataFrame],
    results: Sequence[dict[str, pd.DataFrame]],
) -> Attribution:
    """One world's attribution from its rungs' outcomes (``results``) and its own."""
    from audits.attribution import attribute

    outcomes = {k: v for result in results for k, v in result.items()}
    return attribute({**outcomes, **known}, scenario.audit.columns())
