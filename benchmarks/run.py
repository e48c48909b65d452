"""Run the benchmarks, compare them with their targets, write ``results/latest.json``.

Usage::

    python -m benchmarks.run                       # everything, at the target sizes
    python -m benchmarks.run --households 200000   # a smaller generation run
    python -m benchmarks.run --only generate       # one group (and its peers)

Every benchmark runs in a fresh subprocess (``python -m benchmarks.run --child``), so
its peak resident memory (``ru_maxrss`` of that child, from ``os.wait4``) and its wall
time are its own and not inflated by earlier benchmarks. Comparisons with a peer are
ratios of figures measured in the same run.

To add a benchmark (linkage, scoring, audit), write ``benchmarks/<stage>.py`` with a
``run(**kwargs) -> dict`` returning JSON-able metrics, and add a :class:`Benchmark`
(and any :class:`Derived` ratio or :class:`Target`) to the registries below. Exit
status: 0 if every target that applies was met, 1 if one was missed, 2 if a benchmark
failed to run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
TARGET_HOUSEHOLDS = 1_000_000
GIB = 2**30

Results = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Benchmark:
    """One measurement, run as ``module.run(**kwargs(args))`` in a fresh process."""

    name: str
    group: str
    module: str
    description: str
    kwargs: Callable[[argparse.Namespace], dict[str, Any]]


@dataclass(frozen=True)
class Derived:
    """A figure computed from several benchmarks of the same run (e.g. a ratio).

    ``info`` marks a figure reported for information only: not like for like, and
    never the subject of a target.
    """

    name: str
    group: str
    description: str
    needs: tuple[str, ...]
    compute: Callable[[Results], float]
    info: bool = False


@dataclass(frozen=True)
class Target:
    """A limit on one metric (``benchmark.metric`` or a derived name)."""

    issue: str
    description: str
    metric: str
    op: str  # "<=", "<" or ">="
    limit: float
    unit: str = ""
    scale: float = 1.0  # divide the metric by this for display (e.g. GiB)
    applies: Callable[[argparse.Namespace], bool] = field(default=lambda a: True)


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        "generate",
        "generate",
        "benchmarks.generate",
        "generate(): baseline scenario, every agency, default errors "
        "(then write_dataset, timed separately)",
        lambda a: {
            "households": a.households,
            "chunk_size": a.chunk_size,
            "write": not a.no_write,
        },
    ),
    Benchmark(
        "faker_peer",
        "generate",
        "benchmarks.faker_peer",
        "peer: Faker en_GB, one call per field per person (first/last name, date of "
        "birth, street address, postcode); fastest of 3 runs",
        lambda a: {"people": a.faker_people},
    ),
    Benchmark(
        "identity",
        "generate",
        "benchmarks.identity",
        "linkaudit making the peer's fields (first/last name, date of birth, street "
        "address, postcode) with population generation's functions; fastest of 5 runs",
        lambda a: {"people": a.identity_people},
    ),
    Benchmark(
        "linkage_deterministic",
        "linkage",
        "benchmarks.linkage",
        "link(): the match-key cascade, every agency of the baseline dataset to the "
        "spine (dataset generated once and cached, not timed)",
        lambda a: {"households": a.households, "method": "deterministic"},
    ),
    Benchmark(
        "linkage_peer",
        "linkage",
        "benchmarks.linkage_peer",
        "peer: the same match-key cascade written as pandas merges, on the same "
        "normalised tables, checked to find the same links as link()",
        lambda a: {"households": a.households},
    ),
    Benchmark(
        "linkage_splink_small",
        "linkage",
        "benchmarks.linkage",
        "link(): Splink, training (u sampling, EM) and scoring included",
        lambda a: {"households": a.splink_households, "method": "splink"},
    ),
    Benchmark(
        "linkage_splink",
        "linkage",
        "benchmarks.linkage",
        "link(): Splink, training (u sampling, EM) and scoring included",
        lambda a: {"households": a.households, "method": "splink"},
    ),
    Benchmark(
        "score",
        "score",
        "benchmarks.score",
        "every built-in model scores and flags a synthetic view (learned models "
        "fitted on 100,000 rows first, not timed)",
        lambda a: {"households": a.households},
    ),
    Benchmark(
        "audit",
        "audit",
        "benchmarks.audit",
        "audit_metrics + disparities: 3 group columns, 1,000 bootstrap resamples",
        lambda a: {"households": a.households, "n_boot": 1000},
    ),
    Benchmark(
        "table_audit",
        "table_audit",
        "benchmarks.table_audit",
        "linkaudit audit --table on a Parquet table: 2 group columns and their "
        "intersection, top_percent=10 flags, 1,000 bootstrap resamples, tables and "
        "report.html written (a fresh process); beside it fairlearn's MetricFrame "
        "bootstrap of the same groupings and resamples",
        lambda a: {"rows": a.table_rows, "n_boot": 1000},
    ),
    Benchmark(
        "coverage",
        "coverage",
        "benchmarks.coverage",
        "how often the headline's 95% intervals (FPR of IMD quintile 1 vs 5: "
        "difference and ratio) contain the 1,000,000-family value: 60 baseline "
        "worlds at 20,000 families, one world each and pooled in threes (worlds and "
        "the reference cached; about 10 minutes on 2 cores the first time)",
        lambda a: {"households": 20_000, "worlds": 60, "replicates": 3},
    ),
    Benchmark(
        "parallel_sweep",
        "parallel",
        "benchmarks.parallel",
        "linkaudit sweep of the baseline, 3 points x 2 replicates at 20,000 "
        "households: --workers 1 and --workers 2, five pairs in turn (after an "
        "untimed warm-up), same bytes checked",
        lambda a: {"kind": "sweep", "households": 20_000, "workers": 2},
    ),
    Benchmark(
        "parallel_run",
        "parallel",
        "benchmarks.parallel",
        "linkaudit run of the baseline (attribution, 3 replicates, report) with "
        "--workers 2: CPU use over the whole command",
        lambda a: {"kind": "run", "households": a.households, "workers": 2},
    ),
    Benchmark(
        "periods",
        "periods",
        "benchmarks.periods",
        "linkaudit run of the baseline at 20,000 households (attribution, 3 "
        "replicates, report), then with dynamics.periods=5 (every effect off), in 2 "
        "alternating pairs: median wall time over periods / single",
        lambda a: {"households": 20_000, "periods": 5, "pairs": 2},
    ),
    Benchmark(
        "validity",
        "validity",
        "benchmarks.validity",
        "validity checks (docs/methodology.md section 4) on a baseline run",
        lambda a: {"households": a.validity_households},
    ),
)

DERIVED: tuple[Derived, ...] = (
    Derived(
        "identity_vs_faker",
        "generate",
        "same fields per person: Faker seconds / linkaudit identity seconds",
        ("identity", "faker_peer"),
        lambda r: r["faker_peer"]["s_per_person"] / r["identity"]["s_per_person"],
    ),
    Derived(
        "identity_vs_faker_cpu",
        "generate",
        "the same ratio in CPU seconds (steadier when other work shares the machine)",
        ("identity", "faker_peer"),
        lambda r: (
            (r["faker_peer"]["cpu_s"] / r["faker_peer"]["people"])
            / (r["identity"]["cpu_s"] / r["identity"]["people"])
        ),
        info=True,
    ),
    Derived(
        "cascade_vs_pandas",
        "linkage",
        "the match-key cascade alone: pandas merges seconds / linkaudit (DuckDB) "
        "seconds, same prepared tables, same links",
        ("linkage_peer",),
        lambda r: r["linkage_peer"]["pandas_vs_linkaudit_cascade"],
    ),
    Derived(
        "table_audit_vs_fairlearn",
        "table_audit",
        "fairlearn MetricFrame(n_boot=1000) seconds / audit --table seconds, same "
        "table, groupings and flags; fairlearn timed at 1 and 2 resamples of the full "
        "table and its 1,000 extrapolated linearly (hours to run outright)",
        ("table_audit",),
        lambda r: r["table_audit"]["fairlearn_vs_linkaudit_extrapolated"],
    ),
    Derived(
        "pipeline_vs_faker",
        "generate",
        "information only, not the same work: Faker seconds for 5 identity fields / "
        "the whole of generate() (households, needs, 5 sources, errors, spine) per "
        "person",
        ("generate", "faker_peer"),
        lambda r: r["faker_peer"]["s_per_person"] / r["generate"]["s_per_person"],
        info=True,
    ),
)


def _at_target_size(a: argparse.Namespace) -> bool:
    return a.households == TARGET_HOUSEHOLDS


TARGET_TABLE_ROWS = 10_000_000


def _at_table_size(a: argparse.Namespace) -> bool:
    return a.table_rows == TARGET_TABLE_ROWS


TARGETS: tuple[Target, ...] = (
    Target(
        "#2",
        f"generate {TARGET_HOUSEHOLDS:,} households",
        "generate.wall_s",
        "<=",
        60.0,
        "s",
        applies=_at_target_size,
    ),
    Target(
        "#2",
        "peak memory of generate",
        "generate.peak_rss_bytes",
        "<=",
        6 * GIB,
        "GiB",
        scale=GIB,
        applies=_at_target_size,
    ),
    Target(
        "#2",
        "same fields per person vs one Faker call per field per row",
        "identity_vs_faker",
        ">=",
        100.0,
        "x",
    ),
    Target(
        "#3",
        f"deterministic linkage, {TARGET_HOUSEHOLDS:,} households",
        "linkage_deterministic.wall_s",
        "<=",
        60.0,
        "s",
        applies=_at_target_size,
    ),
    Target(
        "#3",
        "Splink linkage, 100,000 households, training included",
        "linkage_splink_small.wall_s",
        "<=",
        120.0,
        "s",
        applies=lambda a: a.splink_households == 100_000,
    ),
    Target(
        "#3",
        f"Splink linkage, {TARGET_HOUSEHOLDS:,} households",
        "linkage_splink.wall_s",
        "<=",
        1200.0,
        "s",
        applies=_at_target_size,
    ),
    *(
        Target(
            "#3",
            f"peak memory of {name} (dataset read included)",
            f"{name}.peak_rss_bytes",
            "<",
            8 * GIB,
            "GiB",
            scale=GIB,
            applies=_at_target_size,
        )
        for name in ("linkage_deterministic", "linkage_splink")
    ),
    Target(
        "#4",
        f"slowest built-in model scores {TARGET_HOUSEHOLDS:,} households",
        "score.max_model_s",
        "<=",
        10.0,
        "s",
        applies=_at_target_size,
    ),
    *(
        Target(
            "#10",
            f"95% intervals of the headline {measure} ({kind.replace('_', ' ')}) "
            "contain the 1,000,000-family value",
            f"coverage.{kind}_{measure}_coverage",
            ">=",
            0.9,
        )
        for kind in ("one_world", "pooled")
        for measure in ("difference", "ratio")
    ),
    Target(
        "#15",
        "sweep, 3 points x 2 replicates at 20,000 households: 2 workers vs serial",
        "parallel_sweep.speedup",
        ">=",
        1.7,
        "x",
    ),
    Target(
        "#15",
        f"CPU use of a {TARGET_HOUSEHOLDS:,}-household run (200% = both cores)",
        "parallel_run.cpu_use",
        ">=",
        1.7,
        "",
        applies=_at_target_size,
    ),
    Target(
        "#13",
        "5-period run of the baseline, 20,000 households, vs a single run (wall)",
        "periods.wall_ratio",
        "<=",
        5.0,
        "x",
    ),
    Target(
        "#5",
        f"audit {TARGET_HOUSEHOLDS:,} households, 3 columns, 1,000 resamples",
        "audit.wall_s",
        "<=",
        20.0,
        "s",
        applies=_at_target_size,
    ),
    Target(
        "#11",
        f"audit --table {TARGET_TABLE_ROWS:,} rows, 2 columns + 1 intersection",
        "table_audit.wall_s",
        "<=",
        60.0,
        "s",
        applies=_at_table_size,
    ),
    Target(
        "#11",
        "peak memory of audit --table",
        "table_audit.peak_rss_bytes",
        "<=",
        6 * GIB,
        "GiB",
        applies=_at_table_size,
    ),
)


# ------------------------------------------------------------------ child process


def _child(name: str, kwargs_json: str, out: str) -> int:
    bench = next(b for b in BENCHMARKS if b.name == name)
    module = importlib.import_module(bench.module)
    result = module.run(**json.loads(kwargs_json))
    Path(out).write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


def run_isolated(bench: Benchmark, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Run one benchmark in a fresh interpreter; add its peak RSS and process time."""
    with tempfile.TemporaryDirectory(prefix="linkaudit-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--child",
            bench.name,
            "--child-kwargs",
            json.dumps(kwargs),
            "--child-out",
            str(out),
        ]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT)])}
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"benchmark {bench.name} exited {proc.returncode}")
        result = json.loads(out.read_text(encoding="utf-8"))
    result["process_wall_s"] = elapsed
    result["process_peak_rss_bytes"] = usage.ru_maxrss * 1024  # Linux reports KiB
    result["process_cpu_s"] = usage.ru_utime + usage.ru_stime
    result["kwargs"] = kwargs
    return result


