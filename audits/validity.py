"""Checks that generated data reproduce published shapes (docs/methodology.md).

Each check returns the measured value and the published target, so tests, benchmarks
and reports can show both. They read the truth and the records: simulator side only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.link_quality import LinkQuality
from simulator.world.generate import SyntheticData

CIN_EVENTS = ("child_in_need_plan", "child_protection_plan")


@dataclass(frozen=True)
class ValidityCheck:
    """One measured statistic beside its published target range."""

    name: str
    measured: float
    low: float
    high: float
    source: str

    @property
    def passed(self) -> bool:
        """Whether the measured value lies in the target range."""
        return bool(self.low <= self.measured <= self.high)


def _children(data: SyntheticData) -> pd.DataFrame:
    people = data.people
    kids = people.loc[people["role"] == "child", ["person_id", "household_id"]]
    deciles = data.households.set_index("household_id")["imd_decile"]
    return kids.assign(imd_decile=deciles.reindex(kids["household_id"]).to_numpy())


def _children_with(data: SyntheticData, event_types: tuple[str, ...]) -> np.ndarray:
    care = data.sources["social_care"]
    rows = care["event_type"].isin(event_types) & care["true_from_need"]
    return care.loc[rows, "true_person_id"].unique()


def children_in_need_per_10k(data: SyntheticData) -> ValidityCheck:
    """Children with a child-in-need or child-protection plan, per 10,000 children."""
    kids = _children(data)
    n = np.isin(kids["person_id"], _children_with(data, CIN_EVENTS)).sum()
    return ValidityCheck(
        "children in need per 10,000 children",
        float(n / max(len(kids), 1) * 10_000),
        250.0,
        420.0,
        "DfE Children in need 2024: 332.9 per 10,000 (330-344 in 2020-2024)",
    )


def protection_plan_decile_ratio(data: SyntheticData) -> ValidityCheck:
    """Rate of child protection plans, most vs least deprived decile of areas."""
    kids = _children(data)
    on_plan = np.isin(
        kids["person_id"], _children_with(data, ("child_protection_plan",))
    )
    rate = pd.Series(on_plan).groupby(kids["imd_decile"].to_numpy()).mean()
    ratio = (
        rate.get(1, np.nan) / rate.get(10, np.nan) if rate.get(10, 0) > 0 else np.inf
    )
    return ValidityCheck(
        "child protection plans, decile 1 / decile 10",
        float(ratio),
        7.0,
        20.0,
        "Child Welfare Inequalities Project (2017): >10x for care or protection plans; "
        "CPP rate 12x",
    )


def linkage_miss_ratios(quality: LinkQuality) -> list[ValidityCheck]:
    """Check 3: missed links are commoner for deprived and ethnic-minority families.

    Each check is the ratio of missed-link rates (1 - recall) of a group to its
    comparison group; above 1 means the group is missed more often.
    """
    g = quality.by_group.assign(missed=lambda t: 1.0 - t["recall"].astype(float))
    missed = g.set_index(["group", "value"])["missed"]
    out = []
    source = (
        "Libuy et al. 2021 (NPD-HES), Hagger-Johnson et al. 2017 (HES), ONS Census "
        "2021-PDS: ethnic-minority and deprived people linked less often"
    )
    if ("imd_quintile", "1") in missed and ("imd_quintile", "5") in missed:
        out.append(
            ValidityCheck(
                "missed-link rate, IMD quintile 1 / quintile 5",
                float(missed["imd_quintile", "1"] / missed["imd_quintile", "5"]),
                1.0,
                5.0,
                source,
            )
        )
    eth = missed.get("ethnicity")
    if eth is not None and "white" in eth:
        minority = eth.drop("white")
        counts = g[g["group"] == "ethnicity"].set_index("value")
        weights = counts.loc[minority.index, "n_linkable"].astype(float)
        pooled = float((minority * weights).sum() / weights.sum())
        out.append(
            ValidityCheck(
                "missed-link rate, ethnic minorities / white",
                pooled / float(eth["white"]),
                1.0,
                5.0,
                source,
            )
        )
    return out


PROFILE = {
    "lone_parent": ("lone parent", 0.49, 0.16),
    "three_or_more_children": ("3+ children", 0.40, 0.16),
    "social_rent": ("social housing", 0.70, 0.18),
}
"""Family types over-represented among families in the programme (phase 1 at entry,
and nationally), from DCLG, *Understanding Troubled Families* (2014), as quoted."""


def flagged_profile(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Check 4: the share of each problem and family type among flagged families.

    Parameters
    ----------
    outcomes : DataFrame
        One row per true household (:func:`audits.outcomes.household_outcomes`).

    Returns
    -------
    DataFrame
        One row per characteristic: ``share_flagged``, ``share_all`` and their
        ``ratio``, with the published shares at programme entry and nationally where
        known (``published_flagged``, ``published_all``).
    """
    flags = outcomes["flagged"].to_numpy(bool)
    traits = {
        c.removeprefix("need_"): outcomes[c].to_numpy(bool)
        for c in outcomes.columns
        if c.startswith("need_")
    }
    traits["lone_parent"] = outcomes["lone_parent"].to_numpy(bool)
    traits["three_or_more_children"] = outcomes["n_children"].to_numpy() >= 3
    traits["social_rent"] = (outcomes["tenure"].astype(str) == "social_rent").to_numpy()
    published_flagged = {
        "education": 0.82,
        "health": 0.71,
        "worklessness": 0.74,
        "crime_asb": 0.54,
        "children_in_need": 0.35,
        "domestic_abuse": 0.29,
    } | {k: v[1] for k, v in PROFILE.items()}
    published_all = {"worklessness": 0.17, "domestic_abuse": 0.07} | {
        k: v[2] for k, v in PROFILE.items()
    }
    rows = []
    for name, mask in traits.items():  # a dozen characteristics, not rows
        flagged_share = float(mask[flags].mean()) if flags.any() else np.nan
        all_share = float(mask.mean())
        rows.append(
            {
                "characteristic": name,
                "share_flagged": flagged_share,
                "share_all": all_share,
                "ratio": flagged_share / all_share if all_share else np.nan,
                "published_flagged": published_flagged.get(name, np.nan),
                "published_all": published_all.get(name, np.nan),
            }
        )
    return pd.DataFrame(rows)


def profile_checks(outcomes: pd.DataFrame) -> list[ValidityCheck]:
    """Check 4 as pass/fail: family types over-represented among flagged families.

    Lone parents, large families and social renters were over-represented among
    families in the programme; each check is the ratio of shares (flagged / all).
    """
    profile = flagged_profile(outcomes).set_index("characteristic")
    return [
        ValidityCheck(
            f"{label} among flagged / among all families",
            float(profile.loc[key, "ratio"]),
            1.0,
            10.0,
            f"DCLG Understanding Troubled Families (2014): {entry:.0%} at entry vs "
            f"{national:.0%} nationally",
        )
        for key, (label, entry, national) in PROFILE.items()
    ]


def all_checks(data: SyntheticData) -> list[ValidityCheck]:
    """Every validity check that the generated data alone can answer."""
    return [children_in_need_per_10k(data), protection_plan_decile_ratio(data)]
