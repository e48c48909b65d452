"""Messy and bad tables: what audit_table tolerates, and its one-line errors."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from audits.errors import AuditWarning
from audits.table import MISSING, audit_table
from audits.table_read import human_bytes, parse_size
from simulator.errors import InputDataError

HEADER = "id,score,label,area,kind"


def rows(n: int = 40, seed: int = 3) -> list[str]:
    rng = np.random.default_rng(seed)
    return [
        f"{i},{rng.random():.4f},{i % 2},{'north' if i % 3 else 'south'},{1 + i % 4}"
        for i in range(n)
    ]


def write(tmp_path, lines: list[str], name: str = "t.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def audit(path, **options):
    kw = {
        "label": "label",
        "score": "score",
        "flag": "top_percent=25",
        "groups": ["area"],
        "n_boot": 0,
        "min_group_size": 0,
    } | options
    return audit_table(path, **kw)


def one_line(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


# ------------------------------------------------------------------ tolerated


def test_unnamed_trailing_column_is_ignored(tmp_path):
    plain = write(tmp_path, [HEADER, *rows()], "plain.csv")
    trailing = write(tmp_path, [HEADER + ",", *(r + "," for r in rows())], "tr.csv")
    a, b = audit(plain).metrics.by_group, audit(trailing).metrics.by_group
    pd.testing.assert_frame_equal(a, b)


def test_identical_duplicate_column_is_used_with_a_warning(tmp_path):
    lines = [HEADER + ",area", *(r + "," + r.split(",")[3] for r in rows())]
    path = write(tmp_path, lines)
    with pytest.warns(AuditWarning, match=r"'area' appears 2 times .*equal values"):
        result = audit(path)
    plain = audit(write(tmp_path, [HEADER, *rows()], "plain.csv"))
    pd.testing.assert_frame_equal(result.metrics.by_group, plain.metrics.by_group)


def test_differing_duplicate_column_is_an_error_only_when_used(tmp_path):
    body = rows()
    lines = [
        HEADER + ",area",
        *(
            r + ",elsewhere" if i == 7 else r + "," + r.split(",")[3]
            for i, r in enumerate(body)
        ),
    ]
    path = write(tmp_path, lines)
    with pytest.raises(InputDataError) as e:
        audit(path)
    assert re.search(r"t\.csv: column 'area' appears 2 times .*row 8", one_line(e))
    # not used: no concern
    result = audit(path, groups=["kind"])
    assert len(result.metrics.by_group) == 4


def test_duplicate_columns_in_a_dataframe(tmp_path):
    frame = pd.DataFrame(
        [[1, 0.5, "a", "a"], [0, 0.2, "b", "b"], [1, 0.9, "b", "b"]],
        columns=["label", "score", "g", "g"],
    )
    with pytest.warns(AuditWarning, match="'g' appears 2 times"):
        audit(frame, groups=["g"])
    frame.iloc[2, 3] = "c"
    with pytest.raises(InputDataError, match=r"'g' appears 2 times .*\(row 3"):
        audit(frame, groups=["g"])


def test_missing_group_values_are_their_own_group_and_said_so(tmp_path):
    body = [
        r if i % 5 else ",".join(r.split(",")[:3] + ["", r.split(",")[4]])
        for i, r in enumerate(rows())
    ]
    path = write(tmp_path, [HEADER, *body])
    with pytest.warns(AuditWarning, match=r"'area' has no value in 8 row\(s\)"):
        result = audit(path)
    by = result.metrics.by_group.set_index("value")
    assert by.loc[MISSING, "n"] == 8
    assert list(by.index)[-1] == MISSING  # after the named groups
    assert result.source["missing_groups"] == {"area": 8}


def test_reference_by_text_matches_a_numeric_code(tmp_path):
    path = write(tmp_path, [HEADER, *rows()])
    result = audit(path, groups=["kind"], reference={"kind": "3"})
    assert set(result.disparities.table["reference"]) == {"3"}
    assert result.config.reference == {"kind": 3}
    with pytest.raises(InputDataError, match=r"reference kind=7: no such group"):
        audit(path, groups=["kind"], reference={"kind": "7"})


def test_weights_are_weighted_counts(tmp_path):
    frame = pd.DataFrame(
        {
            "label": [1, 0, 1, 0],
            "flag": [1, 1, 0, 0],
            "g": ["a", "a", "b", "b"],
            "w": [2.0, 0.5, 1.0, 3.0],
        }
    )
    result = audit_table(
        frame,
        label="label",
        flagged="flag",
        groups=["g"],
        weight="w",
        n_boot=20,
        min_group_size=0,
    )
    by = result.metrics.by_group.set_index("value")
    assert by.loc["a", ["n", "tp", "fp"]].tolist() == [2.5, 2.0, 0.5]
    assert by.loc["b", ["n", "fn", "tn"]].tolist() == [4.0, 1.0, 3.0]
    assert by.loc["a", "precision"] == pytest.approx(2.0 / 2.5)


# ------------------------------------------------------------------ refused


@pytest.mark.parametrize(
    ("change", "options", "pattern"),
    [
        (None, {"label": "outcome"}, r"t\.csv: no column 'outcome'; the file has id, "),
        (
            (5, 2, "yes"),
            {},
            r"column 'label', row 6: the label is 'yes'; expected 0 or 1",
        ),
        ((5, 2, "2"), {}, r"column 'label', row 6: the label is '2'"),
        ((9, 2, ""), {}, r"column 'label', row 10: the label is missing"),
        ((3, 1, "high"), {}, r"column 'score', row 4: the score is 'high', not a num"),
        ((3, 1, "inf"), {}, r"column 'score', row 4: the score is inf; expected a fin"),
        ((3, 1, ""), {}, r"column 'score', row 4: the score is missing"),
        ((4, 3, "  "), {}, r"column 'area', row 5: the group is empty"),
        ((2, 0, "1"), {"id": "id"}, r"column 'id', row 3: the id '1' is repeated"),
        ((6, 1, "-1"), {"weight": "score"}, r"column 'score', row 7: the weight is -1"),
    ],
)
def test_bad_cells_name_file_column_and_row(tmp_path, change, options, pattern):
    body = [r.split(",") for r in rows()]
    if change is not None:
        row, col, value = change
        body[row][col] = value
    path = write(tmp_path, [HEADER, *(",".join(r) for r in body)])
    with pytest.raises(InputDataError) as e:
        audit(path, **options)
    assert re.search(pattern, one_line(e)), one_line(e)
    assert str(path) in one_line(e)


def test_a_group_column_with_one_value(tmp_path):
    body = [",".join(r.split(",")[:3] + ["north", "1"]) for r in rows()]
    with pytest.raises(InputDataError, match="'area' has one value \\('north'\\)"):
        audit(write(tmp_path, [HEADER, *body]))


def test_a_flagged_column_must_be_0_or_1(tmp_path):
    path = write(tmp_path, [HEADER, *rows()])
    with pytest.raises(InputDataError, match=r"column 'kind', row 2: the decision is"):
        audit(path, flag=None, score=None, flagged="kind")


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"PK\x03\x04rest of a workbook", "not a CSV or Parquet file; it is a ZIP"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a CSV or Parquet file"),
        (b"", "is empty"),
        (b"PAR1 not really parquet", "not a readable Parquet file"),
    ],
)
def test_files_that_are_not_tables(tmp_path, content, pattern):
    path = tmp_path / "table.csv"
    path.write_bytes(content)
    with pytest.raises(InputDataError, match=pattern) as e:
        audit(path)
    assert one_line(e).startswith(str(path))


def test_a_file_over_the_size_limit(tmp_path):
    path = write(tmp_path, [HEADER, *rows()])
    size = path.stat().st_size
    with pytest.raises(InputDataError, match="over the size limit of 100 bytes"):
        audit(path, max_bytes=100)
    assert audit(path, max_bytes=size).metrics.overall["n"].iloc[0] == 40


def test_sizes_read_and_written():
    assert parse_size("1.5 GiB") == int(1.5 * 1024**3)
    assert human_bytes(parse_size("500MB")) == "500 MiB"
    with pytest.raises(InputDataError, match="expected a number of bytes"):
        parse_size("lots")


def test_parquet_file_with_types(tmp_path):
    frame = pd.DataFrame(
        {
            "label": [True, False, True, False, True, False],
            "score": [0.9, 0.8, 0.1, 0.2, 0.7, 0.3],
            "group": pd.array([1, 2, 1, 2, None, None], dtype="Int64"),
        }
    )
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuditWarning)
        result = audit(path, groups=["group"], flag="threshold=0.5")
    assert list(result.metrics.by_group["value"]) == ["1", "2", MISSING]
    assert list(result.metrics.by_group["tp"]) == [1, 0, 1]
