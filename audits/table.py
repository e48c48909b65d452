"""Audit a table you already have: real scores or decisions, real outcomes, any groups.

:func:`audit_table` takes a CSV or Parquet file (or a DataFrame), the 0/1 outcome
column, either a score column with a flag rule or a column of 0/1 decisions, and one
or more group columns, and returns the same :class:`~audits.result.AuditResult` as a
run's audit: the same metrics, disparities, intervals and summary, computed by the
same functions (:func:`audits.result.run_audit`). Nothing here is simulated.

What each column must hold (a problem is one line naming the file, the column and
the first row, rows counted from 1 under the header):

label, flagged
    0 or 1 (also ``true``/``false``, or 0.0/1.0) in every row.
score
    A finite number in every row.
weight
    A finite, non-negative number in every row. Every count becomes the sum of its
    rows' weights (and every rate a ratio of weighted counts, as fairlearn's
    ``sample_weight`` gives); the bootstrap still draws rows, each resampled row
    counting the mean weight of its group and confusion cell
    (:meth:`audits.confusion.Cells.scale`), so intervals reflect the rows drawn and
    not the spread of weights within a cell.
id
    Unique values; ties at a ``top_percent`` or ``budget`` cut go to the lower id
    (without an id, to the earlier row).
group columns
    Text, numbers or true/false; a missing value (a blank CSV cell, ``NA``, a null)
    is a group of its own, :data:`MISSING`, and the audit says how many rows it
    holds. A value of only spaces is refused (is it missing or a group?), and so is
    a column with one value in every row (nothing to compare). Spaces around text
    are ignored. Numbers are compared as numbers (1, 2, 10 in that order; a CSV
    column whose every value is a number is read as numbers, whole ones as
    integers), text as text.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audits.confusion import JOIN
from audits.errors import AuditWarning
from audits.result import AuditResult, run_audit
from audits.table_read import TableColumns, frame_columns, read_columns
from simulator.council.models.base import apply_flag_rule
from simulator.errors import InputDataError
from simulator.schema.model import FlagRule
from simulator.schema.table_audit import DEFAULT_MAX_BYTES, TableAudit

MISSING = "(missing)"
"""The group of rows whose group value is missing."""
WEIGHT = "_row_weight"
"""The outcomes table's column of row weights."""
RESERVED = ("y_true", "flagged", WEIGHT)
"""Columns of the outcomes table a group column may not be called."""
_TRUE = ("1", "1.0", "true")
_FALSE = ("0", "0.0", "false")


def _where(source: TableColumns, column: str, row: int) -> str:
    return f"{source.path}: column {column!r}, row {row + 1}"


def _is_text(values: pa.ChunkedArray) -> bool:
    return pa.types.is_string(values.type) or pa.types.is_large_string(values.type)


def _missing_row(source: TableColumns, column: str, role: str) -> None:
    values = source.columns[column]
    if values.null_count:
        row = int(np.flatnonzero(np.asarray(values.is_null()))[0])
        raise InputDataError(
            f"{_where(source, column, row)}: the {role} is missing "
            f"({values.null_count:,} row(s) are)"
        )


def binary(source: TableColumns, column: str, role: str) -> np.ndarray:
    """A 0/1 column as booleans; anything else is an error naming its first row.

    Parameters
    ----------
    source : TableColumns
    column : str
    role : str
        What the column is, for the message ("label", "decision").

    Returns
    -------
    ndarray of bool
    """
    _missing_row(source, column, role)
    values = source.columns[column]
    if pa.types.is_boolean(values.type):
        return np.asarray(values, dtype=bool)
    if _is_text(values):
        text = pc.utf8_lower(pc.utf8_trim_whitespace(values))
        ones, zeros = pc.is_in(text, pa.array(_TRUE)), pc.is_in(text, pa.array(_FALSE))
        ones, zeros = np.asarray(ones, dtype=bool), np.asarray(zeros, dtype=bool)
    elif pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        numbers = np.asarray(values, dtype=np.float64)
        ones, zeros = numbers == 1, numbers == 0
    else:
        raise InputDataError(
            f"{source.path}: column {column!r} holds {values.type}; the {role} must "
            "be 0 or 1"
        )
    bad = ~(ones | zeros)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"{_where(source, column, row)}: the {role} is {values[row].as_py()!r}; "
            f"expected 0 or 1 ({int(bad.sum()):,} row(s) are neither)"
        )
    return ones


