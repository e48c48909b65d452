"""Linkage accuracy against the truth on generated data (issue #3's "how well")."""

from __future__ import annotations

import pandas as pd
import pytest
from linktools import METHODS

from audits.link_quality import link_quality


@pytest.mark.parametrize("method", METHODS)
def test_zero_inaccuracy_links_almost_perfectly(clean_data, links_of, method):
    q = link_quality(links_of(clean_data, method), clean_data.sources, clean_data.spine)
    o = q.overall.iloc[0]
    assert o["n_linkable"] > 10_000
    assert o["precision"] >= 0.999, q.by_source
    assert o["recall"] >= 0.999, q.by_source
    if method == "oracle":
        assert o["precision"] == 1.0 and o["recall"] == 1.0


def test_oracle_is_exact_with_errors(messy_data, links_of):
    q = link_quality(
        links_of(messy_data, "oracle"), messy_data.sources, messy_data.spine
    )
    o = q.overall.iloc[0]
    # The true links reach the person each event concerns...
    assert (o["subject_precision"], o["n_wrong_subject"]) == (1, 0)
    # ...which for a wrong-person record is not the identity it carries: by the
    # linker's measure, those (and only those) are false links.
    false = q.records[q.records["false_link"]]
    assert len(false) == o["n_false"] > 0
    assert (false["true_person_id"] != false["true_identity_person_id"]).all()
    # Records of people absent from the spine stay unlinked.
    assert o["n_linked"] < o["n_records"]


def test_default_errors_make_both_methods_err_and_splink_wins(messy_data, links_of):
    f1 = {}
    for method in ("deterministic", "splink"):
        q = link_quality(
            links_of(messy_data, method), messy_data.sources, messy_data.spine
        )
        o = q.overall.iloc[0]
        # Errors cost something: neither method is perfect on messy data.
        assert o["n_false"] > 0 and o["n_missed"] > 0
        assert 0.95 < o["precision"] < 1 and 0.9 < o["recall"] < 1
        f1[method] = o["f1"]
    assert f1["splink"] > f1["deterministic"], f1


def test_false_and_missed_links_keep_their_causes(messy_data, links_of):
    q = link_quality(
        links_of(messy_data, "deterministic"), messy_data.sources, messy_data.spine
    )
    errs = q.errors
    assert (
        len(errs)
        == q.overall.iloc[0]["n_false"]
        + (q.records["missed"] & ~q.records["false_link"]).sum()
    )
    explained = (
        (errs["record_causes"] != "")
        | (errs["true_spine_causes"] != "")
        | (errs["linked_spine_causes"] != "")
    )
    # Almost every failure has a recorded error behind it; the rest are true
    # ambiguities (e.g. two people with the same name and date of birth).
    assert explained.mean() > 0.9


def test_wrong_person_records_are_data_errors_not_false_links(messy_data, links_of):
    q = link_quality(
        links_of(messy_data, "deterministic"), messy_data.sources, messy_data.spine
    )
    wrong_person = pd.concat(
        [
            f[["record_id", "err_wrong_person"]].assign(source=name)
            for name, f in messy_data.sources.items()
        ]
    )
    rec = q.records.merge(wrong_person, on=["source", "record_id"], validate="1:1")
    # Linked to the member whose identity it carries: right identity, wrong person.
    assert rec["wrong_subject"].sum() > 0
    assert (rec["err_wrong_person"] | ~rec["wrong_subject"]).all()
    linked_wp = rec[rec["err_wrong_person"] & rec["linked"]]
    assert linked_wp["wrong_subject"].mean() > 0.8
    assert not linked_wp["false_link"][linked_wp["wrong_subject"]].any()
    o = q.overall.iloc[0]
    assert o["n_wrong_subject"] == rec["wrong_subject"].sum()
    assert o["subject_precision"] < o["precision"]
