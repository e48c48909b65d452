"""The argument parser of ``linkaudit``: one small function per subcommand.

Every subcommand has a description (its ``--help`` says what it does and writes), and
the global options ``-v`` and ``-q`` are accepted before or after the subcommand
(``linkaudit -v run ...`` and ``linkaudit run -v ...``). The command run is
``args.command``; :mod:`simulator.cli` maps it to its function.
"""

from __future__ import annotations

import argparse
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DESCRIPTION = (
    "Synthetic linked family records, council-style linkage and risk flags, audited "
    "against the truth. All data are synthetic."
)


def linkaudit_version() -> str:
    """The installed distribution's version (``unknown`` when run from a bare tree)."""
    try:
        return version("linkaudit")
    except PackageNotFoundError:
        return "unknown"


def _add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``-v`` and ``-q``; a subcommand's copy sets them only when they are given.

    The top-level parser holds the defaults (False); each subcommand's copy has no
    default (``SUPPRESS``), so it never undoes an option given before the subcommand.
    """
    default = False if top else argparse.SUPPRESS
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="log each stage; show the traceback of a failure",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", default=default, help="no progress bars"
    )


def _add_set_arg(p: argparse.ArgumentParser, example: str) -> None:
    """``--set PATH=VALUE`` (repeatable), collected in ``args.overrides``."""
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help=f"override a field, e.g. --set {example} (repeatable); a new model.kind "
        "drops the old kind's own fields",
    )


def _add_scenario_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    _add_set_arg(p, "population.n_households=5000")


def _add_output_args(p: argparse.ArgumentParser, *, default: str | None = None) -> None:
    """``-o/--output`` (required unless it has a default) and ``--force``."""
    if default is None:
        p.add_argument(
            "-o", "--output", type=Path, required=True, help="output directory"
        )
    else:
        p.add_argument(
            "-o", "--output", type=Path, help=f"output directory (default {default})"
        )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace an existing output that linkaudit wrote",
    )


HELP = {
    "validate": (
        "check a scenario file and summarise it",
        "Check a scenario file (and the model files or plug-ins it names) without "
        "running it; print a summary and every setting that differs from the "
        "defaults, or one line per problem.",
    ),
    "schema": (
        "print the JSON Schema of scenario files",
        "Print (or write) the JSON Schema of scenario files, for editors' completion "
        "and inline documentation.",
    ),
    "generate": (
        "generate truth, records and spine as Parquet",
        "Generate a scenario's synthetic data only: the hidden truth (families and "
        "people), each service's records and the council's family index, as Parquet, "
        "with a manifest.",
    ),
    "link": (
        "generate, link every source to the spine, write links and link quality",
        "Generate a scenario's data, link every source's records to the council's "
        "family index, and write the data, the links and the link quality (overall, "
        "by source and by group).",
    ),
    "run": (
        "run a scenario end to end: data, linkage, model, audit, report",
        "Run a scenario end to end: generate the data, link it, score and flag "
        "families with the council's model, audit the flags against the truth, "
        "attribute each wrong flag to its cause, and write every output and "
        "report.html.",
    ),
    "audit": (
        "audit a run again, a vendor's score file, or any table of real outcomes",
        "Either RUN_DIR (a directory written by `linkaudit run`), or --scores FILE "
        "with --truth DIR (a directory written by `linkaudit generate`, `link` or "
        "`run`), or --table FILE (any CSV or Parquet with a 0/1 outcome, scores or "
        "decisions, and group columns; writes report.html too). Change a run's "
        "audit with --set audit.target=harm, --set "
        "'audit.group_columns=[ethnicity, tenure]' and so on.",
    ),
    "sweep": (
        "run a scenario over one or two parameters and plot a metric by group",
        "Run the scenario (without attribution) at every value of one or two "
        "parameters, --replicates times each with its own seed, and collect every "
        "audit rate and link quality by group. Writes sweep.csv, sweep.parquet, "
        "sweep.png and sweep.json. Example: --vary "
        "agencies.police.errors.stale_address=0.2,0.6,0.9 --metric fpr",
    ),
    "explore": (
        "an interactive page: change one or two settings, see who is flagged",
        "Run the scenario (without attribution) at every point of a grid of one or "
        "two settings, each with its replicate worlds (audit.replicates, or "
        "--replicates), and write explore.html: one self-contained page with a "
        "slider per setting that shows, at once, the numbers flagged, wrongly "
        "flagged and missed by group with intervals, the chart, and a few families "
        "whose fate changes. Example: --vary model.min_problems=2,3 --vary "
        "agencies.police.events.incident.background_rate=0.03,0.06,0.12,0.24",
    ),
    "compare": (
        "put runs side by side: settings that differ, changes with intervals",
        "Compare run directories (written by `linkaudit run`, or by `linkaudit "
        "audit`) of the same population: the scenario fields that differ, every "
        "audit rate overall and by group with its change from the first run and the "
        "interval of the change, link quality and attribution counts. Writes "
        "compare.html, compare.csv and compare.json.",
    ),
    "clean": (
        "remove what interrupted linkaudit commands left in a directory",
        "Remove the hidden .NAME.XXXX.partial and .NAME.XXXX.old directories and "
        "unheld .NAME.lock files that killed linkaudit commands left in DIRECTORY; "
        "only what a linkaudit marker proves linkaudit made is removed, and nothing "
        "another running command holds.",
    ),
}
"""Each subcommand's one-line summary (in ``linkaudit --help``) and description."""


