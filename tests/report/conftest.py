"""Fixtures of the report tests: one small run built to have every kind of case file.

The scenario links with a deliberately loose match key (surname, sex and postcode
sector) and gives ambiguous matches to the first candidate, so the run has wrong flags
caused by linkage as well as by data errors and visibility, and missed families.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from audits.report import REPORT, ReportInputs, render_report
from simulator.pipeline.output import report_inputs
from simulator.pipeline.run import Run, run
from simulator.schema.scenario import Scenario

HOUSEHOLDS = 2_500
LOOSE_KEYS = [
    {"name": "nhs_dob", "columns": ["nhs_number", "dob"]},
    {
        "name": "name_dob_postcode",
        "columns": ["first_name", "last_name", "dob", "postcode"],
    },
    {"name": "surname_sector", "columns": ["last_name", "sex", "postcode_sector"]},
]


def report_scenario(seed: int) -> Scenario:
    """A small scenario whose careless linkage makes linkage errors common."""
    return Scenario.model_validate(
        {
            "name": "report-test",
            "description": "Careless linkage: a loose surname key, ties to the first.",
            "seed": seed,
            "population": {"n_households": HOUSEHOLDS, "households_per_area": 250},
            "linkage": {"deterministic": {"keys": LOOSE_KEYS, "ties": "first"}},
            "audit": {"n_boot": 200, "min_group_size": 0},
        }
    )


@pytest.fixture(scope="session")
def report_run(seed: int) -> Run:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run(report_scenario(seed))


@pytest.fixture(scope="session")
def report_data(report_run: Run) -> ReportInputs:
    """What the report reads from the run, as the pipeline hands it over."""
    return report_inputs(report_run)


@pytest.fixture(scope="session")
def report_html(report_data: ReportInputs) -> str:
    return render_report(report_data)


@pytest.fixture(scope="session")
def report_file(report_html: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rendered report on disk (as write_report writes it; tested apart)."""
    path = tmp_path_factory.mktemp("report") / REPORT
    path.write_text(report_html, encoding="utf-8", newline="\n")
    return path
