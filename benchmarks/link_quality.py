"""Link quality at scale (issue #15): the CPU and wall time of measuring links.

Generates the baseline world at ``--households``, links it (deterministic), then
times :func:`audits.link_quality.link_quality` and
:func:`audits.link_quality.by_source_and_group` on it ``--repeat`` times: wall time
(``perf_counter``) and CPU time (``process_time``) of this process, with the
machine's 1-minute load average before each. Generation and linkage are not timed.

Usage::

    python -m benchmarks.link_quality --households 1000000 --repeat 2
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(households: int, repeat: int) -> list[dict[str, float]]:
    """Build the world and its links once, then time link quality ``repeat`` times."""
    from audits.link_quality import by_source_and_group, link_quality
    from simulator.pipeline.run import link_records, stage_seed
    from simulator.schema.loading import load_scenario
    from simulator.world.generate import generate

    scenario = load_scenario(
        ROOT / "scenarios" / "baseline.yaml",
        [f"population.n_households={households}", "audit.replicates=1"],
    )
    data = generate(scenario)
    links = link_records(data, scenario.linkage, stage_seed(scenario, "linkage"))
    figures = []
    for _ in range(repeat):  # repetitions, not rows
        load = os.getloadavg()[0]
        wall, cpu = time.perf_counter(), time.process_time()
        quality = link_quality(links, data.sources, data.spine, data.households)
        by_source_and_group(quality.by_group, quality.by_source_group)
        figures.append(
            {
                "wall_s": time.perf_counter() - wall,
                "cpu_s": time.process_time() - cpu,
                "load": load,
                "records": float(len(quality.records)),
            }
        )
    return figures


def main() -> None:
    """Print one line per repetition."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    for f in measure(args.households, args.repeat):
        print(  # noqa: T201 (a benchmark's report)
            f"{args.households:,} households, {f['records']:,.0f} records: "
            f"wall {f['wall_s']:.2f} s, CPU {f['cpu_s']:.2f} s, load {f['load']:.1f}"
        )


if __name__ == "__main__":
    main()
