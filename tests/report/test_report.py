"""The HTML report: determinism, escaping, self-containment, case files, curves."""

from __future__ import annotations

import dataclasses
import pickle
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.report import REPORT, render_report, write_report
from audits.report.cases import CATEGORIES, case_files, explanation, select_cases
from audits.report.cases.kinds import HOUSEHOLD, OTHER_FAMILY
from audits.report.curves import (
    actual_cut,
    pooled_threshold_curves,
    threshold_curves,
    thresholds,
)
from audits.report.page import Html
from audits.report.sections import SECTIONS, draw_sections
from simulator.council.models import FlagRule
from simulator.schema.scenario import Scenario
from simulator.schema.settings import changed_settings


def test_same_run_same_bytes(report_data, report_html, tmp_path):
    """Rendering again, and writing, give byte-identical HTML (charts included)."""
    path = write_report(report_data, tmp_path)
    assert path == tmp_path / REPORT
    assert sorted(p.name for p in tmp_path.iterdir()) == [REPORT]
    assert path.read_bytes() == report_html.encode("utf-8")


@settings(max_examples=5, deadline=None)
@given(anchors=st.sets(st.sampled_from([s.anchor for s in SECTIONS])))
def test_sections_drawn_apart_make_the_same_report(report_data, report_html, anchors):
    """Sections drawn from a pickled copy of the inputs (as a worker draws part of a
    streamed run's report: simulator.pipeline.output.write_run) and handed to
    render_report (ReportInputs.drawn) give the report drawn in one go."""
    elsewhere = pickle.loads(pickle.dumps(report_data))
    drawn = draw_sections(elsewhere, anchors)
    assert set(drawn) == anchors
    assert render_report(dataclasses.replace(report_data, drawn=drawn)) == report_html


def test_sections_drawn_elsewhere_are_used_as_they_are(report_data):
    """A section handed to render_report is not drawn again: its body is as given."""
    drawn = {"scores": Html("<p>drawn apart</p>")}
    html = render_report(dataclasses.replace(report_data, drawn=drawn))
    start = html.index('<section id="scores">')
    assert "<p>drawn apart</p>" in html[start : html.index("</section>", start)]


def test_every_section_and_chart_is_there(report_html):
    for s in SECTIONS:
        assert f'<section id="{s.anchor}"><h2>{s.title}</h2>' in report_html
    assert report_html.count("<svg ") >= 8
    assert report_html.count("<figcaption>") == report_html.count("<svg ")
    assert "synthetic" in report_html.lower()


def test_self_contained(report_html):
    """No network: no URL of any kind, no script, no external resource."""
    assert not re.search(r"https?:|//[a-z]", report_html, flags=re.IGNORECASE)
    assert "<script" not in report_html.lower()
    assert not re.search(r"\b(src|href)=\"(?!#)", report_html)  # only in-page links
    assert "<link" not in report_html and "@import" not in report_html


def test_svg_ids_are_unique(report_html):
    ids = re.findall(r'\bid="([^"]+)"', report_html)
    assert len(ids) == len(set(ids))
    refs = set(re.findall(r'(?:href="#|url\(#)([^")]+)', report_html))
    assert refs <= set(ids)


def test_scenario_text_is_escaped_and_no_attribution_is_said(report_data):
    """A hostile scenario name is escaped; a run without attribution still renders.

    (One render for both: rendering costs seconds.)
    """
    evil = "<script>alert('x')</script>"
    scenario = report_data.scenario.model_copy(
        update={"name": evil, "description": 'A "quoted" <b>bold</b> & more'}
    )
    html = render_report(
        dataclasses.replace(report_data, scenario=scenario, attribution=None)
    )
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html
    assert "<b>" not in html
    assert "made without the attribution" in html
    assert "Case 1:" in html  # case files fall back to wrongly flagged / missed
    for s in SECTIONS:
        assert f'id="{s.anchor}"' in html


def test_changed_settings_lists_only_differences():
    s = Scenario.model_validate(
        {
            "name": "x",
            "population": {"n_households": 5000},
            "model": {"kind": "learned"},
            "linkage": {"deterministic": {"ties": "first"}},
        }
    )
    changes = {k: (mine, default) for k, mine, default in changed_settings(s)}
    assert changes["population.n_households"] == ("5,000", "20,000")
    assert changes["linkage.deterministic.ties"] == ("first", "drop")
    assert changes["model.kind"] == ("learned", "criteria")
    assert changes["model.estimator"][1] == "(not set)"
    assert "name" not in changes and "seed" not in changes
    assert changed_settings(Scenario()) == []


