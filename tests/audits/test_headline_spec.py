"""The scenario's own question: the ``audit.headline`` section and its figures."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from audits.headline import (
    HeadlineSpec,
    headline,
    linkage_figure,
    mover_ratio,
    newcombe,
    wilson,
)
from audits.link_quality import METRIC_COLUMNS, by_source_and_group
from audits.tables import audit_summary
from simulator.errors import ScenarioError
from simulator.pipeline.output import write_run
from simulator.pipeline.run import link_data, replicate_scenario, run, stage_seed
from simulator.schema.loading import scenario_from_dict
from simulator.schema.scenario import Scenario
from simulator.world.generate import generate


def _problems(headline: dict, **audit: object) -> str:
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict({"audit": {"headline": headline, **audit}}, "s.yaml")
    return "\n".join(e.value.problems)


@pytest.mark.parametrize(
    ("given", "field", "suggestion"),
    [
        ({"metric": "fpx"}, "metric", "fpr"),
        ({"metric": "link_recal"}, "metric", "link_recall"),
        ({"metric": "link_recall", "source": "polce"}, "source", "police"),
        ({"grouping": "ethnicty", "group": "white"}, "grouping", "ethnicity"),
        (
            {"metric": "link_recall", "grouping": "ethnicity", "group": "blak"},
            "group",
            "black",
        ),
        (
            {"grouping": "tenure", "group": "owner", "reference": "privat_rent"},
            "reference",
            "private_rent",
        ),
    ],
)
def test_unknown_names_are_refused_with_the_closest(given, field, suggestion):
    text = _problems(given)
    assert f"s.yaml: audit.headline.{field}: " in text
    assert f"did you mean {suggestion!r}?" in text


def test_a_group_outside_its_grouping_is_refused():
    text = _problems({"grouping": "imd_quintile", "group": 7})
    assert "audit.headline.group: 7 is not a group of imd_quintile" in text


def test_a_flag_metric_needs_an_audited_grouping_and_no_source():
    text = _problems({"grouping": "moved_recently", "group": True})
    assert "audit.headline: grouping 'moved_recently' is not audited" in text
    assert "audit.headline: source 'police' is for a linkage metric" in _problems(
        {"metric": "fpr", "source": "police"}
    )
    # a linkage metric may use any group column
    s = scenario_from_dict(
        {
            "audit": {
                "headline": {
                    "metric": "missed_link_rate",
                    "grouping": "moved_recently",
                    "group": "true",
                }
            }
        }
    )
    assert s.audit.headline is not None and s.audit.headline.group == "True"


def test_group_and_reference_must_differ():
    text = _problems({"grouping": "imd_quintile", "group": 1, "reference": "1"})
    assert "group and reference are both '1'" in text


# ------------------------------------------------------- linkage figure, by property

SOURCE_NAMES = ("overall", "police")
GROUPS = ("white", "black")


def _quality_table(counts: np.ndarray) -> pd.DataFrame:
    """A quality_by_group table from (source, group, [correct, linkable, linked])."""
    rows = []
    for s, source in enumerate(SOURCE_NAMES):
        for g, value in enumerate(GROUPS):
            correct, linkable, linked = (int(x) for x in counts[s, g])
            row = dict.fromkeys(METRIC_COLUMNS, 0)
            row |= {
                "source": source,
                "group": "ethnicity",
                "value": value,
                "n_correct": correct,
                "n_linkable": linkable,
                "n_linked": linked,
                "n_missed": linkable - correct,
                "n_false": linked - correct,
            }
            rows.append(row)
    return pd.DataFrame(rows)


@st.composite
def _world(draw: st.DrawFn) -> pd.DataFrame:
    counts = np.zeros((2, 2, 3), dtype=np.int64)
    for s in range(2):
        for g in range(2):
            correct = draw(st.integers(0, 400))
            counts[s, g] = (
                correct,
                correct + draw(st.integers(1, 60)),
                correct + draw(st.integers(0, 20)),
            )
    return _quality_table(counts)


@settings(max_examples=60, deadline=None)
@given(
    worlds=st.lists(_world(), min_size=1, max_size=3),
    metric=st.sampled_from(
        ["link_recall", "link_precision", "missed_link_rate", "false_link_rate"]
    ),
    source=st.sampled_from([None, "police"]),
)
@example(  # nothing linked in any group: every precision undefined
    worlds=[_quality_table(np.array([[[0, 1, 0]] * 2] * 2))],
    metric="link_precision",
    source=None,
)
def test_linkage_figure_sums_the_tables_counts(worlds, metric, source):
    spec = HeadlineSpec(
        metric=metric, source=source, grouping="ethnicity", group="black"
    )
    figure = linkage_figure(worlds, spec, "white", 0.95)
    assert figure is not None
    num_col, den_col = {
        "link_recall": ("n_correct", "n_linkable"),
        "link_precision": ("n_correct", "n_linked"),
        "missed_link_rate": ("n_missed", "n_linkable"),
        "false_link_rate": ("n_false", "n_linked"),
    }[metric]
    scores = {}
    for key, value in (("group_rate", "black"), ("reference_rate", "white")):
        rows = [
            t[(t["source"] == (source or "overall")) & (t["value"] == value)]
            for t in worlds
        ]
        rate = figure[key]
        assert rate["numerator"] == sum(int(r[num_col].sum()) for r in rows)
        assert rate["denominator"] == sum(int(r[den_col].sum()) for r in rows)
        scores[key] = wilson(rate["numerator"], rate["denominator"], 0.95)
        _covers((rate["ci_low"], rate["ci_high"]), scores[key], len(worlds))
    g, r = figure["group_rate"], figure["reference_rate"]
    difference = g["estimate"] - r["estimate"]  # nan when either rate is undefined
    assert figure["difference"] == pytest.approx(difference, nan_ok=True)
    within = (g["estimate"], scores["group_rate"], r["estimate"])
    expected = newcombe(*within, scores["reference_rate"])
    interval = (figure["difference_ci_low"], figure["difference_ci_high"])
    _covers(interval, expected, len(worlds))
    if np.isfinite(figure["ratio"]):
        assert figure["ratio_ci_low"] <= figure["ratio"] <= figure["ratio_ci_high"]
        expected = mover_ratio(*within, scores["reference_rate"])
        interval = (figure["ratio_ci_low"], figure["ratio_ci_high"])
        _covers(interval, expected, len(worlds))
    assert len(figure["difference_per_replicate"]) == len(worlds)
    if len(worlds) == 1:
        assert not figure["widened"]


def test_a_rate_of_no_records_keeps_an_undefined_interval():
    """A group with no linked records has no precision: its estimate and interval
    are undefined (nan), not (0, 1); the figure is still given, with its counts."""
    counts = np.array([[[40, 50, 45], [0, 5, 0]]] * 2)  # black: nothing linked
    spec = HeadlineSpec(metric="link_precision", grouping="ethnicity", group="black")
    figure = linkage_figure([_quality_table(counts)], spec, "white", 0.95)
    assert figure is not None
    rate = figure["group_rate"]
    assert rate["denominator"] == 0 and np.isnan(rate["estimate"])
    assert np.isnan(rate["ci_low"]) and np.isnan(rate["ci_high"])
    assert figure["reference_rate"]["ci_low"] < 40 / 45 < 1


def _covers(interval: tuple, score: tuple, worlds: int) -> None:
    """One world: the score interval itself; more: never narrower than it.

    A rate with no denominator (no link made, say) has no score interval: its
    interval is undefined too, not made up.
    """
    if np.isnan(score).all():
        assert np.isnan(interval).all()
        return
    if worlds == 1:
        assert interval == pytest.approx(score)
    else:
        assert interval[0] <= score[0] + 1e-12
        assert interval[1] >= score[1] - 1e-12


def test_worlds_that_differ_widen_the_linkage_headline():
    """Two worlds far apart: the interval covers the variation between them."""
    close = _quality_table(np.array([[[300, 400, 320]] * 2] * 2))
    far = _quality_table(np.array([[[300, 400, 320], [100, 400, 120]]] * 2))
    spec = HeadlineSpec(metric="link_recall", grouping="ethnicity", group="black")
    one = linkage_figure([close], spec, "white", 0.95)
    both = linkage_figure([close, far], spec, "white", 0.95)
    assert one is not None and both is not None and not one["widened"]
    g, r = both["group_rate"], both["reference_rate"]
    within = (g["estimate"], wilson(400, 800, 0.95), r["estimate"])
    score = newcombe(*within, wilson(600, 800, 0.95))
    assert both["widened"]
    assert both["difference_ci_low"] < score[0] - 0.05
    assert both["difference_ci_high"] > score[1] + 0.05
    assert both["ratio_ci_low"] < mover_ratio(*within, wilson(600, 800, 0.95))[0]
    assert g["ci_low"] < wilson(400, 800, 0.95)[0]
    # the same counts in one world are not widened: it is the worlds that differ
    alike = _quality_table(np.array([[[200, 400, 220], [200, 400, 220]]] * 2))
    same = linkage_figure([alike, alike], spec, "white", 0.95)
    assert same is not None and not same["widened"]


# ------------------------------------------------------------ on a small run

LINKAGE_QUESTION = {
    "metric": "link_recall",
    "source": "police",
    "grouping": "ethnicity",
    "group": "asian",
    "reference": "white",
}


def _small(seed: int, replicates: int, headline: dict | None) -> Scenario:
    audit: dict = {"n_boot": 50, "replicates": replicates, "min_group_size": 0}
    if headline is not None:
        audit["headline"] = headline
    return Scenario.model_validate(
        {
            "seed": seed,
            "population": {"n_households": 1_000, "households_per_area": 25},
            "audit": audit,
        }
    )


@pytest.fixture(scope="module")
def linkage_run(seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run(_small(seed, 2, LINKAGE_QUESTION), attribution=False)


def test_a_linkage_headline_pools_the_quality_by_group_files(
    linkage_run, seed, tmp_path, no_report
):
    out = write_run(linkage_run, tmp_path / "run")
    summary = json.loads((out / "audit" / "summary.json").read_text())["headline"]
    assert summary["spec"] == {"kind": "linkage", "default": False, **LINKAGE_QUESTION}
    figure = summary["comparison"]
    table = pd.read_parquet(out / "linkage" / "quality_by_group.parquet")
    # replicate 1, linked again on its own: the second world's table
    scenario = replicate_scenario(linkage_run.scenario, 1)
    data = generate(scenario)
    _, quality = link_data(data, scenario.linkage, stage_seed(scenario, "linkage"))
    other = by_source_and_group(quality.by_group, quality.by_source_group)
    for key, value in (("group_rate", "asian"), ("reference_rate", "white")):
        counts = [
            t[
                (t["source"] == "police")
                & (t["group"] == "ethnicity")
                & (t["value"] == value)
            ].iloc[0]
            for t in (table, other)
        ]
        rate = figure[key]
        assert rate["numerator"] == sum(int(c["n_correct"]) for c in counts)
        assert rate["denominator"] == sum(int(c["n_linkable"]) for c in counts)
        assert rate["per_replicate"] == pytest.approx([c["recall"] for c in counts])
    assert figure["source"] == "police"
    assert figure["group_rate"]["ci_low"] < figure["group_rate"]["estimate"]


def test_the_quality_by_group_file_keeps_every_sources_rows(linkage_run):
    q = linkage_run.link_quality
    table = by_source_and_group(q.by_group, q.by_source_group)
    assert table["source"].iloc[0] == "overall"
    every = table[table["source"] == "overall"].drop(columns="source")
    pd.testing.assert_frame_equal(
        every.reset_index(drop=True), q.by_group.reset_index(drop=True)
    )
    per_source = table[table["source"] != "overall"]
    summed = per_source.groupby(["group", "value"], sort=False)["n_records"].sum()
    assert (
        summed.to_dict() == every.set_index(["group", "value"])["n_records"].to_dict()
    )


def test_a_flag_headline_is_the_rate_of_the_outcomes(linkage_run):
    """A flag metric on one world: the rates counted from the outcomes table."""
    audit = linkage_run.audit
    spec = HeadlineSpec(
        metric="tpr", grouping="tenure", group="social_rent", reference="owner"
    )
    figure = headline([audit], spec)
    assert figure is not None
    o = audit.outcomes

    def tpr(tenure: str) -> float:
        rows = o[(o["tenure"] == tenure) & o["y_true"]]
        return float(rows["flagged"].mean())

    assert figure["group_rate"]["estimate"] == pytest.approx(tpr("social_rent"))
    assert figure["reference_rate"]["estimate"] == pytest.approx(tpr("owner"))
    assert figure["difference"] == pytest.approx(tpr("social_rent") - tpr("owner"))
    assert figure["ratio"] == pytest.approx(tpr("social_rent") / tpr("owner"))


def test_the_default_headline_is_unchanged(linkage_run):
    """No headline section: the false positive rate of quintile 1 against 5, as
    before; naming that same question gives the same figure."""
    audit = linkage_run.audit
    default = replace(audit, config=audit.config.model_copy(update={"headline": None}))
    block = audit_summary(default)["headline"]
    assert block["spec"] == {
        "kind": "flags",
        "default": True,
        "metric": "fpr",
        "grouping": "imd_quintile",
        "group": "1",
        "reference": None,
    }
    named = HeadlineSpec(metric="fpr", grouping="imd_quintile", group=1, reference=5)
    assert json.dumps(headline(default.worlds)) == json.dumps(
        headline(default.worlds, named)
    )
    assert block["comparison"]["metric"] == "fpr"
    assert block["comparison"]["reference"] == "5"


def test_console_and_report_lead_with_the_question(linkage_run):
    from audits.report.sections import flags
    from simulator.cli_headline import headline_lines
    from simulator.pipeline.output import report_inputs

    lines = headline_lines(audit_summary(linkage_run.audit))
    head = (
        "  link recall of police records, ethnicity asian vs white, "
        "pooled over 2 worlds:"
    )
    assert head in lines
    text = flags._headline_sentence(report_inputs(linkage_run))
    assert text.startswith(
        "Pooled over 2 simulated worlds, the link recall of police records was "
    )
    assert "for ethnicity Asian" in text and "a difference of" in text


def test_a_linkage_question_without_links_says_so(linkage_run):
    """An audit of a score file has no links: the question is kept, not dropped."""
    audit = replace(linkage_run.audit, link_quality=None, replicates=())
    block = audit_summary(audit)["headline"]
    assert block["comparison"] is None
    assert "no links" in block["unavailable"]
    from simulator.cli_headline import headline_lines

    assert any(
        "not computed: this audit has no links" in x
        for x in headline_lines(audit_summary(audit))
    )
