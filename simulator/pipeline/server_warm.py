"""Imported last by the workers' fork server: what every run needs first, made once.

The name pools (:func:`simulator.world.identity.name_vocabulary`: Faker's locale
lists read, weighted and merged, about 0.15 s of CPU), which each worker's first
run would otherwise make for itself. They are pure data, made with one thread; a
worker forked after this shares them with the server until it writes.
"""

from __future__ import annotations

from simulator.world.identity import name_vocabulary

name_vocabulary()
