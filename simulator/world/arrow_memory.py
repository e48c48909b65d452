"""Where generation's Arrow buffers are allocated: glibc malloc, not mimalloc.

The helper lives in :mod:`simulator.frames` (every layer's: linkage from files uses
it too, and the council may not import the world); generation's modules import it
from here.
"""

from __future__ import annotations

from simulator.frames import system_arrow_memory

__all__ = ["system_arrow_memory"]
