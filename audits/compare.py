"""Runs side by side: the settings that differ, and every figure's change from the base.

``linkaudit compare RUN_A RUN_B ...`` reads each run's resolved scenario, its audit
outcomes (one row per true household), its link quality and its attribution counts,
and puts them side by side with the first run as the base.

Each audit rate's change comes with an interval from the audit's own bootstrap,
paired for runs of the same families and independent otherwise
(:mod:`audits.changes`); a run with replicate worlds is pooled over them.

Runs whose populations, truth or audit groupings differ are refused
(:func:`check_comparable`): their figures would not be about the same families.
"""

# Over 600 lines: reading the runs and checking they belong together, then every
# figure's rows side by side, read in that order; the files it writes are
# compare_files.py's.
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audits.changes import grouping_changes, side_by_side, stack_worlds, worlds
from audits.outcomes import require_columns
from audits.pooled_attribution import HIGH, LOW, WORLDS
from audits.tables import REPLICATE_OUTCOMES
from simulator.errors import InputDataError
from simulator.schema.loading import scenario_from_dict
from simulator.schema.settings import NOT_SET, flatten, show_value
from simulator.vocabulary import OVERALL

POPULATION_SECTIONS = ("population", "needs", "eligibility", "harm")
"""Scenario sections that make the families and their truth: runs must agree."""
POPULATION_FIELDS = (
    "time.reference_date",
    "time.followup_days",
    "audit.target",
    "audit.group_columns",
    "audit.intersections",
)
"""Other fields runs must agree on: the truth's dates, the target and groupings."""
NOT_SETTINGS = ("name", "description", "generation")
"""Fields that do not change a run's figures (left out of "only the seed differs")."""
LINKAGE_METRICS = ("precision", "recall", "f1", "n_linked", "n_false", "n_missed")
"""Link-quality columns compared."""
KEY_COLUMNS = ("section", "run", "grouping", "group", "source", "metric")
FIGURE_COLUMNS = ("n", "denominator", "estimate", "ci_low", "ci_high", "boot_undefined")
CHANGE_COLUMNS = ("change", "change_ci_low", "change_ci_high", "change_boot_undefined")
CSV_COLUMNS = (*KEY_COLUMNS, *FIGURE_COLUMNS, *CHANGE_COLUMNS, "resampling")
"""Columns of ``compare.csv``, in order."""
COUNT_COLUMNS = ("n", "denominator", "boot_undefined", "change_boot_undefined")

_NOT_A_RUN = (
    "{path}: not a linkaudit run directory ({why}); compare takes directories "
    "written by `linkaudit run` (or `linkaudit audit`)"
)
_DIFFERENT_POPULATIONS = (
    "cannot compare {runs}: they differ in {fields}, so their figures are not about "
    "the same families or groups; make these fields equal (re-run with --set, or "
    "re-audit with `linkaudit audit RUN --set audit.FIELD=VALUE`) and compare again"
)
_MAX_FIELDS_SHOWN = 4


@dataclass(frozen=True)
class RunFiles:
    """What compare reads of one run.

    Attributes
    ----------
    label : str
        The run's name in tables (its directory's name, made unique).
    path : Path
        The directory.
    scenario : dict
        The resolved scenario (``scenario.json``, or the audit summary's).
    audit_seed : int
        The seed of the run's audit (``audit/summary.json``).
    confidence, n_boot : float, int
        The run's audit settings.
    outcomes : DataFrame
        ``audit/outcomes.parquet``, sorted by ``household_id``: world 0.
    replicates : tuple of DataFrame
        With ``audit.replicates`` R > 1, the outcomes of worlds 1 to R - 1
        (``audit/replicates/outcomes_<r>.parquet``), sorted the same way; empty
        for a run of one world, or one written before runs kept them.
    quality, quality_by_group, attribution : DataFrame or None
        ``linkage/quality``, ``linkage/quality_by_group`` and ``attribution/counts``
        where present; the every-record and every-family rows say ``overall``.
    """

    label: str
    path: Path
    scenario: dict[str, Any]
    audit_seed: int
    outcomes: pd.DataFrame
    quality: pd.DataFrame | None = None
    quality_by_group: pd.DataFrame | None = None
    attribution: pd.DataFrame | None = None
    replicates: tuple[pd.DataFrame, ...] = ()

    @property
    def worlds(self) -> tuple[pd.DataFrame, ...]:
        """Every world's outcomes the run kept, world 0 first."""
        return (self.outcomes, *self.replicates)

    @property
    def groupings(self) -> list[tuple[str, ...]]:
        """Every family, each group column, then each intersection."""
        return groupings(self.scenario)


