"""Linkage quality differs by group when error rates differ by group."""

from __future__ import annotations

import math

import pytest
from linktools import scenario

from audits.link_quality import link_quality
from simulator.council.linkage import LinkageConfig, link
from simulator.world.generate import generate

NAME_AND_DATE_ERRORS = [
    "name_typo",
    "transliteration",
    "name_phonetic",
    "nickname",
    "dob_digit",
    "nhs_missing",
    "ni_missing",
    "upn_missing",
]


def recall_by_ethnicity(multipliers: list[dict], seed: int):
    s = scenario(6_000, seed, error_multipliers=multipliers)
    data = generate(s)
    links = link(
        data.sources, data.spine, LinkageConfig(method="deterministic"), seed=1
    )
    q = link_quality(links, data.sources, data.spine, data.households)
    g = q.by_group[q.by_group["group"] == "ethnicity"].set_index("value")
    return g


def z_gap(g, a: str, b: str) -> float:
    """Two-proportion z statistic of recall(a) - recall(b)."""
    ra, rb = g.loc[a, "recall"], g.loc[b, "recall"]
    na, nb = g.loc[a, "n_linkable"], g.loc[b, "n_linkable"]
    p = (g.loc[a, "n_correct"] + g.loc[b, "n_correct"]) / (na + nb)
    se = math.sqrt(p * (1 - p) * (1 / na + 1 / nb))
    return (ra - rb) / se


@pytest.mark.parametrize("group", ["asian", "black"])
def test_more_errors_for_a_group_means_lower_recall_for_it(seed, group):
    heavy = [
        {
            "column": "ethnicity",
            "value": group,
            "factor": 6.0,
            "errors": NAME_AND_DATE_ERRORS,
        }
    ]
    with_gap = recall_by_ethnicity(heavy, seed)
    without = recall_by_ethnicity([], seed)
    assert z_gap(with_gap, "white", group) > 3, with_gap
    gap_with = with_gap.loc["white", "recall"] - with_gap.loc[group, "recall"]
    gap_without = without.loc["white", "recall"] - without.loc[group, "recall"]
    assert gap_with > gap_without
    # The gap comes from more of that group's records being missed.
    assert with_gap.loc[group, "n_missed"] > without.loc[group, "n_missed"]
