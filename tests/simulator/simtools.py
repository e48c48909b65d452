"""Helpers shared by the simulator tests (imported by name: tests/simulator is on
sys.path under pytest's default import mode)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from simulator.errors import ScenarioError
from simulator.rng import BLOCK_SIZE
from simulator.schema.loading import load_scenario
from simulator.schema.scenario import Scenario
from simulator.vocabulary import SOURCES
from simulator.world.records import HELD_IDENTIFIERS, IDENTITY_COLUMNS

DEFAULT_HOUSEHOLDS = 3 * BLOCK_SIZE - 1_000
"""Three seeding blocks, the last one partial: big enough for 4-sigma rate checks,
and about 6 s to generate."""
CLEAN_HOUSEHOLDS = 2 * BLOCK_SIZE
NATIONAL_IDS = ("nhs_number", "ni_number", "upn")
MISSING = "\x00<missing>"

FIELD_ERRORS: dict[str, frozenset[str]] = {
    "first_name": frozenset(
        {
            "wrong_person",
            "name_swap",
            "nickname",
            "transliteration",
            "name_typo",
            "name_ocr",
            "name_phonetic",
            "first_name_missing",
        }
    ),
    "last_name": frozenset(
        {
            "wrong_person",
            "name_swap",
            "transliteration",
            "surname_change",
            "name_typo",
            "name_ocr",
            "name_phonetic",
        }
    ),
    "sex": frozenset({"wrong_person", "sex_wrong"}),
    "dob": frozenset(
        {"wrong_person", "dob_day_month_swap", "dob_digit", "dob_year", "dob_missing"}
    ),
    "address": frozenset({"stale_address"}),
    "postcode": frozenset({"stale_address", "postcode_typo", "postcode_missing"}),
    "nhs_number": frozenset({"wrong_person", "nhs_missing", "nhs_wrong"}),
    "upn": frozenset({"wrong_person", "upn_missing", "upn_wrong"}),
    "ni_number": frozenset({"wrong_person", "ni_missing", "ni_wrong"}),
}
"""Identity field -> every error that may change it (the spec of docs/methodology.md
section 2, written out independently of simulator/world/corruption/)."""


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def build_scenario(
    n_households: int, seed: int, chunk_size: int = BLOCK_SIZE, **sections: Any
) -> Scenario:
    """A validated scenario from keyword sections (nested dicts, as in YAML)."""
    data = _merge(
        {
            "name": "test",
            "seed": seed,
            "population": {"n_households": n_households},
            "generation": {"chunk_size": chunk_size},
        },
        sections,
    )
    return Scenario.model_validate(data)


def only_sources(*enabled: str) -> dict[str, Any]:
    """An ``agencies`` section enabling just the named sources."""
    return {s: {"enabled": s in enabled} for s in SOURCES}


def normalised(series: pd.Series) -> np.ndarray:
    """Values comparable with ``==``: strings, one marker for every kind of null."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.to_numpy().astype("datetime64[s]").astype(np.int64)
    return series.astype("string").fillna(MISSING).to_numpy(dtype=object)


def truth_for(records: pd.DataFrame, people: pd.DataFrame, source: str) -> pd.DataFrame:
    """The true identity of each record's ``true_person_id``, as the source would
    hold it: identifiers the source does not hold are null."""
    held = HELD_IDENTIFIERS[source]
    truth = (
        people.set_index("person_id")
        .reindex(records["true_person_id"].to_numpy())[list(IDENTITY_COLUMNS)]
        .reset_index(drop=True)
    )
    for col in NATIONAL_IDS:
        if col not in held:
            truth[col] = pd.Series([None] * len(truth), dtype="string")
    return truth


def differs(records: pd.DataFrame, truth: pd.DataFrame, column: str) -> np.ndarray:
    """True where a record's ``column`` is not the truth (null vs value counts)."""
    return normalised(records[column].reset_index(drop=True)) != normalised(
        truth[column]
    )


def scenario_file(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    """A scenario file holding ``text``."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def scenario_problems(path: Path, overrides: list[str] | None = None) -> list[str]:
    """The problem lines of a scenario file that must fail to load."""
    with pytest.raises(ScenarioError) as e:
        load_scenario(path, overrides or [])
    return e.value.problems