def test_case_files_find_every_kind(report_run, report_data):
    """The careless-linkage run has each kind of case, chosen as the docs say."""
    chosen = select_cases(report_data)
    attribution = report_run.attribution.households.set_index("household_id")
    kinds = {c.key: c for c in CATEGORIES}
    expected = {"fp_linkage", "fp_data_error", "fp_visibility"}
    assert expected <= set(chosen["category"])
    assert {"fn_linkage", "fn_data_error"} & set(chosen["category"])
    assert chosen["household_id"].is_unique
    for _, row in chosen.iterrows():
        category = kinds[row["category"]]
        truth = attribution.loc[row["household_id"]]
        assert truth["error"] == category.error
        assert truth["cause"] in category.causes
    # Deterministic, and in display order.
    pd.testing.assert_frame_equal(chosen, select_cases(report_data))
    order = [c.key for c in CATEGORIES]
    positions = [order.index(k) for k in chosen["category"]]
    assert positions == sorted(positions)


def test_case_files_show_the_cause(report_run, report_data):
    cases = {c.category.key: c for c in case_files(report_data)}
    outcomes = report_run.audit.outcomes.set_index("household_id")
    cut = actual_cut(report_run.council.flags, report_data.scenario.model.flag_rule())

    def explain(case):
        return explanation(case, report_data.scenario, cut)

    linkage = cases["fp_linkage"]
    others = linkage.records[linkage.records["about"] == OTHER_FAMILY]
    assert len(others) and (others["linked_to"] == HOUSEHOLD).all()
    assert (others["match_key"] != "").all()
    assert linkage.spine["flagged"].all()
    assert re.search(r"another family|other families", explain(linkage))

    data_error = cases["fp_data_error"]
    shared = data_error.spine["n_other_family"].sum() > 0
    wrong = (data_error.records["about"] == OTHER_FAMILY).any()
    errors = data_error.records["errors"].map(bool).any()
    assert shared or wrong or errors

    visibility = cases["fp_visibility"]
    own = visibility.records[visibility.records["about"] != OTHER_FAMILY]
    assert own["background"].any()

    missed = cases.get("fn_linkage") or cases["fn_data_error"]
    assert not outcomes.loc[missed.household_id, "flagged"]
    assert outcomes.loc[missed.household_id, "y_true"]
    assert (missed.records["linked_to"] != HOUSEHOLD).any()

    for case in cases.values():
        assert explain(case).startswith(f"The {case.family['surname']} family")
        assert len(case.shown_records) <= 20
        assert case.n_records_hidden == max(len(case.records) - 20, 0)
        in_target = bool(outcomes.loc[case.household_id, "y_true"])
        assert in_target == (case.category.error == "false_negative")
        assert case.family["in_target"] == in_target


def test_threshold_curves_agree_with_the_audit_at_the_cut(report_run):
    """For a threshold rule, the curves at the cut are exactly the audit's rates."""
    rule = report_run.scenario.model.flag_rule()
    assert rule.threshold is not None
    cut = actual_cut(report_run.council.flags, rule)
    outcomes = report_run.audit.outcomes
    curves = threshold_curves(outcomes, "imd_quintile", cuts=np.array([cut]))
    by_group = report_run.audit.metrics.by_group
    audit = by_group[by_group["group"] == "imd_quintile"].set_index("value")
    for _, row in curves.iterrows():
        np.testing.assert_allclose(row["fpr"], audit.loc[row["value"], "fpr"])
        np.testing.assert_allclose(row["tpr"], audit.loc[row["value"], "tpr"])
    overall = threshold_curves(outcomes, None, cuts=np.array([cut])).iloc[0]
    o = report_run.audit.metrics.overall.iloc[0]
    np.testing.assert_allclose([overall["fpr"], overall["tpr"]], [o["fpr"], o["tpr"]])


def test_threshold_curves_match_counting_at_each_cut(seed):
    rng = np.random.default_rng(seed)
    n = 3_000
    score = np.round(rng.random(n) * 20) / 4
    score[rng.random(n) < 0.05] = np.nan  # nobody on the spine
    outcomes = pd.DataFrame(
        {
            "score": score,
            "y_true": rng.random(n) < 0.3,
            "group": rng.choice(["a", "b", "c"], n),
        }
    )
    curves = threshold_curves(outcomes, "group")
    for _, row in curves.sample(40, random_state=seed).iterrows():
        g = outcomes[outcomes["group"] == row["value"]]
        flagged = g["score"].to_numpy() >= row["threshold"]  # NaN: never flagged
        y = g["y_true"].to_numpy()
        assert row["fpr"] == pytest.approx((flagged & ~y).sum() / (~y).sum())
        assert row["tpr"] == pytest.approx((flagged & y).sum() / y.sum())
    falling = curves.groupby("value")["fpr"].apply(lambda s: s.is_monotonic_decreasing)
    assert falling.all()


