"""linkaudit sweep: parsing --vary, planning, the tidy table, determinism, outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from audits.replicates import RATIO_UNDEFINED
from simulator.cli import main
from simulator.cli_sweep import parse_vary, text_table
from simulator.errors import ScenarioError
from simulator.pipeline.run import replicate_scenario, replicate_seed, run
from simulator.pipeline.sweep import (
    LINK_METRICS,
    METRICS,
    Vary,
    largest_first,
    plan_sweep,
    summarise,
    sweep,
)
from simulator.pipeline.sweep_files import plot_sweep, write_sweep
from simulator.schema.loading import apply_overrides, load_scenario, scenario_from_dict
from simulator.vocabulary import OVERALL

TINY = {
    "name": "tiny",
    "seed": 5,
    "population": {"n_households": 600, "households_per_area": 60},
    "audit": {"n_boot": 50},
}
VARY = parse_vary("agencies.police.events.incident.background_rate=0.01,0.3")


def _varies(*texts: str) -> list[Vary]:
    return [parse_vary(t) for t in texts]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return sweep(TINY, [VARY], replicates=2, group_column="imd_quintile")


# ------------------------------------------------------------------ parsing --vary


def test_parse_vary_splits_and_parses_values_as_yaml():
    assert parse_vary("agencies.police.errors.name_typo=0,0.02,0.05") == Vary(
        "agencies.police.errors.name_typo", (0, 0.02, 0.05)
    )
    flags = parse_vary("model.flag={budget: 500},{top_percent: 5}")
    assert flags.values == ({"budget": 500}, {"top_percent": 5})
    lists = parse_vary("audit.group_columns=[ethnicity, tenure],[tenure]")
    assert lists.values == (["ethnicity", "tenure"], ["tenure"])
    assert parse_vary("linkage.method=deterministic,splink").values == (
        "deterministic",
        "splink",
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("agencies.police.errors.name_typo", "found no '='"),
        ("agencies..errors=0,1", "empty field name"),
        ("agencies.police.errors.name_typo=0,,0.1", "empty value"),
        ("agencies.police.errors.name_typo=0.1", "at least two values"),
        ("agencies.police.errors.name_typo=0.1,0.1", "given twice"),
        ("agencies.police.errors.name_typo=0,[1", "not valid YAML"),
        ("seed=1,2", "--replicates"),
    ],
)
def test_bad_vary_is_refused_naming_the_argument(text, problem):
    with pytest.raises(ScenarioError) as e:
        parse_vary(text)
    (line,) = e.value.problems
    assert line.startswith(f"--vary {text}:")
    assert problem in line


def test_plan_refuses_invalid_points_with_the_set_messages():
    with pytest.raises(ScenarioError) as e:
        plan_sweep(
            TINY, _varies("agencies.police.errors.name_typo=0.1,2"), origin="t.yaml"
        )
    (line,) = e.value.problems
    assert line.startswith("--vary agencies.police.errors.name_typo=2: t.yaml: ")
    assert "less than or equal to 1" in line
    with pytest.raises(ScenarioError, match="unknown field"):
        plan_sweep(TINY, _varies("agencies.police.errors.name_typ=0,1"))


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"varies": []}, "at least one --vary"),
        ({"varies": _varies("a.b=1,2", "c.d=1,2", "e.f=1,2")}, "at most 2"),
        ({"varies": _varies("a.b=1,2", "a.b=3,4")}, "varied twice"),
        ({"varies": [VARY], "replicates": 0}, "--replicates"),
        ({"varies": [VARY], "replicates": 26}, "at most 50"),
        ({"varies": [VARY], "group_column": "postcode"}, "--group"),
    ],
)
def test_plan_refuses_bad_arguments(kwargs, problem):
    with pytest.raises(ScenarioError, match=problem):
        plan_sweep(TINY, **kwargs)


def test_plan_validates_every_point_and_derives_replicate_seeds():
    plan = plan_sweep(TINY, [VARY, *_varies("linkage.method=deterministic,oracle")], 3)
    assert len(plan.points) == 4
    assert len(plan.scenarios) == 12
    assert plan.seeds[0] == 5  # replicate 0 is the scenario's own run
    assert plan.seeds == tuple(replicate_seed(5, r) for r in range(3))
    assert len(set(plan.seeds)) == 3
    assert [s.seed for s in plan.scenarios[:3]] == list(plan.seeds)
    assert plan.scenarios[3].linkage.method == "oracle"
    assert plan.scenarios[0].audit.group_columns == ("imd_quintile",)


@pytest.mark.parametrize("group", ["tenure", "moved_recently", "imd_quintile"])
def test_a_library_file_sweeps_by_any_group_whatever_its_headline(group):
    # stale-addresses asks about moved_recently; a sweep by another group drops
    # that question rather than failing on it
    base = load_scenario("scenarios/stale-addresses.yaml")
    plan = plan_sweep(base, [VARY], 1, group)
    audit = plan.scenarios[0].audit
    assert audit.group_columns == (group,)
    headline = base.audit.headline
    assert (audit.headline == headline) == (headline.grouping == group)


def test_a_point_differs_from_the_base_by_the_varied_field_only():
    plan = plan_sweep(
        {"name": "x"},
        _varies(
            "agencies.police.events.incident.background_rate=0.01,0.3",
            "agencies.police.errors.name_typo=0,0.1",
        ),
    )
    base = plan.base.agencies.police
    point = plan.scenarios[-1].agencies.police
    assert point.events.incident.background_rate == 0.3
    assert point.events.incident.visibility == base.events.incident.visibility == 0.6
    assert point.errors.name_typo == 0.1
    assert point.errors.model_dump() == {**base.errors.model_dump(), "name_typo": 0.1}
    kinds = plan_sweep({"name": "x"}, _varies("model.kind=criteria,scorecard"))
    assert [s.model.kind for s in kinds.scenarios] == ["criteria", "scorecard"]


def test_replicate_seeds_are_stable():
    assert replicate_seed(20260331, 1) == replicate_seed(20260331, 1)
    assert replicate_seed(20260331, 1) != replicate_seed(20260332, 1)


@pytest.mark.filterwarnings("ignore::audits.errors.AuditWarning")
def test_run_and_sweep_simulate_the_same_worlds_per_replicate(table):
    """Replicate r of a sweep point is replicate r of `run --set PATH=VALUE`."""
    plan = plan_sweep(TINY, [VARY], 3)
    point = scenario_from_dict(apply_overrides(TINY, [f"{VARY.path}=0.3"]))
    for r in range(3):
        assert plan.scenarios[3 + r].seed == replicate_scenario(point, r).seed
    # the same world gives the same counts: the sweep's replicate 1 against the
    # run's replicate 1 (the run pools replicates, so compare the world's audit)
    world = run(replicate_scenario(point, 1), attribution=False)
    counts = world.audit.metrics.by_group.set_index(["group", "value"])
    rows = table[
        (table["point"] == 1)
        & (table["replicate"] == 1)
        & (table["metric"] == "fpr")
        & (table["value"] != OVERALL)
    ]
    for value, numerator in zip(rows["value"], rows["numerator"], strict=True):
        assert counts.loc[("imd_quintile", value), "fp"] == numerator


# ---------------------------------------------------------------- the sweep table


def test_the_table_is_tidy(table):
    path = "agencies.police.events.incident.background_rate"
    assert list(table.columns[:4]) == [path, "point", "replicate", "seed"]
    values = ["1", "2", "3", "4", "5", OVERALL]
    assert len(table) == 2 * 2 * len(values) * len(METRICS)
    keys = [path, "replicate", "value", "metric"]
    assert not table.duplicated(keys).any()
    assert set(table["metric"]) == set(METRICS)
    assert set(table["value"]) == set(values)
    assert set(table[path]) == {0.01, 0.3}
    assert table.groupby("replicate")["seed"].nunique().eq(1).all()
    fpr = table[(table["metric"] == "fpr") & (table["value"] != OVERALL)]
    assert fpr["ci_low"].le(fpr["estimate"] + 1e-12).all()
    assert fpr.loc[fpr["value"] == "5", "is_reference"].all()
    link = table[table["metric"].isin(LINK_METRICS)]
    assert link["estimate"].between(0, 1).all()
    assert link["ci_low"].isna().all()
    ref = link[link["value"] == "5"]
    assert ref["ratio_to_ref"].eq(1.0).all()


def test_more_surveillance_means_more_wrong_flags(table):
    fpr = summarise(table, "fpr").set_index(["point", "value"])["estimate"]
    assert fpr[(1, OVERALL)] > fpr[(0, OVERALL)]


def test_the_same_sweep_gives_the_same_table(table):
    again = sweep(TINY, [VARY], replicates=2, group_column="imd_quintile")
    pd.testing.assert_frame_equal(table, again)


@given(st.lists(st.integers(0, 5), max_size=12))
def test_runs_are_sent_largest_first_ties_in_plan_order(sizes):
    order = largest_first(sizes)
    assert sorted(order) == list(range(len(sizes)))
    keys = [(-sizes[i], i) for i in order]
    assert keys == sorted(keys)


def test_a_summary_ignores_the_tables_attrs_and_keeps_them(table):
    attrs = dict(table.attrs)
    plain = table.copy()
    plain.attrs = {}
    got = summarise(table, "fpr")
    pd.testing.assert_frame_equal(got, summarise(plain, "fpr"))
    assert table.attrs.keys() == attrs.keys() and table.attrs["seeds"] == attrs["seeds"]


def test_text_table_and_plot(table, tmp_path):
    text = text_table(table, "fpr")
    assert "1 vs 5" in text and OVERALL in text
    fig = plot_sweep(table, "wrongly_flagged_per_10k", path=tmp_path / "p.svg")
    assert (tmp_path / "p.svg").stat().st_size > 0
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="a sweep has the metrics selection_rate"):
        summarise(table, "accuracy")


def test_write_sweep(table, tmp_path):
    out = write_sweep(table, tmp_path / "s", metric="tpr")
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "manifest.json",
        "sweep.csv",
        "sweep.json",
        "sweep.parquet",
        "sweep.png",
    ]
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["seeds"] == table.attrs["seeds"]
    assert meta["varies"][0]["values"] == [0.01, 0.3]
    assert meta["scenario"]["name"] == "tiny"
    back = pd.read_parquet(out / "sweep.parquet")
    assert len(back) == len(table)


# ------------------------------------------------------------------ the command


def test_cli_refuses_a_bad_vary_naming_it(tmp_path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(json.dumps(TINY))
    code = main(
        [
            "sweep",
            str(scenario),
            "--vary",
            "population.n_households=10,x",
            "-o",
            str(tmp_path / "o"),
            "-q",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "--vary population.n_households='x'" in err
    assert "valid integer" in err
    assert not (tmp_path / "o").exists()
    code = main(
        [
            "sweep",
            str(scenario),
            "--vary",
            "a=1,2",
            "--metric",
            "auc",
            "-o",
            str(tmp_path / "o"),
            "-q",
        ]
    )
    assert code == 2
    assert "--metric must be one of" in capsys.readouterr().err


def test_cli_sweep_writes_and_prints(tmp_path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(json.dumps(TINY))
    out = tmp_path / "o"
    args = [
        "sweep",
        str(scenario),
        "--vary",
        "linkage.method=deterministic,oracle",
        "--group",
        "tenure",
        "--metric",
        "link_recall",
        "-o",
        str(out),
        "-q",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed
    assert "link_recall by tenure" in printed
    assert (out / "sweep.png").exists()
    assert main(args) == 1  # exists, no --force: refused before running
    assert "already exists" in capsys.readouterr().err


# ------------------------------------------------ pooled counts, by hand


def _hand_table() -> pd.DataFrame:
    """Two points, two replicates, FPR of quintiles 1 and 5 and everyone.

    (false positives, families not in the target) per replicate. Point 0: quintile 1
    has 8/100 and 6/50, quintile 5 has 1/100 and 0/100 (the second replicate's own
    ratio is undefined). Point 1: quintile 5 has no false positive in either.
    """
    counts = {
        (0, 0): {"1": (8, 100), "5": (1, 100), OVERALL: (30, 1000)},
        (0, 1): {"1": (6, 50), "5": (0, 100), OVERALL: (20, 1000)},
        (1, 0): {"1": (5, 100), "5": (0, 100), OVERALL: (20, 1000)},
        (1, 1): {"1": (4, 100), "5": (0, 100), OVERALL: (10, 1000)},
    }
    rows = []
    for (point, rep), cells in counts.items():
        ref = cells["5"][0] / cells["5"][1]
        for value, (fp, negatives) in cells.items():
            group_row = value != OVERALL
            est = fp / negatives
            rows.append(
                {
                    "x": [0.1, 0.2][point],
                    "point": point,
                    "replicate": rep,
                    "seed": 100 + rep,
                    "group": "imd_quintile",
                    "value": value,
                    "metric": "fpr",
                    "n": negatives + 10,
                    "numerator": fp,
                    "denominator": negatives,
                    "estimate": est,
                    "ci_low": est / 2,
                    "ci_high": est * 2,
                    "reference": "5" if group_row else None,
                    "is_reference": (value == "5") if group_row else None,
                    "ratio_to_ref": est / ref if group_row and ref > 0 else np.nan,
                    "ratio_ci_low": np.nan,
                    "ratio_ci_high": np.nan,
                    "diff_to_ref": est - ref if group_row else np.nan,
                    "diff_ci_low": np.nan,
                    "diff_ci_high": np.nan,
                    "small_group": False,
                }
            )
    table = pd.DataFrame(rows)
    for col in ("group", "value", "metric", "reference"):
        table[col] = table[col].astype("string")
    table["is_reference"] = table["is_reference"].astype("boolean")
    return table


def test_the_ratio_is_of_pooled_counts_and_nothing_is_dropped(tmp_path):
    table = _hand_table()
    summary = summarise(table, "fpr").set_index(["point", "value"])
    # point 0: 14/150 against 1/200, not the mean of the rates (0.1) nor the mean
    # (8.0) of the one defined per-replicate ratio
    assert summary.loc[(0, "1"), "replicates"] == 2
    assert summary.loc[(0, "1"), "estimate"] == pytest.approx(14 / 150)
    assert summary.loc[(0, "5"), "estimate"] == pytest.approx(1 / 200)
    assert summary.loc[(0, "1"), "ratio"] == pytest.approx((14 / 150) / (1 / 200))
    assert summary.loc[(0, "1"), "ratio_note"] == ""
    assert summary.loc[(0, "1"), "ratio_undefined"] == 1
    assert summary.loc[(0, "5"), "ratio_undefined"] == 1
    assert summary.loc[(0, "5"), "ratio"] == pytest.approx(1.0)
    # the band is the range of the replicates' own figures
    assert summary.loc[(0, "1"), "low"] == pytest.approx(0.08)
    assert summary.loc[(0, "1"), "high"] == pytest.approx(0.12)
    # point 1: the reference has no event in any replicate: undefined, says why
    assert np.isnan(summary.loc[(1, "1"), "ratio"])
    assert summary.loc[(1, "1"), "ratio_note"] == RATIO_UNDEFINED
    assert summary.loc[(1, "1"), "ratio_undefined"] == 2
    assert summary.loc[(1, "1"), "estimate"] == pytest.approx(9 / 200)
    # everyone has no reference and no ratio, and no note
    assert pd.isna(summary.loc[(0, OVERALL), "reference"])
    assert np.isnan(summary.loc[(0, OVERALL), "ratio"])
    assert summary.loc[(0, OVERALL), "ratio_note"] == ""
    # the per-replicate ratios stay in the tidy table
    per_rep = table[table["value"] == "1"].set_index(["point", "replicate"])
    assert per_rep.loc[(0, 0), "ratio_to_ref"] == pytest.approx(8.0)
    assert per_rep["ratio_to_ref"].isna().sum() == 3

    text = text_table(table, "fpr")
    lines = text.splitlines()
    assert "1 vs 5" in lines[0]
    row0 = next(line for line in lines if line.startswith("0.1"))
    assert [float(x) for x in row0.split()[1:]] == [0.0933, 0.005, 0.025, 18.6667]
    row1 = next(line for line in lines if line.startswith("0.2"))
    assert RATIO_UNDEFINED in row1
    assert "the ratio of the pooled rates" in text
    assert "3 replicate(s) had no defined ratio of their own" in text

    fig = plot_sweep(table, "fpr", path=tmp_path / "hand.svg")
    shown = " ".join(t.get_text() for t in fig.axes[1].texts)
    assert f"1 vs 5 at x = 0.2: {RATIO_UNDEFINED}" in shown
    labels = fig.axes[1].get_legend_handles_labels()[1]
    assert labels == ["1 vs 5 (3 replicate ratio(s) undefined)"]
