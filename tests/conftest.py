"""Shared test fixtures: the global test seed and a binomial-tolerance checker.

``seed`` is 42 unless the environment variable ``LINKAUDIT_TEST_SEED`` is set (like
scikit-learn's ``global_random_seed``), so a nightly job can sweep seeds:

    for s in $(seq 0 19); do LINKAUDIT_TEST_SEED=$s pytest tests/simulator -q; done

Statistical assertions use :class:`FuzzyChecker`: an observed proportion passes when it
lies within ``sigmas`` standard errors of its target (plus a small slack for
approximations in the model), in the spirit of pseudopeople's ``fuzzy_checker``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import settings

from tests.stubs import stub_reports

# No per-example deadline: speed is measured in benchmarks/, never in a unit test,
# and a loaded machine (two xdist workers on two cores) makes timings vary widely.
settings.register_profile("linkaudit", deadline=None)
settings.load_profile("linkaudit")

SEED_ENV = "LINKAUDIT_TEST_SEED"
DEFAULT_SEED = 42


def _seed_from_env() -> int:
    raw = os.environ.get(SEED_ENV, "").strip()
    if not raw:
        return DEFAULT_SEED
    try:
        value = int(raw)
    except ValueError:
        raise pytest.UsageError(
            f"{SEED_ENV} must be a non-negative integer, got {raw!r}"
        ) from None
    if value < 0:
        raise pytest.UsageError(
            f"{SEED_ENV} must be a non-negative integer, got {raw!r}"
        )
    return value


ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
"""BLAS and OpenMP threads of an xdist worker (of its child processes too)."""


def pytest_configure(config: pytest.Config) -> None:
    """xdist hands out files in :data:`LONGEST_FIRST`'s order (not by their number
    of tests, which put the few-test, slowest files last), and an xdist worker runs
    BLAS and OpenMP on one thread, as a pool's worker does.

    Two test processes share two cores (``make test``: ``-n 2``); with a thread per
    core each, OpenMP's and BLAS's threads spin waiting for each other (a gradient
    boosting model's 400 one-row predictions took 50 s instead of 7 s). The
    product's own workers run so (:mod:`simulator.pipeline.server_env`). Libraries
    loaded later read the environment; numpy's BLAS, loaded already, is limited now.
    """
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False  # xdist keeps LONGEST_FIRST's order
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for name, value in ONE_THREAD.items():
        os.environ.setdefault(name, value)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


LONGEST_FIRST = (
    "tests/report/test_report_from_files.py",
    "tests/pipeline/test_run_world.py",
    "tests/linkage/test_linked_files.py",
    "tests/pipeline/test_run.py",
    "tests/scenarios/test_library.py",
    "tests/pipeline/test_parallel.py",
    "tests/pipeline/test_streamed.py",
    "tests/linkage/test_council_ids.py",
    "tests/linkage/test_quality_counts.py",
    "tests/linkage/test_splink_repeats.py",
    "tests/report/test_periods_report.py",
    "tests/simulator/test_generate.py",
    "tests/report/test_pooled_report.py",
    "tests/linkage/test_truth_blind.py",
    "tests/linkage/test_oracle_files.py",
    "tests/council/test_scores_from_files.py",
    "tests/pipeline/test_stream_sizes.py",
    "tests/pipeline/test_explore.py",
    "tests/pipeline/test_periods.py",
    "tests/linkage/test_quality.py",
    "tests/audits/test_pooled_scores.py",
    "tests/simulator/test_cli_table.py",
)
"""Test files of 30 s or more (``make test`` on 3 December 2026, load 4 to 6), the
longest first: ``pytest -n 2 --dist loadfile`` hands files to the workers in this
order, the others after them in collection order, so the last files to start are
short ones and neither worker waits long for the other at the end. To refresh it,
time each file (``--durations=0`` summed by file) and list those over 30 s."""


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Put the files of :data:`LONGEST_FIRST` first, in its order (a stable sort:
    every file's tests keep their order, and the other files theirs)."""
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    last = len(LONGEST_FIRST)
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], last))


def pytest_report_header(config: pytest.Config) -> str:
    return f"linkaudit test seed: {_seed_from_env()} (set {SEED_ENV} to change)"


@pytest.fixture(scope="session")
def seed() -> int:
    """The scenario seed of every generated test dataset."""
    return _seed_from_env()


@dataclass(frozen=True)
class FuzzyChecker:
    """Binomial (and Poisson-binomial) tolerance checks for rates."""

    sigmas: float = 4.0

    def tolerance(self, p: float, n: int, slack: float = 0.0) -> float:
        """Allowed |observed - p| for a proportion over ``n`` Bernoulli(p) trials."""
        if n <= 0:
            raise ValueError("no trials: the test data has no rows in this group")
        return self.sigmas * math.sqrt(max(p * (1 - p), 0.0) / n) + slack

    def assert_proportion(
        self,
        hits: int | np.integer,
        n: int | np.integer,
        p: float,
        what: str,
        slack: float = 0.002,
    ) -> None:
        """Assert ``hits / n`` is within tolerance of the target proportion ``p``."""
        n = int(n)
        observed = int(hits) / n if n else float("nan")
        tol = self.tolerance(p, n, slack)
        assert abs(observed - p) <= tol, (
            f"{what}: observed {observed:.4f} ({int(hits)}/{n}), expected {p:.4f} "
            f"+/- {tol:.4f}"
        )

    def assert_expected_count(
        self,
        observed: float,
        expected: float,
        variance: float,
        what: str,
        slack: float = 0.0,
    ) -> None:
        """Assert a count is within tolerance of its expectation, given its variance.

        For a sum of independent Bernoulli(p_i): expected = sum p_i and variance =
        sum p_i (1 - p_i). For a sum of Poisson(lam_i): both are sum lam_i.
        """
        tol = self.sigmas * math.sqrt(variance) + slack * max(expected, 1.0)
        assert abs(observed - expected) <= tol, (
            f"{what}: observed {observed:.1f}, expected {expected:.1f} +/- {tol:.1f}"
        )


@pytest.fixture(scope="session")
def fuzzy() -> FuzzyChecker:
    """The binomial-tolerance checker (4 standard errors)."""
    return FuzzyChecker()


@pytest.fixture
def no_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands write a one-line report.html instead of drawing charts.

    For tests of a run's tables, files and console only: drawing the charts costs
    about ten CPU seconds a report and proves nothing there. The report is a
    function of the run's tables; tests/report renders it (and a re-audit's page),
    and tests/pipeline/test_run.py shows its bytes repeat.
    """
    stub_reports(monkeypatch)