def _memory_limit(text: str) -> str:
    """``--memory-limit``, checked when parsed (a bad value is a usage error)."""
    from simulator.pipeline.memory_limit import memory_limit_bytes

    try:
        memory_limit_bytes(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def _add_resource_args(p: argparse.ArgumentParser) -> None:
    """``--no-attribution`` and ``--memory-limit``: what the estimate depends on."""
    p.add_argument(
        "--no-attribution",
        action="store_true",
        help="skip the attribution ladder (four fewer runs of the council's side)",
    )
    _add_memory_limit_arg(p, "a run")


def _add_memory_limit_arg(p: argparse.ArgumentParser, what: str) -> None:
    """``--memory-limit``: refuse what would not fit; workers fit within it."""
    from simulator.pipeline.memory_limit import DEFAULT_MEMORY_LIMIT

    p.add_argument(
        "--memory-limit",
        type=_memory_limit,
        default=DEFAULT_MEMORY_LIMIT,
        metavar="SIZE",
        help=f"refuse {what} estimated to need more memory than this: a share of "
        "RAM (80%%) or a size (16GiB); 0 never refuses (default: %(default)s)",
    )


def _add_stream_arg(p: argparse.ArgumentParser, text: str) -> None:
    """``--stream``: the run through files (and estimated so)."""
    p.add_argument("--stream", action="store_true", help=text)


def _validate_args(p: argparse.ArgumentParser) -> None:
    _add_scenario_args(p)
    _add_resource_args(p)
    _add_stream_arg(
        p,
        "estimate the run as `run --stream` would make it, through files (without "
        "it, as `run` would: through files if held in memory it would need more "
        "than --memory-limit)",
    )


def _schema_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", type=Path, help="write to this file")


def _generate_args(p: argparse.ArgumentParser) -> None:
    _add_scenario_args(p)
    _add_output_args(p)


def _link_args(p: argparse.ArgumentParser) -> None:
    _add_scenario_args(p)
    p.add_argument(
        "--method",
        choices=["deterministic", "splink", "oracle"],
        help="linkage method (default: the scenario's linkage.method)",
    )
    _add_output_args(p)


def _add_worker_args(p: argparse.ArgumentParser, what: str) -> None:
    """``--workers N`` and ``--cluster ADDRESS`` (docs/scale.md)."""
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help=f"processes running {what} at once (default: $LINKAUDIT_WORKERS, else "
        "the machine's cores, fewer if memory is short; small runs run serially); "
        "the outputs are the same",
    )
    p.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help=f"run {what} on the Dask cluster whose scheduler is at ADDRESS "
        "(e.g. tcp://host:8786; needs pip install 'linkaudit[cluster]')",
    )


def _run_args(p: argparse.ArgumentParser) -> None:
    _add_scenario_args(p)
    _add_resource_args(p)
    _add_worker_args(p, "the attribution rungs, replicates and history cohort")
    _add_stream_arg(
        p,
        "run through files: the real world generated straight into the "
        "output being written (but over dynamics.periods > 1), the replicates and "
        "attribution rungs each in a scratch directory inside it (the default when "
        "the run held in memory would need more than --memory-limit); the same "
        "outputs",
    )
    p.add_argument(
        "--view",
        choices=["full", "lesson"],
        help="full: report.html only; lesson: also lesson.html, a short page for a "
        "class (default: the scenario's report.view)",
    )
    _add_output_args(p, default="out/<name>")


def _audit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", nargs="?", type=Path, help="a run directory")
    p.add_argument(
        "--scores",
        type=Path,
        help="CSV or Parquet with spine_household_id and score, one row per spine "
        "household",
    )
    p.add_argument(
        "--truth", type=Path, help="the generated dataset the scores are for"
    )
    p.add_argument(
        "--flag",
        metavar="RULE=VALUE",
        help="how scores become flags: threshold=X (scores at or above X), "
        "top_percent=P or budget=N (default for --scores: the scenario's model's rule)",
    )
    _add_set_arg(p, "audit.target=harm")
    _table_args(p)
    _add_output_args(p)


