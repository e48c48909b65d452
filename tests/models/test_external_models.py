"""Score files and skops files: validated with clear errors; pickles never loaded."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.council.models import ExternalConfig, check_model, make_model
from simulator.council.models.external import ScoreFileModel, SkopsModel
from simulator.errors import InputDataError

IDS = [10, 11, 12, 13, 14]
VIEW = pd.DataFrame(
    {
        "police_incident": [0, 1, 2, 0, 3],
        "lone_adult": [True, False, True, False, True],
    },
    index=pd.Index(IDS, name="spine_household_id"),
)
LABELS = pd.Series([True, False, True, False, False], index=VIEW.index)
GOOD = "spine_household_id,score\n10,0.5\n11,0.25\n12,1\n13,0\n14,-2.5\n"


def write(tmp_path: Path, text: str, name: str = "scores.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_score_file_gives_the_scores_in_view_order(tmp_path):
    rows = zip(IDS[::-1], [-2.5, 0, 1, 0.25, 0.5], strict=True)
    text = "spine_household_id,score,vendor_band\n"
    path = write(tmp_path, text + "".join(f"{i},{s},x\n" for i, s in rows))
    model = make_model(ExternalConfig(scores=str(path)))
    scores = model.fit(VIEW, None).score(VIEW)
    assert scores.tolist() == [0.5, 0.25, 1.0, 0.0, -2.5]
    assert scores.index.equals(VIEW.index)
    check_model(model.clone(), VIEW, LABELS)


def test_relative_paths_resolve_against_the_scenario_directory(tmp_path):
    write(tmp_path, GOOD)
    model = make_model(ExternalConfig(scores="scores.csv"), base_dir=tmp_path)
    assert model.score(VIEW).tolist() == [0.5, 0.25, 1.0, 0.0, -2.5]


BAD_FILES = {
    "not a number": (
        GOOD.replace("11,0.25", "11,high"),
        "row 2: score 'high' is not a number",
    ),
    "missing score": (GOOD.replace("11,0.25", "11,"), "row 2: score is missing"),
    "NaN score": (GOOD.replace("11,0.25", "11,NaN"), "row 2: score is missing"),
    "infinite score": (
        GOOD.replace("12,1", "12,inf"),
        "row 3: score 'inf' is not finite",
    ),
    "duplicate household": (
        GOOD + "12,0.3\n",
        "row 6: spine_household_id 12 is repeated (first at row 3)",
    ),
    "unknown household": (
        GOOD + "99,0.3\n",
        "row 6: spine_household_id 99 is not a spine household of the view",
    ),
    "id not an integer": (
        GOOD.replace("13,0", "13.5,0"),
        "row 4: spine_household_id '13.5' is not an integer",
    ),
    "id not a number": (
        GOOD.replace("13,0", "abc,0"),
        "row 4: spine_household_id 'abc' is not an integer",
    ),
    "missing id": (GOOD.replace("13,0", ",0"), "row 4: spine_household_id is missing"),
    "household without a score": (
        GOOD.replace("14,-2.5\n", ""),
        "1 spine household(s) of the view have no row, e.g. 14",
    ),
    "missing column": (
        GOOD.replace("score", "risk"),
        "missing column(s) score; a score file has columns spine_household_id and "
        "score",
    ),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_bad_score_file_is_refused_naming_the_file_row_and_problem(kind, tmp_path):
    text, message = BAD_FILES[kind]
    path = write(tmp_path, text)
    with pytest.raises(InputDataError) as info:
        ScoreFileModel(path=str(path)).score(VIEW)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_every_problem_is_listed_at_once(tmp_path):
    text = GOOD.replace("11,0.25", "11,high").replace("13,0", "99,0")
    with pytest.raises(InputDataError) as info:
        ScoreFileModel(path=str(write(tmp_path, text))).score(VIEW)
    message = str(info.value)
    assert "row 2: score 'high' is not a number" in message
    assert "row 4: spine_household_id 99 is not a spine household" in message
    assert "1 spine household(s) of the view have no row, e.g. 13" in message


def test_long_lists_of_problems_are_cut(tmp_path):
    text = "spine_household_id,score\n" + "".join(f"{i},x\n" for i in range(100, 130))
    with pytest.raises(InputDataError, match="and 20 more like these"):
        ScoreFileModel(path=str(write(tmp_path, text))).score(VIEW)


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        (
            "score",
            ["0.1", "x", "0.3", "0.4", "0.5"],
            "row 2: score 'x' is not a number",
        ),
        ("score", [0.1, None, 0.3, 0.4, 0.5], "row 2: score is missing"),
        (
            "spine_household_id",
            [10, 11, 11, 13, 14],
            "row 3: spine_household_id 11 is repeated",
        ),
    ],
)
def test_bad_parquet_score_files_are_refused(column, values, message, tmp_path):
    frame = pd.DataFrame(
        {"spine_household_id": IDS, "score": [0.1, 0.2, 0.3, 0.4, 0.5]}
    )
    frame[column] = values
    path = tmp_path / "scores.parquet"
    frame.to_parquet(path)
    with pytest.raises(InputDataError) as info:
        ScoreFileModel(path=str(path)).score(VIEW)
    assert str(path) in str(info.value) and message in str(info.value)


def test_a_good_parquet_score_file_works(tmp_path):
    path = tmp_path / "scores.parquet"
    pd.DataFrame(
        {"spine_household_id": IDS[::-1], "score": [5.0, 4, 3, 2, 1]}
    ).to_parquet(path)
    assert ScoreFileModel(path=str(path)).score(VIEW).tolist() == [1.0, 2, 3, 4, 5]


@pytest.mark.parametrize("name", ["scores.txt", "missing.csv"])
def test_unreadable_score_files_are_named(name, tmp_path):
    if name.endswith(".txt"):
        write(tmp_path, GOOD, name)
    with pytest.raises(InputDataError, match=name):
        ScoreFileModel(path=str(tmp_path / name)).score(VIEW)


# ------------------------------------------------------------------------ pickles


class Payload:
    """Unpickling this touches a file: proof that a pickle was (or was not) loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_the_payload_would_run_if_unpickled(tmp_path):
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(Payload(marker)))  # our own object, in a test
    assert marker.exists()


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("scores", "scores.pkl"),
        ("scores", "scores.csv"),
        ("scores", "scores.parquet"),
        ("skops", "model.joblib"),
        ("skops", "model.skops"),
    ],
)
def test_a_pickle_is_refused_without_being_loaded(field, name, tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / name
    path.write_bytes(pickle.dumps(Payload(marker)))
    model = make_model(ExternalConfig(**{field: str(path)}))
    with pytest.raises(InputDataError, match="pickle") as info:
        model.fit(VIEW, None).score(VIEW)
    assert str(path) in str(info.value)
    assert not marker.exists()


# -------------------------------------------------------------------------- skops


@pytest.fixture(scope="module")
def training() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(
        {"police_incident": rng.poisson(1, 200), "lone_adult": rng.random(200) < 0.3}
    ).astype(float)
    y = pd.Series(x["police_incident"] + rng.normal(size=200) > 1.5)
    return x, y


def dump(model, path: Path) -> Path:
    import skops.io as sio

    sio.dump(model, path)
    return path


def test_a_skops_model_scores_the_view(training, tmp_path):
    from sklearn.linear_model import LogisticRegression

    x, y = training
    fitted = LogisticRegression().fit(x, y)
    path = dump(fitted, tmp_path / "model.skops")
    model = make_model(ExternalConfig(skops=str(path)))
    scores = model.fit(VIEW, None).score(VIEW)
    expected = fitted.predict_proba(VIEW[list(x.columns)].astype(float))[:, 1]
    np.testing.assert_allclose(scores.to_numpy(), expected)
    check_model(model.clone(), VIEW, LABELS)
    assert list(model.explain(VIEW).columns) == list(x.columns)


def test_untrusted_types_are_refused_unless_listed(training, tmp_path):
    from sklearn.ensemble import HistGradientBoostingClassifier

    x, y = training
    path = dump(
        HistGradientBoostingClassifier(max_iter=5).fit(x, y), tmp_path / "hgb.skops"
    )
    tree = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
    with pytest.raises(InputDataError, match=f"does not trust: {tree}"):
        SkopsModel(path=str(path)).score(VIEW)
    scores = SkopsModel(path=str(path), trusted=(tree,)).score(VIEW)
    assert scores.between(0, 1).all()


def test_a_skops_model_needs_the_view_features(training, tmp_path):
    from sklearn.linear_model import LogisticRegression

    x, y = training
    renamed = x.rename(columns={"lone_adult": "lone_parent_true"})
    path = dump(LogisticRegression().fit(renamed, y), tmp_path / "m.skops")
    with pytest.raises(InputDataError, match="view does not have: lone_parent_true"):
        SkopsModel(path=str(path)).score(VIEW)
    unnamed = dump(LogisticRegression().fit(x.to_numpy(), y), tmp_path / "n.skops")
    with pytest.raises(InputDataError, match="fitted without feature names"):
        SkopsModel(path=str(unnamed)).score(VIEW)


def test_a_file_that_is_not_a_skops_zip_is_refused(tmp_path):
    path = write(tmp_path, "not a model", "model.skops")
    with pytest.raises(InputDataError, match="not a skops file"):
        SkopsModel(path=str(path)).score(VIEW)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of plugin, scores or skops, got none"),
        ({"scores": "a.csv", "skops": "b.skops"}, "got scores, skops"),
        ({"scores": "a.csv", "params": {"a": 1}}, "params apply to a plugin only"),
        ({"scores": "a.csv", "trusted": ("x",)}, "trusted applies to a skops file"),
        ({"plugin": "not an import path"}, "pattern"),
    ],
)
def test_external_config_is_validated(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        ExternalConfig(**kwargs)