def groupings(scenario: dict[str, Any]) -> list[tuple[str, ...]]:
    """A scenario's audit groupings: every family, each column, each intersection."""
    audit = scenario["audit"]
    return [
        (),
        *[(c,) for c in audit["group_columns"]],
        *[tuple(cols) for cols in audit["intersections"]],
    ]


def group_columns(scenario: dict[str, Any]) -> list[str]:
    """Every column a scenario's audit groups by, sorted."""
    return sorted({c for g in groupings(scenario) for c in g})


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputDataError(f"{path}: cannot read ({e.strerror})") from e
    except json.JSONDecodeError as e:
        raise InputDataError(
            f"{path}: not valid JSON ({e.msg}, line {e.lineno})"
        ) from e


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
        raise InputDataError(
            f"{path}: not a readable Parquet file ({e}); write the run again"
        ) from e


def _read_table(path: Path) -> pd.DataFrame | None:
    """A Parquet table, or None if absent.

    ``all``, the sentinel of runs written before it became ``overall``, is read as
    ``overall``.
    """
    if not path.is_file():
        return None
    table = _read_parquet(path)
    for column in ("source", "group", "value"):
        if column in table.columns:
            table[column] = table[column].astype(str).replace("all", OVERALL)
    return table


def read_run(path: str | Path, label: str | None = None) -> RunFiles:
    """Read what compare needs from a run (or audit) directory.

    Parameters
    ----------
    path : str or Path
        A directory written by ``linkaudit run`` (its audit under ``audit/``) or by
        ``linkaudit audit`` (no link quality or attribution).
    label : str, optional
        The run's name in tables; default the directory's name.

    Returns
    -------
    RunFiles

    Raises
    ------
    InputDataError
        If ``path`` is not such a directory, or its outcomes lack a column.
    """
    path = Path(path)
    if not path.is_dir():
        why = "no such directory" if not path.exists() else "not a directory"
        raise InputDataError(_NOT_A_RUN.format(path=path, why=why))
    audit_dir = path if (path / "summary.json").is_file() else path / "audit"
    summary_file = audit_dir / "summary.json"
    outcomes_file = audit_dir / "outcomes.parquet"
    for needed in (summary_file, outcomes_file):
        if not needed.is_file():
            why = f"{needed.relative_to(path)} is missing"
            raise InputDataError(_NOT_A_RUN.format(path=path, why=why))
    summary = _read_json(summary_file)
    audit_seed = summary.get("seeds", {}).get("audit")
    if not isinstance(audit_seed, int):
        raise InputDataError(f"{summary_file}: no audit seed (seeds.audit)")
    scenario_file = path / "scenario.json"
    scenario = scenario_from_dict(
        _read_json(scenario_file)
        if scenario_file.is_file()
        else summary.get("scenario", {}),
        str(scenario_file if scenario_file.is_file() else summary_file),
    ).model_dump(mode="json")
    files = [outcomes_file] + [
        audit_dir / REPLICATE_OUTCOMES.format(replicate=r)
        for r in range(1, int(scenario["audit"].get("replicates", 1)))
    ]
    worlds_ = [_read_outcomes(f, scenario) for f in files if f.is_file()]
    return RunFiles(
        label=label or path.name,
        path=path,
        scenario=scenario,
        audit_seed=audit_seed,
        outcomes=worlds_[0],
        replicates=tuple(worlds_[1:]),
        quality=_read_table(path / "linkage" / "quality.parquet"),
        quality_by_group=_read_table(path / "linkage" / "quality_by_group.parquet"),
        attribution=_read_table(path / "attribution" / "counts.parquet"),
    )


