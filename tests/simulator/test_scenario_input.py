"""Scenario files say what they mean: duplicate keys, empty files, did-you-mean."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from simtools import scenario_file as write
from simtools import scenario_problems as problems

from simulator.cli import main
from simulator.schema.loading import load_scenario
from simulator.schema.scenario import Scenario
from simulator.schema.suggest import kinds_at
from simulator.schema.yaml_loader import DuplicateKeyError, load_yaml

BASELINE = Path(__file__).parents[2] / "scenarios" / "baseline.yaml"


# ------------------------------------------------------------- duplicate keys


def test_a_duplicate_top_level_key_names_the_key_and_both_lines(tmp_path):
    path = write(tmp_path, "seed: 1\nname: x\nseed: 2\n")
    (line,) = problems(path)
    assert line.startswith(f"{path}: line 3, column 1: ")
    assert "duplicate key 'seed' (lines 1 and 3)" in line


def test_a_duplicate_nested_key_names_the_key_and_both_lines(tmp_path):
    path = write(
        tmp_path,
        "agencies:\n"
        "  police:\n"
        "    enabled: true\n"
        "    errors: {name_typo: 0.1}\n"
        "    enabled: false\n",
    )
    (line,) = problems(path)
    assert "duplicate key 'enabled' (lines 3 and 5)" in line
    path = write(tmp_path, "agencies:\n  police: {}\n  health: {}\n  police: {}\n")
    assert "duplicate key 'police' (lines 2 and 4)" in problems(path)[0]


YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "other"}
"""Keys YAML reads as something else (True, None), and the one used as a fresh key."""
KEYS = st.lists(
    st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True).filter(
        lambda k: k not in YAML_WORDS
    ),
    min_size=1,
    unique=True,
)


def nested(names: list[str], depth: int) -> str:
    """A block mapping ``depth`` levels down, holding ``names`` in order."""
    text = "".join(f"{'  ' * d}level{d}:\n" for d in range(depth))
    return text + "".join(
        f"{'  ' * depth}{name}: {i}\n" for i, name in enumerate(names)
    )


@given(keys=KEYS, depth=st.integers(0, 3), data=st.data())
def test_any_key_given_twice_at_any_depth_is_refused_with_both_lines(keys, depth, data):
    again = data.draw(st.integers(0, len(keys) - 1))
    at = data.draw(st.integers(again + 1, len(keys)))
    with pytest.raises(DuplicateKeyError) as e:
        load_yaml(nested([*keys[:at], keys[again], *keys[at:]], depth))
    first, second = depth + again + 1, depth + at + 1
    assert f"duplicate key {keys[again]!r} (lines {first} and {second})" in str(e.value)
    assert load_yaml(nested([*keys[:at], "other", *keys[at:]], depth))


def test_merge_keys_and_a_key_beside_them_are_not_duplicates():
    data = load_yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n")
    assert data["other"] == {"x": 1, "y": 3}


def test_a_duplicate_key_in_a_set_value_is_refused(tmp_path):
    path = write(tmp_path, "{}\n")
    (line,) = problems(path, ["model={kind: learned, kind: scorecard}"])
    assert line.startswith("--set model=") and "duplicate key 'kind'" in line


# ----------------------------------------------------------------- empty files


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing yet\n  # really\n"])
def test_an_empty_or_comments_only_file_is_an_error_that_shows_the_way(tmp_path, text):
    path = write(tmp_path, text)
    (line,) = problems(path)
    assert line.startswith(f"{path}: ") and "empty" in line and "{}" in line


def test_an_intentional_all_defaults_scenario_is_an_empty_mapping(tmp_path):
    assert load_scenario(write(tmp_path, "{}  # every default\n")) == Scenario()


# ----------------------------------------------------------------- did you mean


def test_a_misspelt_field_gets_the_closest_name(tmp_path):
    path = write(
        tmp_path,
        "population:\n  n_househods: 10\n"
        "model: {kind: learned, estimater: random_forest}\n"
        "colour: red\n",
    )
    got = "\n".join(problems(path))
    assert (
        f"{path}: population.n_househods: unknown field; did you mean "
        "'n_households'?" in got
    )
    assert "model.learned.estimater: unknown field; did you mean 'estimator'?" in got
    assert f"{path}: colour: unknown field (check the spelling" in got


def test_a_misspelt_set_path_gets_the_closest_name(tmp_path):
    path = write(tmp_path, "{}\n")
    (line,) = problems(path, ["populaton.n_households=500"])
    assert line == (
        f"{path} with --set: populaton: unknown field; did you mean 'population'?"
    )
    (line,) = problems(path, ["agencies.police.errors.name_typp=0.1"])
    assert "agencies.police.errors.name_typp: unknown field; did you mean " in line


@pytest.mark.parametrize(
    ("kind", "hint"),
    [("lerned", "; did you mean 'learned'?"), ("neural_net", ""), (3, "")],
)
def test_an_unknown_model_kind_is_one_line_listing_the_kinds(tmp_path, kind, hint):
    path = write(tmp_path, f"model: {{kind: {kind}}}\n")
    (line,) = problems(path)
    kinds = list(kinds_at(["model"]))
    listed = ", ".join(kinds[:-1]) + f" and {kinds[-1]}"
    assert line == (
        f"{path}: model.kind: unknown kind {kind!r}; the kinds are {listed}{hint}"
    )


# --------------------------------------------------------- a new kind from --set


@pytest.mark.parametrize("kind", ["learned", "scorecard"])
def test_setting_a_new_kind_drops_the_old_kinds_fields_and_says_which(kind):
    with pytest.warns(UserWarning, match=r"model\.min_problems") as caught:
        s = load_scenario(BASELINE, [f"model.kind={kind}"])
    assert s.model.kind == kind
    assert s.model == type(s.model)()  # the new kind's own defaults
    (w,) = caught
    assert str(w.message).startswith(f"--set model.kind={kind}: ")


def test_setting_the_same_kind_keeps_its_fields_without_a_word():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = load_scenario(BASELINE, ["model.kind=criteria", "model.min_problems=3"])
    assert (s.model.kind, s.model.min_problems) == ("criteria", 3)


def test_a_new_kind_keeps_fields_set_after_it(tmp_path):
    with pytest.warns(UserWarning):
        s = load_scenario(
            BASELINE, ["model.kind=learned", "model.estimator=gradient_boosting"]
        )
    assert s.model.estimator == "gradient_boosting"


def test_validate_with_a_new_kind_succeeds_and_warns(capsys):
    assert main(["validate", str(BASELINE), "--set", "model.kind=learned"]) == 0
    captured = capsys.readouterr()
    assert f"{BASELINE}: valid" in captured.out
    assert "    model.kind: learned (default criteria)" in captured.out
    (warning,) = [x for x in captured.err.splitlines() if "warning" in x]
    assert warning.startswith("linkaudit: warning: --set model.kind=learned: ")
    assert "model.min_problems" in warning
