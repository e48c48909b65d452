"""The closest of some names to a misspelt one: "did you mean" for every check.

Kept apart from :mod:`~simulator.schema.suggest` (which walks the whole scenario
schema) so that a section's own validators can suggest names without importing the
root scenario.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence


def closest(word: str, names: Sequence[str]) -> str | None:
    """The name most like ``word``, if one is close enough to be a likely misspelling.

    Examples
    --------
    >>> closest("n_househods", ["n_households", "households_per_area"])
    'n_households'
    >>> closest("colour", ["n_households"]) is None
    True
    """
    found = difflib.get_close_matches(word, names, n=1)
    return found[0] if found else None


def did_you_mean(word: str, names: Sequence[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest name, or ``""``."""
    best = closest(word, names)
    return "" if best is None else f"; did you mean {best!r}?"