def _read_outcomes(path: Path, scenario: dict[str, Any]) -> pd.DataFrame:
    """One world's outcomes, checked and sorted by ``household_id``."""
    outcomes = _read_parquet(path)
    require_columns(
        outcomes,
        ["household_id", "y_true", "flagged", *group_columns(scenario)],
        str(path),
    )
    return outcomes.sort_values("household_id", kind="stable", ignore_index=True)


def run_labels(paths: Sequence[str | Path]) -> list[str]:
    """Names for runs in tables: directory names, numbered where two are equal.

    Examples
    --------
    >>> run_labels(["out/a", "out/b"]), run_labels(["x/run", "y/run"])
    (['a', 'b'], ['run (1)', 'run (2)'])
    """
    names = [Path(p).name or str(p) for p in paths]
    return [f"{n} ({i + 1})" if names.count(n) > 1 else n for i, n in enumerate(names)]


def differing_settings(scenarios: Sequence[dict[str, Any]]) -> list[tuple[str, list]]:
    """Every scenario field whose value is not the same in all runs.

    Parameters
    ----------
    scenarios : sequence of dict
        Resolved scenarios (JSON form).

    Returns
    -------
    list of (field, values)
        Dotted field names in the first scenario's order, each with one value per
        run (:data:`simulator.schema.settings.NOT_SET` where a run lacks it).

    Examples
    --------
    >>> differing_settings([{"seed": 1, "a": {"b": 2}}, {"seed": 1, "a": {"b": 3}}])
    [('a.b', [2, 3])]
    """
    flat = [flatten(s) for s in scenarios]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    out = []
    for key in keys:
        values = [f.get(key, NOT_SET) for f in flat]
        if any(v != values[0] for v in values[1:]):
            out.append((key, values))
    return out


def _blocks(key: str) -> bool:
    return key.split(".")[0] in POPULATION_SECTIONS or any(
        key == f or key.startswith(f"{f}.") for f in POPULATION_FIELDS
    )


def check_comparable(labels: Sequence[str], scenarios: Sequence[dict]) -> None:
    """Refuse runs whose families, truth or audit groupings differ.

    Raises
    ------
    InputDataError
        One line naming the runs, the fields that differ (with their values) and
        what to do.
    """
    blocking = [(k, v) for k, v in differing_settings(scenarios) if _blocks(k)]
    if not blocking:
        return
    shown = [
        f"{k} ({' vs '.join(show_value(x) for x in v)})"
        for k, v in blocking[:_MAX_FIELDS_SHOWN]
    ]
    if len(blocking) > _MAX_FIELDS_SHOWN:
        shown.append(f"{len(blocking) - _MAX_FIELDS_SHOWN} more field(s)")
    raise InputDataError(
        _DIFFERENT_POPULATIONS.format(runs=", ".join(labels), fields="; ".join(shown))
    )


def only_seed_differs(scenarios: Sequence[dict]) -> bool:
    """Whether the runs differ in their seed and in nothing that changes a figure."""
    keys = {
        k
        for k, _ in differing_settings(scenarios)
        if k.split(".")[0] not in NOT_SETTINGS
    }
    return keys == {"seed"}


@dataclass(frozen=True)
class Comparison:
    """Runs side by side (:func:`compare`).

    Attributes
    ----------
    runs : tuple of RunFiles
        The runs, the base first.
    settings : list of (field, values)
        Every scenario field that differs between runs (:func:`differing_settings`).
    table : DataFrame
        The tidy table of ``compare.csv`` (:data:`CSV_COLUMNS`).
    notes : tuple of str
        Plain sentences on how to read the changes (seeds, pairing, what is absent).
    seed_only : bool
        The runs differ only by seed (changes are between worlds, not settings).
    n_boot, confidence : int, float
        The base run's audit settings, used for every interval.
    seeds : dict of str to list of int
        The stream of each grouping's resamples (:func:`comparison_seeds`).
    references : dict of str to str
        Each grouping's reference group in the base run (:func:`reference_group`).
    """

    runs: tuple[RunFiles, ...]
    settings: list[tuple[str, list]]
    table: pd.DataFrame
    notes: tuple[str, ...]
    seed_only: bool
    n_boot: int
    confidence: float
    seeds: dict[str, list[int]]
    references: dict[str, str]

    @property
    def labels(self) -> list[str]:
        """The runs' names, the base first."""
        return [r.label for r in self.runs]


