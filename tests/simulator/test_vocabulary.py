"""The shared vocabulary agrees with every type and table that spells it out again."""

from __future__ import annotations

import subprocess
import sys

from audits.link_quality import BY_GROUP_ORDER
from simulator.schema.agencies import AgenciesConfig, ErrorRates
from simulator.schema.model import Indicators
from simulator.schema.population import NeedsConfig
from simulator.vocabulary import (
    DEPRIVATION,
    ERROR_NAMES,
    GROUP_COLUMNS,
    GROUP_VALUES,
    LEAST_DEPRIVED,
    NEEDS,
    SOURCES,
)
from simulator.world.corruption import APPLY


def test_error_rates_and_appliers_list_every_error_in_the_same_order():
    assert len(ERROR_NAMES) == 24
    assert tuple(ErrorRates.model_fields) == ERROR_NAMES
    assert tuple(APPLY) == ERROR_NAMES


def test_needs_and_sources_are_the_schema_sections():
    assert tuple(f for f in NeedsConfig.model_fields if f != "correlation") == NEEDS
    assert tuple(Indicators.model_fields) == NEEDS
    assert tuple(AgenciesConfig.model_fields) == SOURCES


def test_every_group_column_has_its_values_and_deprivation_its_references():
    assert tuple(GROUP_VALUES) == GROUP_COLUMNS
    assert sorted(BY_GROUP_ORDER) == sorted(GROUP_COLUMNS)
    assert set(DEPRIVATION) == set(LEAST_DEPRIVED) <= set(GROUP_COLUMNS)
    for column, least in LEAST_DEPRIVED.items():
        assert GROUP_VALUES[column][0] == 1 and GROUP_VALUES[column][-1] == least


def test_loading_a_scenario_file_imports_no_stage_nor_pandas():
    code = (
        "import sys; from simulator.schema.loading import load_scenario; "
        "load_scenario('scenarios/baseline.yaml'); "
        "heavy = {'pandas', 'fairlearn', 'sklearn', 'simulator.world', "
        "'simulator.council', 'simulator.pipeline', 'audits'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
