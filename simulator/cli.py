"""``linkaudit``: validate, schema, generate, link, run, audit, sweep, explore, compare.

Each command parses its arguments here and calls the pipeline.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.cli_parser import build_parser
from simulator.errors import ScenarioError
from simulator.failures import run_command
from simulator.vocabulary import OVERALL, SOURCES

if TYPE_CHECKING:  # the libraries load in the commands: see _start_workers
    from audits.link_quality import LinkQuality
    from simulator.schema.scenario import Scenario

log = logging.getLogger("linkaudit")


def _check_scenario_path(path: Path) -> None:
    """Refuse a scenario path that is not a readable file, in one line."""
    from simulator.errors import InputDataError

    if path.is_dir():
        raise InputDataError(f"{path}: is a directory; give a scenario YAML file")
    if not path.exists():
        raise InputDataError(f"{path}: no such file; give a scenario YAML file")


def _load(args: argparse.Namespace) -> Scenario:
    """The command's scenario (file checked first, then ``--set`` applied)."""
    from simulator.schema.loading import load_scenario

    _check_scenario_path(args.scenario)
    return load_scenario(args.scenario, args.overrides)


def _scenario_inputs(path: Path, scenario: Scenario | None) -> list[Path]:
    """What a command reading ``path`` reads: the file and its model's files."""
    from simulator.council.models.external import external_inputs

    model = [] if scenario is None else external_inputs(scenario.model, path.parent)
    return [path, *model]


def _claim(
    args: argparse.Namespace, out: Path, inputs: list[Path]
) -> contextlib.AbstractContextManager:
    """Claim the command's output before any work (checked, locked, writable)."""
    from simulator.output_dirs import claim_output

    return claim_output(out, overwrite=args.force, inputs=inputs)


def _summary(s: Scenario, origin: str) -> str:
    enabled = [n for n in SOURCES if s.agencies.source(n).enabled]
    pop = s.population
    return "\n".join(
        [
            f"{origin}: valid",
            f"  name: {s.name}",
            f"  seed: {s.seed}",
            f"  households: {pop.n_households:,} in {pop.n_areas:,} areas",
            f"  eligible if at least {s.eligibility.min_needs} of 6 true problems",
            f"  sources: {', '.join(enabled)}",
            f"  observation window: {s.time.observation_days} days to "
            f"{s.time.reference_date}, follow-up {s.time.followup_days} days",
            *_changes_lines(s),
        ]
    )


def _changes_lines(s: Scenario) -> list[str]:
    """The settings that differ from the defaults, one a line."""
    from simulator.schema.settings import changed_settings

    changes = changed_settings(s)
    if not changes:
        return ["  every setting has its default value"]
    return [
        f"  {len(changes)} setting(s) differ from the defaults:",
        *(f"    {key}: {mine} (default {default})" for key, mine, default in changes),
    ]


def _estimate_line(
    args: argparse.Namespace,
    scenario: Scenario,
    workers: Any,
    streams: bool = False,
    output: Path | None = None,
) -> str:
    """The run's estimated cost on this machine; refused if over --memory-limit.

    With ``streams``, a run whose estimate held in memory is over
    the limit streams its tasks through files if that needs less (small runs
    need more: DuckDB's and a chunk's fixed memory), and is checked against that
    estimate instead; ``--stream`` streams whatever the estimates. With
    ``output``, also refused if that output's disk lacks the room to finish.
    """
    from simulator.pipeline.estimate import (
        check_fits,
        check_room,
        estimate_for,
        streams_better,
    )

    attribution = not args.no_attribution
    estimate = estimate_for(scenario, attribution=attribution, workers=workers)
    if streams:
        lean = estimate_for(
            scenario, attribution=attribution, workers=workers, streamed=True
        )
        if args.stream or streams_better(estimate, lean, args.memory_limit):
            args.stream, estimate = True, lean
    check_fits(
        estimate,
        scenario,
        str(args.scenario),
        args.memory_limit,
        attribution=attribution,
    )
    if output is not None:
        check_room(estimate, output, str(args.scenario))
    streamed = ""
    if streams and args.stream:
        streamed = (
            " (its real world and tasks streamed through files)"
            if streams_world(args, scenario)
            else " (its tasks streamed through files; its real world held in memory "
            "over its periods)"
        )
    return f"  estimate on this machine{streamed}: {estimate.line()}"


