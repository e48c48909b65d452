"""What each library scenario shows, measured across worlds rather than one seed's draw.

Every scenario file's "WHAT TO EXPECT" comment, the README and the user guide quote
figures. One run is one random world, so a figure from one seed may be a high or a low
draw. This script runs each library scenario as ``linkaudit run`` does (world,
council, audit, attribution) in ``--worlds`` independent worlds -- replicate seeds 0,
1, ... of the file's own seed (:func:`simulator.pipeline.run.replicate_seed`), so the
first ``audit.replicates`` of them are exactly the worlds the file itself pools -- and
collects the counts behind every figure quoted: flags, wrong flags and missed families
overall and by group, the false positive rate by group with its difference from and
ratio to the reference group, the attribution's causes, link recall and precision
by source and group, and for a run over periods each period's families and rates by
deprivation (:mod:`benchmarks.period_expectations`).

It writes ``docs/expectations.md`` (``--output``): for each figure the mean over the
worlds and the smallest and largest single world; for rates, also the figure the file
prints (pooled over its own replicate worlds, by the audit's rule: rates of summed
counts) and the range of that pooled figure over consecutive blocks of worlds. Counts
are per world.

Usage::

    python -m benchmarks.expectations                      # every file, 9 worlds
    python -m benchmarks.expectations --only baseline --worlds 3
    python -m benchmarks.expectations --jobs 2 --keep DIR  # keep the run directories

Each file's own headline question (``audit.headline``: the two groups' rates, their
difference and their ratio) leads its section. ``--only`` measures the named files
and keeps the page's other sections as they were (each section names its commit).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from audits.confusion import CONFUSION, fractions
from audits.headline import LINK_COUNTS as LINK_RATES
from audits.headline import default_link_reference
from benchmarks.coverage import checkout_commit
from benchmarks.period_expectations import period_counts, period_rates
from simulator.pipeline.run import replicate_seed
from simulator.schema.headline import HeadlineConfig
from simulator.schema.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
OUTPUT = ROOT / "docs" / "expectations.md"
LINK_COUNTS = [
    "n_linkable",
    "n_linked",
    "n_correct",
    "n_false",
    "n_missed",
    "n_wrong_subject",
]
KEY = ["table", "group", "value", "part"]


@dataclass(frozen=True)
class World:
    """One run to make: a scenario file and the replicate whose seed it takes."""

    path: Path
    replicate: int

    @property
    def name(self) -> str:
        """The scenario's file name without its suffix."""
        return self.path.stem


def scenario_settings(path: Path) -> tuple[int, int]:
    """The file's seed and its ``audit.replicates`` (1 when unset)."""
    raw = yaml.safe_load(path.read_text())
    return int(raw["seed"]), int((raw.get("audit") or {}).get("replicates", 1))


