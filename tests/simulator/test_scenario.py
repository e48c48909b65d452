"""Scenario files: defaults, clear errors, --set overrides, the schema and the CLI."""

from __future__ import annotations

import json

import pytest
from simtools import scenario_file as write
from simtools import scenario_problems as problems

from simulator.cli import main
from simulator.schema.loading import (
    MAX_FILE_BYTES,
    json_schema,
    load_scenario,
    scenario_from_dict,
)
from simulator.schema.scenario import Scenario


def test_every_problem_is_reported_with_file_path_and_what_was_found(tmp_path):
    path = write(
        tmp_path,
        "population:\n  n_househods: 10\n  n_households: many\n"
        "seed: -1\nlinkage: {method: psychic}\n",
    )
    got = problems(path)
    joined = "\n".join(got)
    assert f"{path}: population.n_househods: unknown field" in joined
    assert f"{path}: population.n_households:" in joined
    assert "found 'many'" in joined
    assert f"{path}: seed:" in joined and "found -1" in joined
    assert f"{path}: linkage.method:" in joined and "found 'psychic'" in joined
    assert all(p.startswith(f"{path}: ") for p in got)
    assert len(got) == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("population: [1, 2\n", "invalid YAML"),
        ("- a\n- b\n", "expected a mapping of sections, found list"),
        ("\xff\xfe", None),
    ],
)
def test_unreadable_files_are_refused_clearly(tmp_path, text, expected):
    path = tmp_path / "bad.yaml"
    if expected is None:
        path.write_bytes(b"\xff\xfe\x00bad")
        expected = "not UTF-8"
    else:
        path.write_text(text, encoding="utf-8")
    (line,) = problems(path)
    assert line.startswith(f"{path}: ") and expected in line


def test_oversized_and_missing_files_are_refused_before_parsing(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("#" * (MAX_FILE_BYTES + 1), encoding="utf-8")
    assert "scenario files are at most" in problems(big)[0]
    assert "cannot read the file" in problems(tmp_path / "absent.yaml")[0]


def test_a_typo_cannot_ask_for_an_enormous_population(tmp_path):
    (line,) = problems(write(tmp_path, "population: {n_households: 2000000000}\n"))
    assert "population.n_households: Input should be less than or equal to" in line


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("population.n_households", "expected path.to.field=value, found no '='"),
        ("population..n=3", "empty field name"),
        ("seed.x=3", "seed is a value, not a section with fields"),
        ("population.n_households=[1", "value is not valid YAML"),
    ],
)
def test_bad_overrides_name_the_argument(tmp_path, override, expected):
    (line,) = problems(write(tmp_path, "seed: 3\n"), [override])
    assert line.startswith(f"--set {override}: ") and expected in line


def test_overrides_apply_in_order_and_are_validated(tmp_path):
    path = write(tmp_path, "population: {n_households: 500}\n")
    s = load_scenario(
        path, ["population.n_households=700", "linkage.method=splink", "seed=9"]
    )
    assert (s.population.n_households, s.linkage.method, s.seed) == (700, "splink", 9)
    assert "found 'x'" in problems(path, ["population.n_households=x"])[0]


def test_a_partial_section_keeps_its_own_defaults():
    base = Scenario()
    s = scenario_from_dict(
        {
            "needs": {"children_in_need": {"deprivation_odds_ratio": 5}},
            "agencies": {
                "social_care": {"events": {"child_in_need_plan": {"visibility": 0.9}}}
            },
        }
    )
    need, old = s.needs.children_in_need, base.needs.children_in_need
    assert need.deprivation_odds_ratio == 5
    assert need.prevalence == old.prevalence
    event = s.agencies.social_care.events.child_in_need_plan
    old_event = base.agencies.social_care.events.child_in_need_plan
    assert event.visibility == 0.9
    assert event.mean_events == old_event.mean_events
    assert s.agencies.social_care.errors == base.agencies.social_care.errors


def test_changing_the_model_kind_does_not_carry_the_old_kinds_fields():
    s = scenario_from_dict(
        {"model": {"kind": "learned", "estimator": "gradient_boosting"}}
    )
    assert s.model.kind == "learned"
    assert not hasattr(s.model, "min_problems")


def test_the_json_schema_describes_every_section(tmp_path, capsys):
    schema = json_schema()
    for section in ("population", "agencies", "linkage", "model", "audit", "view"):
        assert section in schema["properties"]
    assert main(["schema", "-o", str(tmp_path / "s.json")]) == 0
    assert (
        json.loads((tmp_path / "s.json").read_text())["title"] == "linkaudit scenario"
    )


def test_validate_prints_a_summary_or_every_problem(tmp_path, capsys):
    good = write(tmp_path, "name: demo\npopulation: {n_households: 1000}\n")
    assert main(["validate", str(good)]) == 0
    out = capsys.readouterr().out
    assert f"{good}: valid" in out and "households: 1,000" in out
    bad = write(tmp_path, "population: {n_households: x, colour: red}\n", "bad.yaml")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith(f"{bad}: ") for line in err)


def test_yaml_aliases_may_not_expand_beyond_the_bound(tmp_path):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        levels.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    path = write(tmp_path, "\n".join(levels) + "\n")
    assert path.stat().st_size < 1_000
    (line,) = problems(path)
    assert line.startswith(f"{path}: the YAML expands to") and "at most" in line
    bomb = (
        "[&a [1,1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], "
        + ", ".join(["&c [" + ",".join(["*b"] * 10) + "]"] + ["*c"] * 200)
        + "]"
    )
    (line,) = problems(write(tmp_path, "seed: 1\n", "ok.yaml"), [f"seed={bomb}"])
    assert line.startswith("--set seed=") and "expands to" in line


def test_a_few_aliases_are_fine(tmp_path):
    path = write(
        tmp_path,
        "error_multipliers:\n"
        "  - {column: ethnicity, value: asian, factor: 2, errors: &n [name_typo]}\n"
        "  - {column: ethnicity, value: black, factor: 3, errors: *n}\n",
    )
    s = load_scenario(path)
    assert [m.errors for m in s.error_multipliers] == [("name_typo",), ("name_typo",)]
