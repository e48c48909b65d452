"""Validity checks (docs/methodology.md section 4) on a large baseline run.

Runs the baseline scenario through the pipeline (without attribution) and reports
each check's measured value beside its published target: children in need per
10,000, the child-protection deprivation gradient, who linkage misses, and the
profile of flagged families.
"""

from __future__ import annotations

import time
from pathlib import Path

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


def run(households: int = 200_000) -> dict:
    """Measure every validity check on a baseline run of ``households``."""
    from audits.validity import (
        all_checks,
        flagged_profile,
        linkage_miss_ratios,
        profile_checks,
    )
    from simulator.pipeline.run import run as run_scenario
    from simulator.schema.loading import load_scenario

    scenario = load_scenario(
        BASELINE, [f"population.n_households={households}", "audit.n_boot=0"]
    )
    t0 = time.perf_counter()
    result = run_scenario(scenario, attribution=False)
    wall = time.perf_counter() - t0
    assert result.audit.outcomes is not None  # run keeps the outcomes
    checks = [
        *all_checks(result.data),
        *linkage_miss_ratios(result.link_quality),
        *profile_checks(result.audit.outcomes),
    ]
    profile = flagged_profile(result.audit.outcomes)
    return {
        "households": households,
        "run_wall_s": wall,
        "checks": [
            {
                "name": c.name,
                "measured": c.measured,
                "low": c.low,
                "high": c.high,
                "passed": c.passed,
                "source": c.source,
            }
            for c in checks
        ],
        "all_passed": all(c.passed for c in checks),
        "flagged_profile": profile.to_dict("records"),
    }
