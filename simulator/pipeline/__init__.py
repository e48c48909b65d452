"""Running scenarios: the stages of one run, its outputs on disk, and sweeps.

No command-line parsing here: :mod:`simulator.cli` turns arguments into calls.
"""
