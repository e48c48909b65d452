"""A run's own world streamed into its output directory (``run --stream``).

:func:`simulator.pipeline.run.run` with a directory generates the real world into
the run's output being written (:func:`simulator.pipeline.streamed.generate_world`),
so its truth, records and spine are final there; its links and ``view.parquet``
are made from those files and written beside them
(:func:`~simulator.pipeline.streamed.world_view`); its rungs of the ladder link and
view in a scratch directory of their own inside it (:func:`shared_world`), so they
never replace the run's own links or view.
:func:`simulator.pipeline.output.write_run` then writes only what is left; the
directory is the in-memory run's, byte for byte.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace

from simulator.io import link_or_copy
from simulator.pipeline.streamed import WorldFiles, scratch_directory
from simulator.world.generate import (
    AREAS_FILE,
    HOUSEHOLDS_FILE,
    PEOPLE_FILE,
    SPINE_FILE,
)

SHARED_FILES = (AREAS_FILE, HOUSEHOLDS_FILE, PEOPLE_FILE, SPINE_FILE)
"""The world's files its rungs read where they are (linked into their scratch)."""


@contextlib.contextmanager
def shared_world(world: WorldFiles) -> Iterator[WorldFiles]:
    """The same world in a scratch directory inside it, for links of its own.

    The truth and spine are hard links to the world's files (a copy where the file
    system has none), the records are read where they are: a rung linked and viewed
    there leaves the world's own links and view untouched (its links are scratch:
    :class:`~simulator.pipeline.streamed.WorldFiles`). Removed on leaving, however
    it ends.
    """
    with scratch_directory(world.directory) as scratch:
        for rel in SHARED_FILES:
            if not (world.directory / rel).exists():
                continue  # a scratch world without people (generate_world)
            link_or_copy(world.directory / rel, scratch / rel)
        yield replace(world, directory=scratch, scratch=True)