def numbers(source: TableColumns, column: str, role: str) -> np.ndarray:
    """A column of finite numbers as float64; anything else names its first row.

    Parameters
    ----------
    source : TableColumns
    column : str
    role : str
        What the column is, for the message ("score", "weight").

    Returns
    -------
    ndarray of float64
    """
    _missing_row(source, column, role)
    values = source.columns[column]
    if pa.types.is_boolean(values.type) or not (
        _is_text(values)
        or pa.types.is_integer(values.type)
        or pa.types.is_floating(values.type)
    ):
        raise InputDataError(
            f"{source.path}: column {column!r} holds {values.type}; the {role} "
            "must be a number"
        )
    if _is_text(values):
        parsed = pd.to_numeric(
            pd.Series(values.to_numpy(zero_copy_only=False), dtype=object),
            errors="coerce",
        ).to_numpy(dtype=np.float64)
        bad = np.isnan(parsed)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputDataError(
                f"{_where(source, column, row)}: the {role} is "
                f"{values[row].as_py()!r}, not a number"
            )
    else:
        parsed = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(parsed)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"{_where(source, column, row)}: the {role} is {parsed[row]}; expected "
            "a finite number"
        )
    return parsed


def _text_codes(text: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    """Codes of text values in sorted order, by Arrow's dictionary encoding.

    Only the distinct values are sorted in Python, so ten million rows of a
    handful of groups cost one pass in Arrow.
    """
    encoded = text.combine_chunks().dictionary_encode()
    words = encoded.dictionary.to_pylist()
    order = sorted(range(len(words)), key=words.__getitem__)
    rank = np.empty(len(words), dtype=np.int64)
    rank[order] = np.arange(len(words))
    indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return rank[indices], [words[i] for i in order]


def _group_codes(values: pa.ChunkedArray, csv: bool) -> tuple[np.ndarray, list]:
    """A group column's present values as codes into their sorted distinct values.

    Text is trimmed of spaces; a CSV column whose every value is a number is read
    as numbers (a CSV has no types), other text stays text. Whole numbers are
    integers.
    """
    present = values.drop_null()
    if _is_text(present):
        trimmed = pc.utf8_trim_whitespace(present)
        if not csv:
            return _text_codes(trimmed)
        try:
            present = pc.cast(trimmed, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return _text_codes(trimmed)
    array = np.asarray(present.to_numpy(zero_copy_only=False))
    if (
        array.dtype.kind == "f"
        and np.all(np.isfinite(array))
        and np.all(array == np.round(array))
    ):
        array = array.astype(np.int64)
    codes, levels = pd.factorize(array, sort=True)
    return codes.astype(np.int64), list(pd.Index(levels).tolist())


def groups(source: TableColumns, column: str) -> tuple[pd.Categorical, int]:
    """A group column as categories in order, missing values as :data:`MISSING`.

    Parameters
    ----------
    source : TableColumns
    column : str

    Returns
    -------
    categories : pandas.Categorical
        The values sorted (numbers as numbers), then :data:`MISSING` if any row
        lacks a value.
    n_missing : int
        Rows without a value.

    Raises
    ------
    InputDataError
        For a value of only spaces, a value equal to :data:`MISSING`, or a column
        with one value in every row.
    """
    values = source.columns[column]
    if _is_text(values):
        blank = pc.equal(pc.utf8_trim_whitespace(values), "")
        blank = np.asarray(blank.fill_null(False), dtype=bool)
        if blank.any():
            row = int(np.flatnonzero(blank)[0])
            raise InputDataError(
                f"{_where(source, column, row)}: the group is empty "
                f"({values[row].as_py()!r}); leave the cell blank for a missing value "
                "or name the group"
            )
    present = np.flatnonzero(~np.asarray(values.is_null()))
    codes, categories = _group_codes(values, source.kind == "csv")
    n_missing = len(values) - len(present)
    if MISSING in (str(v) for v in categories):
        raise InputDataError(
            f"{source.path}: column {column!r} has a group called {MISSING!r}, the "
            "name the audit gives missing values; rename it"
        )
    full = np.full(len(values), len(categories), dtype=np.int64)
    full[present] = codes
    if n_missing:
        categories.append(MISSING)
    if len(categories) < 2:
        only = categories[0] if categories else MISSING
        raise InputDataError(
            f"{source.path}: column {column!r} has one value ({only!r}) in every row; "
            "a group column needs two or more groups to compare"
        )
    return pd.Categorical.from_codes(full, categories=categories), n_missing


def resolve_reference(
    categories: Mapping[str, pd.Categorical], reference: Mapping[str, Any]
) -> dict[str, Any]:
    """Each chosen reference value as the column holds it (``"2"`` -> 2).

    Raises
    ------
    InputDataError
        If the column is not a group column or has no such value.
    """
    out = {}
    for column, wanted in reference.items():
        if column not in categories:
            raise InputDataError(
                f"reference names {column!r}, which is not a group column "
                f"({', '.join(categories)})"
            )
        levels = list(categories[column].categories)
        match = [v for v in levels if v == wanted or str(v) == str(wanted)]
        if not match:
            raise InputDataError(
                f"reference {column}={wanted}: no such group; the groups are "
                f"{', '.join(str(v) for v in levels)}"
            )
        value = match[0]
        out[column] = value.item() if isinstance(value, np.generic) else value
    return out


def _decisions(source: TableColumns, config: TableAudit) -> np.ndarray:
    """The flags: the decision column, or the flag rule applied to the scores."""
    if config.flagged is not None:
        return binary(source, config.flagged, "decision")
    assert config.score is not None and config.flag is not None
    scores = numbers(source, config.score, "score")
    if config.id is None:
        index = pd.RangeIndex(len(scores))
    else:
        ids = pd.Index(source.columns[config.id].to_pandas())
        if ids.hasnans or not ids.is_unique:
            bad = ids.isna() | ids.duplicated()
            row = int(np.flatnonzero(bad)[0])
            raise InputDataError(
                f"{_where(source, config.id, row)}: the id {ids[row]!r} is "
                f"{'missing' if pd.isna(ids[row]) else 'repeated'}; ids must be unique"
            )
        index = ids
    return apply_flag_rule(pd.Series(scores, index=index), config.flag).to_numpy()


def table_outcomes(
    source: TableColumns, config: TableAudit
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The audit's rows: group columns, ``y_true``, ``flagged`` (and weights).

    Parameters
    ----------
    source : TableColumns
        The columns read (:func:`audits.table_read.read_columns`).
    config : TableAudit

    Returns
    -------
    outcomes : DataFrame
        One row per table row, in order.
    missing : dict of str to int
        Rows without a value, per group column that has any.
    """
    if source.n_rows == 0:
        raise InputDataError(f"{source.path}: has no rows of data to audit")
    clash = [c for c in config.columns() if c in RESERVED]
    if clash:
        raise InputDataError(
            f"{source.path}: group column {clash[0]!r} has a name the audit uses "
            f"itself ({', '.join(RESERVED)}); rename it"
        )
    data: dict[str, Any] = {}
    missing = {}
    for column in config.columns():  # a handful of group columns
        data[column], n_missing = groups(source, column)
        if n_missing:
            missing[column] = n_missing
    data["y_true"] = binary(source, config.target, "label")
    if config.score is not None:
        data["score"] = numbers(source, config.score, "score")
    data["flagged"] = _decisions(source, config)
    if config.weight is not None:
        weights = numbers(source, config.weight, "weight")
        if (weights < 0).any():
            row = int(np.flatnonzero(weights < 0)[0])
            raise InputDataError(
                f"{_where(source, config.weight, row)}: the weight is "
                f"{weights[row]}; weights must not be negative"
            )
        data[WEIGHT] = weights
    return pd.DataFrame(data), missing


def _missing_notes(source: TableColumns, missing: Mapping[str, int]) -> list[str]:
    notes = []
    for column, n in missing.items():  # group columns with missing values
        note = (
            f"{source.path}: column {column!r} has no value in {n:,} row(s); they "
            f"are audited as a group of their own, {MISSING!r}"
        )
        warnings.warn(note, AuditWarning, stacklevel=3)
        notes.append(note)
    return notes


def _flag_rule(flag: FlagRule | Mapping[str, Any] | str | None) -> FlagRule | None:
    """A flag rule from a :class:`FlagRule`, a dict or ``"top_percent=10"``."""
    if flag is None or isinstance(flag, FlagRule):
        return flag
    if isinstance(flag, str):
        key, sep, value = flag.partition("=")
        if not sep:
            raise InputDataError(
                f"flag {flag!r}: expected threshold=X, top_percent=P or budget=N"
            )
        flag = {key.strip(): value.strip()}
    return FlagRule.model_validate(dict(flag))


def audit_table(  # noqa: PLR0913 -- the audit's options, each documented below
    table: str | Path | pd.DataFrame,
    *,
    label: str,
    groups: Sequence[str],
    score: str | None = None,
    flag: FlagRule | Mapping[str, Any] | str | None = None,
    flagged: str | None = None,
    intersections: Sequence[Sequence[str]] = (),
    reference: Mapping[str, Any] | None = None,
    id: str | None = None,  # noqa: A002 -- the option's name on the command line
    weight: str | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    min_group_size: int = 50,
    seed: int = 0,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> AuditResult:
    """Audit a table of real outcomes and decisions (or scores), by group.

    The same audit as a run's (:func:`audits.result.run_audit`): counts and rates
    overall and by group, each group against a reference group with bootstrap
    intervals, fairlearn's summary measures; write it with
    :func:`audits.table_files.write_table_audit` (the CLI's ``audit --table``).

    Parameters
    ----------
    table : str, Path or DataFrame
        A CSV or Parquet file, or a DataFrame already in memory.
    label : str
        The 0/1 outcome each decision is judged against (1: the case a flag should
        find).
    groups : sequence of str
        Columns whose groups are compared one at a time (any names; text, numbers
        or true/false; missing values form the group :data:`MISSING`).
    score : str, optional
        A numeric score column; with ``flag``, it gives the decisions.
    flag : FlagRule, dict or str, optional
        How scores become flags: ``"threshold=0.7"`` (scores at or above 0.7),
        ``"top_percent=10"`` or ``"budget=500"`` (the highest scores).
    flagged : str, optional
        A column of 0/1 decisions, instead of ``score`` and ``flag``.
    intersections : sequence of sequence of str
        Combinations of columns compared jointly, e.g. ``[("sex", "age_band")]``.
    reference : mapping, optional
        Reference group per column (``{"sex": "F"}``; ``"2"`` matches the number 2);
        default the largest group.
    id : str, optional
        A unique id column: ties at a ``top_percent`` or ``budget`` cut go to the
        lower id (else to the earlier row).
    weight : str, optional
        Non-negative row weights: counts are sums of weights; intervals draw rows
        (see the module's notes).
    n_boot : int
        Bootstrap resamples (0: no intervals).
    confidence : float
        Coverage of the intervals.
    min_group_size : int
        Groups with fewer rows (weighted, with weights) are marked ``small_group``
        and warned about.
    seed : int
        Seed of the bootstrap.
    max_bytes : int
        The largest file read (default 4 GiB).

    Returns
    -------
    AuditResult
        ``config`` is the :class:`~simulator.schema.table_audit.TableAudit` used;
        ``source`` says which file, how many rows, and what was tolerated (repeated
        columns, missing groups).

    Raises
    ------
    InputDataError
        One line naming the file, the column and the first bad row.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "outcome": [1, 0, 1, 0, 1, 0],
    ...     "decision": [1, 1, 0, 0, 1, 0],
    ...     "area": ["north", "north", "north", "south", "south", "south"],
    ... })
    >>> result = audit_table(frame, label="outcome", flagged="decision",
    ...                      groups=["area"], n_boot=0, min_group_size=0)
    >>> result.metrics.by_group[["value", "n", "tp", "fp", "fpr"]]
       value  n  tp  fp  fpr
    0  north  3   1   1  1.0
    1  south  3   1   0  0.0
    """
    rule = _flag_rule(flag)
    draft = TableAudit(
        target=label,
        group_columns=tuple(groups),
        intersections=tuple(tuple(i) for i in intersections),
        score=score,
        flag=rule,
        flagged=flagged,
        id=id,
        weight=weight,
        n_boot=n_boot,
        confidence=confidence,
        min_group_size=min_group_size,
        max_bytes=max_bytes,
    )
    source = (
        frame_columns(table, draft.used())
        if isinstance(table, pd.DataFrame)
        else read_columns(table, draft.used(), max_bytes=max_bytes)
    )
    outcomes, missing = table_outcomes(source, draft)
    categories = {c: outcomes[c].array for c in draft.columns()}
    config = draft.model_copy(
        update={"reference": resolve_reference(categories, reference or {})}
    )
    TableAudit.model_validate(config.model_dump())  # the references, checked
    notes = [*source.notes, *_missing_notes(source, missing)]
    return run_audit(
        outcomes,
        config,
        seed=seed,
        keep_outcomes=False,
        weight=None if weight is None else WEIGHT,
        source={
            "file": str(source.path) if source.kind != "frame" else None,
            "format": source.kind,
            "rows": source.n_rows,
            "columns": list(draft.used()),
            "missing_groups": dict(missing),
            "missing_label": MISSING,
            "notes": notes,
            "intersections": [JOIN.join(i) for i in config.intersections],
        },
    )
