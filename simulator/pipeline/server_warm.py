"""Imported last by the workers' fork server: what every run needs first, made once.

The name pools (:func:`simulator.world.identity.name_vocabulary`: Faker's locale
lists read, weighted and merged, about 0.15 s of CPU), which each worker's first
run would otherwise make for itself. They are pure data, made with one thread; a
worker forked after this shares them with the server until it writes.

Then the garbage collector, off while the server imported
(:mod:`simulator.pipeline.server_env`), is turned back on with everything made so
far frozen (:func:`gc.freeze`): the workers' collections skip those objects, so they
do not write to (and copy) the pages they share with the server. The imports' few
cyclic leftovers (about 1 MB) stay uncollected.
"""

from __future__ import annotations

import gc

from simulator.world.identity import name_vocabulary

name_vocabulary()
gc.freeze()
gc.enable()
