"""Helpers of the audit tests: outcome frames built from counts or drawn at random."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

ETHNICITIES = ["white", "asian", "black", "mixed", "other"]
TENURES = ["owner", "private_rent", "social_rent"]


def outcomes_from_counts(
    counts: Mapping[object, Sequence[int]], column: str = "group"
) -> pd.DataFrame:
    """Household rows whose confusion counts per group are exactly ``counts``.

    ``counts`` maps a group value to (TP, FP, FN, TN).
    """
    parts = []
    for value, (tp, fp, fn, tn) in counts.items():
        y_true = [True] * tp + [False] * fp + [True] * fn + [False] * tn
        flagged = [True] * (tp + fp) + [False] * (fn + tn)
        parts.append(
            pd.DataFrame(
                {column: [value] * len(y_true), "y_true": y_true, "flagged": flagged}
            )
        )
    return pd.concat(parts, ignore_index=True)


def random_outcomes(n: int, seed: int) -> pd.DataFrame:
    """An outcomes table with a deprivation gradient in need and in false flags."""
    rng = np.random.default_rng(seed)
    quintile = rng.integers(1, 6, n).astype(np.int8)
    ethnicity = pd.Categorical.from_codes(
        rng.choice(5, n, p=[0.8, 0.1, 0.05, 0.03, 0.02]), categories=ETHNICITIES
    )
    tenure = pd.Categorical.from_codes(rng.integers(0, 3, n), categories=TENURES)
    y_true = rng.random(n) < 0.05 + 0.03 * (5 - quintile)
    flagged = np.where(
        y_true, rng.random(n) < 0.6, rng.random(n) < 0.02 * (6 - quintile)
    )
    return pd.DataFrame(
        {
            "household_id": np.arange(n, dtype=np.int64),
            "imd_quintile": quintile,
            "ethnicity": ethnicity,
            "tenure": tenure,
            "lone_parent": rng.random(n) < 0.25,
            "y_true": y_true,
            "flagged": flagged,
        }
    )
