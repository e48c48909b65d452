"""``linkaudit audit --table``: the files written, the one-line errors, no leftovers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from audits.table import audit_table
from simulator.cli import main

TABLE_FILES = {
    "calibration.csv",
    "calibration.parquet",
    "score_auc.csv",
    "score_auc.parquet",
    "threshold_curves.csv",
    "threshold_curves.parquet",
    "disparities.csv",
    "disparities.parquet",
    "fairness.csv",
    "fairness.parquet",
    "manifest.json",
    "metrics_by_group.csv",
    "metrics_by_group.parquet",
    "metrics_overall.csv",
    "metrics_overall.parquet",
    "rates_overall.csv",
    "rates_overall.parquet",
    "report.html",
    "summary.json",
    "transparency.json",
    "transparency.md",
}


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(11)
    n = 600
    frame = pd.DataFrame(
        {
            "case ref": np.arange(n),
            "risk": rng.random(n),
            "reoffended": (rng.random(n) < 0.3).astype(int),
            "sex": rng.choice(["F", "M"], n),
            "age group": rng.choice([1, 2, 3], n),
        }
    )
    frame.loc[::25, "sex"] = None
    path = tmp_path / "cases.csv"
    frame.to_csv(path, index=False)
    return path


def args(table, out, *extra):
    return [
        "audit",
        "--table",
        str(table),
        "--label",
        "reoffended",
        "--score",
        "risk",
        "--flag",
        "top_percent=20",
        "--group",
        "sex",
        "--group",
        "age group",
        "--intersection",
        "sex,age group",
        "--reference",
        "age group=2",
        "--id",
        "case ref",
        "--n-boot",
        "50",
        "-o",
        str(out),
        *extra,
    ]


def test_writes_the_audit_tables_and_report(table, tmp_path, capsys):
    out = tmp_path / "audit"
    assert main(args(table, out)) == 0
    assert {p.name for p in out.iterdir()} == TABLE_FILES
    captured = capsys.readouterr()
    assert captured.out.startswith(f"wrote {out}")
    assert "column 'sex' has no value in 24 row(s)" in captured.err
    # the console names what a reader opens, as `linkaudit run` does
    assert captured.out.splitlines()[-2:] == [
        f"report: {out / 'report.html'}",
        f"transparency: {out / 'transparency.md'} (and transparency.json)",
    ]
    assert (out / "transparency.json").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["source"]["rows"] == 600
    assert summary["audit"]["reference"] == {"age group": 2}
    report = (out / "report.html").read_text()
    assert "What this report cannot show" in report
    assert "Case files: they tell the simulated story" in report
    # the same figures as the Python function
    result = audit_table(
        table,
        label="reoffended",
        score="risk",
        flag="top_percent=20",
        groups=["sex", "age group"],
        intersections=[("sex", "age group")],
        reference={"age group": "2"},
        id="case ref",
        n_boot=50,
    )
    written = pd.read_parquet(out / "disparities.parquet")
    pd.testing.assert_frame_equal(written, result.disparities.table)


def test_same_table_and_seed_give_identical_files(table, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(args(table, a)) == 0
    assert main(args(table, b)) == 0
    for name in TABLE_FILES - {"manifest.json"}:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--label", "outcome"], "cases.csv: no column 'outcome'"),
        (["--group", "nonsense"], "cases.csv: no column 'nonsense'"),
        (["--max-size", "1KB"], "over the size limit of 1 KiB"),
        (["--reference", "sex=X"], "reference sex=X: no such group"),
    ],
)
def test_bad_input_is_one_line_and_leaves_nothing(
    table, tmp_path, capsys, extra, message
):
    out = tmp_path / "audit"
    assert main(args(table, out, *extra)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("linkaudit: ") and message in err[-1]
    assert "Traceback" not in "\n".join(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.csv"]


def test_options_of_the_other_audits_are_refused(table, tmp_path, capsys):
    out = tmp_path / "audit"
    assert main(args(table, out, "--set", "audit.target=harm")) == 2
    assert "--set is for a run's audit" in capsys.readouterr().err
    assert main(["audit", "--label", "y", "-o", str(out)]) == 2
    assert "give either RUN_DIR" in capsys.readouterr().err
    assert not out.exists()