def _table_args(p: argparse.ArgumentParser) -> None:
    """``audit --table FILE``: a table of real outcomes and decisions (or scores)."""
    t = p.add_argument_group(
        "audit a table you already have",
        "--table FILE --label COL (--score COL --flag RULE=VALUE | --flagged COL) "
        "--group COL [--group COL ...]",
    )
    t.add_argument("--table", type=Path, help="a CSV or Parquet file, one row a case")
    t.add_argument("--label", metavar="COL", help="the 0/1 outcome column")
    t.add_argument(
        "--score", metavar="COL", help="a numeric score column (with --flag)"
    )
    t.add_argument("--flagged", metavar="COL", help="a column of 0/1 decisions")
    t.add_argument(
        "--group",
        dest="groups",
        action="append",
        default=[],
        metavar="COL",
        help="a column whose groups are compared (repeatable)",
    )
    t.add_argument(
        "--intersection",
        dest="intersections",
        action="append",
        default=[],
        metavar="COL,COL",
        help="columns whose joint groups are compared (repeatable)",
    )
    t.add_argument(
        "--reference",
        dest="references",
        action="append",
        default=[],
        metavar="COL=VALUE",
        help="the reference group of a column (default: the largest; repeatable)",
    )
    t.add_argument("--id", metavar="COL", help="unique ids: ties at a cut go lower id")
    t.add_argument(
        "--weight", metavar="COL", help="row weights: counts become sums of weights"
    )
    t.add_argument(
        "--max-size",
        default="4GiB",
        metavar="SIZE",
        help="refuse a larger file (default 4GiB; e.g. 500MB, 16GiB)",
    )
    t.add_argument(
        "--n-boot", type=int, default=1000, help="bootstrap resamples (default 1000)"
    )
    t.add_argument(
        "--confidence", type=float, default=0.95, help="interval coverage (0.95)"
    )
    t.add_argument(
        "--min-group-size",
        type=int,
        default=50,
        help="smaller groups are marked and warned about (default 50)",
    )
    t.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")


def _add_vary_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="PATH=V1,V2,...",
        help="a setting and its values, parsed as YAML (at most two --vary)",
    )


def _sweep_args(p: argparse.ArgumentParser) -> None:
    _add_scenario_args(p)
    _add_vary_arg(p)
    p.add_argument(
        "--replicates",
        type=int,
        default=1,
        help="runs per point, each with its own seed (default 1)",
    )
    p.add_argument(
        "--metric",
        default="fpr",
        help="metric plotted and printed: selection_rate, tpr, fpr (default), fnr, "
        "precision, wrongly_flagged_per_10k, link_recall, link_precision, link_f1",
    )
    p.add_argument(
        "--group",
        default="imd_quintile",
        help="household attribute to compare groups by (default imd_quintile)",
    )
    _add_worker_args(p, "the sweep's runs")
    _add_memory_limit_arg(p, "a sweep whose largest run is")
    _add_output_args(p, default="out/<name>-sweep")


def _explore_args(p: argparse.ArgumentParser) -> None:
    _add_scenario_args(p)
    _add_vary_arg(p)
    p.add_argument(
        "--replicates",
        type=int,
        default=None,
        help="worlds per point (default: the scenario's audit.replicates)",
    )
    _add_worker_args(p, "the grid's points")
    _add_memory_limit_arg(p, "a grid whose largest point is")
    _add_output_args(p, default="out/<name>-explore")


def _compare_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "runs", nargs="+", type=Path, metavar="RUN", help="run directories, base first"
    )
    _add_output_args(p)


def _clean_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", type=Path, help="the directory holding the outputs")


ARGUMENTS = {
    "validate": _validate_args,
    "schema": _schema_args,
    "generate": _generate_args,
    "link": _link_args,
    "run": _run_args,
    "audit": _audit_args,
    "sweep": _sweep_args,
    "explore": _explore_args,
    "compare": _compare_args,
    "clean": _clean_args,
}
"""Each subcommand's own arguments, in the order ``linkaudit --help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``linkaudit`` command."""
    parser = argparse.ArgumentParser(prog="linkaudit", description=DESCRIPTION)
    parser.add_argument(
        "--version", action="version", version=f"linkaudit {linkaudit_version()}"
    )
    _add_global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, add_arguments in ARGUMENTS.items():
        summary, description = HELP[name]
        p = sub.add_parser(name, help=summary, description=description)
        _add_global_options(p, top=False)
        add_arguments(p)
    return parser
