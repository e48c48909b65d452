"""The audit: ``audit_metrics`` and ``disparities`` on a large random outcomes table.

Builds ``households`` rows with three group columns (IMD quintile, ethnicity, tenure;
no intersection), a deprivation gradient in need and in false flags, then times the
MetricFrame point estimates and the disparities (point estimates plus ``n_boot``
multinomial bootstrap resamples) separately, and records the peak resident memory.
``wall_s`` (the target) is their sum. ``outcomes_s`` times, apart, the join of flags to
the truth (``household_outcomes``) on a random spine of 2.5 people per household with 5%
of people at another household's address.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from benchmarks import peak_rss_bytes

GROUP_COLUMNS = ("imd_quintile", "ethnicity", "tenure")


def random_outcomes(n: int, seed: int = 0) -> pd.DataFrame:
    """An outcomes table of ``n`` households shaped like the audit's input."""
    rng = np.random.default_rng(seed)
    quintile = rng.integers(1, 6, n).astype(np.int8)
    ethnicity = pd.Categorical.from_codes(
        rng.choice(5, n, p=[0.817, 0.093, 0.04, 0.029, 0.021]),
        categories=["white", "asian", "black", "mixed", "other"],
    )
    tenure = pd.Categorical.from_codes(
        rng.choice(3, n, p=[0.55, 0.25, 0.2]),
        categories=["owner", "private_rent", "social_rent"],
    )
    y_true = rng.random(n) < 0.04 + 0.02 * (5 - quintile)
    flagged = np.where(
        y_true, rng.random(n) < 0.5, rng.random(n) < 0.01 * (6 - quintile)
    )
    return pd.DataFrame(
        {
            "household_id": np.arange(n, dtype=np.int64),
            "imd_quintile": quintile,
            "ethnicity": ethnicity,
            "tenure": tenure,
            "y_true": y_true,
            "flagged": flagged,
        }
    )


def time_outcomes(households: pd.DataFrame, seed: int = 0) -> float:
    """Seconds to join random flags on a random spine to ``households``."""
    from audits.outcomes import household_outcomes

    rng = np.random.default_rng(seed)
    n = len(households)
    true = np.sort(rng.integers(0, n, int(2.5 * n)))
    spine_hh = np.where(
        rng.random(len(true)) < 0.05, rng.integers(0, n, len(true)), true
    )
    spine = pd.DataFrame({"spine_household_id": spine_hh, "true_household_id": true})
    ids = np.unique(spine_hh)
    score = rng.random(len(ids))
    flags = pd.DataFrame(
        {"spine_household_id": ids, "flagged": score > 0.95, "score": score}
    )
    truth = households.assign(eligible=households["y_true"], harm=False)
    start = time.perf_counter()
    household_outcomes(truth, spine, flags, target="eligible")
    return time.perf_counter() - start


def run(households: int = 1_000_000, n_boot: int = 1000) -> dict:
    """Time the audit of ``households`` households by 3 group columns."""
    from audits.disparity import disparities
    from audits.metrics import audit_metrics
    from simulator.schema.audit import AuditConfig

    outcomes = random_outcomes(households)
    config = AuditConfig(group_columns=GROUP_COLUMNS, intersections=(), n_boot=n_boot)
    rss_before = peak_rss_bytes()

    start = time.perf_counter()
    metrics = audit_metrics(outcomes, group_columns=GROUP_COLUMNS)
    metrics_s = time.perf_counter() - start

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small-group warnings are not timed output
        d = disparities(outcomes, config, seed=0)
    disparities_s = time.perf_counter() - start
    peak = peak_rss_bytes()
    outcomes_s = time_outcomes(outcomes)

    return {
        "households": households,
        "group_columns": len(GROUP_COLUMNS),
        "groups": int(len(metrics.by_group)),
        "n_boot": n_boot,
        "metrics_s": metrics_s,
        "disparities_s": disparities_s,
        "wall_s": metrics_s + disparities_s,
        "outcomes_s": outcomes_s,
        "disparity_rows": int(len(d.table)),
        "peak_rss_bytes": peak,
        "outcomes_peak_rss_bytes": peak_rss_bytes(),
        "rss_before_bytes": rss_before,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
