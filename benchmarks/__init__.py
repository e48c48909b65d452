"""Benchmarks, run with ``make bench`` (``python -m benchmarks.run``), never by pytest.

Each benchmark runs in a fresh subprocess so that its wall time and peak memory are
its own. :mod:`benchmarks.run` holds the registry (``BENCHMARKS``), the derived
comparisons with peers measured in the same run, and the targets; the measured code
lives in one module per stage (``benchmarks.generate``, ``benchmarks.faker_peer``).
"""

from __future__ import annotations

import resource


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