def random_scores(rng: np.random.Generator, n: int, groups: str) -> pd.DataFrame:
    """Outcomes with tied scores, families off the spine, and a group column."""
    score = np.round(rng.random(n) * 20) / 4
    score[rng.random(n) < 0.05] = np.nan  # nobody on the spine
    return pd.DataFrame(
        {
            "score": score,
            "y_true": rng.random(n) < 0.3,
            "group": rng.choice(list(groups), n),
        }
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=4),
)
def test_pooled_curves_are_the_curves_of_every_worlds_families(seed, sizes):
    """Pooled over worlds, the rates are those of all their families together (the
    counts summed), between the smallest and the largest world's own rate; a
    group missing from a world (here "c" may be) is NaN there, not 0."""
    rng = np.random.default_rng(seed)
    worlds = [random_scores(rng, n, "abc" if i else "ab") for i, n in enumerate(sizes)]
    pooled = pooled_threshold_curves(worlds, "group")
    together = pd.concat(worlds, ignore_index=True)
    grid = thresholds(together["score"].to_numpy())
    alone = threshold_curves(together, "group", cuts=grid)
    assert (pooled["worlds"] == len(worlds)).all()
    pd.testing.assert_frame_equal(pooled[alone.columns], alone)
    for metric in ("fpr", "tpr"):
        ok = pooled[pooled[metric].notna()]
        assert (ok[f"{metric}_low"] <= ok[metric] + 1e-12).all()
        assert (ok[metric] <= ok[f"{metric}_high"] + 1e-12).all()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300))
def test_one_world_pools_to_its_own_curves(seed, n):
    world = random_scores(np.random.default_rng(seed), n, "ab")
    pooled = pooled_threshold_curves([world], "group")
    own = threshold_curves(world, "group")
    pd.testing.assert_frame_equal(pooled[own.columns], own)
    for metric in ("fpr", "tpr"):
        for end in ("low", "high"):
            np.testing.assert_array_equal(pooled[f"{metric}_{end}"], own[metric])


def test_each_world_at_its_own_cut():
    """Cuts given per world pool each world's families at its own cut."""
    a = pd.DataFrame({"score": [1.0, 2.0], "y_true": [False, False]})
    b = pd.DataFrame({"score": [1.0, 2.0, 3.0], "y_true": [False, False, False]})
    at = pooled_threshold_curves([a, b], None, cuts=[np.array([2.0]), np.array([1.0])])
    assert at[["threshold", "fpr", "fpr_low", "fpr_high"]].values.tolist() == [
        [2.0, 4 / 5, 0.5, 1.0]
    ]


def test_actual_cut_of_a_top_percent_rule():
    flags = pd.DataFrame(
        {"score": [0.9, 0.5, 0.5, 0.1], "flagged": [True, True, False, False]}
    )
    assert actual_cut(flags, FlagRule(top_percent=50)) == 0.5
    assert np.isnan(actual_cut(flags.assign(flagged=False), FlagRule(budget=0)))


@pytest.mark.parametrize("reference_fp", [0, 1])
def test_headline_with_an_unstable_ratio_is_kept(
    report_data, monkeypatch, reference_fp
):
    """No (or one) wrong flag in the reference: rates and difference lead, the
    ratio is said to be unstable, and the sentence is never dropped."""
    from audits.headline import headline
    from audits.report.sections import flags as section
    from audits.result import run_audit
    from simulator.schema.audit import AuditConfig
    from tests.audits.audittools import outcomes_from_counts

    counts = {1: (50, 169, 20, 831), 5: (10, reference_fp, 5, 500 - reference_fp)}
    config = AuditConfig(
        group_columns=("imd_quintile",), intersections=(), n_boot=50, min_group_size=0
    )
    audit = run_audit(outcomes_from_counts(counts, "imd_quintile"), config, seed=0)
    text = section._deprivation_sentence(report_data, headline([audit]))
    assert "16.9%" in text and "difference of" in text
    if reference_fp:
        assert "unstable and not to be quoted" in text
    else:
        assert "There is no ratio: the ratio is undefined" in text
    nothing = {"spec": None, "comparison": None}
    monkeypatch.setattr(section, "headline_block", lambda audit: nothing)
    assert section._headline_sentence(report_data) == ""