def _grid_estimate_line(
    args: argparse.Namespace, scenarios: list[Scenario], workers: Any, command: str
) -> str:
    """A sweep's or an exploration's cost; refused if its largest run would not fit.

    Its runs are held in memory one to a process, so the largest alone must fit
    within ``--memory-limit`` (the pool starts fewer workers when two would not).
    """
    from simulator.pipeline.estimate import check_fits, estimate_for, grid_estimate

    estimate, largest = grid_estimate(scenarios, workers)
    check_fits(
        estimate_for(largest, attribution=False),
        largest,
        f"{args.scenario} ({command}'s largest run)",
        args.memory_limit,
        attribution=False,
    )
    return f"  estimate on this machine: {estimate.line()}"


def _say_estimate(args: argparse.Namespace, line: str) -> None:
    """The estimate as the command's first line on stderr (not with ``-q``)."""
    if not args.quiet:
        print(f"linkaudit: {line.strip()}", file=sys.stderr)  # noqa: T201


def streams_world(args: argparse.Namespace, scenario: Scenario) -> bool:
    """Whether ``run`` streams its own real world into its output, not only its tasks.

    With ``--stream`` (or when ``run`` streams by itself), if the scenario's world
    can stream (:func:`simulator.pipeline.estimate.streams_own_world`).
    """
    from simulator.pipeline.estimate import streams_own_world

    return bool(args.stream) and streams_own_world(scenario)


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate a scenario (and the files its model names) and print a summary.

    The summary ends with the run's estimated time, memory and disk, as ``run``
    would make it (streamed through files if that is what ``run`` would do); a run
    that would not fit in ``--memory-limit`` is refused here as ``run`` would
    refuse it.
    """
    from simulator.council.models.external import check_external

    scenario = _load(args)
    check_external(scenario.model, args.scenario.resolve().parent)
    estimate = _estimate_line(args, scenario, _workers(args), streams=True)
    print(_summary(scenario, str(args.scenario)), estimate, sep="\n")  # noqa: T201
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Print or write the JSON Schema of scenario files."""
    from simulator.schema.loading import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    """Generate a scenario's data straight to disk, chunk by chunk, atomically."""
    from simulator.world.generate import generate_dataset, records_source

    scenario = _load(args)
    with _claim(args, args.output, _scenario_inputs(args.scenario, scenario)):
        rows = generate_dataset(
            scenario, args.output, overwrite=args.force, progress=not args.quiet
        )
    records = ", ".join(
        f"{source} {n:,}"
        for rel, n in rows.items()
        if (source := records_source(rel)) is not None
    )
    print(  # noqa: T201
        f"wrote {args.output}: {rows['truth/households.parquet']:,} households, "
        f"{rows['truth/people.parquet']:,} people, spine {rows['spine.parquet']:,}; "
        f"records: {records}"
    )
    return 0


def _quality_lines(
    q: LinkQuality, scenario: Scenario, others: Sequence[LinkQuality] = ()
) -> list[str]:
    """The link quality as console lines, pooled with ``others`` when given.

    ``others`` are the replicate worlds' link quality: the counts and rates are
    then of every world's links summed, with the range of one world's precision
    and recall.
    """
    from audits.pooled_links import pool_quality, rate_range

    worlds = (q, *others)
    q = pool_quality(worlds)
    o = q.overall.iloc[0]
    pooled = f", pooled over {len(worlds)} worlds" if others else ""
    lines = [
        f"linkage ({scenario.linkage.method}{pooled}): "
        f"precision {o['precision']:.4f}, recall {o['recall']:.4f}, "
        f"F1 {o['f1']:.4f}; {int(o['n_false']):,} false links, "
        f"{int(o['n_missed']):,} missed of {int(o['n_linkable']):,} linkable records",
        f"  {int(o['n_wrong_subject']):,} more linked as recorded to someone the event "
        f"does not concern (data errors): subject precision "
        f"{o['subject_precision']:.4f}",
    ]
    if others:
        spread = rate_range(worlds)
        lines.append(
            "  one world's precision {:.4f} to {:.4f}, recall {:.4f} to {:.4f}".format(
                *spread.loc[["precision", "recall"]].to_numpy().ravel()
            )
        )
    for source, r in q.by_source.iterrows():
        lines.append(
            f"  {source:<12} precision {r['precision']:.4f}  recall {r['recall']:.4f}"
        )
    return lines


