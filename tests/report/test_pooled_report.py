"""The report of a run with replicate worlds: pooled tables and charts, in words."""

from __future__ import annotations

import pickle
import re
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audits.errors import AuditWarning
from audits.link_quality import link_quality
from audits.pooled_links import tables_only
from audits.pooled_tables import pooled_audit
from audits.report import render_report
from audits.report.sections import (
    AHEAD,
    FIRST_WORLD_SECTIONS,
    SECTIONS,
    ahead_of,
    draw_sections,
    inputs_for,
)
from audits.report.sections import flags as flags_section
from audits.report.sections import linkage as linkage_section
from audits.report.sections import scores as score_section
from audits.report.sections import thresholds as threshold_section
from audits.report.text import count, interval, pct
from audits.result import run_audit


def with_worlds(report_data, keep_outcomes: bool):
    """The report's inputs with two more worlds: the first world's families drawn
    again with replacement, audited as a replicate world would be."""
    audit = report_data.audit
    others = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuditWarning)
        for r in (1, 2):
            families = audit.outcomes.sample(frac=1.0, replace=True, random_state=r)
            others.append(
                run_audit(
                    families.reset_index(drop=True),
                    audit.config,
                    seed=audit.seed + r,
                    keep_outcomes=keep_outcomes,
                )
            )
    return replace(report_data, audit=replace(audit, replicates=tuple(others)))


@pytest.fixture(scope="module")
def pooled_inputs(report_data):
    """Two more worlds that did not keep their families (as read back from files
    written before runs kept every world's)."""
    return with_worlds(report_data, keep_outcomes=False)


@pytest.fixture(scope="module")
def kept_inputs(report_data):
    """Two more worlds that keep their families' outcomes, as a run's do."""
    return with_worlds(report_data, keep_outcomes=True)


@pytest.fixture(scope="module")
def pooled_flags(pooled_inputs) -> str:
    """The flags section of the pooled worlds, drawn once for the tests below."""
    return str(flags_section.flags_section(pooled_inputs))


