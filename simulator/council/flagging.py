"""Scores, flags and drivers of the linked family view, in memory or from its file.

:func:`score_and_flag` scores a view held in memory; :func:`score_view_file` scores
``view.parquet`` a batch of rows at a time and gives the same table. Both end in
:func:`flags_of_scores`: the flag rule needs every score (a float per household),
and drivers are explained for the flagged households only (at most
:data:`EXPLAIN_LIMIT`, highest scores first), whose view rows the file path reads
back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from simulator.council.models.base import RiskModel, apply_flag_rule
from simulator.council.models.flags import flag_table
from simulator.schema.model import FlagRule
from simulator.vocabulary import INDEX

EXPLAIN_LIMIT = 50_000
"""Flagged households explained (drivers) at most; the highest scores first."""
SCORE_ROWS = 1 << 16
"""View rows scored at a time from a file, by default."""
ROW_ALIGN = 1024
"""Batches of the view scored from a file start at multiples of this many rows.

BLAS kernels (a logistic regression's ``X @ coef``) work on blocks of 4 to 16 rows
and may round the rows of a short last block differently: batches aligned to the
whole view's blocks give each row the same bits as one call on the whole view.
"""


def flags_of_scores(
    model: RiskModel,
    scores: pd.Series,
    rule: FlagRule,
    rows_of: Callable[[pd.Index], pd.DataFrame],
) -> pd.DataFrame:
    """Apply the flag rule and explain the flagged households.

    Parameters
    ----------
    model : RiskModel
        The model that scored; its ``explain``, if it has one, gives the drivers.
    scores : Series
        ``model.score(view)`` of the whole view.
    rule : FlagRule
        The scenario's flag rule.
    rows_of : callable
        Households -> their rows of the view, in that order.

    Returns
    -------
    DataFrame
        :func:`~simulator.council.models.flags.flag_table`'s table.
    """
    flags = apply_flag_rule(scores, rule)
    flagged = flags.index[flags.to_numpy()]
    if len(flagged) > EXPLAIN_LIMIT:
        flagged = (
            scores.loc[flagged]
            .sort_values(ascending=False, kind="stable")
            .index[:EXPLAIN_LIMIT]
        )
    explain = getattr(model, "explain", None)
    contributions = None  # no driver: the table is the same as an empty explanation's
    if callable(explain) and len(flagged):  # scikit-learn refuses to predict no row
        contributions = explain(rows_of(flagged))
    return flag_table(scores, flags, contributions)


def score_and_flag(
    model: RiskModel, view: pd.DataFrame, rule: FlagRule
) -> pd.DataFrame:
    """Score the view, apply the flag rule, and explain the flagged households.

    Drivers are computed for the flagged households only (at most
    :data:`EXPLAIN_LIMIT`, highest scores first): explaining costs a prediction per
    feature for a learned model.
    """
    return flags_of_scores(model, model.score(view), rule, lambda ids: view.loc[ids])


def read_view(table: pa.Table) -> pd.DataFrame:
    """Rows of ``view.parquet`` indexed by ``spine_household_id``, as in memory."""
    return table.to_pandas().set_index(INDEX)


def view_households(view_file: Path, households: pd.Index) -> pd.DataFrame:
    """The rows of ``households`` in a view file, in the order given."""
    file = pq.ParquetFile(view_file)
    wanted = pa.array(np.sort(households.to_numpy(np.int64)))
    parts = [
        batch.filter(pc.is_in(batch.column(INDEX), value_set=wanted))
        for batch in file.iter_batches(batch_size=SCORE_ROWS)
    ]
    table = pa.Table.from_batches(parts, schema=file.schema_arrow)
    return read_view(table).loc[households]


def aligned_batches(file: pq.ParquetFile, rows: int) -> Iterator[pa.Table]:
    """The file's rows, ``rows`` (up to :data:`ROW_ALIGN`) at a time, any row groups.

    Every table but the last has the same number of rows.
    """
    size = -(-max(rows, 1) // ROW_ALIGN) * ROW_ALIGN
    held: list[pa.RecordBatch] = []
    n = 0
    for batch in file.iter_batches(batch_size=size):
        held.append(batch)
        n += len(batch)
        while n >= size:
            table = pa.Table.from_batches(held, schema=file.schema_arrow)
            yield table.slice(0, size)
            rest = table.slice(size)
            held, n = rest.to_batches(), len(rest)
    if n:
        yield pa.Table.from_batches(held, schema=file.schema_arrow)


def scores_in_batches(model: RiskModel) -> bool:
    """Whether each household's score depends on its own view row alone.

    Built-in models say so with ``row_wise``; a plug-in is scored on the whole view
    unless it says so too.
    """
    return bool(getattr(model, "row_wise", False))


def score_view_file(
    model: RiskModel, view_file: Path, rule: FlagRule, *, rows: int = SCORE_ROWS
) -> pd.DataFrame:
    """:func:`score_and_flag` of the view in ``view_file``, a batch of rows at a time.

    Parameters
    ----------
    model : RiskModel
        A fitted model.
    view_file : Path
        ``view.parquet`` (:func:`simulator.council.view_files.write_view_file`).
    rule : FlagRule
        The scenario's flag rule (``scenario.model.flag_rule()``).
    rows : int
        View rows scored at a time (rounded up to a multiple of :data:`ROW_ALIGN`).
        A model whose scores are not row by row (a score file, a plug-in) scores the
        whole view at once.

    Returns
    -------
    DataFrame
        The table :func:`score_and_flag` gives for the view in memory.
    """
    file = pq.ParquetFile(view_file)
    if not scores_in_batches(model):
        view = read_view(file.read())
        return score_and_flag(model, view, rule)
    parts = [model.score(read_view(t)) for t in aligned_batches(file, rows)]
    if parts:
        scores = pd.concat(parts)
    else:
        scores = model.score(read_view(file.schema_arrow.empty_table()))
    return flags_of_scores(
        model, scores, rule, lambda ids: view_households(view_file, ids)
    )
