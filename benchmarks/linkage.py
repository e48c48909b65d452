"""Linkage: link every agency of a generated baseline population to the spine.

The population is generated once per size by ``linkaudit generate`` in its own
process and cached under ``$LINKAUDIT_BENCH_DATA`` (default: the system temporary
directory), so generation's memory is not counted here and several linkage
benchmarks share one dataset. The figures are for ``simulator.council.linkage.link``
alone
(normalisation, SQL, Splink training and scoring); peak memory includes reading the
dataset. Also reported: the links' precision and recall against the truth and, for
Splink, the record-spine pairs its blocking rules create.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import peak_rss_bytes

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


def _code_version() -> str:
    """The git tree id of simulator/ (changes with any generation code), if known."""
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD:simulator"],
        cwd=BASELINE.parents[1],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or "unknown"


def dataset(households: int) -> Path:
    """The cached baseline dataset of ``households`` households, made if absent.

    The cache is keyed by the size and the committed simulator code, so a change to
    generation makes a new dataset (uncommitted changes are not seen: delete the
    cache directory after editing generation without committing).
    """
    root = Path(os.environ.get("LINKAUDIT_BENCH_DATA", tempfile.gettempdir()))
    path = root / f"linkaudit-bench-baseline-{households}-{_code_version()}"
    if not (path / "manifest.json").is_file():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "simulator.cli",
                "generate",
                str(BASELINE),
                "-o",
                str(path),
                "--force",
                "-q",
                "--set",
                f"population.n_households={households}",
            ],
            check=True,
        )
    return path


def run(
    households: int, method: str = "deterministic", memory_limit_gb: float = 0.0
) -> dict:
    """Time linking the baseline dataset of ``households`` households by ``method``."""
    from audits.link_quality import link_quality
    from simulator.council.linkage import LinkageConfig, link
    from simulator.pipeline.output import read_dataset
    from simulator.pipeline.run import stage_seed

    path = dataset(households)
    t0 = time.perf_counter()
    data = read_dataset(path)
    scenario = data.scenario
    read_s = time.perf_counter() - t0
    rss_after_read = peak_rss_bytes()
    n_records = sum(len(f) for f in data.sources.values())

    update: dict = {"method": method}
    if memory_limit_gb:
        update["memory_limit_gb"] = memory_limit_gb
    config = scenario.linkage.model_copy(update=update)
    assert isinstance(config, LinkageConfig)
    t0 = time.perf_counter()
    links = link(data.sources, data.spine, config, stage_seed(scenario, "linkage"))
    wall = time.perf_counter() - t0
    peak = peak_rss_bytes()

    lq = link_quality(links, data.sources, data.spine, data.households)
    quality = lq.overall.iloc[0]
    by_group = lq.by_group[lq.by_group["group"].isin(["ethnicity", "imd_quintile"])]
    out = {
        "households": households,
        "method": method,
        "memory_limit_gb": config.memory_limit_gb,
        "records": n_records,
        "spine_rows": len(data.spine),
        "read_s": read_s,
        "wall_s": wall,
        "records_per_s": n_records / wall,
        "peak_rss_bytes": peak,
        "rss_after_read_bytes": rss_after_read,
        "precision": float(quality["precision"]),
        "recall": float(quality["recall"]),
        "f1": float(quality["f1"]),
        "n_false": int(quality["n_false"]),
        "n_missed": int(quality["n_missed"]),
        # Validity check 3 (docs/methodology.md): who linkage misses.
        "recall_by_group": {
            f"{r.group}={r.value}": float(r.recall) for r in by_group.itertuples()
        },
    }
    if "splink" in links.attrs:
        out |= links.attrs["splink"]
    return out