def _text(html: str) -> str:
    html = re.sub(r"<svg.*?</svg>", " ", str(html), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_flags_section_shows_the_pooled_worlds(pooled_inputs, pooled_flags):
    text = _text(pooled_flags)
    assert "Pooled over 3 simulated worlds" in text
    pooled = pooled_audit(pooled_inputs.audit)
    families = int(pooled.metrics.overall.iloc[0]["n"])
    worlds = pooled_inputs.audit.worlds
    assert families == sum(int(w.metrics.overall.iloc[0]["n"]) for w in worlds)
    assert f"({count(families)} families in all)" in text
    # every group's row gives the families summed over the worlds and their range
    q = pooled.disparities.table
    q = q[(q["group"] == "imd_quintile") & (q["metric"] == "fpr")]
    for n in q["n"]:
        assert f" {count(n)} " in text
    assert text.count("worlds ") >= 4 * len(q)
    assert "grey diamonds" in text


def test_the_rates_chart_marks_the_worlds_range(pooled_flags, report_data):
    one = str(flags_section.flags_section(report_data))
    many = pooled_flags
    assert "single world" not in _text(one)
    assert "smallest and largest value in a single world" in many


def test_one_world_parts_say_so(pooled_inputs, report_data):
    for section in (
        threshold_section.threshold_section,
        score_section.run_score_section,
        linkage_section.linkage_section,  # no other world's link quality given
    ):
        assert "first of the 3 simulated worlds" in _text(section(pooled_inputs))
        assert "simulated worlds" not in _text(section(report_data))


def _half_the_links(report_run):
    """The link quality of a world that kept every other link of the first."""
    data = report_run.data
    return link_quality(
        report_run.links.iloc[::2], data.sources, data.spine, data.households
    )


def test_link_quality_pooled_over_the_worlds(pooled_inputs, report_data, report_run):
    """Given each world's link quality, the linkage section sums the counts and
    gives the range of one world's rates (a world that kept half the links)."""
    q = report_data.link_quality
    half = _half_the_links(report_run)
    inputs = replace(pooled_inputs, link_quality_worlds=(half, q))
    text = _text(linkage_section.linkage_section(inputs))
    assert "Pooled over 3 simulated worlds" in text
    assert "first of the 3 simulated worlds" not in text
    worlds = [w.overall.iloc[0] for w in (q, half, q)]
    linkable = sum(int(o["n_linkable"]) for o in worlds)
    missed = sum(int(o["n_missed"]) for o in worlds)
    assert f"Of {count(linkable)} records" in text
    assert f"{count(missed)} were missed" in text
    low, high = sorted(o["recall"] for o in worlds[:2])
    assert low < high
    assert f"recall {interval(low, high)}" in text


def test_whole_report_renders_with_worlds(pooled_inputs):
    html = render_report(pooled_inputs)
    assert html.startswith("<!DOCTYPE html>")
    assert "first of the 3 simulated worlds" in html


def test_threshold_curves_pool_every_kept_world(kept_inputs):
    """With every world's families kept, the curves pool them: for a threshold
    rule the table at the cut gives the pooled audit's rates (counts summed over
    the worlds), each with the range of one world's rate."""
    assert kept_inputs.scenario.model.flag_rule().threshold is not None
    text = _text(threshold_section.threshold_section(kept_inputs))
    assert "first of the 3 simulated worlds" not in text
    assert "pool 3 simulated worlds" in text
    pooled = pooled_audit(kept_inputs.audit).metrics.by_group
    pooled = pooled[pooled["group"] == "imd_quintile"].set_index("value")
    worlds = [w.metrics.by_group for w in kept_inputs.audit.worlds]
    for value, row in pooled.iterrows():  # five quintiles
        rates = [
            w[(w["group"] == "imd_quintile") & (w["value"] == value)]["fpr"].iloc[0]
            for w in worlds
        ]
        cell = f"{pct(row['fpr'])} (worlds {interval(min(rates), max(rates))})"
        assert cell in text, (value, cell)


def test_the_transparency_record_pools_the_worlds_links(
    pooled_inputs, report_data, report_run
):
    """With replicate worlds the record's link counts are summed over them, with
    one world's range, and its scale says it counts the first world."""
    from audits.transparency import run_record

    q = report_data.link_quality
    half = _half_the_links(report_run)

    def field(audit, worlds=()):
        record = run_record(
            report_data.scenario,
            audit,
            report_run.data.sources,
            link_quality=q,
            link_quality_worlds=worlds,
        )
        found = {
            f"{s['key']}.{f['field']}": f["value"]
            for s in record["sections"]
            for f in s["fields"]
        }
        links = "tool_specification.data_completeness_and_representativeness"
        scale = "decision_making_process.frequency_and_scale_of_usage"
        return found[links], found[scale]

    one, one_scale = field(report_data.audit)
    pooled, scale = field(pooled_inputs.audit, (half, q))
    assert "note" not in one and "One run" in one_scale["note"]
    assert one["missed_links"] == int(q.overall.iloc[0]["n_missed"])
    worlds = [w.overall.iloc[0] for w in (q, half, q)]
    for key, column in (("missed_links", "n_missed"), ("false_links", "n_false")):
        assert pooled[key] == sum(int(o[column]) for o in worlds)
    assert "Pooled over 3 simulated worlds" in pooled["note"]
    low, high = sorted(o["recall"] for o in worlds[:2])
    assert f"recall {low:.4f} to {high:.4f}" in pooled["note"]
    assert "first of the run's 3 simulated worlds" in scale["note"]
    assert scale["scored"] == one_scale["scored"]


def test_score_section_pools_every_kept_world(kept_inputs):
    """With every world's families kept, each AUC is scikit-learn's on every
    world's families together, with the smallest and largest world's own AUC."""
    from sklearn.metrics import roc_auc_score

    from audits.report.text import num

    text = _text(score_section.run_score_section(kept_inputs))
    assert "first of the 3 simulated worlds" not in text
    assert "This section pools 3 simulated worlds" in text
    worlds = kept_inputs.audit.worlds
    together = pd.concat([w.outcomes for w in worlds], ignore_index=True)
    filled = together["score"].fillna(-np.inf)  # families nobody holds: lowest
    q = together["imd_quintile"].astype(str)
    for value in sorted(q.unique()):  # five quintiles
        rows = q == value
        auc = roc_auc_score(together["y_true"][rows], filled[rows])
        own = []
        for w in worlds:
            a = w.scores.auc
            own.append(a[(a["group"] == "imd_quintile") & (a["value"] == value)])
        own = [float(a["auc"].iloc[0]) for a in own]
        cell = f"{num(auc, 3)} {num(min(own), 3)} to {num(max(own), 3)}"
        assert cell in text, (value, cell)


def test_score_section_of_one_world_is_unchanged(report_data, kept_inputs):
    one = str(score_section.run_score_section(report_data))
    assert "simulated world" not in _text(one)
    assert "world&#x27;s AUC" not in one
    assert 'aria-label="Area under the ROC curve' not in one
    many = str(score_section.run_score_section(kept_inputs))
    assert "one world&#x27;s AUC" in many
    assert 'aria-label="Area under the ROC curve by deprivation' in many


@pytest.fixture(scope="module")
def worlds_inputs(kept_inputs, report_data):
    """Three worlds that kept their families, each with its link quality, and an
    attribution: every per-household table a run's report inputs hold."""
    assert report_data.attribution is not None
    assert not report_data.link_quality.records.empty
    others = (tables_only(report_data.link_quality),) * 2
    return replace(kept_inputs, link_quality_worlds=others)


@pytest.fixture(scope="module")
def every_section(worlds_inputs):
    """Every section drawn from the whole inputs, once."""
    return draw_sections(worlds_inputs, [s.anchor for s in SECTIONS])


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(anchors=st.sets(st.sampled_from([s.anchor for s in SECTIONS]), min_size=1))
def test_sections_drawn_from_what_they_read_are_those_drawn_from_all(
    worlds_inputs, every_section, anchors
):
    """A process sent only the per-household tables its sections read (inputs_for,
    pickled as a pool task is) draws them as the whole inputs do."""
    sent = pickle.loads(pickle.dumps(inputs_for(worlds_inputs, anchors)))
    assert draw_sections(sent, anchors) == {a: every_section[a] for a in anchors}


def test_a_process_drawing_no_familys_section_is_sent_no_family(worlds_inputs):
    """The sections a streamed run's pool draws while its last rungs run read no
    family's outcomes, no attribution and no link: none is sent; the case files
    get the first world's families and the attribution's, the causes neither."""
    light = inputs_for(worlds_inputs, {"population", "flags", "linkage"})
    assert all(world.outcomes is None for world in light.audit.worlds)
    assert light.attribution is None
    assert light.link_quality.records.empty and light.link_quality.errors.empty
    cases = inputs_for(worlds_inputs, {"cases"})
    assert cases.audit.outcomes is worlds_inputs.audit.outcomes
    assert all(world.outcomes is None for world in cases.audit.replicates)
    assert cases.attribution.households is worlds_inputs.attribution.households
    causes = inputs_for(worlds_inputs, {"causes"}).attribution
    assert causes.households.empty
    assert causes.counts is worlds_inputs.attribution.counts


def test_parts_computed_from_the_first_world_draw_what_every_world_draws(
    worlds_inputs, every_section
):
    """What AHEAD computes from world 0 alone (no replicate, no other world's link
    quality, no pooled attribution count: a streamed run's inputs while its
    replicates still run) draws its sections as every world's inputs do, and so do
    the FIRST_WORLD_SECTIONS drawn whole from those inputs."""
    attribution = worlds_inputs.attribution
    first = replace(
        worlds_inputs,
        audit=replace(worlds_inputs.audit, replicates=()),
        link_quality_worlds=(),
        transparency=None,
        attribution=replace(
            attribution,
            counts=attribution.counts.iloc[:0],
            flagged_by_rung=attribution.flagged_by_rung.iloc[:0],
            counts_by_world=attribution.counts_by_world.iloc[:0],
            by_rung_by_world=attribution.by_rung_by_world.iloc[:0],
        ),
    )
    given_ahead = replace(worlds_inputs, ahead=ahead_of(first))
    assert given_ahead.ahead.keys() == AHEAD.keys()
    assert draw_sections(given_ahead, AHEAD) == {a: every_section[a] for a in AHEAD}
    drawn_ahead = draw_sections(first, FIRST_WORLD_SECTIONS)
    assert drawn_ahead.keys() == FIRST_WORLD_SECTIONS
    assert drawn_ahead == {a: every_section[a] for a in FIRST_WORLD_SECTIONS}
