"""Checks that generated data reproduce published shapes (docs/methodology.md).

Each check returns the measured value and the published target, so tests, benchmarks
and reports can show both. They read the truth and the records: simulator side only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.generate import SyntheticData

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


def all_checks(data: SyntheticData) -> list[ValidityCheck]:
    """Every validity check that the generated data alone can answer."""
    return [children_in_need_per_10k(data), protection_plan_decile_ratio(data)]