def grouping_label(columns: Sequence[str]) -> str:
    """A grouping's name: ``overall``, a column, or ``a × b``."""
    from audits.confusion import JOIN

    return JOIN.join(columns) if columns else OVERALL


def comparison_seeds(runs: Sequence[RunFiles]) -> dict[str, list[int]]:
    """The resampling stream of each grouping, from the runs' own audit seeds.

    Each list is the key of :func:`simulator.rng.stream`: the base run's audit
    seed, then ``"compare"``, the other runs' audit seeds and the grouping's name;
    the same runs give the same resamples.
    """
    from simulator.rng import stable_id

    seeds = [r.audit_seed for r in runs]
    return {
        grouping_label(g): [
            seeds[0],
            stable_id("compare"),
            *seeds[1:],
            stable_id(grouping_label(g)),
        ]
        for g in runs[0].groupings
    }


def reference_group(
    outcomes: pd.DataFrame, columns: Sequence[str], chosen: dict[str, Any]
) -> str | None:
    """The grouping's reference group in the base run, as the audit chooses it.

    None for every family together (no groups to compare).
    """
    if not columns:
        return None
    from audits.confusion import confusion_cells
    from audits.disparity import choose_reference

    cells = confusion_cells(outcomes, columns)
    ref, _ = choose_reference(cells, {c: v for c, v in chosen.items() if c in columns})
    return cells.values()[ref]


def _audit_rows(
    runs: Sequence[RunFiles],
    seeds: dict[str, list[int]],
    world_of: list[int],
    references: dict[str, str],
) -> pd.DataFrame:
    """Every audit rate of every run, pooled over its worlds, and its change.

    ``world_of`` gives the world of each run's world 0 then of its other worlds
    (:func:`audits.changes.stack_worlds`).
    """
    audit = runs[0].scenario["audit"]
    units, run_of = stack_worlds([r.worlds for r in runs])
    parts = []
    for grouping in runs[0].groupings:  # a handful of groupings
        name = grouping_label(grouping)
        key = seeds[name]
        part = grouping_changes(
            units,
            [r.label for r in runs],
            grouping,
            world_of,
            n_boot=int(audit["n_boot"]),
            confidence=float(audit["confidence"]),
            rng=np.random.default_rng(np.random.SeedSequence(key)),
            reference=references.get(name),
            run_of=run_of,
        )
        parts.append(part.assign(section="audit", grouping=name, source=""))
    return pd.concat(parts, ignore_index=True)


def _linkage_rows(runs: Sequence[RunFiles]) -> pd.DataFrame:
    labels = [r.label for r in runs]
    by_source = side_by_side(
        [r.quality for r in runs], labels, ["source"], LINKAGE_METRICS
    ).assign(section="linkage", grouping=OVERALL, group=OVERALL)
    by_group = side_by_side(
        [r.quality_by_group for r in runs],
        labels,
        ["source", "group", "value"],
        LINKAGE_METRICS,
    )
    if "source" not in by_group.columns:
        by_group = by_group.assign(source=OVERALL)
    by_group = by_group.rename(columns={"group": "grouping", "value": "group"})
    return pd.concat(
        [by_source, by_group.assign(section="linkage_by_group")], ignore_index=True
    )


def _attribution_rows(runs: Sequence[RunFiles]) -> pd.DataFrame:
    """Each cause's count side by side: the mean per world of each run's worlds.

    The smallest and largest world (``_low``, ``_high``) and ``worlds`` stay in
    each run's own ``attribution/counts``; a run written before the ladder ran in
    every world holds its first world's counts.
    """
    tables = [r.attribution for r in runs]
    causes = [
        c
        for t in tables
        if t is not None
        for c in t.columns
        if c not in ("group", "value", "error", WORLDS) and not c.endswith((LOW, HIGH))
    ]
    rows = side_by_side(
        tables,
        [r.label for r in runs],
        ["group", "value", "error"],
        list(dict.fromkeys(causes)),
    )
    if rows.empty:
        return rows
    return rows.assign(
        section="attribution",
        metric=rows["error"].astype(str) + "." + rows["metric"].astype(str),
        source="",
    ).rename(columns={"group": "grouping", "value": "group"})


