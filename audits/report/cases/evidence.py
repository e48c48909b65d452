"""The joins behind case files: where a family's flag came from, and its records.

Everything is computed with joins over the few households considered; nothing loops
over households or records. Tables hold codes and values, never words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.report.inputs import ReportInputs
from audits.run_tables import FLAGS, LINKS, SPINE, source_table
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
REGISTER_IDS = (
    "spine_person_id",
    "spine_household_id",
    "true_person_id",
    "true_household_id",
)
"""The ids of a register entry that case files read (with its ``err_*``)."""


def reach(inputs: ReportInputs, households: np.ndarray) -> pd.DataFrame:
    """(household_id, spine_household_id) pairs with the spine household's flag."""
    tables = inputs.tables
    pairs = (
        tables.rows(
            SPINE,
            {"true_household_id": households},
            ["true_household_id", "spine_household_id"],
        )
        .drop_duplicates()
        .rename(columns={"true_household_id": "household_id"})
    )
    cols = ["spine_household_id", "score", "flagged"] + [
        c for c in DRIVERS if c in tables.columns(FLAGS)
    ]
    flags = tables.rows(
        FLAGS, {"spine_household_id": pairs["spine_household_id"].unique()}, cols
    )
    return pairs.merge(flags, on="spine_household_id", how="left").assign(
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
    tables = inputs.tables
    view = inputs.scenario.view
    events = set(view.events)
    reference = np.datetime64(inputs.scenario.time.reference_date, "s")
    parts = []
    links = tables.rows(
        LINKS, {"spine_household_id": spine_households}, ["source", "record_id"]
    )
    for source in tables.sources:  # a handful of sources
        linked_ids = links.loc[links["source"].eq(source).to_numpy(), "record_id"]
        columns = tables.columns(source_table(source))
        keep = [c for c in RECORD_COLUMNS if c in columns] + [
            c for c in columns if c.startswith("err_") or c == "absence_rate"
        ]
        rows = tables.rows(
            source_table(source),
            {"record_id": linked_ids, "true_household_id": households},
            keep,
        )
        if rows.empty:
            continue
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
    theirs = tables.rows(LINKS, {"record_id": records["record_id"]}, link_cols)
    records = records.merge(
        theirs.astype({"source": str}), on=["source", "record_id"], how="left"
    )
    person = tables.rows(
        SPINE,
        {"spine_person_id": records["spine_person_id"]},
        ["spine_person_id", "true_person_id"],
    ).set_index("spine_person_id")["true_person_id"]
    linked_person = records["spine_person_id"].map(person)
    records["linked_true_person"] = linked_person.astype("Int64")
    return records


def register_entries(
    inputs: ReportInputs, spine_households: np.ndarray
) -> pd.DataFrame:
    """Register entries of the given spine households, with their ``error_codes``."""
    ids = list(REGISTER_IDS)
    errors = [c for c in inputs.tables.columns(SPINE) if c.startswith("err_")]
    rows = inputs.tables.rows(
        SPINE, {"spine_household_id": spine_households}, ids + errors
    )
    out = rows[ids].copy()
    out["error_codes"] = error_codes(rows)
    return out
