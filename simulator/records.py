"""The column contract shared by every record source, the spine and the linkage stage.

Every source's records (and the spine) carry the same identity columns, null where the
source does not hold a field. Hidden columns start with ``true_`` or ``err_``; the
council-side stages (linkage, view, models) must never read them: use
:func:`council_view` to drop them before handing a frame to council code.
"""

from __future__ import annotations

import pandas as pd

IDENTITY_COLUMNS = (
    "first_name",
    "last_name",
    "sex",
    "dob",
    "address",
    "postcode",
    "nhs_number",
    "ni_number",
    "upn",
)
"""Identity fields as the source recorded them (strings; ``dob`` is datetime64[s])."""

EVENT_COLUMNS = ("record_id", "source", "event_type", "event_date", "absence_rate")
"""What a source record says happened: ``absence_rate`` is set on pupil-census rows."""

SPINE_COLUMNS = ("spine_person_id", "spine_household_id")
"""The council's own ids on its family index."""

HIDDEN_PREFIXES = ("true_", "err_")

HELD_IDENTIFIERS = {
    "health": ("nhs_number",),
    "education": ("upn",),
    "police": (),
    "benefits": ("ni_number",),
    "social_care": ("nhs_number",),
    "spine": ("nhs_number", "upn", "ni_number"),
}
"""National identifiers each source holds; the others are null in its records."""


def is_hidden(column: str) -> bool:
    """True for the simulator's hidden truth columns."""
    return column.startswith(HIDDEN_PREFIXES)


def council_view(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without hidden truth columns: what the council actually holds."""
    return frame.drop(columns=[c for c in frame.columns if is_hidden(c)])
