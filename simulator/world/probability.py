"""Small numeric helpers: logits, deprivation gradients and intercept calibration."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

__all__ = ["affluence", "calibrate_intercept", "expit", "gradient", "logit"]


def affluence(decile: np.ndarray | int) -> np.ndarray:
    """Position from most (0.0, decile 1) to least deprived (1.0, decile 10)."""
    return (np.asarray(decile, dtype=float) - 1.0) / 9.0


def gradient(decile: np.ndarray | int, ratio: float) -> np.ndarray:
    """Log-linear factor: 1 in decile 1, ``ratio`` in decile 10."""
    return np.exp(np.log(ratio) * affluence(decile))


def calibrate_intercept(
    target: float, offsets: np.ndarray, weights: np.ndarray
) -> float:
    """Intercept ``a`` with ``mean(expit(a + offsets), weights) == target``.

    Used to hit a published prevalence exactly on the expected population mix (never
    on a sample), so calibration does not depend on chunks or seeds.
    """
    if not 0.0 < target < 1.0:
        return -np.inf if target <= 0.0 else np.inf
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    lo, hi = -40.0, 40.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if float(w @ expit(mid + offsets)) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
