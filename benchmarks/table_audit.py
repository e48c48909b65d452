"""``linkaudit audit --table`` on a large Parquet table, and fairlearn's bootstrap.

Writes a Parquet table of ``rows`` rows (a score, a 0/1 label, a text group column
``region`` with 12 values and a numeric one ``age band`` with 7, 2% of regions
missing), then runs the whole command in this process (read, checks, flags from
``top_percent=10``, the audit of both columns and their intersection with ``n_boot``
resamples, the tables and report.html written) and records its wall time, CPU time
and peak resident memory.

The peer is fairlearn's own bootstrap: ``MetricFrame(..., n_boot=...)`` with the same
rates (selection rate, TPR, FPR, FNR, precision, count) for the same three groupings
of the same table (the flags the audit gave, missing regions given the audit's group
name). fairlearn resamples rows and recomputes every metric of every group on each
resample, each a call of pandas and scikit-learn: about 18 s a resample for these
three groupings even at 5,000 rows on the benchmark machine, so 1,000 resamples take
hours at any size. It is timed at ``peer_boots`` resamples of the full table (two
sizes, to separate the fixed cost from the cost of one resample: each resample does
the same work) and the time of ``n_boot`` resamples is extrapolated linearly from the
two; the ratio says so.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import peak_rss_bytes

REGIONS = [f"region {i:02d}" for i in range(12)]
AGE_BANDS = [18, 25, 35, 45, 55, 65, 75]
GROUPS = ("region", "age band")
ROOT = Path(__file__).resolve().parents[1]


def make_table(rows: int, seed: int = 0) -> pd.DataFrame:
    """A scored table shaped like a real one: score, label, two group columns."""
    rng = np.random.default_rng(seed)
    region = pd.Series(
        pd.Categorical.from_codes(rng.integers(0, len(REGIONS), rows), REGIONS)
    ).astype(object)
    region[rng.random(rows) < 0.02] = None
    age = np.asarray(AGE_BANDS)[rng.integers(0, len(AGE_BANDS), rows)]
    score = rng.random(rows)
    label = (rng.random(rows) < 0.1 + 0.3 * score).astype(np.int8)
    return pd.DataFrame(
        {
            "case": np.arange(rows),
            "score": score,
            "label": label,
            "region": region,
            "age band": age,
        }
    )


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_cli(path: Path, out: Path, n_boot: int) -> dict:
    """The whole ``linkaudit audit --table`` command, as a user runs it.

    In a fresh interpreter (imports included), so its wall time, CPU time and peak
    resident memory (``os.wait4``) are the command's own and not the table's making.
    """
    argv = [
        sys.executable, "-m", "simulator.cli", "-q", "audit", "--table", str(path),
        "--label", "label", "--score", "score", "--flag", "top_percent=10",
        "--group", "region", "--group", "age band", "--intersection",
        "region,age band", "--n-boot", str(n_boot), "--id", "case",
        "--max-size", "16GiB", "-o", str(out), "--force",
    ]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"audit --table exited {status}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_bytes": usage.ru_maxrss * 1024,
    }


def fairlearn_bootstrap(table: pd.DataFrame, flagged: np.ndarray, n_boot: int) -> float:
    """Seconds for fairlearn's MetricFrame bootstrap of the three groupings."""
    from fairlearn.metrics import (
        MetricFrame,
        count,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import precision_score

    metrics = {
        "count": count,
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "fnr": false_negative_rate,
        "precision": lambda y, p: precision_score(y, p, zero_division=np.nan),
    }
    region = table["region"].fillna("(missing)")
    sensitive = [
        region,
        table["age band"],
        pd.DataFrame({"r": region, "a": table["age band"]}),
    ]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for features in sensitive:  # the three groupings
            MetricFrame(
                metrics=metrics,
                y_true=table["label"].to_numpy(),
                y_pred=flagged,
                sensitive_features=features,
                n_boot=n_boot,
                ci_quantiles=None if n_boot is None else [0.025, 0.975],
                random_state=0,
            )
    return time.perf_counter() - start


def _flags(table: pd.DataFrame) -> np.ndarray:
    """The flags the audit gave (top 10% of scores, ties to the lower case id)."""
    k = len(table) * 10 // 100
    order = np.lexsort((table["case"].to_numpy(), -table["score"].to_numpy()))
    flagged = np.zeros(len(table), dtype=np.int8)
    flagged[order[:k]] = 1
    return flagged


def run(
    rows: int = 10_000_000,
    n_boot: int = 1000,
    peer_boots: tuple[int, int] = (1, 2),
) -> dict:
    """Time ``audit --table`` on ``rows`` rows and fairlearn's bootstrap beside it."""
    with tempfile.TemporaryDirectory(prefix="linkaudit-table-") as tmp:
        path = Path(tmp) / "table.parquet"
        table = make_table(rows)
        table.to_parquet(path, index=False)
        size = path.stat().st_size
        del table
        load_before = os.getloadavg()
        ours = time_cli(path, Path(tmp) / "audit", n_boot)
        load_after = os.getloadavg()

        table = pd.read_parquet(path)
        flagged = _flags(table)
        small, large = peer_boots
        cpu = _cpu_s()
        peer_small = fairlearn_bootstrap(table, flagged, small)
        peer_large = fairlearn_bootstrap(table, flagged, large)
        peer_cpu = _cpu_s() - cpu
        per_boot = (peer_large - peer_small) / (large - small)
        peer_extrapolated = peer_small + per_boot * (n_boot - small)

    return {
        "rows": rows,
        "file_bytes": size,
        "group_columns": len(GROUPS),
        "intersections": 1,
        "n_boot": n_boot,
        "wall_s": ours["wall_s"],
        "cpu_s": ours["cpu_s"],
        "peak_rss_bytes": ours["peak_rss_bytes"],
        "bench_process_peak_rss_bytes": peak_rss_bytes(),
        "load_before": list(load_before),
        "load_after": list(load_after),
        "fairlearn_boots_timed": list(peer_boots),
        "fairlearn_s_at_boots": [peer_small, peer_large],
        "fairlearn_cpu_s_at_boots": peer_cpu,
        "fairlearn_s_per_resample": per_boot,
        "fairlearn_s_extrapolated": peer_extrapolated,
        "fairlearn_vs_linkaudit_extrapolated": peer_extrapolated / ours["wall_s"],
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(rows=200_000, n_boot=200), indent=2))