def _notes(runs: Sequence[RunFiles], seed_only: bool, world_of: list[int]) -> list:
    base = runs[0]
    notes = []
    if seed_only:
        notes.append(
            f"{', '.join(r.label for r in runs)} differ only by seed: every change is "
            "the difference between two random worlds of the same scenario, not the "
            "effect of a setting."
        )
    for run, world in zip(runs[1:], world_of[1:], strict=True):
        if world == world_of[0]:
            notes.append(
                f"{run.label} has the same families as {base.label} (same seed and "
                "population): its changes were resampled family by family together "
                f"with {base.label}, so they show the effect of the settings on "
                "these families."
            )
        elif run.scenario["seed"] != base.scenario["seed"] and not seed_only:
            notes.append(
                f"{run.label} has other families than {base.label} (another seed): "
                "its changes mix the effect of the settings with the difference "
                "between two random worlds; run both with the same seed to see the "
                "settings alone."
            )
        elif not seed_only:
            notes.append(
                f"{run.label} has other families than {base.label} though their "
                "seeds are equal (its settings change who is simulated): its changes "
                "were resampled independently and mix the settings' effect on the "
                "flags with the difference between the families."
            )
        if run.attribution is None and base.attribution is not None:
            notes.append(
                f"{run.label} has no attribution counts (it was run with "
                "--no-attribution, or is an audit directory)."
            )
    notes += _worlds_notes(runs)
    return notes


def _worlds_notes(runs: Sequence[RunFiles]) -> list[str]:
    """How many worlds each run's audit figures pool, when any simulated several."""
    asked = [int(r.scenario["audit"].get("replicates", 1)) for r in runs]
    if max(asked) == 1:
        return []
    kept = [len(r.worlds) for r in runs]
    pooled = ", ".join(
        f"{r.label} {len(r.worlds)} of {n}" for r, n in zip(runs, asked, strict=True)
    )
    return [
        f"Audit figures are pooled over each run's simulated worlds ({pooled}): "
        "counts summed, rates of the sums, intervals covering the families "
        "resampled in each world and the variation between worlds. Attribution "
        "counts are the mean per world over each run's worlds. Link quality is "
        "each run's first world's."
        + (
            " A run written before runs kept every world's outcomes is compared on "
            "its first world."
            if kept != asked
            else ""
        )
    ]


def compare(paths: Sequence[str | Path]) -> Comparison:
    """Put runs side by side, the first as the base.

    Parameters
    ----------
    paths : sequence of str or Path
        At least two run (or audit) directories.

    Returns
    -------
    Comparison

    Raises
    ------
    InputDataError
        If a path is not a run directory, or the runs are not comparable
        (:func:`check_comparable`).
    """
    if len(paths) < 2:
        raise InputDataError(f"compare needs at least two runs, got {len(paths)}")
    runs = [
        read_run(p, label) for p, label in zip(paths, run_labels(paths), strict=True)
    ]
    scenarios = [r.scenario for r in runs]
    check_comparable([r.label for r in runs], scenarios)
    seeds = comparison_seeds(runs)
    units = stack_worlds([r.worlds for r in runs])[0]
    world_of = worlds(units, group_columns(scenarios[0]))
    chosen = runs[0].scenario["audit"]["reference"]
    references = {
        grouping_label(g): reference_group(runs[0].outcomes, g, chosen)
        for g in runs[0].groupings
        if g
    }
    audit = _audit_rows(runs, seeds, world_of, references)
    table = pd.concat(
        [audit, _linkage_rows(runs), _attribution_rows(runs)], ignore_index=True
    )
    for column in CSV_COLUMNS:
        if column not in table.columns:
            table[column] = np.nan
    for column in COUNT_COLUMNS:  # whole numbers, blank where not applicable
        table[column] = table[column].astype("Int64")
    seed_only = only_seed_differs(scenarios)
    return Comparison(
        runs=tuple(runs),
        settings=differing_settings(scenarios),
        table=table[list(CSV_COLUMNS)],
        notes=tuple(_notes(runs, seed_only, world_of[: len(runs)])),
        seed_only=seed_only,
        n_boot=int(runs[0].scenario["audit"]["n_boot"]),
        confidence=float(runs[0].scenario["audit"]["confidence"]),
        seeds=seeds,
        references=references,
    )
