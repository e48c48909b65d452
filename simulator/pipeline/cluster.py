"""A Dask cluster for a grid of runs (``--cluster ADDRESS``), connected clearly.

Dask is an optional extra (``pip install 'linkaudit[cluster]'``); docs/scale.md says
when a cluster helps and how to start one. :class:`simulator.pipeline.parallel.Pool`
submits its tasks to the client returned here.
"""

from __future__ import annotations

from typing import Any

from simulator.errors import LinkauditError


class ClusterError(LinkauditError, RuntimeError):
    """A Dask cluster cannot be used (Dask missing, scheduler unreachable)."""


CONNECT_TIMEOUT_S = 10
"""Seconds to wait for the scheduler before giving up."""


def connect(address: Any) -> Any:
    """A ``dask.distributed.Client`` of the scheduler at ``address``.

    ``address`` is a scheduler address (``tcp://host:8786``) or, for tests, a
    cluster object (``LocalCluster``).

    Raises
    ------
    ClusterError
        If Dask is not installed, or the scheduler cannot be reached in
        :data:`CONNECT_TIMEOUT_S` seconds.
    """
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError(
            f"--cluster {address}: Dask is not installed; install it with "
            "pip install 'linkaudit[cluster]' (or run without --cluster)"
        ) from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        reason = (str(e).splitlines() or [type(e).__name__])[0]
        raise ClusterError(
            f"--cluster {address}: cannot reach the Dask scheduler ({reason}); "
            "check the address, or start one with `dask scheduler` (docs/scale.md)"
        ) from None
