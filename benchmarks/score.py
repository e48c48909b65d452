"""Scoring: every built-in model scores a synthetic view and applies its flag rule.

The view has the real column names (``simulator.council.view.feature_columns``) and
random
values shaped like a linked view (mostly zero event counts, small families, deciles
1-10), so no population needs to be generated. Learned models are first fitted on a
100,000-household sample (not timed); each model's time is ``score`` plus
``apply_flag_rule`` on the whole view. Target: at most 10 s per model for 1,000,000
households.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from benchmarks import peak_rss_bytes

FIT_SAMPLE = 100_000


def synthetic_view(households: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A view-shaped frame of ``households`` rows and a label that depends on it."""
    from simulator.council.view import (
        AREA_COLUMNS,
        COMPOSITION_COLUMNS,
        EDUCATION_COLUMNS,
        INDEX,
        SUMMARY_COLUMNS,
        ViewConfig,
        event_column,
        feature_columns,
    )

    rng = np.random.default_rng(seed)
    config = ViewConfig()
    n = households
    data: dict[str, np.ndarray] = {}
    for event in config.events:
        data[event_column(event)] = rng.poisson(rng.uniform(0.005, 0.08), n)
    pupils = rng.binomial(3, 0.4, n)
    data["education_pupils"] = pupils
    data["education_persistent_absence"] = rng.binomial(pupils, 0.08)
    data["education_max_absence_rate"] = np.where(pupils > 0, rng.beta(2, 40, n), 0.0)
    events = np.column_stack([data[event_column(e)] for e in config.events])
    data["n_events"] = events.sum(axis=1) + data["education_persistent_absence"]
    data["n_agencies"] = np.minimum((events > 0).sum(axis=1), 5)
    adults = rng.choice([1, 2], n, p=[0.25, 0.75])
    children = 1 + rng.binomial(3, 0.25, n)
    data |= {
        "n_members": adults + children,
        "n_adults": adults,
        "n_children": children,
        "n_school_age": np.minimum(children, pupils),
        "n_age_unknown": rng.binomial(1, 0.01, n),
        "lone_adult": adults == 1,
    }
    data["imd_decile"] = rng.integers(1, 11, n).astype(np.float64)
    data["imd_unknown"] = rng.random(n) < 0.01
    columns = feature_columns(config)
    assert set(columns) == set(data), "benchmark view out of date with the view"
    assert len(columns) == len(config.events) + len(EDUCATION_COLUMNS) + len(
        SUMMARY_COLUMNS
    ) + len(COMPOSITION_COLUMNS) + len(AREA_COLUMNS)
    view = pd.DataFrame(
        {c: data[c] for c in columns},
        index=pd.Index(np.arange(n, dtype=np.int64), name=INDEX),
    )
    logit = -4.0 + 0.4 * data["n_events"] + 0.5 * data["lone_adult"]
    labels = pd.Series(rng.random(n) < 1 / (1 + np.exp(-logit)), index=view.index)
    return view, labels


def run(households: int = 1_000_000) -> dict:
    """Time ``score`` + ``apply_flag_rule`` of every built-in model."""
    from simulator.council.models import (
        CriteriaConfig,
        LearnedConfig,
        ScorecardConfig,
        apply_flag_rule,
        make_model,
    )

    view, labels = synthetic_view(households)
    sample = view.sample(n=min(FIT_SAMPLE, households), random_state=0).sort_index()
    configs = {
        "criteria": CriteriaConfig(),
        "scorecard": ScorecardConfig(),
        "logistic_regression": LearnedConfig(estimator="logistic_regression"),
        "gradient_boosting": LearnedConfig(estimator="gradient_boosting"),
    }
    out: dict = {"households": households, "features": len(view.columns)}
    for name, config in configs.items():
        model = make_model(config, random_state=0)
        start = time.perf_counter()
        model.fit(sample, labels.loc[sample.index])
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        scores = model.score(view)
        score_s = time.perf_counter() - start
        start = time.perf_counter()
        flags = apply_flag_rule(scores, config.flag_rule())
        flag_s = time.perf_counter() - start
        out[f"{name}_s"] = score_s + flag_s
        out[f"{name}_score_s"] = score_s
        out[f"{name}_flag_s"] = flag_s
        out[f"{name}_fit_s"] = fit_s
        out[f"{name}_flagged"] = int(flags.sum())
    out["max_model_s"] = max(out[f"{name}_s"] for name in configs)
    out["peak_rss_bytes"] = peak_rss_bytes()
    return out


if __name__ == "__main__":
    import json
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(json.dumps(run(n), indent=2))
