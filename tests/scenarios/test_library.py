"""The scenario library: every file validates, says what it changes, and runs."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import digests
import pytest
import yaml

from simulator.cli import main
from simulator.schema.loading import load_scenario, read_yaml
from simulator.schema.scenario import Scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
FILES = sorted(SCENARIOS.glob("*.yaml"))
EXPECTED = {
    "aggregate-vs-targeting",
    "aggregate-vs-targeting-areas",
    "baseline",
    "classroom",
    "consent",
    "deterrence",
    "feedback-loop",
    "name-errors",
    "stale-addresses",
    "surveillance",
    "vendor-audit",
}
SMOKE_SIZE = 2000
WITH_ATTRIBUTION = {"baseline", "classroom", "consent", "feedback-loop", "vendor-audit"}
"""Smoke runs that include the attribution ladder (the others skip it, for time)."""
AVX2_ONLY = {
    "OPENBLAS_CORETYPE": "Haswell",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
}
"""An outside scikit-learn model's scores differ in their last bits between CPUs
with and without AVX-512 (OpenBLAS's kernel and numpy's loops are chosen at import),
so smoke runs of such a model run in a child process held to AVX2's instructions:
their kept digests then hold on any x86-64 machine with AVX2, as every run does on
one machine (docs/user-guide.md, "Determinism")."""


def test_the_library_is_complete():
    assert {f.stem for f in FILES} == EXPECTED


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_file_validates_and_is_named_after_itself(path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.description.strip()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_file_opens_with_a_comment_block_for_a_reader(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    head = []
    for line in lines:
        if not line.startswith("#"):
            break
        head.append(line)
    assert len(head) >= 15, f"{path.name}: the opening comment block is too short"
    text = "\n".join(head)
    if path.stem != "aggregate-vs-targeting-areas":  # points to its pair's block
        for part in (
            "QUESTION",
            "WHAT TO LOOK AT",
            "WHAT TO EXPECT",
            "WHAT IT CHANGES",
        ):
            assert part in text, f"{path.name}: no {part!r} section in its comments"
    assert "linkaudit run scenarios/" in text


def _leaves(value: Any, prefix: tuple = ()) -> dict[tuple, Any]:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out |= _leaves(v, (*prefix, k))
        return out
    return {prefix: value}


def _written(raw: Any, path: tuple) -> bool:
    node = raw
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_value_that_differs_from_the_defaults_is_written_in_the_file(path):
    """No change is hidden: a reader sees every departure from the defaults in the
    file itself (a partial section keeps its place's defaults; this guards it)."""
    raw = read_yaml(path)
    resolved = _leaves(load_scenario(path).model_dump(mode="json"))
    default = _leaves(Scenario().model_dump(mode="json"))
    silent = [
        ".".join(map(str, p))
        for p, v in resolved.items()
        if p in default and default[p] != v and not _written(raw, p)
    ]  # (another model kind's fields are its own class's defaults: no trap there)
    assert not silent, f"{path.name}: changed without being written: {silent}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_file_names_its_question(path):
    assert load_scenario(path).audit.headline is not None
    assert "headline:" in path.read_text(encoding="utf-8")


def test_the_two_aggregate_files_differ_only_in_the_model():
    a = load_scenario(SCENARIOS / "aggregate-vs-targeting.yaml").model_dump()
    b = load_scenario(SCENARIOS / "aggregate-vs-targeting-areas.yaml").model_dump()
    for key in ("name", "description", "model"):
        a.pop(key), b.pop(key)
    assert a == b


def _vendor_script():
    spec = importlib.util.spec_from_file_location(
        "make_vendor_model", SCENARIOS / "vendor" / "make_vendor_model.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_vendor_model_loads_and_scores_a_view():
    import numpy as np
    import pandas as pd

    from simulator.council.models import make_model
    from simulator.council.models.external import load_skops
    from simulator.council.view import ViewConfig, feature_columns

    scenario = load_scenario(SCENARIOS / "vendor-audit.yaml")
    est = load_skops(SCENARIOS / scenario.model.skops, scenario.model.trusted)
    assert list(est.feature_names_in_) == _vendor_script().FEATURES
    columns = feature_columns(ViewConfig())
    assert set(est.feature_names_in_) <= set(columns)
    rng = np.random.default_rng(0)
    view = pd.DataFrame(
        rng.poisson(0.5, (50, len(columns))).astype(float),
        columns=list(columns),
        index=pd.Index(np.arange(50), name="spine_household_id"),
    )
    view["imd_decile"] = rng.integers(1, 11, 50).astype(float)
    model = make_model(scenario.model, base_dir=SCENARIOS).fit(view)
    scores = model.score(view)
    assert scores.between(0, 1).all() and scores.nunique() > 1
    poorer = view.assign(imd_decile=1.0)
    assert (model.score(poorer) >= scores - 1e-12).all()  # deprivation raises it


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_file_runs_end_to_end_at_a_small_size(path, tmp_path, capsys):
    out = tmp_path / path.stem
    args = [
        "run",
        str(path),
        "-o",
        str(out),
        "--set",
        f"population.n_households={SMOKE_SIZE}",
        "--set",
        "audit.replicates=1",  # one world: pooling is tested in tests/audits
        "-q",
        *([] if path.stem in WITH_ATTRIBUTION else ["--no-attribution"]),
    ]
    scenario = load_scenario(path)
    if scenario.model.kind == "external":
        code, said = run_held_to_avx2(args)
    else:
        code = main(args)
        said = capsys.readouterr().out
    assert code == 0, said
    assert f"wrote {out}" in said
    for name in (
        "manifest.json",
        "flags.parquet",
        "report.html",
        "audit/summary.json",
        "audit/disparities.csv",
        "linkage/quality_by_group.csv",
    ):
        assert (out / name).exists(), name
    counts = out / "attribution" / "counts.csv"
    assert counts.exists() == (path.stem in WITH_ATTRIBUTION)
    h = json.loads((out / "audit" / "summary.json").read_text())["headline"]
    assert h["families"] == SMOKE_SIZE
    assert 0 < h["families_flagged"] < h["families"]
    assert 0 <= h["wrongly_flagged"] <= h["families_flagged"]
    assert 0 < h["families_in_target"] < h["families"]
    assert 0 < h["precision"]["estimate"] <= 1
    assert 0 <= h["fpr"]["estimate"] < 0.5
    # the file's own question leads, with a figure
    question = scenario.audit.headline
    assert h["spec"]["default"] is False
    assert h["spec"]["metric"] == question.metric
    assert h["comparison"] is not None, h.get("unavailable")
    assert h["comparison"]["group"] == question.group
    manifest = yaml.safe_load((out / "manifest.json").read_text())
    assert manifest["scenario"] == path.stem

    assert_outputs_unchanged(path.stem, out)


def run_held_to_avx2(args: list[str]) -> tuple[int, str]:
    """``linkaudit ARGS`` in a child process held to AVX2 (:data:`AVX2_ONLY`)."""
    root = str(SCENARIOS.parent)
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "simulator.cli", *args],
        env={**os.environ, **AVX2_ONLY, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def assert_outputs_unchanged(name: str, out: Path) -> None:
    """Every Parquet table of the smoke run equals the kept one, value for value.

    Behaviour-preserving changes (moving code, renaming internals) must leave every
    output identical; an intended change rewrites ``library_digests.json``
    (``LINKAUDIT_UPDATE_DIGESTS=1``) in the same commit, which says why.
    """
    got = digests.run_digests(out)
    if digests.UPDATE:
        digests.keep(name, got)
        return
    kept = digests.expected(name)
    assert kept is not None, f"no digests kept for {name} (tests/scenarios/digests.py)"
    changed = sorted(k for k in kept.keys() | got.keys() if kept.get(k) != got.get(k))
    assert not changed, f"{name}: outputs changed: {changed}"