def cmd_link(args: argparse.Namespace) -> int:
    """Generate a scenario, link every source to the spine, write links and quality.

    Straight to disk, in memory bounded by settings
    (:mod:`simulator.pipeline.linked_files`).
    """
    from simulator.pipeline.linked_files import write_linked_files
    from simulator.pipeline.run import stage_seeds

    scenario = _load(args)
    if args.method:
        scenario = scenario.model_copy(
            update={
                "linkage": scenario.linkage.model_copy(update={"method": args.method})
            }
        )
    seeds = stage_seeds(scenario)
    with _claim(args, args.output, _scenario_inputs(args.scenario, scenario)):
        out, quality = write_linked_files(
            scenario, seeds, args.output, overwrite=args.force, progress=not args.quiet
        )
    print(f"wrote {out}", *_quality_lines(quality, scenario), sep="\n")  # noqa: T201
    return 0


def _attribution_lines(attribution: Any) -> list[str]:
    """The causes' counts overall: with several worlds, mean per world (range)."""
    from audits.attribution import CAUSE_LABELS
    from audits.report.text import pooled_count

    counts = attribution.counts
    rows = counts[counts["group"] == OVERALL].set_index("error")
    lines = []
    for error, label in (
        ("false_positive", "wrongly flagged"),
        ("false_negative", "missed"),
    ):
        if error not in rows.index:
            continue
        r = rows.loc[error]
        parts = ", ".join(
            f"{CAUSE_LABELS[c]} {pooled_count(r, c)}"
            for c in CAUSE_LABELS
            if c in r and r[c]
        )
        lines.append(f"  {label} {pooled_count(r, 'total')}: {parts or 'none'}")
    pooled = (
        f"; mean per world over {attribution.worlds} worlds, smallest to largest "
        "world in brackets"
        if attribution.worlds > 1
        else ""
    )
    return [f"why (first rung of the ladder where it appears{pooled}):", *lines]


def _workers(args: argparse.Namespace) -> Any:
    """The command's ``--workers`` and ``--cluster`` (else ``LINKAUDIT_WORKERS``).

    ``validate`` has no ``--workers``: its estimate assumes the default (the
    environment's setting, else as many as the cores and memory allow). Workers
    never start more processes than ``--memory-limit`` leaves room for.
    """
    from simulator.pipeline.memory_limit import memory_limit_bytes
    from simulator.pipeline.parallel import workers_from_env

    limit = getattr(args, "memory_limit", None)
    return workers_from_env(
        getattr(args, "workers", None),
        getattr(args, "cluster", None),
        memory_limit_bytes(limit) if limit is not None else None,
    )


@contextlib.contextmanager
def _libraries_loading() -> Iterator[None]:
    """The garbage collector off while the block imports the command's libraries.

    Imports make many objects and little garbage: the collections they set off were
    about 0.14 s of the 1.2 s of CPU a sweep's imports take (docs/performance.md,
    "Parallel runs and sweeps"). It is on again after the block, as it was.
    """
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _start_workers(args: argparse.Namespace) -> None:
    """Start the workers' fork server first if ``--workers`` asks for more than one.

    The server imports linkaudit's libraries (about 2 s of CPU) on the other core
    while this process imports them, so the workers are ready when the first task
    is (:func:`simulator.pipeline.parallel.start_workers`). That is why this module
    imports the libraries inside the commands rather than at its top.
    """
    from simulator.pipeline.parallel import start_workers, workers_from_env

    start_workers(
        workers_from_env(getattr(args, "workers", None), getattr(args, "cluster", None))
    )


