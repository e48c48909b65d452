"""The view and flags from files against in memory (issue #15): CPU, wall, peak.

Reads a directory written by ``linkaudit link`` (records, spine, links and the
truth's areas for the public deprivation lookup) and does one step per process, so
that each process's peak RSS is the step's:

- ``view-files``: :func:`simulator.council.view_files.write_view_file`, a range of
  ``--households-per-range`` spine households at a time;
- ``view-memory``: read the files into frames (timed apart), then
  :func:`simulator.council.view.scenario_view` and ``write_parquet``, as a run does;
- ``score-files``: :func:`simulator.council.flagging.score_view_file` of the view
  file;
- ``score-memory``: read the view file, then
  :func:`simulator.council.flagging.score_and_flag`.

The scenario's model scores (``--model learned``: a logistic regression fitted on
the first 100,000 households with ``n_events >= 3`` as the label, to check the
batches give a linear model's bits). CPU is ``resource.getrusage`` of the process
(DuckDB's threads included); the flags table is written to ``--flags`` so two
processes' tables can be compared byte for byte.

Usage::

    python -m benchmarks.view_files DIR view-files --households-per-range 100000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path
from typing import Any


def cpu() -> float:
    """User plus system CPU seconds of this process, its threads included."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(what: str, step: Any) -> Any:
    """Run ``step()``, print its wall and CPU seconds and the load, return its value."""
    load, wall, start = os.getloadavg()[0], time.perf_counter(), cpu()
    value = step()
    print(  # noqa: T201 (a benchmark's report)
        f"{what}: wall {time.perf_counter() - wall:.2f} s, CPU {cpu() - start:.2f} s, "
        f"load {load:.1f}"
    )
    return value


def main() -> None:
    """Run one step and print its figures (peak RSS last)."""
    from simulator.council.flagging import score_and_flag, score_view_file
    from simulator.council.models import LearnedConfig, make_model
    from simulator.council.view import DEPRIVATION_COLUMNS, scenario_view
    from simulator.council.view_files import write_view_file
    from simulator.io import read_parquet, write_parquet
    from simulator.schema.scenario import Scenario

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument(
        "step", choices=["view-files", "view-memory", "score-files", "score-memory"]
    )
    parser.add_argument("--households-per-range", type=int, default=100_000)
    parser.add_argument("--memory-limit-gb", type=float, default=None)
    parser.add_argument("--view", type=Path, default=Path("view.parquet"))
    parser.add_argument("--flags", type=Path, default=Path("flags.parquet"))
    parser.add_argument("--model", choices=["scenario", "learned"], default="scenario")
    args = parser.parse_args()
    d = args.directory
    scenario = Scenario.model_validate(json.loads((d / "scenario.json").read_text()))
    record_files = {p.stem: p for p in sorted((d / "records").glob("*.parquet"))}
    areas = read_parquet(d / "truth" / "areas.parquet")
    deprivation = areas[list(DEPRIVATION_COLUMNS)]
    if args.step == "view-files":
        rows = timed(
            "write_view_file",
            lambda: write_view_file(
                record_files,
                d / "spine.parquet",
                d / "links.parquet",
                deprivation,
                scenario,
                args.view,
                args.view.parent / "view-work",
                households_per_range=args.households_per_range,
                memory_limit_gb=args.memory_limit_gb,
            ),
        )
        print(f"{rows:,} households")  # noqa: T201
    elif args.step == "view-memory":
        sources, spine, links = timed(
            "read records, spine, links",
            lambda: (
                {n: read_parquet(p) for n, p in record_files.items()},
                read_parquet(d / "spine.parquet"),
                read_parquet(d / "links.parquet"),
            ),
        )
        view = timed(
            "scenario_view",
            lambda: scenario_view(sources, spine, links, scenario, deprivation),
        )
        timed("write_parquet", lambda: write_parquet(view.reset_index(), args.view))
    else:
        if args.model == "learned":
            head = (
                read_parquet(args.view).iloc[:100_000].set_index("spine_household_id")
            )
            config = LearnedConfig()
            model = make_model(config, random_state=0).fit(head, head["n_events"] >= 3)
        else:
            config = scenario.model
            model = make_model(config, random_state=0)
        rule = config.flag_rule()
        if args.step == "score-files":
            flags = timed(
                "score_view_file", lambda: score_view_file(model, args.view, rule)
            )
        else:
            view = timed(
                "read view",
                lambda: read_parquet(args.view).set_index("spine_household_id"),
            )
            flags = timed("score_and_flag", lambda: score_and_flag(model, view, rule))
        write_parquet(flags, args.flags)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak RSS {peak:.2f} GiB")  # noqa: T201


if __name__ == "__main__":
    main()
