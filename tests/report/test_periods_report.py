"""The report and console of a run over periods: the headline asked of every period."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from audits.headline import headline
from audits.periods import FAMILIES, METRICS
from audits.periods_headline import (
    PeriodQuestion,
    headline_over_periods,
    period_question,
)
from audits.report import write_report
from audits.report.sections import PERIODS, SECTIONS, sections_of
from simulator.pipeline.output import report_inputs
from simulator.pipeline.periods import run_periods
from tests.pipeline.test_periods import periods_run


@pytest.fixture(scope="module")
def watched(seed):
    return periods_run(seed, 3, "surveillance")


def test_period_one_asks_the_runs_own_headline(watched):
    question = period_question(watched.audit)
    assert question == PeriodQuestion("fpr", "imd_quintile", "1", "5")
    table = headline_over_periods(watched.periods[METRICS], question)
    assert table["period"].tolist() == [1, 2, 3]
    first = headline([watched.audit])
    assert (first["group"], first["reference"]) == ("1", "5")
    assert table.loc[0, "group_rate"] == pytest.approx(first["group_rate"]["estimate"])
    assert table.loc[0, "reference_rate"] == pytest.approx(
        first["reference_rate"]["estimate"]
    )
    assert np.allclose(
        table["difference"], table["group_rate"] - table["reference_rate"]
    )


def test_a_missing_group_gives_no_rate_rather_than_failing():
    metrics = pd.DataFrame(
        {"period": [1, 2], "group": ["g", "g"], "value": ["1", "1"], "fpr": [0.1, 0.2]}
    )
    table = headline_over_periods(metrics, PeriodQuestion("fpr", "g", "1", "5"))
    assert table["group_rate"].tolist() == [0.1, 0.2]
    assert table["reference_rate"].isna().all()


def test_a_run_over_periods_reports_them(watched, tmp_path):
    inputs = report_inputs(watched)
    assert sections_of(inputs).index(PERIODS) == 5
    html = write_report(inputs, tmp_path).read_text(encoding="utf-8")
    start = html.index('id="periods"')
    part = html[start : html.index("</section>", start)]
    assert '<svg id="fig-periods"' in part
    assert "watched more" in part  # surveillance was on
    rows = re.findall(r"<tr><td>(\d+)</td>", part)
    assert rows == ["1", "2", "3"]
    assert "of them, by feedback" not in part  # the fixture has no attribution
    assert 'href="#periods"' in html


def test_the_report_shows_the_wrong_flags_put_down_to_feedback(watched):
    """Only the periods section is drawn (the test above shows it is the report's)."""
    tables = run_periods(watched, feedback=True)
    inputs = report_inputs(replace(watched, periods=tables))
    assert PERIODS in sections_of(inputs)
    part = str(PERIODS.build(inputs))
    assert "of them, by feedback" in part
    families = tables[FAMILIES]
    caused = families[families["group"] == "overall"]["wrongly_flagged_by_feedback"]
    row = re.search(r"<tr><td>3</td>(.*?)</tr>", part).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    assert cells[-1] == f"{caused.iloc[-1]:,}" and caused.iloc[-1] > 0


def test_a_single_run_has_no_periods_section(report_data, report_html):
    """The report fixture's run is a single run (one period, as by default)."""
    assert report_data.scenario.dynamics.periods == 1
    assert sections_of(report_data) == SECTIONS
    assert 'id="periods"' not in report_html and "fig-periods" not in report_html
    assert '<section id="flags">' in report_html  # the sections before it are there


def test_the_console_prints_one_line_a_period(seed, tmp_path, capsys, no_report):
    from simulator.cli import main

    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"seed: {seed}\npopulation: {{n_households: 2000, households_per_area: 100}}\n"
        "audit: {n_boot: 50, min_group_size: 0}\n"
        "dynamics: {periods: 3, surveillance: {enabled: true}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["run", str(scenario), "-o", str(out), "-q", "--no-attribution"]) == 0
    printed = capsys.readouterr().out
    lines = re.findall(r"^  period (\d): ([\d.]+)% vs ([\d.]+)%", printed, re.M)
    assert [n for n, _, _ in lines] == ["1", "2", "3"]
    written = pd.read_csv(
        out / "periods" / "metrics_by_group.csv", dtype={"value": str}
    )
    q1 = written[(written["group"] == "imd_quintile") & (written["value"] == "1")]
    assert [float(g) for _, g, _ in lines] == pytest.approx(
        (100 * q1["fpr"]).round(1).tolist()
    )