def _period_lines(result: Any) -> list[str]:
    """The headline question asked of every period of a run (one line a period)."""
    from audits.periods import METRICS
    from audits.periods_headline import period_lines, period_question

    question = period_question(result.audit)
    if question is None:
        return []
    return period_lines(result.periods[METRICS], question)


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario end to end and write every output, the audit and the report."""
    from audits.tables import audit_summary
    from simulator.cli_headline import headline_lines
    from simulator.cli_outputs import reader_lines
    from simulator.pipeline.output import ReportMeanwhile, write_run
    from simulator.pipeline.periods import run
    from simulator.pipeline.streamed import scratch_root

    if args.view is not None:
        args.overrides = [*(args.overrides or []), f"report.view={args.view}"]
    scenario = _load(args)
    workers = _workers(args)
    out_dir = args.output or Path("out") / scenario.name
    # refused before any writing; sets args.stream when held in memory is too much
    line = _estimate_line(args, scenario, workers, streams=True, output=out_dir)
    _say_estimate(args, line)
    with _claim(args, out_dir, _scenario_inputs(args.scenario, scenario)) as claim:
        local = workers.cluster is None
        streams = streams_world(args, scenario)
        meanwhile = ReportMeanwhile() if streams else None  # its world's output
        with scratch_root(claim.partial, args.stream, local) as streamed:
            result = run(
                scenario,
                attribution=not args.no_attribution,
                base_dir=args.scenario.resolve().parent,
                progress=not args.quiet,
                workers=workers,
                streamed=streamed,
                directory=claim.partial if streams else None,
                meanwhile=meanwhile,
            )
        out = write_run(
            result,
            out_dir,
            overwrite=args.force,
            progress=not args.quiet,
            workers=workers,
            meanwhile=meanwhile,
        )
    quality = _quality_lines(result.link_quality, scenario, result.link_quality_worlds)
    lines = [f"wrote {out}", *quality]
    lines += headline_lines(audit_summary(result.audit))
    if result.attribution is not None:
        lines += _attribution_lines(result.attribution)
    if result.periods:
        lines += _period_lines(result)
        periods = scenario.dynamics.periods
        lines.append(f"periods 1 to {periods}: {out / 'periods'}")
    lines += reader_lines(out)
    print(*lines, sep="\n")  # noqa: T201
    return 0


def flag_rule(text: str) -> Any:
    """A flag rule from ``threshold=X``, ``top_percent=P`` or ``budget=N``."""
    from pydantic import ValidationError

    from simulator.council.models import FlagRule

    key, sep, value = text.partition("=")
    try:
        if not sep:
            raise ValueError("expected RULE=VALUE")
        return FlagRule.model_validate({key.strip(): value.strip()})
    except (ValueError, ValidationError) as e:
        msg = (
            "; ".join(err["msg"].removeprefix("Value error, ") for err in e.errors())
            if isinstance(e, ValidationError)
            else str(e)
        )
        raise ScenarioError(
            [f"--flag {text}: expected threshold=X, top_percent=P or budget=N ({msg})"]
        ) from None


def cmd_audit(args: argparse.Namespace) -> int:
    """Audit a run's flags again, a vendor's score file, or a table of real outcomes."""
    from audits.tables import audit_summary, write_audit
    from audits.transparency import run_record
    from audits.transparency_files import write_transparency
    from simulator.cli_table import check_table_options, cmd_audit_table
    from simulator.pipeline.output import read_audit_inputs, read_link_quality
    from simulator.pipeline.run import audit_outcomes, stage_seeds

    given = [x is not None for x in (args.run_dir, args.scores, args.table)]
    if sum(given) != 1:
        raise ScenarioError(
            [
                "audit: give either RUN_DIR, or --scores FILE with --truth DIR, or "
                "--table FILE"
            ]
        )
    if args.table is not None:
        return cmd_audit_table(args)
    check_table_options(args)
    if args.scores is not None and args.truth is None:
        raise ScenarioError(["audit: --scores needs --truth DIR (the dataset scored)"])
    from audits.outcomes import household_outcomes

    inputs = [p for p in (args.run_dir, args.scores, args.truth) if p is not None]
    with _claim(args, args.output, inputs):
        data, flags, scenario = read_audit_inputs(
            run_dir=args.run_dir,
            scores=args.scores,
            truth=args.truth,
            flag_rule=None if args.flag is None else flag_rule(args.flag),
            overrides=args.overrides,
        )
        outcomes = household_outcomes(
            data.households, data.spine, flags, target=scenario.audit.target
        )
        result = audit_outcomes(outcomes, scenario, stage_seeds(scenario))
        if args.run_dir is not None:  # a linkage headline reads the run's links
            result = replace(result, link_quality=read_link_quality(args.run_dir))
        record = run_record(
            scenario,
            result,
            data.sources,
            rule=None if args.flag is None else flag_rule(args.flag),
            kind="audit of a run" if args.scores is None else "audit of a score file",
            scores_file=None if args.scores is None else str(args.scores),
        )
        out = write_audit(
            result,
            args.output,
            overwrite=args.force,
            extra=lambda tmp: (
                write_transparency(record, tmp)
                | _reaudit_report(result, args, scenario, tmp)
            ),
        )
    from simulator.cli_headline import headline_lines
    from simulator.cli_outputs import reader_lines

    lines = [f"wrote {out}", *headline_lines(audit_summary(result)), *reader_lines(out)]
    print(*lines, sep="\n")  # noqa: T201
    return 0


def _reaudit_report(
    result: Any, args: argparse.Namespace, scenario: Scenario, directory: Path
) -> dict[str, int]:
    """Write a re-audit's report.html (what was audited, what it cannot show)."""
    from audits.report.audit_page import (
        RUN_NOT_HERE,
        SCORES_NOT_HERE,
        write_audit_report,
    )
    from audits.report.describe import flag_rule_text

    rule = scenario.model.flag_rule() if args.flag is None else flag_rule(args.flag)
    if args.run_dir is not None:
        what, not_here = f"the flags of the run in {args.run_dir}", RUN_NOT_HERE
    else:
        what = f"the scores in {args.scores}, for the dataset in {args.truth}"
        not_here = SCORES_NOT_HERE
    rule_words = (
        "the run's own flags"
        if args.run_dir is not None and args.flag is None
        else f"a rule that {flag_rule_text(rule)}"
    )
    origin = f"{what}; flags: {rule_words}"
    return {write_audit_report(result, directory, origin, not_here).name: 1}


