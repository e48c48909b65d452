"""``linkaudit audit --table FILE``: audit a table of real outcomes, by group.

The command line of :func:`audits.table.audit_table`: the options are parsed into
its arguments (``--reference COL=VALUE``, ``--intersection COL,COL``), the output is
claimed before any work (:func:`simulator.output_dirs.claim_output`, so a bad table
leaves nothing behind), and the audit is written with its report
(:func:`audits.table_files.write_table_audit`).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from simulator.cli_outputs import reader_lines
from simulator.errors import InputDataError, ScenarioError

RUN_ONLY = {"scores": "--scores", "truth": "--truth", "overrides": "--set"}
"""Options of a run's audit that mean nothing for a table, by attribute."""
if TYPE_CHECKING:
    from audits.result import AuditResult

TABLE_ONLY = ("label", "score", "flagged", "id", "weight")
"""Options that only a table audit takes."""


def _pairs(texts: list[str], option: str) -> dict[str, str]:
    """``COL=VALUE`` options as a dict; a malformed one is one line."""
    out = {}
    for text in texts:
        column, sep, value = text.partition("=")
        if not sep or not column.strip():
            raise InputDataError(f"{option} {text!r}: expected COL=VALUE")
        out[column.strip()] = value.strip()
    return out


def _intersections(texts: list[str]) -> list[tuple[str, ...]]:
    """``COL,COL`` options as tuples of column names."""
    out = []
    for text in texts:
        columns = tuple(c.strip() for c in text.split(","))
        if len(columns) < 2 or not all(columns):
            raise InputDataError(
                f"--intersection {text!r}: expected two or more columns, COL,COL"
            )
        out.append(columns)
    return out


def check_table_options(args: argparse.Namespace) -> None:
    """Refuse a mix of a run's audit options and a table's, in one line each."""
    problems = []
    if args.table is not None:
        problems += [
            f"audit --table: {option} is for a run's audit"
            for name, option in RUN_ONLY.items()
            if getattr(args, name)
        ]
        problems += [] if args.label else ["audit --table: give --label COL"]
        problems += [] if args.groups else ["audit --table: give --group COL"]
        if (args.flagged is None) == (args.flag is None):
            problems.append(
                "audit --table: give either --score COL with --flag RULE=VALUE, or "
                "--flagged COL"
            )
        if args.flag is not None and args.score is None:
            problems.append("audit --table: --flag needs --score COL")
    else:
        problems += [
            f"audit: --{name} is for --table"
            for name in (*TABLE_ONLY, "groups", "intersections", "references")
            if getattr(args, name)
        ]
    if problems:
        raise ScenarioError(problems)


def cmd_audit_table(args: argparse.Namespace) -> int:
    """Audit a table of real outcomes and decisions, and write it with its report."""
    from pydantic import ValidationError

    from audits.table import audit_table
    from audits.table_files import write_table_audit
    from audits.table_read import parse_size
    from simulator.output_dirs import claim_output

    check_table_options(args)
    options = {
        "label": args.label,
        "groups": args.groups,
        "score": args.score,
        "flag": args.flag,
        "flagged": args.flagged,
        "intersections": _intersections(args.intersections),
        "reference": _pairs(args.references, "--reference"),
        "id": args.id,
        "weight": args.weight,
        "n_boot": args.n_boot,
        "confidence": args.confidence,
        "min_group_size": args.min_group_size,
        "seed": args.seed,
        "max_bytes": parse_size(args.max_size),
    }
    with claim_output(args.output, overwrite=args.force, inputs=[args.table]):
        try:
            result = audit_table(args.table, **options)
        except ValidationError as e:
            raise ScenarioError(
                [
                    f"audit --table: {err['msg'].removeprefix('Value error, ')}"
                    for err in e.errors()
                ]
            ) from None
        out = write_table_audit(result, args.output, overwrite=args.force)
    print(  # noqa: T201
        f"wrote {out}: report.html, metrics_by_group, disparities, summary.json",
        *table_lines(result),
        *reader_lines(out),
        sep="\n",
    )
    return 0


def table_lines(result: AuditResult) -> list[str]:
    """The table audit's headline as console lines: counts and overall rates."""
    o = result.metrics.overall.iloc[0]
    rates = result.disparities.overall.set_index("metric")["estimate"]
    label = result.config.target

    def pct(metric: str) -> str:
        x = rates[metric]
        return "n/a" if x != x else f"{100 * x:.1f}%"  # NaN: undefined

    def n(x: float) -> str:
        return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"

    return [
        f"audit of {result.source['rows']:,} rows (label: {label}): "
        f"{n(o['n_positive'])} with {label} = 1; flagged {n(o['n_flagged'])}, "
        f"wrongly {n(o['fp'])}; missed {n(o['fn'])}",
        f"  precision {pct('precision')}, true positive rate {pct('tpr')}, "
        f"false positive rate {pct('fpr')}",
    ]
