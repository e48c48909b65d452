"""The joins behind case files: where a family's flag came from, and its records.

Everything is computed with joins over the few households considered; nothing loops
over households or records. Tables hold codes and values, never words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.report.inputs import ReportInputs
from simulator.vocabulary import CARRIED_IDENTITY as CARRIED

DRIVERS = ("driver_1", "driver_2", "driver_3")
"""The flags table's columns naming the features that drove a score."""
RECORD_COLUMNS = (
    "record_id",
    "event_type",
    "event_date",
    "first_name",
    "last_name",
    "dob",
    "true_person_id",
    CARRIED,
    "true_household_id",
    "true_from_need",
    "true_need",
)
"""The columns of a source's records that case files read."""
EMPTY_COLUMNS = (
    "source",
    *RECORD_COLUMNS,
    "counted",
    "persistent_absence",
    "error_codes",
    "has_error",
    "spine_person_id",
    "spine_household_id",
    "match_key",
    "linked_true_person",
)
"""The columns of :func:`linked_records` when no record is found."""


def reach(inputs: ReportInputs, households: np.ndarray) -> pd.DataFrame:
    """(household_id, spine_household_id) pairs with the spine household's flag."""
    spine = inputs.spine
    rows = spine[spine["true_household_id"].isin(households)]
    pairs = (
        rows[["true_household_id", "spine_household_id"]]
        .drop_duplicates()
        .rename(columns={"true_household_id": "household_id"})
    )
    flags = inputs.flags
    cols = ["spine_household_id", "score", "flagged"] + [
        c for c in DRIVERS if c in flags
    ]
    return pairs.merge(flags[cols], on="spine_household_id", how="left").assign(
        flagged=lambda d: d["flagged"].fillna(False).astype(bool)
    )


def error_codes(frame: pd.DataFrame) -> pd.Series:
    """Each row's data errors: its ``err_*`` names without the prefix, "; "-joined.

    Vectorised (one matrix product), in the column order; empty where none.
    """
    err_cols = [c for c in frame.columns if c.startswith("err_")]
    if not err_cols:
        return pd.Series("", index=frame.index, dtype=object)
    names = pd.Index([c.removeprefix("err_") + "; " for c in err_cols])
    return frame[err_cols].astype(bool).dot(names).str.removesuffix("; ")


def linked_records(
    inputs: ReportInputs, spine_households: np.ndarray, households: np.ndarray
) -> pd.DataFrame:
    """Records linked to ``spine_households`` or truly about ``households``.

    One row per record with its link, whether the view counts it (an event in the
    observation window, or a persistently absent pupil), its ``error_codes``
    (:func:`error_codes`) and ``has_error``.
    """
    links = inputs.links
    view = inputs.scenario.view
    events = set(view.events)
    reference = np.datetime64(inputs.scenario.time.reference_date, "s")
    parts = []
    to_them = links["spine_household_id"].isin(spine_households).to_numpy()
    for source, frame in inputs.sources.items():  # a handful of sources
        linked_ids = links.loc[
            links["source"].eq(source).to_numpy() & to_them, "record_id"
        ]
        mask = frame["record_id"].isin(linked_ids) | frame["true_household_id"].isin(
            households
        )
        if not mask.any():
            continue
        rows = frame.loc[mask]
        keep = [c for c in RECORD_COLUMNS if c in rows] + [
            c for c in rows.columns if c.startswith("err_") or c == "absence_rate"
        ]
        rows = rows[keep].copy()
        rows.insert(0, "source", source)
        kind = source + "." + rows["event_type"].astype(str)
        dates = rows["event_date"].to_numpy("datetime64[s]")
        in_window = ~np.isnat(dates) & (dates <= reference)
        absence = (
            rows["absence_rate"].to_numpy(dtype=float, na_value=np.nan)
            if "absence_rate" in rows
            else np.full(len(rows), np.nan)
        )
        persistent = absence >= view.persistent_absence
        rows["counted"] = in_window & (kind.isin(events).to_numpy() | persistent)
        rows["persistent_absence"] = persistent
        rows["error_codes"] = error_codes(rows)
        err_cols = [c for c in rows.columns if c.startswith("err_")]
        parts.append(rows.drop(columns=err_cols + ["absence_rate"], errors="ignore"))
    if not parts:
        return pd.DataFrame(columns=EMPTY_COLUMNS)
    records = pd.concat(parts, ignore_index=True)
    records["has_error"] = records["error_codes"].ne("").to_numpy()
    link_cols = ["source", "record_id", "spine_person_id", "spine_household_id"]
    link_cols += ["match_key"]
    # Only the links of these few records are joined (every one of them is kept):
    # joining the whole links table costs as much as all the rest.
    theirs = links["record_id"].isin(records["record_id"]).to_numpy()
    records = records.merge(
        links.loc[theirs, link_cols].astype({"source": str}),
        on=["source", "record_id"],
        how="left",
    )
    spine = inputs.spine
    linked = spine["spine_person_id"].isin(records["spine_person_id"]).to_numpy()
    person = spine.loc[linked].set_index("spine_person_id")["true_person_id"]
    linked_person = records["spine_person_id"].map(person)
    records["linked_true_person"] = linked_person.astype("Int64")
    return records


def register_entries(
    inputs: ReportInputs, spine_households: np.ndarray
) -> pd.DataFrame:
    """Register entries of the given spine households, with their ``error_codes``."""
    spine = inputs.spine
    rows = spine[spine["spine_household_id"].isin(spine_households)]
    out = rows[
        ["spine_person_id", "spine_household_id", "true_person_id", "true_household_id"]
    ].copy()
    out["error_codes"] = error_codes(rows)
    return out