def cmd_clean(args: argparse.Namespace) -> int:
    """Remove what interrupted linkaudit commands left in a directory."""
    from simulator.output_dirs import clean

    removed = clean(args.directory)
    for path in removed:
        print(f"removed {path}")  # noqa: T201
    if not removed:
        print(f"{args.directory}: nothing left by interrupted commands")  # noqa: T201
    return 0


def _grid_command(
    args: argparse.Namespace, command: str
) -> tuple[list, dict, Any, Path]:
    """A sweep's or an exploration's ``--vary`` settings, scenario, workers and output.

    The scenario is read as a mapping with ``--set`` applied (so ``--vary`` may
    change what a Scenario's defaults would fix); the output defaults to
    ``out/<name>-<command>``.
    """
    from simulator.cli_sweep import parse_vary
    from simulator.schema.loading import apply_overrides, read_yaml

    varies = [parse_vary(text) for text in args.vary]
    _check_scenario_path(args.scenario)
    data = apply_overrides(read_yaml(args.scenario), args.overrides)
    name = data.get("name") or "unnamed"
    return (
        varies,
        data,
        _workers(args),
        args.output or Path("out") / f"{name}-{command}",
    )


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a scenario over one or two parameters, with replicates, and plot a metric."""
    with _libraries_loading():
        from audits.report.sweep_chart import load_matplotlib
        from simulator.cli_sweep import check_metric, text_table
        from simulator.pipeline.sweep import plan_sweep, summarise, sweep
        from simulator.pipeline.sweep_files import write_sweep

    check_metric(args.metric)
    varies, data, workers, out_dir = _grid_command(args, "sweep")
    plan = plan_sweep(
        data, varies, args.replicates, args.group, origin=str(args.scenario)
    )
    _say_estimate(args, _grid_estimate_line(args, plan.scenarios, workers, "sweep"))
    with _claim(args, out_dir, _scenario_inputs(args.scenario, None)):
        table = sweep(
            data,
            varies,
            replicates=args.replicates,
            group_column=args.group,
            base_dir=args.scenario.resolve().parent,
            origin=str(args.scenario),
            progress=not args.quiet,
            workers=workers,
            meanwhile=load_matplotlib,
            plan=plan,
        )
        summary = summarise(table, args.metric)  # once, for the chart and the text
        out = write_sweep(
            table, out_dir, metric=args.metric, overwrite=args.force, summary=summary
        )
    print(  # noqa: T201
        f"wrote {out}: sweep.csv, sweep.parquet, sweep.png, sweep.json "
        f"({len(table):,} rows)",
        f"{args.metric} by {args.group} (pooled over {args.replicates} replicate(s)):",
        text_table(table, args.metric, summary),
        sep="\n",
    )
    return 0


def cmd_explore(args: argparse.Namespace) -> int:
    """Run a scenario over a grid of one or two settings; write explore.html.

    Bad input (a ``--vary``, a point's scenario) is one ``linkaudit:`` line.
    """
    from simulator.errors import InputDataError

    try:
        return _explore(args)
    except ScenarioError as e:  # a problem of every point is said once
        said: dict[str, str] = {}
        for problem in e.problems:
            what = (
                problem.split(": ", 1)[-1] if problem.startswith("--vary") else problem
            )
            said.setdefault(what, problem)
        raise InputDataError("; ".join(said.values())) from None


def _explore(args: argparse.Namespace) -> int:
    from simulator.pipeline.explore import explore, plan_explore, write_exploration

    varies, data, workers, out_dir = _grid_command(args, "explore")
    *_, scenarios = plan_explore(
        data, varies, args.replicates, origin=str(args.scenario)
    )
    _say_estimate(args, _grid_estimate_line(args, scenarios, workers, "explore"))
    with _claim(args, out_dir, _scenario_inputs(args.scenario, None)):
        exploration = explore(
            data,
            varies,
            replicates=args.replicates,
            base_dir=args.scenario.resolve().parent,
            origin=str(args.scenario),
            progress=not args.quiet,
            workers=workers,
        )
        page = write_exploration(exploration, out_dir, overwrite=args.force)
    print(  # noqa: T201
        f"wrote {page} ({len(exploration.points)} points x "
        f"{exploration.base.audit.replicates} world(s); "
        f"{page.stat().st_size / 2**20:.1f} MB)"
    )
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Put runs side by side, the first as the base, and write the comparison."""
    from audits.compare import compare
    from audits.compare_files import write_comparison

    with _claim(args, args.output, list(args.runs)):
        comparison = compare(args.runs)
        out = write_comparison(comparison, args.output, overwrite=args.force)
    print(  # noqa: T201
        f"wrote {out}: compare.html, compare.csv, compare.json "
        f"({len(comparison.table):,} rows; base {comparison.labels[0]})",
        *comparison.notes,
        sep="\n",
    )
    return 0


COMMANDS = {
    "validate": cmd_validate,
    "schema": cmd_schema,
    "generate": cmd_generate,
    "link": cmd_link,
    "run": cmd_run,
    "audit": cmd_audit,
    "sweep": cmd_sweep,
    "explore": cmd_explore,
    "compare": cmd_compare,
    "clean": cmd_clean,
}
"""The function of each subcommand of :func:`~simulator.cli_parser.build_parser`."""


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Warnings as one plain line each, without the source line."""
    print(f"linkaudit: warning: {message}", file=sys.stderr)  # noqa: T201


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    At exit the garbage collector is frozen first (:func:`gc.freeze`): the
    interpreter's last collections would otherwise walk every object the libraries
    made, about 0.4 s of every command (docs/performance.md, "Parallel runs and
    sweeps"). Exit handlers run and live objects are freed as before; only garbage
    cycles left at exit go uncollected, and the operating system frees them.
    """
    import atexit
    import gc
    import warnings

    atexit.unregister(gc.freeze)  # once, however often main is called (tests)
    atexit.register(gc.freeze)  # runs after the handlers registered later
    warnings.showwarning = _show_warning
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    return run_command(_command, args, verbose=args.verbose)


def _command(args: argparse.Namespace) -> int:
    """Run ``args``'s command, starting its workers first if it has ``--workers``.

    First, before anything here imports pandas (``simulator.output_dirs`` does):
    the fork server's imports then overlap all of this process's
    (:func:`_start_workers`). Inside :func:`run_command`, so that a bad
    ``--workers`` is one ``linkaudit:`` line.
    """
    if hasattr(args, "workers"):
        _start_workers(args)
    with _libraries_loading():
        from simulator.output_dirs import removed_partials

    removed_partials.clear()  # a previous command's, in this process (tests)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
