"""What the council sees and does: linkage, the family view, models and flag rules.

Everything here works on what the council holds (records without their hidden
``true_``/``err_`` columns, and its family index); it never imports
:mod:`simulator.world`, and a contract in ``make test`` enforces it.
"""