def run_world(world: World, directory: Path) -> Path:
    """``linkaudit run`` of one world (one replicate, its seed) into ``directory``."""
    seed, _ = scenario_settings(world.path)
    target = directory / world.name / f"world{world.replicate}"
    if (target / "manifest.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "simulator.cli",
        "-q",
        "run",
        str(world.path),
        "-o",
        str(target),
        "--set",
        f"seed={replicate_seed(seed, world.replicate)}",
        "--set",
        "audit.replicates=1",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{world.name} world {world.replicate}: {done.stderr}")
    return target


def long_counts(run: Path) -> pd.DataFrame:
    """The counts behind every figure of one run, long: table, group, value, part, name.

    ``audit`` rows hold the confusion counts by group (``overall`` included) with the
    reference group's value in ``part``'s place for disparities; ``attribution`` rows
    the causes of wrong flags (part ``false_positive``) and missed families
    (``false_negative``); ``linkage`` rows the link counts by group and source (part:
    the source, or ``all``).
    """
    audit = pd.concat(
        [
            pd.read_csv(run / "audit" / f"{t}.csv", dtype={"value": str})
            for t in ("metrics_overall", "metrics_by_group")
        ]
    )
    references = (
        pd.read_csv(run / "audit" / "disparities.csv", dtype={"reference": str})
        .groupby("group")["reference"]
        .first()
    )
    audit["part"] = audit["group"].map(references).fillna("")
    causes = pd.read_csv(run / "attribution" / "counts.csv", dtype={"value": str})
    causes = causes.rename(columns={"error": "part"})
    links = pd.read_csv(run / "linkage" / "quality_by_group.csv", dtype={"value": str})
    links["part"] = links.get("source", "all")
    cause_names = [  # not the pooled spread's columns (one world: the count again)
        c
        for c in causes.columns
        if c not in ("group", "value", "part", "worlds")
        and not c.endswith(("_low", "_high"))
    ]
    audit["flagged"] = audit["tp"] + audit["fp"]
    audit["eligible"] = audit["tp"] + audit["fn"]
    frames = [
        _melt(audit, "audit", [*CONFUSION, "flagged", "eligible"]),
        _melt(causes, "attribution", cause_names),
        _melt(links, "linkage", LINK_COUNTS),
        *period_counts(run),
    ]
    return pd.concat(frames, ignore_index=True)


def _melt(frame: pd.DataFrame, table: str, names: list[str]) -> pd.DataFrame:
    out = frame.melt(["group", "value", "part"], names, "name", "count")
    out.insert(0, "table", table)
    return out


RATES = {
    "audit": {
        "fpr": ("fp", "tn"),
        "tpr": ("tp", "fn"),
        "precision": ("tp", "fp"),
    },
    "linkage": {
        "link_recall": ("n_correct", "n_linkable"),
        "link_precision": ("n_correct", "n_linked"),
    },
}
"""Each table's rates: (numerator, the denominator's other part or whole)."""


def rates(counts: pd.DataFrame) -> pd.DataFrame:
    """Rates of (summed) counts, one row per key and rate (:data:`RATES`)."""
    wide = counts.pivot_table(index=KEY, columns="name", values="count", aggfunc="sum")
    parts = []
    for table, formulas in RATES.items():
        rows = wide[wide.index.get_level_values("table") == table]
        if rows.empty:
            continue
        for name, (top, other) in formulas.items():
            whole = rows[other] if other.startswith("n_") else rows[top] + rows[other]
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = rows[top] / whole
            parts.append(rate.rename("rate").reset_index().assign(name=name))
    return pd.concat(parts, ignore_index=True)


def disparities(rate: pd.DataFrame) -> pd.DataFrame:
    """Each group's false positive rate less, and over, its reference group's."""
    fpr = rate[(rate["table"] == "audit") & (rate["name"] == "fpr")]
    fpr = fpr[fpr["group"] != "overall"]
    ref = fpr[fpr["value"] == fpr["part"]].set_index("group")["rate"]
    groups = fpr[fpr["value"] != fpr["part"]].copy()
    reference_rate = groups["group"].map(ref).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = groups["rate"] - reference_rate
        ratio = groups["rate"] / reference_rate
    return pd.concat(
        [
            groups.assign(name="fpr_difference", rate=diff),
            groups.assign(name="fpr_ratio", rate=ratio),
        ],
        ignore_index=True,
    )


@dataclass(frozen=True)
class Question:
    """A file's own headline question (``audit.headline``) and its default reference.

    ``reference`` is the spec's, else the file's ``audit.reference`` for the
    grouping (None: the audit's default, found in the counts).
    """

    spec: HeadlineConfig
    reference: str | None

    @classmethod
    def of(cls, path: Path) -> Question | None:
        """The question of a scenario file (None if it names none)."""
        scenario = load_scenario(path)
        spec = scenario.audit.headline
        if spec is None:
            return None
        ref = spec.reference
        if ref is None:
            ref = scenario.audit.reference.get(spec.grouping)
        return cls(spec, None if ref is None else str(ref))


def _headline_counts(
    counts: pd.DataFrame, question: Question
) -> tuple[pd.Index, np.ndarray, np.ndarray, str | None]:
    """The question's numerator and denominator by group, and its reference."""
    spec = question.spec
    rows = counts[counts["group"] == spec.grouping]
    if spec.is_linkage:
        rows = rows[
            (rows["table"] == "linkage") & (rows["part"] == (spec.source or "overall"))
        ]
        wide = rows.pivot_table(
            index="value", columns="name", values="count", aggfunc="sum"
        )
        top, bottom = LINK_RATES[spec.metric]
        num, den = wide[top].to_numpy(float), wide[bottom].to_numpy(float)
        ref = question.reference or (
            default_link_reference(spec.grouping, list(wide.index), den)
            if len(wide)
            else None
        )
        return wide.index, num, den, ref
    rows = rows[rows["table"] == "audit"]
    wide = rows.pivot_table(
        index="value", columns="name", values="count", aggfunc="sum"
    )
    num, den = fractions(wide[list(CONFUSION)].to_numpy(float))[spec.metric]
    ref = question.reference
    if ref is None and len(rows):
        ref = str(rows["part"].iloc[0])  # the audit's reference for the grouping
    return wide.index, num, den, ref


def headline_figures(counts: pd.DataFrame, question: Question) -> pd.DataFrame:
    """The file's own headline from (summed) counts: both rates, difference, ratio.

    Rows of table ``headline``: the group's and the reference's rate (name: the
    metric), and the group's difference from (``<metric>_difference``) and ratio
    to (``<metric>_ratio``) the reference, with ``part`` the reference group (and
    for a linkage metric the source, ``source:reference``).
    """
    spec = question.spec
    values, num, den, ref = _headline_counts(counts, question)
    group = str(spec.group)
    if ref is None or group not in values or ref not in values:
        return pd.DataFrame(columns=[*KEY, "name", "rate"])
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = pd.Series(num / den, index=values)
    g, r = float(rate[group]), float(rate[ref])
    part = ref if not spec.is_linkage else f"{spec.source or 'overall'}:{ref}"
    rows = [
        (group, spec.metric, g),
        (ref, spec.metric, r),
        (group, f"{spec.metric}_difference", g - r),
        (group, f"{spec.metric}_ratio", g / r if r > 0 else np.nan),
    ]
    return pd.DataFrame(
        [("headline", spec.grouping, v, part, n, x) for v, n, x in rows],
        columns=[*KEY, "name", "rate"],
    )


def figures(counts: pd.DataFrame, question: Question | None = None) -> pd.DataFrame:
    """Rates and disparities of ``counts`` (summed over whatever worlds it holds),
    and the file's own headline when ``question`` is given."""
    rate = rates(counts)
    parts = [rate, disparities(rate), period_rates(counts)]
    if question is not None:
        parts.append(headline_figures(counts, question))
    return pd.concat(parts, ignore_index=True)


def summarise(
    per_world: dict[int, pd.DataFrame],
    pooled_by: int,
    question: Question | None = None,
) -> pd.DataFrame:
    """Mean and range over worlds of every figure, and its pooled figure and range.

    Counts: mean, min and max over single worlds. Rates and disparities: the same over
    single worlds, plus ``printed`` (the rate of the counts summed over worlds
    ``0 .. pooled_by - 1``, as the scenario file's own run prints it) and
    ``pooled_min``/``pooled_max`` over consecutive blocks of ``pooled_by`` worlds.
    With a ``question``, its headline (:func:`headline_figures`) is summarised too.
    """
    worlds = sorted(per_world)
    counts = pd.concat(
        [per_world[w].assign(world=w) for w in worlds], ignore_index=True
    )
    by_key = counts.groupby(KEY + ["name"])["count"]
    count_stats = by_key.agg(["mean", "min", "max"]).reset_index()
    single = pd.concat(
        [figures(per_world[w], question).assign(world=w) for w in worlds],
        ignore_index=True,
    )
    rate_stats = (
        single.replace([np.inf, -np.inf], np.nan)
        .groupby(KEY + ["name"])["rate"]
        .agg(mean="mean", min="min", max="max", undefined=lambda s: int(s.isna().sum()))
        .reset_index()
    )
    blocks = [worlds[i : i + pooled_by] for i in range(0, len(worlds), pooled_by)]
    blocks = [b for b in blocks if len(b) == pooled_by]
    pooled = pd.concat(
        [
            figures(pd.concat([per_world[w] for w in block]), question).assign(block=i)
            for i, block in enumerate(blocks)
        ],
        ignore_index=True,
    ).replace([np.inf, -np.inf], np.nan)
    printed = pooled[pooled["block"] == 0].set_index(KEY + ["name"])["rate"]
    spread = pooled.groupby(KEY + ["name"])["rate"].agg(
        pooled_min="min", pooled_max="max"
    )
    rate_stats = rate_stats.join(printed.rename("printed"), on=KEY + ["name"]).join(
        spread, on=KEY + ["name"]
    )
    return pd.concat(
        [count_stats.assign(kind="count"), rate_stats.assign(kind="rate")],
        ignore_index=True,
    )


def measure(
    paths: Iterable[Path], worlds: int, jobs: int, keep: Path | None
) -> dict[str, tuple[pd.DataFrame, int]]:
    """Run every (scenario, world) on ``jobs`` processes and summarise each scenario."""
    paths = list(paths)
    todo = [World(p, r) for p in paths for r in range(worlds)]
    with tempfile.TemporaryDirectory() as tmp:
        directory = keep or Path(tmp)
        with ThreadPoolExecutor(jobs) as pool:
            runs = list(pool.map(lambda w: run_world(w, directory), todo))
        counts = {
            (w.name, w.replicate): long_counts(r)
            for w, r in zip(todo, runs, strict=True)
        }
    out = {}
    for path in paths:
        _, replicates = scenario_settings(path)
        per_world = {r: counts[(path.stem, r)] for r in range(worlds)}
        out[path.stem] = (
            summarise(per_world, replicates, Question.of(path)),
            replicates,
        )
    return out


FIGURE_COLUMNS = ("mean", "min", "max", "printed", "pooled_min", "pooled_max")


def _fmt(value: float, kind: str, name: str) -> str:
    if pd.isna(value):
        return "undefined"
    if kind == "count":
        return f"{value:,.0f}"
    per_10k = name.startswith("wrongly_flagged_per_10k")
    if name.endswith("_ratio"):
        return f"{value:.2f}x"
    if name.endswith("_difference"):
        return f"{value:+.1f}" if per_10k else f"{100 * value:+.1f} pt"
    return f"{value:.1f}" if per_10k else f"{100 * value:.1f}%"


def shown(stats: pd.DataFrame) -> pd.DataFrame:
    """The figures a reader quotes (the JSON beside the page holds them all).

    Counts overall (and wrong flags by group), causes overall where any world has
    one, every rate and disparity; link counts only as rates. The headline's
    rows are :func:`headline_table`'s.
    """
    overall = stats["group"] == "overall"
    count = stats["kind"] == "count"
    keep = (
        ~count
        | ((stats["table"] == "audit") & (overall | (stats["name"] == "fp")))
        | ((stats["table"] == "attribution") & overall & (stats["max"] > 0))
        | ((stats["table"] == "periods") & overall)
    )
    return stats[keep & (stats["table"] != "headline")]


def markdown_table(stats: pd.DataFrame, replicates: int) -> str:
    """Figures (:func:`shown`, or the headline's) as a Markdown table."""
    lines = [
        "| table | grouping | group | part | figure | mean of worlds | one world "
        f"(min to max) | printed ({replicates} worlds pooled) | pooled (min to max) |",
        "|---|---|---|---|---|---:|---:|---:|---:|",
    ]
    for row in stats.itertuples(index=False):
        cells = [row.table, row.group, row.value, row.part, row.name]
        fmt = [_fmt(getattr(row, c), row.kind, row.name) for c in FIGURE_COLUMNS]
        mean, low, high, printed, pooled_low, pooled_high = fmt
        one_world = f"{low} to {high}"
        if row.kind == "count":
            cells += [mean, one_world, "", ""]
        else:
            if row.undefined:
                one_world += f" ({int(row.undefined)} undefined)"
            cells += [mean, one_world, printed, f"{pooled_low} to {pooled_high}"]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines)


