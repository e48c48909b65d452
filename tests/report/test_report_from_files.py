"""The report, lesson and transparency record drawn from a run directory's files are
those drawn from the run in memory, byte for byte (issue #15: a streamed run draws
them from its files, in memory bounded by what they show)."""

from __future__ import annotations

import warnings

import pytest

from audits.report import write_report
from audits.report.lesson import write_lesson
from audits.transparency_files import write_transparency
from simulator.pipeline.output import report_inputs_from_files, write_run
from simulator.pipeline.run import run
from tests.report.conftest import report_scenario

CASES = {
    "loose linkage": {},
    "worlds, lesson, top percent": {
        "audit": {"n_boot": 50, "min_group_size": 0, "replicates": 2},
        "report": {"view": "lesson"},
        "model": {"kind": "criteria", "flag": {"top_percent": 10}},
    },
    "lesson, no police, nobody flagged": {  # the report is written with the lesson
        "agencies": {"police": {"enabled": False}},
        "report": {"view": "lesson"},
        "model": {"kind": "criteria", "flag": {"budget": 0}},
    },
}


def _scenario(seed: int, changes: dict):
    base = report_scenario(seed).model_dump(mode="json")
    for key, value in changes.items():
        base[key] = base.get(key, {}) | value if isinstance(value, dict) else value
    return type(report_scenario(seed)).model_validate(base)


@pytest.mark.parametrize(
    ("case", "seed"), [(case, 5) for case in CASES] + [("loose linkage", 11)]
)
def test_report_from_files_is_the_report_from_memory(case, seed, tmp_path):
    """write_run draws from memory; the same run's files give the same bytes."""
    scenario = _scenario(seed, CASES[case])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_ = run(scenario)
    written = write_run(run_, tmp_path / "run")
    inputs = report_inputs_from_files(
        written,
        scenario=run_.scenario,
        audit=run_.audit,
        attribution=run_.attribution,
        link_quality=run_.link_quality,
        link_quality_worlds=run_.link_quality_worlds,
        seeds=run_.seeds,
        periods=run_.periods,
    )
    again = tmp_path / "again"
    names = list(write_transparency(dict(inputs.transparency or {}), again))
    names.append(write_report(inputs, again).name)
    if scenario.report.view == "lesson":
        names.append(write_lesson(inputs, again).name)
    assert len(names) >= 3 + (scenario.report.view == "lesson")
    for name in names:
        assert (again / name).read_bytes() == (written / name).read_bytes(), name
