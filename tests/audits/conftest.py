"""Fixtures of the audit tests: one random outcomes table and its audit, made once."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from audittools import random_outcomes

from audits.errors import AuditWarning
from audits.result import AuditResult, run_audit
from simulator.schema.audit import AuditConfig

N_BOOT = 200


@pytest.fixture(scope="session")
def outcomes(seed: int) -> pd.DataFrame:
    return random_outcomes(20_000, seed)


@pytest.fixture(scope="session")
def config() -> AuditConfig:
    return AuditConfig(n_boot=N_BOOT, min_group_size=0)


@pytest.fixture(scope="session")
def result(outcomes: pd.DataFrame, config: AuditConfig, seed: int) -> AuditResult:
    with warnings.catch_warnings():
        warnings.simplefilter("error", AuditWarning)
        return run_audit(
            outcomes, config, seed=seed, scenario={"name": "test", "seed": seed}
        )