def headline_table(stats: pd.DataFrame, replicates: int) -> list[str]:
    """The file's own question first: its rates, difference and ratio."""
    rows = stats[stats["table"] == "headline"] if "table" in stats else stats.iloc[:0]
    if rows.empty:
        return ["The file names no headline question (`audit.headline`).", ""]
    return [
        "The file's own question (`audit.headline`): the group's and the reference "
        "group's (`part`) rate, their difference and their ratio.",
        "",
        markdown_table(rows, replicates),
        "",
        "Every figure:",
        "",
    ]


@dataclass(frozen=True)
class Measured:
    """One scenario's figures and how they were measured (a section of the page)."""

    stats: pd.DataFrame
    replicates: int
    worlds: int
    commit: str

    def as_json(self) -> dict:
        """The JSON entry (``figures``: every row of ``stats``)."""
        return {
            "replicates": self.replicates,
            "worlds": self.worlds,
            "commit": self.commit,
            "figures": json.loads(self.stats.to_json(orient="records")),
        }

    @classmethod
    def from_json(cls, entry: dict, commit: str) -> Measured:
        """An entry of an earlier page; ``commit`` if the entry names none."""
        return cls(
            pd.DataFrame(entry["figures"]),
            int(entry["replicates"]),
            int(entry.get("worlds", 9)),
            str(entry.get("commit", commit)),
        )


