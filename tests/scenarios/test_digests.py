"""Content digests: equal values, equal digests, whatever the bytes under nulls."""

from __future__ import annotations

from pathlib import Path

import digests
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

values = st.lists(st.one_of(st.none(), st.integers(-(2**40), 2**40)), max_size=40)


def _with_filler(items: list[int | None], filler: int) -> pa.Array:
    """``items`` as an int64 array whose null slots hold ``filler``."""
    data = np.array([filler if v is None else v for v in items], dtype=np.int64)
    valid = pa.array([v is not None for v in items], type=pa.bool_())
    bitmap = valid.buffers()[1] if len(items) else None
    return pa.Array.from_buffers(
        pa.int64(),
        len(items),
        [bitmap, pa.py_buffer(data.tobytes())],
        null_count=sum(v is None for v in items),
    )


def _digest(tmp: Path, name: str, column: pa.Array, dictionary: bool) -> str:
    path = tmp / f"{name}.parquet"
    pq.write_table(pa.table({"x": column}), path, use_dictionary=dictionary)
    return digests.table_digest(path)


@settings(max_examples=40, deadline=None)
@given(values, st.integers(), st.booleans(), st.booleans())
def test_digest_ignores_bytes_under_nulls(
    tmp_path_factory, items, filler, dict_a, dict_b
):
    tmp = tmp_path_factory.mktemp("d")
    a = _digest(tmp, "a", _with_filler(items, 0), dict_a)
    b = _digest(tmp, "b", _with_filler(items, filler % 2**40), dict_b)
    assert a == b


@settings(max_examples=40, deadline=None)
@given(values, st.integers(0, 39), st.integers(-(2**40), 2**40))
def test_digest_sees_every_value_and_null(tmp_path_factory, items, at, other):
    tmp = tmp_path_factory.mktemp("d")
    if not items:
        items = [None]
    at %= len(items)
    changed = list(items)
    changed[at] = other if items[at] is None or items[at] != other else None
    a = _digest(tmp, "a", pa.array(items, pa.int64()), True)
    b = _digest(tmp, "b", pa.array(changed, pa.int64()), True)
    assert a != b


def test_digest_sees_the_type(tmp_path):
    a = _digest(tmp_path, "a", pa.array([1, None], pa.int64()), True)
    b = _digest(tmp_path, "b", pa.array([1, None], pa.int32()), True)
    assert a != b
