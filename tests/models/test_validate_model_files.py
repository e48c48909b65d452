"""`linkaudit validate` checks the files and plug-ins a model names, running none."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from simulator.cli import main

PLUGIN = """
from pathlib import Path
Path(__file__).with_name("imported.txt").write_text("ran", encoding="utf-8")

class Model:
    def fit(self, view, labels=None):
        return self

    def score(self, view):
        return view.iloc[:, 0] * 0.0
"""


def scenario(directory: Path, model: str) -> Path:
    path = directory / "s.yaml"
    path.write_text(f"name: v\nmodel: {model}\n", encoding="utf-8")
    return path


def error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("linkaudit: "), err
    return err[0]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("{kind: external, scores: gone.csv}", "gone.csv: no such file"),
        ("{kind: external, skops: gone.skops}", "gone.skops: no such file"),
        ("{kind: external, scores: s.pkl}", "looks like a pickle"),
        ("{kind: external, scores: bad.csv}", "missing column(s) score"),
        ("{kind: external, skops: fake.skops}", "not a skops file"),
        ("{kind: external, plugin: 'nowhere_mod:Model'}", "nowhere_mod is not found"),
        ("{kind: external, plugin: 'pkg_absent.sub:Model'}", "pkg_absent.sub is not"),
        (
            "{kind: learned, estimator: 'sklearn.linear_modle:LogisticRegression'}",
            "module sklearn.linear_modle is not found",
        ),
    ],
)
def test_validate_refuses_what_the_model_names(tmp_path, capsys, model, message):
    (tmp_path / "s.pkl").write_bytes(pickle.dumps({"a": 1}))
    (tmp_path / "bad.csv").write_text("spine_household_id\n1\n", encoding="utf-8")
    (tmp_path / "fake.skops").write_bytes(b"not a zip archive")
    assert main(["validate", str(scenario(tmp_path, model))]) == 1
    line = error(capsys)
    assert message in line
    if "file" in message or "pickle" in message or "column" in message:
        assert str(tmp_path) in line  # the file is named by its resolved path


def test_validate_finds_a_plugin_beside_the_scenario_without_running_it(
    tmp_path, capsys
):
    package = tmp_path / "vendor_pkg"
    package.mkdir()
    (package / "__init__.py").write_text(PLUGIN, encoding="utf-8")
    (package / "model.py").write_text(PLUGIN, encoding="utf-8")
    path = scenario(tmp_path, "{kind: external, plugin: 'vendor_pkg.model:Model'}")
    assert main(["validate", str(path)]) == 0
    assert "valid" in capsys.readouterr().out
    assert not list(tmp_path.rglob("imported.txt"))  # neither module was run


def test_validate_accepts_a_good_score_file(tmp_path, capsys):
    (tmp_path / "scores.csv").write_text(
        "spine_household_id,score\n1,0.5\n", encoding="utf-8"
    )
    path = scenario(tmp_path, "{kind: external, scores: scores.csv}")
    assert main(["validate", str(path)]) == 0