EARLIER = "dc39599 to 1f09d88"
"""The commits of the page's first measurement (entries that name none)."""


def write_markdown(results: dict[str, Measured]) -> str:
    """docs/expectations.md: how it was measured, then one section per scenario."""
    head = [
        "# What each scenario shows, across worlds",
        "",
        "Made by `python -m benchmarks.expectations` (do not edit by hand): each "
        "library scenario run in independent worlds (replicate seeds 0, 1, ... of "
        "the file's own seed, one `linkaudit run` each with `audit.replicates=1`); "
        "each section says how many worlds and on which linkaudit commit (`--only` "
        "measures some files again and keeps the others' sections; `--keep` reuses "
        "run directories, so one measurement can span commits that did not change "
        "the outputs). "
        "Counts are per world: the mean over the worlds and the smallest and "
        "largest world. Rates "
        "(false positive rate `fpr`, true positive rate `tpr`, `precision`, "
        "`link_recall`, `link_precision`) and the false positive rate's difference "
        "from (`fpr_difference`, percentage points) and ratio to (`fpr_ratio`) the "
        "reference group (`part`) also give the figure the file itself prints (its "
        "own replicate worlds pooled: rates of summed counts) and the range of that "
        "pooled figure over consecutive blocks of as many worlds. Each section "
        "starts with the file's own headline question (`audit.headline`): the two "
        "groups' rates, the difference (`<metric>_difference`, percentage points) "
        "and the ratio (`<metric>_ratio`), summarised the same way. A ratio is "
        "undefined in a world where the reference group has no event. A run over "
        "periods adds tables `periods` and `periods_audit`, `part` the period.",
        "",
    ]
    body = []
    for name, m in sorted(results.items()):
        body += [
            f"## {name}",
            "",
            f"{m.worlds} worlds, linkaudit commit `{m.commit}`.",
            "",
            *headline_table(m.stats, m.replicates),
            markdown_table(shown(m.stats), m.replicates),
            "",
        ]
    return "\n".join(head + body)


