"""How often the headline's printed 95% intervals contain the reference value.

The headline (:mod:`audits.headline`) compares the false positive rate of the most
deprived fifth of areas with the least deprived one: a difference and a ratio, each
with an interval. This script measures whether those intervals do what they say:

1. The reference value: ``REFERENCE_WORLDS`` (2) worlds of
   ``REFERENCE_HOUSEHOLDS`` (1,000,000) families, whose counts by IMD quintile are
   cached in ``results/coverage_reference.json`` with how they were made (about 4
   minutes and 12 GiB each; ``--refresh-reference`` to redo it).
2. ``--worlds`` independent worlds of the baseline at ``--households`` (the
   baseline's size by default): replicate seeds 0, 1, ... of the baseline
   (:func:`simulator.pipeline.run.replicate_seed`), each run through the world and
   the council as ``linkaudit run`` does (no attribution); the counts per area and
   quintile are cached under ``--cache``.
3. Each world's interval (one world, as ``audit.replicates: 1`` prints it) and each
   consecutive group of ``--replicates`` worlds' pooled interval (as
   ``audit.replicates: R`` prints it), made by the code the audit uses
   (:func:`audits.confusion.bootstrap_counts`, :func:`audits.pooled.pool`), are
   checked against the reference: coverage (share containing it) and mean width.
   For comparison, an area (cluster) bootstrap of the single-world interval: areas
   drawn with replacement, since deprivation and police surveillance act by area.

Usage::

    python -m benchmarks.coverage                       # 60 worlds, R = 3
    python -m benchmarks.coverage --worlds 20 --replicates 1
    python -m benchmarks.coverage --households 100000 --worlds 5   # size check
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audits.confusion import CONFUSION, bootstrap_counts, confusion_index
from audits.disparity import GroupingCounts
from audits.headline import headline_figure
from audits.pooled import pool

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(__file__).resolve().parent / "results" / "coverage_reference.json"
REFERENCE_HOUSEHOLDS = 1_000_000
REFERENCE_WORLDS = 2
SCENARIO = ROOT / "scenarios" / "baseline.yaml"
QUINTILES = ("1", "2", "3", "4", "5")
N_BOOT = 1000
CONFIDENCE = 0.95


def world_counts(path: Path, households: int, replicate: int) -> pd.DataFrame:
    """Confusion counts per (area_id, imd_quintile) of one replicate world.

    The world and the council as ``linkaudit run`` makes them (generate, fit, link,
    view, flag, outcomes); no bootstrap, no attribution.
    """
    from simulator.pipeline.run import (
        audit_council,
        council_run,
        fit_model,
        replicate_scenario,
    )
    from simulator.schema.loading import load_scenario
    from simulator.world.generate import generate

    base = load_scenario(path, [f"population.n_households={households}"])
    scenario = replicate_scenario(base, replicate)
    data = generate(scenario)
    council = council_run(data, scenario, fit_model(scenario))
    outcomes = audit_council(data, council, scenario)
    cell = confusion_index(
        outcomes["y_true"].to_numpy(), outcomes["flagged"].to_numpy()
    )
    frame = pd.DataFrame(
        {
            "area_id": data.households["area_id"].to_numpy(),
            "imd_quintile": outcomes["imd_quintile"].to_numpy().astype(np.int64),
            "cell": cell,
        }
    )
    counts = frame.value_counts().unstack("cell", fill_value=0)
    counts = counts.reindex(columns=range(4), fill_value=0)
    counts.columns = list(CONFUSION)
    return counts.reset_index()


def cached_world(cache: Path, households: int, replicate: int) -> pd.DataFrame:
    """:func:`world_counts`, read from ``cache`` if made before."""
    target = cache / f"h{households}_r{replicate}.parquet"
    if not target.exists():
        cache.mkdir(parents=True, exist_ok=True)
        world_counts(SCENARIO, households, replicate).to_parquet(target)
    return pd.read_parquet(target)


def by_quintile(areas: pd.DataFrame) -> np.ndarray:
    """Counts per quintile, shape (5, 4)."""
    summed = areas.groupby("imd_quintile")[list(CONFUSION)].sum()
    return summed.reindex(range(1, 6), fill_value=0).to_numpy(dtype=np.int64)


def reference_value(cache: Path, refresh: bool) -> dict[str, Any]:
    """The large-population headline, from the cached file or made now.

    The counts of :data:`REFERENCE_WORLDS` worlds of :data:`REFERENCE_HOUSEHOLDS`
    families (replicates 0, 1, ... of the baseline) summed, by the pooling rule.
    """
    if REFERENCE.exists() and not refresh:
        return json.loads(REFERENCE.read_text())
    per_world = [
        by_quintile(cached_world(cache, REFERENCE_HOUSEHOLDS, r))
        for r in range(REFERENCE_WORLDS)
    ]
    counts = np.sum(per_world, axis=0)
    rate = counts[:, 1] / (counts[:, 1] + counts[:, 3])
    out = {
        "how": (
            "python -m benchmarks.coverage --refresh-reference: "
            f"scenarios/baseline.yaml at population.n_households="
            f"{REFERENCE_HOUSEHOLDS}, replicates 0 to {REFERENCE_WORLDS - 1} "
            "(simulator.pipeline.run.replicate_seed), world and council as "
            "linkaudit run makes them; counts by IMD quintile summed over the "
            "worlds. About 4 minutes and 12 GiB per world on 2 cores."
        ),
        "linkaudit_commit": checkout_commit(),
        "households": REFERENCE_HOUSEHOLDS,
        "worlds": REFERENCE_WORLDS,
        "counts_by_quintile": {
            q: dict(zip(CONFUSION, map(int, c), strict=True))
            for q, c in zip(QUINTILES, counts, strict=True)
        },
        "fpr_1": float(rate[0]),
        "fpr_5": float(rate[4]),
        **headline_of(counts),
        "per_world": [headline_of(c) for c in per_world],
    }
    REFERENCE.write_text(json.dumps(out, indent=2) + "\n")
    return out


def checkout_commit() -> str:
    """The checkout's commit, for the record (empty outside git)."""
    import subprocess

    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip()


