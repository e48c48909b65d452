"""Measure drawing the report, lesson and transparency record from memory and files.

``linkaudit run`` draws them from the run held in memory
(:func:`simulator.pipeline.output.report_inputs`); a streamed run draws them from the
run directory's files (:func:`simulator.pipeline.output.report_inputs_from_files`),
in memory bounded by what they show. Two steps, each in its own process:

- ``memory``: runs ``scenarios/baseline.yaml`` (with ``--set`` changes) in memory,
  writes it (``write_run``), then draws the report, lesson and record from memory
  again, measured, and saves the run's results (not its tables) beside the directory;
- ``files``: in a fresh process, loads those results and draws them from the
  directory's files, measured, and checks every byte against ``write_run``'s.

Each measure gives the CPU seconds (user + sys), the resident memory before, and the
peak (``VmHWM``, reset through ``/proc/self/clear_refs``). Usage::

    python -m benchmarks.report_memory memory --households 200000 --out /tmp/r
    python -m benchmarks.report_memory files --out /tmp/r
"""

from __future__ import annotations

import argparse
import gc
import json
import pickle
import resource
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

SCENARIO = Path(__file__).parents[1] / "scenarios" / "baseline.yaml"
GIB = 1 << 30
RESULTS = ("scenario", "audit", "attribution", "link_quality", "link_quality_worlds")


def _status(field: str) -> int:
    """A ``/proc/self/status`` field in bytes (``VmRSS``, ``VmHWM``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def _draw(inputs, directory: Path) -> list[str]:
    """Write the transparency files, report and (for a lesson) the lesson."""
    from audits.report import write_report
    from audits.report.lesson import write_lesson
    from audits.transparency_files import write_transparency

    names = list(write_transparency(dict(inputs.transparency or {}), directory))
    names.append(write_report(inputs, directory).name)
    if inputs.scenario.report.view == "lesson":
        names.append(write_lesson(inputs, directory).name)
    return names


def _measured(label: str, build: Callable, directory: Path) -> dict:
    """Build the inputs and draw from them; CPU, memory before and peak."""
    gc.collect()
    before = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    cpu = _cpu()
    names = _draw(build(), directory)
    row = {
        "from": label,
        "cpu_s": round(_cpu() - cpu, 2),
        "rss_before_gib": round(before / GIB, 3),
        "peak_gib": round(_status("VmHWM") / GIB, 3),
        "files": names,
    }
    print(json.dumps(row), flush=True)
    return row


def memory(households: int, out: Path, changes: list[str], repeat: int) -> None:
    """Run in memory, write the run, and measure drawing from memory."""
    from simulator.pipeline.output import report_inputs, write_run
    from simulator.pipeline.run import run
    from simulator.schema.loading import load_scenario

    scenario = load_scenario(
        SCENARIO, [f"population.n_households={households}", *changes]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_ = run(scenario)
    write_run(run_, out, overwrite=True)
    for i in range(repeat):
        _measured("memory", lambda: report_inputs(run_), out.with_name(f"m{i}"))
    results = {k: getattr(run_, k) for k in RESULTS}
    results |= {"seeds": run_.seeds, "periods": run_.periods}
    with open(out.with_suffix(".results.pkl"), "wb") as f:
        pickle.dump(results, f)


def files(out: Path) -> None:
    """Measure drawing from the run directory's files; check the bytes."""
    from simulator.pipeline.output import report_inputs_from_files

    with open(out.with_suffix(".results.pkl"), "rb") as f:
        results = pickle.load(f)
    again = out.with_name("from_files")
    row = _measured("files", lambda: report_inputs_from_files(out, **results), again)
    different = [
        n for n in row["files"] if (again / n).read_bytes() != (out / n).read_bytes()
    ]
    print(json.dumps({"different": different}))
    sys.exit(1 if different else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["memory", "files"])
    parser.add_argument("--households", type=int, default=200_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--set", action="append", default=[], dest="changes")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if args.step == "memory":
        memory(args.households, args.out, args.changes, args.repeat)
    else:
        files(args.out)


if __name__ == "__main__":
    main()
