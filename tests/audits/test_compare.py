"""``linkaudit compare``: changes equal to hand-computed differences, refusals, notes.

Run directories are built from random outcome tables (the files compare reads), so
every expected figure is computed here from the same outcomes with pandas.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from audittools import random_outcomes
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.changes import joint_cells, world_counts
from audits.compare import CSV_COLUMNS, compare
from audits.compare_files import write_comparison
from audits.confusion import confusion_cells
from audits.report.compare_page import render_comparison
from simulator.cli import main
from simulator.errors import InputDataError
from simulator.schema.scenario import Scenario
from simulator.vocabulary import OVERALL

N = 3_000
N_BOOT = 200


def make_run(
    path: Path,
    outcomes: pd.DataFrame,
    *,
    audit_seed: int = 7,
    attribution: pd.DataFrame | None = None,
    worlds: tuple[pd.DataFrame, ...] = (),
    **fields: object,
) -> Path:
    """A run directory holding what compare reads, for a scenario with ``fields``.

    ``worlds``: the outcomes of replicate worlds 1, 2, ... (``audit.replicates`` is
    then one more).
    """
    audit = {"n_boot": N_BOOT, "replicates": 1 + len(worlds)}
    scenario = Scenario.model_validate({"audit": audit, **fields}).model_dump(
        mode="json"
    )
    (path / "audit" / "replicates").mkdir(parents=True)
    for r, world in enumerate(worlds, start=1):
        world.to_parquet(path / "audit" / "replicates" / f"outcomes_{r}.parquet")
    (path / "scenario.json").write_text(json.dumps(scenario), encoding="utf-8")
    (path / "audit" / "summary.json").write_text(
        json.dumps({"seeds": {"audit": audit_seed}}), encoding="utf-8"
    )
    outcomes.to_parquet(path / "audit" / "outcomes.parquet")
    quality = pd.DataFrame(
        {
            "source": ["all", "police"],
            "precision": [0.99, 0.98],
            "recall": [0.97, 0.9],
            "n_linked": [100, 10],
        }
    )
    (path / "linkage").mkdir()
    quality.to_parquet(path / "linkage" / "quality.parquet")
    pd.DataFrame(
        {"group": ["ethnicity"] * 2, "value": ["white", "asian"], "recall": [0.99, 0.9]}
    ).to_parquet(path / "linkage" / "quality_by_group.parquet")
    if attribution is not None:
        (path / "attribution").mkdir()
        attribution.to_parquet(path / "attribution" / "counts.parquet")
    (path / "manifest.json").write_text("{}", encoding="utf-8")
    return path


def reflag(outcomes: pd.DataFrame, seed: int, share: float = 0.1) -> pd.DataFrame:
    """The same households with a share of their flags flipped (another model)."""
    rng = np.random.default_rng(seed)
    flip = rng.random(len(outcomes)) < share
    return outcomes.assign(flagged=outcomes["flagged"] ^ flip)


def attribution_counts(fp_visibility: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": ["all", "all"],
            "value": ["all", "all"],
            "error": ["false_positive", "false_negative"],
            "visibility": [fp_visibility, 5],
            "total": [fp_visibility + 3, 9],
        }
    )


def hand_rates(outcomes: pd.DataFrame, column: str | None) -> pd.DataFrame:
    """FPR, TPR and precision per group, straight from household rows."""
    o = outcomes.assign(
        g=OVERALL if column is None else outcomes[column].astype(str),
        tp=outcomes["y_true"] & outcomes["flagged"],
        fp=~outcomes["y_true"] & outcomes["flagged"],
        neg=~outcomes["y_true"],
    )
    s = o.groupby("g", observed=True)[["tp", "fp", "neg", "y_true", "flagged"]].sum()
    return pd.DataFrame(
        {
            "fpr": s["fp"] / s["neg"],
            "tpr": s["tp"] / s["y_true"],
            "precision": s["tp"] / s["flagged"],
        }
    )


@pytest.fixture(scope="module")
def paired(tmp_path_factory: pytest.TempPathFactory, seed: int):
    """Two runs of the same households: another model flags a tenth differently."""
    root = tmp_path_factory.mktemp("paired")
    a = random_outcomes(N, seed)
    b = reflag(a, seed + 1)
    run_a = make_run(root / "a", a, attribution=attribution_counts(40))
    run_b = make_run(
        root / "b",
        b,
        attribution=attribution_counts(55),
        model={"kind": "criteria", "min_problems": 3},
    )
    return a, b, compare([run_a, run_b])


@pytest.mark.parametrize("column", [None, "imd_quintile", "ethnicity", "tenure"])
def test_changes_equal_hand_computed_differences(paired, column) -> None:
    a, b, c = paired
    t = c.table[(c.table["section"] == "audit") & (c.table["run"] == "b")]
    t = t[t["grouping"] == (column or OVERALL)]
    expected = hand_rates(b, column) - hand_rates(a, column)
    for metric in ("fpr", "tpr", "precision"):
        got = t[t["metric"] == metric].set_index("group")["change"]
        assert got.sort_index().to_numpy() == pytest.approx(
            expected[metric].sort_index().to_numpy()
        )
        estimate = t[t["metric"] == metric].set_index("group")["estimate"]
        assert estimate.sort_index().to_numpy() == pytest.approx(
            hand_rates(b, column)[metric].sort_index().to_numpy()
        )


def test_change_intervals_cover_the_change_and_base_has_none(paired) -> None:
    _, _, c = paired
    audit = c.table[c.table["section"] == "audit"]
    base, other = audit[audit["run"] == "a"], audit[audit["run"] == "b"]
    assert base["change"].isna().all() and (base["resampling"] == "base").all()
    assert (other["resampling"] == "paired").all()
    defined = other.dropna(subset=["change_ci_low"])
    assert len(defined) > 0.9 * len(other)
    assert (defined["change_ci_low"] <= defined["change"] + 1e-12).all()
    assert (defined["change"] <= defined["change_ci_high"] + 1e-12).all()


def test_linkage_and_attribution_side_by_side(paired) -> None:
    _, _, c = paired
    t = c.table
    fp = t[(t["section"] == "attribution") & (t["metric"] == "false_positive.total")]
    assert fp["group"].tolist() == [OVERALL, OVERALL]  # the "all" sentinel renamed
    assert fp["estimate"].tolist() == [43, 58]
    assert fp["change"].iloc[1] == 15
    link = t[(t["section"] == "linkage") & (t["metric"] == "recall")]
    assert link["source"].tolist() == [OVERALL, OVERALL, "police", "police"]
    assert link["change"].iloc[1] == 0.0
    by_group = t[t["section"] == "linkage_by_group"]
    assert by_group["grouping"].tolist() == ["ethnicity"] * 4
    assert by_group["group"].tolist() == ["white", "white", "asian", "asian"]
    assert "Link recall by group" in render_comparison(c)


def test_same_flags_give_a_zero_paired_change(tmp_path: Path, seed: int) -> None:
    """Paired resampling: identical flags change by exactly 0 in every resample."""
    a = random_outcomes(N, seed)
    run_a = make_run(tmp_path / "a", a)
    run_b = make_run(tmp_path / "b", a, name="same flags")
    audit = compare([run_a, run_b]).table
    b = audit[(audit["section"] == "audit") & (audit["run"] == "b")]
    defined = b[b["change_boot_undefined"] < N_BOOT]
    assert (defined["change"] == 0).all()
    assert (defined["change_ci_low"] == 0).all() and (
        defined["change_ci_high"] == 0
    ).all()


def test_undefined_resamples_counted(tmp_path: Path, seed: int) -> None:
    """A group without positives has no TPR in any resample: all counted."""
    a = random_outcomes(N, seed)
    a.loc[a["tenure"] == "owner", "y_true"] = False
    run_a = make_run(tmp_path / "a", a)
    run_b = make_run(tmp_path / "b", reflag(a, seed), name="other")
    t = compare([run_a, run_b]).table
    row = t[
        (t["run"] == "b")
        & (t["grouping"] == "tenure")
        & (t["group"] == "owner")
        & (t["metric"] == "tpr")
    ].iloc[0]
    assert np.isnan(row["change"]) and np.isnan(row["change_ci_low"])
    assert row["change_boot_undefined"] == N_BOOT


def test_other_seed_is_resampled_independently_and_said(
    tmp_path: Path, seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = random_outcomes(N, seed), random_outcomes(N + 10, seed + 1)
    run_a = make_run(tmp_path / "a", a, seed=1, audit_seed=11)
    run_b = make_run(tmp_path / "b", b, seed=2, audit_seed=12)
    code = main(["compare", str(run_a), str(run_b), "-o", str(tmp_path / "out")])
    assert code == 0
    out = capsys.readouterr().out
    assert "differ only by seed" in out
    assert "between two random worlds" in out
    t = pd.read_csv(tmp_path / "out" / "compare.csv")
    b_rows = t[(t["section"] == "audit") & (t["run"] == "b")]
    assert (b_rows["resampling"] == "independent").all()
    overall = b_rows[(b_rows["grouping"] == OVERALL) & (b_rows["metric"] == "fpr")]
    expected = hand_rates(b, None)["fpr"].iloc[0] - hand_rates(a, None)["fpr"].iloc[0]
    assert overall["change"].iloc[0] == pytest.approx(expected)
    html = (tmp_path / "out" / "compare.html").read_text(encoding="utf-8")
    assert "differ only by seed" in html


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        (
            {"population": {"n_households": 5000}},
            "population.n_households (20,000 vs 5,000)",
        ),
        (
            {"audit": {"n_boot": N_BOOT, "target": "harm"}},
            "audit.target (eligible vs harm)",
        ),
        (
            {"audit": {"n_boot": N_BOOT, "group_columns": ["ethnicity"]}},
            "audit.group_columns",
        ),
    ],
)
def test_refuses_runs_of_other_populations(
    tmp_path: Path,
    seed: int,
    capsys: pytest.CaptureFixture[str],
    fields: dict,
    named: str,
) -> None:
    a = random_outcomes(500, seed)
    run_a = make_run(tmp_path / "a", a)
    run_b = make_run(tmp_path / "b", a, **fields)
    code = main(["compare", str(run_a), str(run_b), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1
    assert err[0].startswith("linkaudit: cannot compare a, b: they differ in ")
    assert named in err[0] and "--set" in err[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such directory"),
        (lambda p: p.write_text("x"), "not a directory"),
        (lambda p: p.mkdir(), "audit/summary.json is missing"),
    ],
)
def test_inputs_that_are_not_runs(tmp_path: Path, seed: int, make, message) -> None:
    run_a = make_run(tmp_path / "a", random_outcomes(200, seed))
    bad = tmp_path / "bad"
    make(bad)
    with pytest.raises(InputDataError, match=re.escape(message)):
        compare([run_a, bad])


def test_missing_outcomes_named(tmp_path: Path, seed: int) -> None:
    run_a = make_run(tmp_path / "a", random_outcomes(200, seed))
    run_b = make_run(tmp_path / "b", random_outcomes(200, seed))
    (run_b / "audit" / "outcomes.parquet").unlink()
    with pytest.raises(InputDataError, match="audit/outcomes.parquet is missing"):
        compare([run_a, run_b])


def test_byte_identical_and_self_contained(paired, tmp_path: Path) -> None:
    _, _, c = paired
    first = write_comparison(c, tmp_path / "one")
    again = compare([r.path for r in c.runs])
    second = write_comparison(again, tmp_path / "two")
    for name in ("compare.csv", "compare.html", "compare.json", "manifest.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    html = (first / "compare.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "<script" not in html.lower() and "<link" not in html.lower()
    header = (first / "compare.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == list(CSV_COLUMNS)


def test_output_replaced_only_with_force(paired, tmp_path: Path) -> None:
    _, _, c = paired
    out = write_comparison(c, tmp_path / "out")
    with pytest.raises(Exception, match="already exists"):
        write_comparison(c, out)
    assert write_comparison(c, out, overwrite=True) == out


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 60),
    runs=st.integers(1, 3),
    n_boot=st.integers(0, 20),
    data=st.data(),
)
def test_joint_resampling_keeps_each_runs_counts(n, runs, n_boot, data) -> None:
    """Observed joint counts marginalise to each run's own confusion counts, and each
    resample of the shared households has the same group sizes in every run."""
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    base = pd.DataFrame(
        {
            "g": rng.integers(0, 3, n),
            "y_true": rng.random(n) < 0.3,
            "flagged": rng.random(n) < 0.3,
        }
    )
    frames = [base] + [
        base.assign(flagged=rng.random(n) < 0.5) for _ in range(runs - 1)
    ]
    w = world_counts(frames, ["g"], n_boot, np.random.default_rng(seed))
    for j, frame in enumerate(frames):
        np.testing.assert_array_equal(
            w.observed[j], confusion_cells(frame, ["g"]).counts
        )
    assert w.resampled.shape == (n_boot, runs, len(w.groups), 4)
    sizes = w.resampled.sum(axis=-1)
    np.testing.assert_array_equal(sizes, np.broadcast_to(sizes[:, :1], sizes.shape))
    assert (w.resampled.sum(axis=(-1, -2)) == n).all()
    assert joint_cells(frames, ["g"]).counts.sum() == n


def test_gap_to_reference_changes_equal_hand_computed(paired) -> None:
    """The gap of quintile 1 to the least deprived (5), and its change."""
    a, b, c = paired
    assert c.references["imd_quintile"] == "5"
    t = c.table[
        (c.table["grouping"] == "imd_quintile")
        & (c.table["metric"] == "fpr_diff_to_ref")
    ]
    assert "5" not in set(t["group"])  # the reference is not compared with itself
    fpr_a, fpr_b = (
        hand_rates(a, "imd_quintile")["fpr"],
        hand_rates(b, "imd_quintile")["fpr"],
    )
    gap_a, gap_b = fpr_a["1"] - fpr_a["5"], fpr_b["1"] - fpr_b["5"]
    row = t[(t["group"] == "1")].set_index("run")
    assert row.at["a", "estimate"] == pytest.approx(gap_a)
    assert row.at["b", "estimate"] == pytest.approx(gap_b)
    assert row.at["b", "change"] == pytest.approx(gap_b - gap_a)
    assert (
        row.at["b", "change_ci_low"]
        <= row.at["b", "change"]
        <= row.at["b", "change_ci_high"]
    )


def test_damaged_outcomes_named(tmp_path: Path, seed: int) -> None:
    run_a = make_run(tmp_path / "a", random_outcomes(200, seed))
    run_b = make_run(tmp_path / "b", random_outcomes(200, seed))
    (run_b / "audit" / "outcomes.parquet").write_bytes(b"not parquet")
    with pytest.raises(
        InputDataError, match="outcomes.parquet: not a readable Parquet"
    ):
        compare([run_a, run_b])


def test_other_seed_and_settings_said_to_mix(tmp_path: Path, seed: int) -> None:
    run_a = make_run(tmp_path / "a", random_outcomes(400, seed), seed=1)
    run_b = make_run(
        tmp_path / "b",
        random_outcomes(400, seed + 1),
        seed=2,
        model={"kind": "criteria", "min_problems": 3},
    )
    c = compare([run_a, run_b])
    assert not c.seed_only
    assert [f for f, _ in c.settings] == ["seed", "model.min_problems"]
    assert any("mix the effect of the settings" in n for n in c.notes)


@pytest.fixture(scope="module")
def replicated(tmp_path_factory: pytest.TempPathFactory, seed: int):
    """Two runs of three worlds each; world r of b is world r of a reflagged."""
    root = tmp_path_factory.mktemp("replicated")
    a = [random_outcomes(1_000, seed + 10 * r) for r in range(3)]
    b = [reflag(world, seed + 1 + r) for r, world in enumerate(a)]
    run_a = make_run(root / "a", a[0], worlds=tuple(a[1:]))
    run_b = make_run(
        root / "b",
        b[0],
        worlds=tuple(b[1:]),
        model={"kind": "criteria", "min_problems": 3},
    )
    first_only = make_run(root / "a1", a[0])
    return a, b, compare([run_a, run_b]), compare([first_only, run_b])


@pytest.mark.parametrize("column", [None, "imd_quintile", "tenure"])
def test_replicated_runs_are_pooled_and_changes_hand_computed(
    replicated, column
) -> None:
    """Each run's rates are those of its three worlds' summed counts (the rates of
    the worlds' rows together), and a change is the difference of the pooled rates."""
    a, b, c, _ = replicated
    pooled_a = hand_rates(pd.concat(a, ignore_index=True), column)
    pooled_b = hand_rates(pd.concat(b, ignore_index=True), column)
    t = c.table[(c.table["section"] == "audit")]
    t = t[t["grouping"] == (column or OVERALL)]
    for metric in ("fpr", "tpr", "precision"):
        rows = t[t["metric"] == metric]
        for run, expected in (("a", pooled_a), ("b", pooled_b)):
            got = rows[rows["run"] == run].set_index("group")["estimate"]
            assert got.sort_index().to_numpy() == pytest.approx(
                expected[metric].sort_index().to_numpy()
            )
        change = rows[rows["run"] == "b"].set_index("group")["change"]
        assert change.sort_index().to_numpy() == pytest.approx(
            (pooled_b[metric] - pooled_a[metric]).sort_index().to_numpy()
        )
    n = t[(t["metric"] == "fpr") & (t["run"] == "a")]["n"].sum()
    assert n == 3 * 1_000  # families summed over the worlds


def test_replicated_changes_are_paired_world_by_world(replicated) -> None:
    _, _, c, _ = replicated
    audit = c.table[c.table["section"] == "audit"]
    other = audit[audit["run"] == "b"]
    assert (other["resampling"] == "paired").all()
    defined = other.dropna(subset=["change_ci_low"])
    assert len(defined) > 0.9 * len(other)
    assert (defined["change_ci_low"] <= defined["change"] + 1e-12).all()
    assert (defined["change"] <= defined["change_ci_high"] + 1e-12).all()
    assert any("a 3 of 3, b 3 of 3" in note for note in c.notes)


def test_pooling_worlds_changes_the_intervals(replicated) -> None:
    """Three worlds against one: the base's intervals differ, and the notes say how
    many worlds each run pooled."""
    _, _, pooled, first_only = replicated
    key = ["grouping", "group", "metric"]

    def base(c):
        t = c.table[(c.table["section"] == "audit") & (c.table["change"].isna())]
        return t[t["resampling"] == "base"].set_index(key)

    one, three = base(first_only), base(pooled)
    assert (three["n"] == 3 * one["n"].reindex(three.index)).loc[OVERALL].all()
    width = (three["ci_high"] - three["ci_low"]).mean()
    assert width < (one["ci_high"] - one["ci_low"]).reindex(three.index).mean()
    assert any("a1 1 of 1, b 3 of 3" in note for note in first_only.notes)