def grouping(counts: np.ndarray, seed: int) -> GroupingCounts:
    """One world's quintile counts and household resamples, as the audit draws them."""
    rng = np.random.default_rng(seed)
    return GroupingCounts(QUINTILES, counts, bootstrap_counts(counts, N_BOOT, rng), 4)


def area_grouping(areas: pd.DataFrame, seed: int) -> GroupingCounts:
    """The same with areas (clusters) resampled instead of households."""
    wide = areas.pivot_table(
        index="area_id",
        columns="imd_quintile",
        values=list(CONFUSION),
        aggfunc="sum",
        fill_value=0,
    )
    per_area = np.stack(
        [
            wide[c].reindex(columns=range(1, 6), fill_value=0).to_numpy()
            for c in CONFUSION
        ],
        axis=-1,
    )  # (A, 5, 4)
    n_areas = len(per_area)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n_areas, np.full(n_areas, 1 / n_areas), size=N_BOOT)
    boot = np.einsum("ba,aqc->bqc", weights, per_area)
    return GroupingCounts(QUINTILES, per_area.sum(axis=0), boot, 4)


def intervals(parts: list[GroupingCounts]) -> dict[str, Any]:
    """The pooled parts' headline (:func:`audits.headline.headline_figure`)."""
    figure = headline_figure(pool(parts, CONFIDENCE), "fpr", "1", CONFIDENCE)
    assert figure is not None
    return figure


def headline_of(counts: np.ndarray) -> dict[str, float]:
    """Difference and ratio of the FPR of quintile 1 and 5 from (5, 4) counts."""
    fpr = counts[:, 1] / (counts[:, 1] + counts[:, 3])
    return {"difference": float(fpr[0] - fpr[4]), "ratio": float(fpr[0] / fpr[4])}


def score(
    figures: list[dict[str, Any]], ref: dict[str, Any], same_size: dict[str, float]
) -> dict[str, Any]:
    """Coverage (of ``ref``, and of ``same_size``) and mean width of the intervals."""
    out: dict[str, Any] = {"intervals": len(figures)}
    for key, name in (("difference", "difference"), ("ratio", "ratio")):
        lo = np.array([f[f"{key}_ci_low"] for f in figures], dtype=float)
        hi = np.array([f[f"{key}_ci_high"] for f in figures], dtype=float)
        point = np.array([f[key] for f in figures], dtype=float)
        near = same_size[key]
        out[name] = {
            "coverage": float(np.mean((lo <= ref[key]) & (ref[key] <= hi))),
            "coverage_same_size": float(np.mean((lo <= near) & (near <= hi))),
            "mean_width": float(np.nanmean(hi - lo)),
            "point_mean": float(np.nanmean(point)),
            "point_min": float(np.nanmin(point)),
            "point_max": float(np.nanmax(point)),
        }
    out["ratio_unstable"] = int(sum(not f["ratio_stable"] for f in figures))
    return out


def run(
    households: int = 20_000,
    worlds: int = 60,
    replicates: int = 3,
    cache: str | Path = ROOT / "out" / "coverage",
    refresh_reference: bool = False,
) -> dict[str, Any]:
    """Measure the coverage of the headline's intervals; see the module docstring."""
    cache = Path(cache)
    ref = reference_value(cache, refresh_reference)
    start = time.perf_counter()
    areas = [cached_world(cache, households, r) for r in range(worlds)]
    made_s = time.perf_counter() - start
    counts = [by_quintile(a) for a in areas]
    single = [grouping(c, seed=r) for r, c in enumerate(counts)]
    near = headline_of(np.sum(counts, axis=0))
    results = {
        "households": households,
        "worlds": worlds,
        "reference": {k: ref[k] for k in ("households", "difference", "ratio")},
        "same_size": {"households": households * worlds, **near},
        "worlds_s": round(made_s, 1),
        "one_world": score([intervals([g]) for g in single], ref, near),
        "one_world_area_bootstrap": score(
            [intervals([area_grouping(a, seed=r)]) for r, a in enumerate(areas)],
            ref,
            near,
        ),
    }
    headline = {"one_world": results["one_world"]}
    if replicates > 1:
        groups = [single[i : i + replicates] for i in range(0, worlds, replicates)]
        groups = [g for g in groups if len(g) == replicates]
        pooled = score([intervals(g) for g in groups], ref, near)
        results[f"pooled_{replicates}_worlds"] = headline["pooled"] = pooled
    for kind, scored in headline.items():  # flat figures for benchmarks.run's targets
        for measure in ("difference", "ratio"):
            results[f"{kind}_{measure}_coverage"] = scored[measure]["coverage"]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--worlds", type=int, default=60)
    parser.add_argument("--replicates", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=ROOT / "out" / "coverage")
    parser.add_argument("--refresh-reference", action="store_true")
    args = parser.parse_args(argv)
    out = run(
        args.households,
        args.worlds,
        args.replicates,
        args.cache,
        args.refresh_reference,
    )
    print(json.dumps(out, indent=2))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
