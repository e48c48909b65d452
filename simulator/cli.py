"""The ``linkaudit`` command line: validate, schema, generate, link."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from simulator.errors import LinkauditError, ScenarioError
from simulator.linkage.quality import LinkQuality
from simulator.scenario import SOURCES, Scenario, json_schema, load_scenario

log = logging.getLogger("linkaudit")

EXIT_INVALID = 2


def _add_scenario_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field, e.g. --set population.n_households=5000 (repeatable)",
    )


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
        ]
    )


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate a scenario and print a summary."""
    scenario = load_scenario(args.scenario, args.overrides)
    print(_summary(scenario, str(args.scenario)))  # noqa: T201
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Print or write the JSON Schema of scenario files."""
    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    """Generate a scenario's data and write it atomically."""
    from simulator.generate import generate, write_dataset

    scenario = load_scenario(args.scenario, args.overrides)
    data = generate(scenario, progress=not args.quiet)
    out = write_dataset(data, args.output, overwrite=args.force)
    rows = ", ".join(f"{k} {len(v):,}" for k, v in data.sources.items())
    print(  # noqa: T201
        f"wrote {out}: {len(data.households):,} households, {len(data.people):,} "
        f"people, spine {len(data.spine):,}; records: {rows}"
    )
    return 0


def _quality_lines(q: LinkQuality, scenario: Scenario) -> list[str]:
    o = q.overall.iloc[0]
    lines = [
        f"linkage ({scenario.linkage.method}): "
        f"precision {o['precision']:.4f}, recall {o['recall']:.4f}, "
        f"F1 {o['f1']:.4f}; {int(o['n_false']):,} false links, "
        f"{int(o['n_missed']):,} missed of {int(o['n_linkable']):,} linkable records"
    ]
    for source, r in q.by_source.iterrows():
        lines.append(
            f"  {source:<12} precision {r['precision']:.4f}  recall {r['recall']:.4f}"
        )
    return lines


def cmd_link(args: argparse.Namespace) -> int:
    """Generate a scenario, link every source to the spine, write links and quality."""
    from simulator.generate import generate
    from simulator.pipeline import link_data, stage_seeds, write_linked

    scenario = load_scenario(args.scenario, args.overrides)
    if args.method:
        scenario = scenario.model_copy(
            update={
                "linkage": scenario.linkage.model_copy(update={"method": args.method})
            }
        )
    seeds = stage_seeds(scenario)
    data = generate(scenario, progress=not args.quiet)
    links, quality = link_data(
        data, scenario.linkage, seeds["linkage"], progress=not args.quiet
    )
    out = write_linked(data, links, quality, seeds, args.output, overwrite=args.force)
    print(f"wrote {out}", *_quality_lines(quality, scenario), sep="\n")  # noqa: T201
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``linkaudit`` command."""
    parser = argparse.ArgumentParser(
        prog="linkaudit",
        description="Synthetic linked family records, council-style linkage and "
        "risk flags, audited against the truth. All data are synthetic.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a scenario file and summarise it")
    _add_scenario_args(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    p.add_argument("-o", "--output", type=Path, help="write to this file")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("generate", help="generate truth, records and spine as Parquet")
    _add_scenario_args(p)
    p.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    p.add_argument("--force", action="store_true", help="replace an existing directory")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser(
        "link",
        help="generate, link every source to the spine, write links and link quality",
    )
    _add_scenario_args(p)
    p.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    p.add_argument(
        "--method",
        choices=["deterministic", "splink", "oracle"],
        help="linkage method (default: the scenario's linkage.method)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing directory")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_link)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except ScenarioError as e:
        for line in e.problems:
            print(line, file=sys.stderr)  # noqa: T201
        return EXIT_INVALID
    except LinkauditError as e:
        print(f"linkaudit: {e}", file=sys.stderr)  # noqa: T201
        return 1


if __name__ == "__main__":
    sys.exit(main())
