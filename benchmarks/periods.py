"""A run over periods against a single run (issue #13): the cost of the later periods.

``linkaudit run`` of the baseline at ``households`` (attribution, its replicate
worlds and the report, as a user runs it), then the same with
``--set dynamics.periods=N`` (every effect of a flag off, as in the baseline), in
alternating pairs in the same benchmark run, so both see the same machine. Each
command is measured by :func:`benchmarks.parallel.measure` (wall, CPU of the
command and its workers, peak memory of the process tree, the machine's load).
The figure is the median wall time of the run over periods over the median of the
single run; each pair's own ratio is kept too.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.parallel import BASELINE, measure


def run(households: int = 20_000, periods: int = 5, pairs: int = 2) -> dict[str, Any]:
    """Measure ``pairs`` single runs and runs over ``periods``, alternating."""
    size = f"population.n_households={households}"
    single, over = [], []
    with tempfile.TemporaryDirectory(prefix="linkaudit-periods-") as tmp:
        for i in range(pairs):
            base = ["run", str(BASELINE), "--set", size, "-q", "--force"]
            single.append(measure([*base, "-o", str(Path(tmp) / f"single{i}")]))
            over.append(
                measure(
                    [
                        *base,
                        "--set",
                        f"dynamics.periods={periods}",
                        "-o",
                        str(Path(tmp) / f"periods{i}"),
                    ]
                )
            )

    def median(runs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    return {
        "households": households,
        "periods": periods,
        "pairs": pairs,
        "single": {k: median(single, k) for k in single[0] if k != "command"},
        "over_periods": {k: median(over, k) for k in over[0] if k != "command"},
        "wall_ratio": median(over, "wall_s") / median(single, "wall_s"),
        "cpu_ratio": median(over, "cpu_s") / median(single, "cpu_s"),
        "pair_wall_ratios": [
            o["wall_s"] / s["wall_s"] for s, o in zip(single, over, strict=True)
        ],
        "commands": [single[0]["command"], over[0]["command"]],
    }


def periods_heading(pe: dict[str, Any]) -> str:
    """The benchmark's first summary line (``benchmarks.run``'s table)."""
    return (
        f"periods  baseline at {pe['households']:,} households, {pe['periods']} "
        f"periods vs 1 (median of {pe['pairs']} pairs): wall "
        f"{pe['wall_ratio']:.2f}x, CPU {pe['cpu_ratio']:.2f}x"
    )
