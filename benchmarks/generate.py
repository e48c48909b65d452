"""Generation: ``simulator.world.generate.generate`` on the baseline scenario, then
writing.

Times ``generate(scenario)`` alone (the target) and ``write_dataset`` separately (wall
and CPU time of this process: other work on the machine shows in the wall time
only), and records the process's peak resident memory after each.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from benchmarks import peak_rss_bytes

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


def run(households: int, chunk_size: int | None = None, write: bool = True) -> dict:
    """Generate ``households`` households with every agency and default errors."""
    from simulator.schema.loading import load_scenario
    from simulator.world.generate import generate, write_dataset

    overrides = [f"population.n_households={households}"]
    if chunk_size:
        overrides.append(f"generation.chunk_size={chunk_size}")
    scenario = load_scenario(BASELINE, overrides)
    rss_before = peak_rss_bytes()

    start, cpu = time.perf_counter(), time.process_time()
    data = generate(scenario)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    peak = peak_rss_bytes()

    records = {name: len(frame) for name, frame in data.sources.items()}
    n_records = sum(records.values()) + len(data.spine)
    out = {
        "households": len(data.households),
        "people": len(data.people),
        "records": n_records,
        "records_by_source": {**records, "spine": len(data.spine)},
        "chunk_size": scenario.generation.chunk_size,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_bytes": peak,
        "rss_before_bytes": rss_before,
        "s_per_person": wall / len(data.people),
        "records_per_s": n_records / wall,
        "people_per_s": len(data.people) / wall,
    }
    if write:
        tmp = Path(tempfile.mkdtemp(prefix="linkaudit-bench-"))
        try:
            start, cpu = time.perf_counter(), time.process_time()
            write_dataset(data, tmp / "out")
            out["write_wall_s"] = time.perf_counter() - start
            out["write_cpu_s"] = time.process_time() - cpu
            out["write_bytes"] = sum(
                p.stat().st_size for p in (tmp / "out").rglob("*") if p.is_file()
            )
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        out["peak_rss_with_write_bytes"] = peak_rss_bytes()
    return out
