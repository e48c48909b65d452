"""Small pandas helpers shared by every layer: the string dtype and the council's view.

Kept apart from :mod:`simulator.vocabulary`, which stays free of pandas so the schema
can import it cheaply.
"""

from __future__ import annotations

import pandas as pd

from simulator.vocabulary import is_hidden

STRING = pd.StringDtype("pyarrow")
"""The dtype of every text column the stages write (Arrow-backed strings)."""


def council_view(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without hidden truth columns: what the council actually holds.

    Used by the world before handing records over and by the council on what it is
    given, so neither side depends on the other.
    """
    return frame.drop(columns=[c for c in frame.columns if is_hidden(c)])