# ------------------------------------------------------------------------ reporting


def machine() -> dict[str, Any]:
    """Where the figures were measured."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    versions = {}
    for pkg in ("numpy", "pandas", "pyarrow", "faker"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "python": platform.python_version(),
        "packages": versions,
        "git_commit": commit or None,
    }


def metric(results: Results, derived: dict[str, float], name: str) -> float | None:
    """Value of ``benchmark.metric`` or of a derived figure, None if not measured."""
    if name in derived:
        return derived[name]
    bench, _, key = name.partition(".")
    value = results.get(bench, {}).get(key)
    return float(value) if value is not None else None


def check(
    args: argparse.Namespace, results: Results, derived: dict[str, float]
) -> list[dict[str, Any]]:
    """Each target with its measured value and whether it was met."""
    rows = []
    for t in TARGETS:
        value = metric(results, derived, t.metric)
        if value is None:
            continue
        applies = t.applies(args)
        ok = {
            "<=": value <= t.limit,
            "<": value < t.limit,
            ">=": value >= t.limit,
        }[t.op]
        rows.append(
            {
                "issue": t.issue,
                "target": t.description,
                "metric": t.metric,
                "op": t.op,
                "limit": t.limit / t.scale,
                "value": value / t.scale,
                "unit": t.unit,
                "checked": applies,
                "met": ok if applies else None,
            }
        )
    return rows


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value < 10 else f"{value:.1f}"


def table(results: Results, derived: dict[str, float], targets: list[dict]) -> str:
    """A plain-text summary of the run."""
    lines = []
    g = results.get("generate")
    if g:
        cpu = f" (CPU {g['cpu_s']:.1f} s)" if "cpu_s" in g else ""
        lines += [
            f"generate  {g['households']:,} households, {g['people']:,} people, "
            f"{g['records']:,} records (chunk_size {g['chunk_size']:,})",
            f"  wall {g['wall_s']:.1f} s{cpu}, peak RSS "
            f"{g['peak_rss_bytes'] / GIB:.2f} GiB, {g['records_per_s']:,.0f} "
            f"records/s, {g['s_per_person'] * 1e6:.2f} us/person",
        ]
        if "write_wall_s" in g:
            lines.append(
                f"  write_dataset {g['write_wall_s']:.1f} s "
                f"({g['write_bytes'] / 2**20:,.0f} MiB), peak RSS with write "
                f"{g['peak_rss_with_write_bytes'] / GIB:.2f} GiB"
            )
    f = results.get("faker_peer")
    if f:
        lines.append(
            f"faker_peer  {f['people']:,} people in {f['wall_s']:.2f} s: "
            f"{f['s_per_person'] * 1e6:,.1f} us/person"
        )
    i = results.get("identity")
    if i:
        lines.append(
            f"identity  {i['people']:,} people in {i['wall_s']:.2f} s: "
            f"{i['s_per_person'] * 1e6:,.3f} us/person"
        )
    for name in ("linkage_deterministic", "linkage_splink_small", "linkage_splink"):
        k = results.get(name)
        if k:
            pairs = (
                f", {k['blocked_pairs_total']:,} blocked pairs"
                if "blocked_pairs_total" in k
                else ""
            )
            lines.append(
                f"{name}  {k['households']:,} households, {k['records']:,} records: "
                f"wall {k['wall_s']:.1f} s, peak RSS {k['peak_rss_bytes'] / GIB:.2f} "
                f"GiB; precision {k['precision']:.4f}, recall {k['recall']:.4f}, "
                f"F1 {k['f1']:.4f}{pairs}"
            )
    sc = results.get("score")
    if sc:
        models = ", ".join(
            f"{m} {sc[m + '_s']:.2f} s"
            for m in (
                "criteria",
                "scorecard",
                "logistic_regression",
                "gradient_boosting",
            )
            if m + "_s" in sc
        )
        lines.append(f"score  {sc['households']:,} households: {models}")
    au = results.get("audit")
    if au:
        lines.append(
            f"audit  {au['households']:,} households, {au['n_boot']:,} resamples: "
            f"wall {au['wall_s']:.2f} s, peak RSS {au['peak_rss_bytes'] / GIB:.2f} GiB"
        )
    ta = results.get("table_audit")
    if ta:
        load = ", ".join(f"{x:.1f}" for x in ta["load_before"])
        lines.append(
            f"table_audit  {ta['rows']:,} rows, {ta['n_boot']:,} resamples: wall "
            f"{ta['wall_s']:.1f} s (CPU {ta['cpu_s']:.1f} s), peak RSS "
            f"{ta['peak_rss_bytes'] / GIB:.2f} GiB, load before {load}; fairlearn "
            f"{ta['fairlearn_s_per_resample']:.1f} s per resample, "
            f"{ta['fairlearn_s_extrapolated']:,.0f} s for {ta['n_boot']:,} "
            "(extrapolated)"
        )
    lines += _parallel_lines(results)
    va = results.get("validity")
    if va:
        lines.append(f"validity  baseline run of {va['households']:,} households:")
        for c in va["checks"]:
            ok = "in range" if c["passed"] else "OUT OF RANGE"
            lines.append(
                f"  {c['name']}: {c['measured']:.3g} (target {c['low']:g} to "
                f"{c['high']:g}) {ok}"
            )
    for d in DERIVED:
        if d.name in derived:
            tag = "  [information only]" if d.info else ""
            lines.append(f"{d.name}  {_fmt(derived[d.name])}x  ({d.description}){tag}")
    if targets:
        lines.append("")
        lines.append(f"{'target':<58} {'limit':>10} {'measured':>10}  result")
        for t in targets:
            result = "met" if t["met"] else "MISSED"
            if not t["checked"]:
                result = "not checked"
            lim = f"{t['op']} {_fmt(t['limit'])}{t['unit']}"
            lines.append(
                f"{t['issue']} {t['target']:<55} {lim:>10} "
                f"{_fmt(t['value']) + t['unit']:>10}  {result}"
            )
    return "\n".join(lines)


def _parallel_lines(results: Results) -> list[str]:
    """The parallel and periods benchmarks: each command's wall, CPU, memory, load."""

    def line(label: str, m: dict[str, Any]) -> str:
        return (
            f"  {label}: wall {m['wall_s']:.1f} s, CPU {m['cpu_s']:.1f} s "
            f"({100 * m['cpu_use']:.0f}%), peak RSS "
            f"{m['peak_tree_rss_bytes'] / GIB:.2f} GiB (largest process "
            f"{m['peak_process_rss_bytes'] / GIB:.2f} GiB), "
            f"load {m['load_mean']:.1f} (max {m['load_max']:.1f})"
            + (
                f", others' CPU {m['others_cpu_s']:.1f} s, stolen {m['steal_s']:.1f} s"
                if "others_cpu_s" in m
                else ""
            )
        )

    lines = []
    sw = results.get("parallel_sweep")
    if sw:
        lines.append(
            f"parallel_sweep  {sw['points']} points x {sw['replicates']} replicates, "
            f"{sw['households']:,} households: {sw['speedup']:.2f}x with "
            f"{sw['workers']} workers (mean of {len(sw['pairs'])} pairs, "
            f"{sw['speedup_min']:.2f}x to {sw['speedup_max']:.2f}x), "
            f"same bytes: {sw['same_bytes']}"
        )
        for i, pair in enumerate(sw["pairs"], 1):
            lines.append(f" pair {i}, {pair['first']} first: {pair['speedup']:.2f}x")
            lines += [line(kind, pair[kind]) for kind in ("serial", "parallel")]
    pr = results.get("parallel_run")
    if pr:
        lines.append(f"parallel_run  {pr['households']:,} households:")
        lines.append(line(f"--workers {pr['workers']}", pr))
    pe = results.get("periods")
    if pe:
        from benchmarks.periods import periods_heading

        lines.append(periods_heading(pe))
        lines += [line("single", pe["single"]), line("periods", pe["over_periods"])]
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    groups = sorted({b.group for b in BENCHMARKS})
    p.add_argument("--only", choices=groups, help="run one group of benchmarks")
    p.add_argument(
        "--households",
        type=int,
        default=TARGET_HOUSEHOLDS,
        help=f"households to generate (targets apply at {TARGET_HOUSEHOLDS:,})",
    )
    p.add_argument("--chunk-size", type=int, help="generation.chunk_size override")
    p.add_argument(
        "--splink-households",
        type=int,
        default=100_000,
        help="households of the smaller Splink benchmark (its target applies at "
        "100,000)",
    )
    p.add_argument(
        "--validity-households",
        type=int,
        default=200_000,
        help="households of the validity-check run",
    )
    p.add_argument("--faker-people", type=int, default=20_000, help="peer sample")
    p.add_argument(
        "--table-rows",
        type=int,
        default=TARGET_TABLE_ROWS,
        help=f"rows of the audit --table benchmark (targets at {TARGET_TABLE_ROWS:,})",
    )
    p.add_argument(
        "--identity-people",
        type=int,
        default=1_000_000,
        help="people whose identity fields linkaudit makes (vs the peer)",
    )
    p.add_argument("--no-write", action="store_true", help="skip write_dataset")
    p.add_argument(
        "--output",
        type=Path,
        default=RESULTS / "latest.json",
        help="where to write the results JSON",
    )
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--child-kwargs", help=argparse.SUPPRESS)
    p.add_argument("--child-out", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks; exit 1 if a target that applies is missed."""
    args = parse_args(argv)
    if args.child:
        return _child(args.child, args.child_kwargs, args.child_out)

    selected = [b for b in BENCHMARKS if args.only in (None, b.group)]
    results: Results = {}
    for bench in selected:
        kwargs = bench.kwargs(args)
        print(f"running {bench.name} {kwargs} ...", flush=True)
        try:
            results[bench.name] = run_isolated(bench, kwargs)
        except RuntimeError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    derived = {
        d.name: d.compute(results)
        for d in DERIVED
        if all(n in results for n in d.needs)
    }
    targets = check(args, results, derived)

    report = {
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.run", *(argv or sys.argv[1:])]),
        "machine": machine(),
        "benchmarks": {
            b.name: {"description": b.description, **results[b.name]} for b in selected
        },
        "derived": derived,
        "derived_info": [d.name for d in DERIVED if d.info and d.name in derived],
        "targets": targets,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print()
    print(table(results, derived, targets))
    print(f"\nwrote {args.output}")
    missed = [t for t in targets if t["checked"] and not t["met"]]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
