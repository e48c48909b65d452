"""Measure what each size of a streamed world adds to a step's peak memory.

A streamed task (``run --stream``) generates its world into files a chunk of
households at a time, links and measures it a batch of records at a time within
DuckDB's limit, and builds its view a range of spine households at a time
(:class:`simulator.pipeline.memory_limit.StreamSizes`). This runs those steps on
``scenarios/baseline.yaml`` with given sizes, one fresh process per setting, and
prints each step's peak (``VmHWM`` reset before it, less the resident memory
before it, as :mod:`benchmarks.task_memory`); two settings give each size's bytes
per unit (the coefficients of :func:`simulator.pipeline.memory_limit.stream_sizes`).
One thread, as a worker of two on two cores. Usage::

    python -m benchmarks.stream_sizes --households 200000 \\
        --sizes 10000,160000,10000,0.5 100000,1600000,100000,2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from functools import partial

from benchmarks.task_memory import SCENARIO, _measured


def measure(households: int, chunk: int, rows: int, per_range: int, gb: float) -> None:
    """Each step of one streamed world at these sizes; a JSON row per step."""
    from simulator.council.view_files import write_view_file
    from simulator.pipeline.memory_limit import StreamSizes
    from simulator.pipeline.parallel import thread_share
    from simulator.pipeline.streamed import (
        generate_world,
        link_world,
        scratch_directory,
        world_quality,
    )
    from simulator.schema.loading import load_scenario
    from simulator.world.generate import AREAS_FILE

    sizes = StreamSizes(chunk, rows, per_range, gb, gb)
    scenario = load_scenario(SCENARIO, [f"population.n_households={households}"])
    with thread_share(1), scratch_directory() as directory:
        world, generate = _measured(
            "generate", partial(generate_world, sizes=sizes), scenario, directory
        )
        _, link = _measured("link", link_world, world, scenario.linkage, 1)
        _, quality = _measured("link quality", world_quality, world)
        import pyarrow.parquet as pq

        areas = pq.read_table(
            directory / AREAS_FILE, columns=["postcode_sector", "imd_decile"]
        ).to_pandas()
        _, view = _measured(
            "view",
            lambda: write_view_file(
                world.record_files,
                world.spine_file,
                world.links_file,
                areas,
                scenario,
                directory / "view.parquet",
                directory / ".view",
                households_per_range=per_range,
                memory_limit_gb=gb,
            ),
        )
    for row in (generate, link, quality, view):
        row.update(households=households, sizes=sizes.__dict__, load=os.getloadavg())
        print("RESULT " + json.dumps(row), flush=True)


def main(argv: list[str] | None = None) -> None:
    """Measure each setting of ``--sizes`` in a fresh process."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--households", type=int, default=200_000)
    p.add_argument(
        "--sizes",
        nargs="+",
        default=["10000,160000,10000,0.5", "100000,1600000,100000,2"],
        help="chunk households, batch rows, households a range, DuckDB GB",
    )
    p.add_argument("--one", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        chunk, rows, per_range, gb = args.one.split(",")
        measure(args.households, int(chunk), int(rows), int(per_range), float(gb))
        return
    for setting in args.sizes:
        cmd = [sys.executable, "-m", "benchmarks.stream_sizes", "--one", setting]
        cmd += ["--households", str(args.households)]
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
