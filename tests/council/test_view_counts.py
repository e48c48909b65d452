"""Records summed per household from files (:mod:`simulator.council.view_counts`).

:class:`~simulator.council.view_counts.RecordCounts` must give what the view in
memory counts of the same linked records (``_event_counts`` and ``_education`` of
:mod:`simulator.council.view`) whatever the records: types counted or not, dates
in and out of the window (to the microsecond, or missing), absence rates missing,
infinite or negative, records linked to no household, households numbered with
gaps, any batch size; and refuse households off the spine with the same message.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.council import view, view_partitions, view_records
from simulator.council.view_counts import RecordCounts
from simulator.council.view_partitions import NO_HOUSEHOLD, HouseholdTables
from simulator.council.view_records import (
    CountedBatch,
    CountedFile,
    CountedRecords,
    read_counted,
)
from simulator.errors import InputDataError
from simulator.schema.view import ViewConfig
from simulator.vocabulary import INDEX

REFERENCE = dt.date(2024, 3, 31)
CONFIG = ViewConfig(persistent_absence=0.1)
SOURCES = ("education", "health", "police")
RATES = [0.0, 0.05, 0.1, 0.5, -1.0, np.nan, np.inf, None]


@st.composite
def linked_files(draw, directory):
    """Records files, each record's household by id, and the spine's households."""
    gaps = draw(st.booleans())
    n = draw(st.integers(0, 12))
    households = np.arange(n, dtype=np.int64) * (3 if gaps else 1) + draw(
        st.integers(0, 5)
    )
    off = draw(st.booleans()) and n > 0  # a household not on the spine
    choices = [*households.tolist(), NO_HOUSEHOLD] + ([10_000] if off else [])
    types = view.counted_types(CONFIG)
    paths, tables, absence = {}, {}, {}
    ref = np.datetime64(REFERENCE, "us").astype(np.int64)
    for name in SOURCES:
        k = draw(st.integers(0, 40))
        kinds = [*types[name], "something_else", None]
        day = 86_400_000_000
        columns = {
            "record_id": pa.array(np.arange(k, dtype=np.int64)),
            "event_type": pa.array(  # text, even where every type is missing
                draw(st.lists(st.sampled_from(kinds), min_size=k, max_size=k)),
                pa.string(),
            ),
            "event_date": pa.array(
                [
                    None if v is None else int(ref) + v
                    for v in draw(
                        st.lists(
                            st.one_of(st.none(), st.integers(-3 * day, 3 * day)),
                            min_size=k,
                            max_size=k,
                        )
                    )
                ],
                pa.timestamp("us"),
            ),
        }
        absence[name] = name == "education" and draw(st.booleans())
        if absence[name]:
            columns["absence_rate"] = pa.array(
                draw(st.lists(st.sampled_from(RATES), min_size=k, max_size=k)),
                pa.float64(),
            )
        paths[name] = directory / f"{name}.parquet"
        pq.write_table(pa.table(columns), paths[name])
        tables[name] = np.array(
            draw(st.lists(st.sampled_from(choices), min_size=k, max_size=k)), np.int64
        )
    return paths, HouseholdTables("record_id", tables), households, absence


def _in_memory(paths, tables, households, absence):
    """``_event_counts`` and ``_education`` of the records linked in memory."""
    linked = {}
    for name, path in paths.items():
        frame = pq.read_table(path).to_pandas()
        if not absence[name]:
            frame = frame.drop(columns="absence_rate", errors="ignore")
        frame[INDEX] = tables.tables[name]
        linked[name] = frame[frame[INDEX] != NO_HOUSEHOLD]
    index = pd.Index(households, name=INDEX)
    counts = view._event_counts(linked, index, REFERENCE, view.view_events(CONFIG))
    return counts, view._education(linked, index, REFERENCE, CONFIG)


def _from_files(paths, tables, households, absence, records=None):
    """Read a batch at a time, or taken from ``records`` (read there once)."""
    read = read_counted if records is None else records.batches
    counts = RecordCounts(households, tables, CONFIG)
    types = view.counted_types(CONFIG)
    for name, path in paths.items():
        batches = read(
            CountedFile(
                path, name, tables.key, types[name], absence[name], CONFIG, REFERENCE
            )
        )
        counts.add(name, batches)
    counts.done()
    return counts


@settings(max_examples=60, deadline=None)
@given(data=st.data(), batch=st.sampled_from([1, 3, 1 << 20]))
def test_the_counts_from_files_are_the_views(tmp_path_factory, data, batch):
    directory = tmp_path_factory.mktemp("counts")
    paths, tables, households, absence = data.draw(linked_files(directory))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(view_partitions, "BATCH_ROWS", batch)
        try:
            expected = _in_memory(paths, tables, households, absence)
        except InputDataError as e:
            with pytest.raises(InputDataError) as got:
                _from_files(paths, tables, households, absence)
            assert str(got.value) == str(e)
            return
        counts = _from_files(paths, tables, households, absence)
    n = len(households)
    cut = data.draw(st.integers(0, n))
    parts = [counts.rows(0, cut), counts.rows(cut, n)]
    np.testing.assert_array_equal(
        np.concatenate([p[0] for p in parts]), expected[0], strict=True
    )
    for column, values in expected[1].items():
        got = np.concatenate([p[1][column] for p in parts])
        np.testing.assert_array_equal(got, values, strict=True)


@st.composite
def other_spine(draw, tables):
    """Another spine's households, and each of the same records' household on it."""
    n = draw(st.integers(0, 12))
    households = np.arange(n, dtype=np.int64) * draw(st.sampled_from([1, 2])) + draw(
        st.integers(0, 5)
    )
    choices = [*households.tolist(), NO_HOUSEHOLD]
    other = {
        name: np.array(
            draw(st.lists(st.sampled_from(choices), min_size=len(t), max_size=len(t))),
            np.int64,
        )
        for name, t in tables.tables.items()
    }
    return HouseholdTables(tables.key, other), households


def _counted_or_error(paths, tables, households, absence, records=None):
    """The counts' rows (or the error's text) of :func:`_from_files`."""
    try:
        counts = _from_files(paths, tables, households, absence, records)
    except InputDataError as e:
        return str(e)
    events, education = counts.rows(0, len(households))
    return [events, *education.values()]


@settings(max_examples=40, deadline=None)
@given(data=st.data(), batch=st.sampled_from([1, 3, 1 << 20]))
def test_records_read_once_count_for_every_spine(tmp_path_factory, data, batch):
    """Held (``CountedRecords``), the records count for two spines' households what
    each counts reading them afresh, and each file is read once."""
    directory = tmp_path_factory.mktemp("held")
    paths, tables, households, absence = data.draw(linked_files(directory))
    spines = [(tables, households), data.draw(other_spine(tables))]
    reads = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(view_partitions, "BATCH_ROWS", batch)
        read = view_records.read_counted
        patch.setattr(
            view_records, "read_counted", lambda f: reads.append(f.source) or read(f)
        )
        held = CountedRecords()
        for spine_tables, spine_households in spines:
            expected = _counted_or_error(paths, spine_tables, spine_households, absence)
            got = _counted_or_error(
                paths, spine_tables, spine_households, absence, held
            )
            if isinstance(expected, str):
                assert got == expected
                continue
            for g, e in zip(got, expected, strict=True):
                np.testing.assert_array_equal(g, e, strict=True)
    assert sorted(reads) == sorted(set(reads)), "a file read twice"


@given(ids=st.lists(st.integers(-(2**40), 2**40), max_size=6), cut=st.integers(0, 6))
def test_held_ids_are_narrowed_only_where_they_fit(ids, cut):
    events = np.array(ids, np.int64)
    batch = CountedBatch(
        events[:cut],
        np.zeros(len(ids[:cut]), np.int16),
        events[cut:],
        np.zeros(len(ids[cut:])),
    )
    narrowed = view_records._narrowed(batch)
    fits = all(-(2**31) <= i < 2**31 for i in ids)
    assert narrowed.events.dtype == (np.int32 if fits else np.int64)
    np.testing.assert_array_equal(narrowed.events, batch.events)
    np.testing.assert_array_equal(narrowed.pupils, batch.pupils)


@settings(max_examples=50, deadline=None)
@given(data=st.data(), n=st.integers(0, 30))
def test_a_households_agencies_are_the_sources_it_has_an_event_of(data, n):
    """``n_agencies``: sources with a counted event (education: or a persistently
    absent pupil); ``n_events``: every event and persistently absent pupil."""
    sources = ["police", "education", "health"]
    events = data.draw(
        st.lists(st.sampled_from(sources), max_size=6).map(
            lambda names: [(s, f"e{i}") for i, s in enumerate(names)]
        )
    )
    counts = np.array(
        data.draw(
            st.lists(
                st.lists(st.integers(0, 3), min_size=len(events), max_size=len(events)),
                min_size=n,
                max_size=n,
            )
        ),
        np.int64,
    ).reshape(n, len(events))
    persistent = np.array(
        data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), np.int64
    )
    got = view._summary(counts, events, persistent)
    for row in range(n):
        seen = {s for i, (s, _) in enumerate(events) if counts[row, i] > 0}
        if persistent[row]:
            seen.add(view.CENSUS[0])
        assert got["n_agencies"][row] == len(seen)
        assert got["n_events"][row] == counts[row].sum() + persistent[row]
    assert got["n_agencies"].dtype == got["n_events"].dtype == np.int64
