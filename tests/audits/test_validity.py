"""The validity checks on hand-built frames (their values on large runs are in
benchmarks/validity.py and docs/methodology.md section 4)."""

from __future__ import annotations

import pandas as pd
import pytest

from audits.link_quality import LinkQuality
from audits.validity import flagged_profile, linkage_miss_ratios, profile_checks


def quality(rows: list[tuple[str, str, float, int]]) -> LinkQuality:
    by_group = pd.DataFrame(rows, columns=["group", "value", "recall", "n_linkable"])
    empty = pd.DataFrame()
    return LinkQuality(empty, empty, empty, by_group, empty, empty)


def test_missed_link_ratios_by_hand():
    q = quality(
        [
            ("imd_quintile", "1", 0.96, 100),
            ("imd_quintile", "5", 0.98, 100),
            ("ethnicity", "white", 0.99, 800),
            ("ethnicity", "asian", 0.97, 100),
            ("ethnicity", "black", 0.95, 300),
        ]
    )
    deprivation, ethnicity = linkage_miss_ratios(q)
    assert deprivation.measured == pytest.approx(0.04 / 0.02)
    # Minorities pooled by linkable records: (0.03 * 100 + 0.05 * 300) / 400.
    assert ethnicity.measured == pytest.approx(0.045 / 0.01)
    assert deprivation.passed and ethnicity.passed


def test_flagged_profile_by_hand():
    outcomes = pd.DataFrame(
        {
            "flagged": [True, True, False, False],
            "need_health": [True, False, False, False],
            "lone_parent": [True, True, False, True],
            "n_children": [3, 1, 1, 4],
            "tenure": ["social_rent", "owner", "owner", "owner"],
        }
    )
    p = flagged_profile(outcomes).set_index("characteristic")
    assert p.loc["health", "share_flagged"] == 0.5
    assert p.loc["health", "share_all"] == 0.25
    assert p.loc["lone_parent", "ratio"] == pytest.approx(1.0 / 0.75)
    assert p.loc["three_or_more_children", "ratio"] == pytest.approx(0.5 / 0.5)
    assert p.loc["social_rent", "published_flagged"] == 0.70
    checks = {c.name.split(" among")[0]: c for c in profile_checks(outcomes)}
    assert checks["social housing"].measured == pytest.approx(0.5 / 0.25)
    assert checks["lone parent"].passed