def json_text(results: dict[str, Measured]) -> str:
    """docs/expectations.json: each scenario's entry, one figure a line (diffable)."""
    parts = []
    for name, m in sorted(results.items()):
        entry = m.as_json()
        rows = ",\n  ".join(json.dumps(r) for r in entry.pop("figures"))
        head = json.dumps(entry)[:-1]  # the entry without its closing brace
        parts.append(f'{json.dumps(name)}: {head}, "figures": [\n  {rows}\n]}}')
    return "{\n" + ",\n".join(parts) + "\n}\n"


def earlier(output: Path, keep: set[str]) -> dict[str, Measured]:
    """The sections of the page already written, but for the scenarios ``keep``."""
    path = output.with_suffix(".json")
    if not path.exists():
        return {}
    raw = json.loads(path.read_text())
    return {
        name: Measured.from_json(entry, EARLIER)
        for name, entry in raw.items()
        if name not in keep
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--only",
        nargs="*",
        help="scenario names (default: every file); the page keeps the other "
        "files' sections",
    )
    p.add_argument("--worlds", type=int, default=9, help="worlds per scenario")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--keep", type=Path, help="keep (and reuse) the run directories")
    p.add_argument(
        "--commit",
        help="the linkaudit commit(s) the kept runs were made at (default: this "
        "checkout's)",
    )
    p.add_argument("--output", type=Path, default=OUTPUT)
    a = p.parse_args(argv)
    paths = sorted(SCENARIOS.glob("*.yaml"))
    if a.only:
        paths = [q for q in paths if q.stem in a.only]
    start = time.perf_counter()
    commit = a.commit or checkout_commit()
    results = {
        name: Measured(stats, replicates, a.worlds, commit)
        for name, (stats, replicates) in measure(
            paths, a.worlds, a.jobs, a.keep
        ).items()
    }
    if a.only:
        results = earlier(a.output, set(results)) | results
    a.output.write_text(write_markdown(results))
    a.output.with_suffix(".json").write_text(json_text(results))
    minutes = (time.perf_counter() - start) / 60
    print(f"wrote {a.output} and {a.output.with_suffix('.json')} ({minutes:.0f} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
