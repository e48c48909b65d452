"""Scores, flags and drivers of the linked family view, in memory or from its file.

:func:`score_and_flag` scores a view held in memory; :func:`score_view_file` scores
``view.parquet`` and gives the same table. Both score the same batches of
:data:`SCORE_ROWS` rows (:func:`batch_scores`): BLAS kernels (a logistic
regression's ``X @ coef``) may round a row differently in matrices of different
sizes, so only the same batches give the same bits; a view of at most
:data:`SCORE_ROWS` households is one call, as it always was. Both end in
:func:`flags_of_scores`: the flag rule needs every score (a float per household),
and drivers are explained for the flagged households only (at most
:data:`EXPLAIN_LIMIT`, highest scores first), whose view rows the file path reads
back.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
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
SCORE_ROWS = 1 << 20
"""View rows a row-by-row model scores at a time, in memory and from a file (about
0.2 GiB of features as floats)."""


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
    n = len(view)
    if n > SCORE_ROWS and scores_in_batches(model):
        batches = (view.iloc[i : i + SCORE_ROWS] for i in range(0, n, SCORE_ROWS))
        scores = batch_scores(model, batches)
    else:
        scores = model.score(view)
    return flags_of_scores(model, scores, rule, lambda ids: view.loc[ids])


def batch_scores(model: RiskModel, batches: Iterable[pd.DataFrame]) -> pd.Series:
    """``model.score`` of each batch of a view, joined: a row-by-row model's scores.

    Refuses a model that does not say its scores are row by row
    (:func:`scores_in_batches`).
    """
    if not scores_in_batches(model):
        raise ValueError(f"{type(model).__name__} does not score row by row")
    return pd.concat([model.score(batch) for batch in batches])


def read_view(table: pa.Table) -> pd.DataFrame:
    """Rows of ``view.parquet`` indexed by ``spine_household_id``, as in memory."""
    return table.to_pandas().set_index(INDEX)


def view_table(view: pd.DataFrame) -> pa.Table:
    """A view's rows as ``view.parquet`` holds them (:func:`read_view`'s inverse)."""
    return pa.Table.from_pandas(view.reset_index(), preserve_index=False)


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


def view_batches(file: pq.ParquetFile) -> Iterator[pd.DataFrame]:
    """The view file's rows, :data:`SCORE_ROWS` at a time, whatever its row groups."""
    return view_rows(file.iter_batches(batch_size=SCORE_ROWS), file.schema_arrow)


def view_rows(
    batches: Iterable[pa.RecordBatch], schema: pa.Schema
) -> Iterator[pd.DataFrame]:
    """A view's rows given in ``batches`` of any size, :data:`SCORE_ROWS` at a time.

    The view of no row is one empty batch (what its model scores).
    """
    held: list[pa.RecordBatch] = []
    n = 0
    given = False
    for batch in batches:
        held.append(batch)
        n += len(batch)
        while n >= SCORE_ROWS:
            table = pa.Table.from_batches(held, schema=schema)
            yield read_view(table.slice(0, SCORE_ROWS))
            given = True
            rest = table.slice(SCORE_ROWS)
            held, n = rest.to_batches(), len(rest)
    if n or not given:
        yield read_view(pa.Table.from_batches(held, schema=schema))


def scores_in_batches(model: RiskModel) -> bool:
    """Whether each household's score depends on its own view row alone.

    Built-in models say so with ``row_wise``; a plug-in is scored on the whole view
    unless it says so too.
    """
    return bool(getattr(model, "row_wise", False))


def score_view_file(
    model: RiskModel, view_file: Path, rule: FlagRule, *, drivers: bool = True
) -> pd.DataFrame:
    """:func:`score_and_flag` of the view in ``view_file``, a batch of rows at a time.

    A row-by-row model (``row_wise``) scores :data:`SCORE_ROWS` rows at a time; any
    other (a score file, a plug-in) scores the whole view, read at once.

    Parameters
    ----------
    model : RiskModel
        A fitted model.
    view_file : Path
        ``view.parquet`` (:func:`simulator.council.view_files.write_view_file`).
    rule : FlagRule
        The scenario's flag rule (``scenario.model.flag_rule()``).
    drivers : bool
        Without them, only the table's :data:`SCORED_COLUMNS` (:func:`scored`):
        no rank, nothing explained, no view row read again (the flags of a world
        whose outcomes alone are kept: a pool task's).

    Returns
    -------
    DataFrame
        The table :func:`score_and_flag` gives for the view in memory.
    """
    file = pq.ParquetFile(view_file)
    if not drivers:
        batches = file.iter_batches(batch_size=SCORE_ROWS)
        return scored(view_scores(model, batches, file.schema_arrow), rule)
    if not scores_in_batches(model) or file.metadata.num_rows <= SCORE_ROWS:
        return score_and_flag(model, read_view(file.read()), rule)
    scores = batch_scores(model, view_batches(file))
    return flags_of_scores(
        model, scores, rule, lambda ids: view_households(view_file, ids)
    )


def view_scores(
    model: RiskModel, batches: Iterable[pa.RecordBatch], schema: pa.Schema
) -> pd.Series:
    """``model``'s scores of a view given in ``batches`` of its rows (``schema``'s).

    A row-by-row model scores :data:`SCORE_ROWS` rows at a time
    (:func:`view_rows`), any other the whole view at once: the batches
    :func:`score_and_flag` scores, whatever the batches given.
    """
    if scores_in_batches(model):
        return batch_scores(model, view_rows(batches, schema))
    return model.score(read_view(pa.Table.from_batches(batches, schema=schema)))


class ScoredView:
    """Where a view is scored as its rows are made, never written.

    The flags :func:`score_view_file` gives without drivers (:attr:`flags`): the
    view of a world whose outcomes alone are kept (a pool task's) is not written
    to a file and read back to be scored. Held at once: the rows of a batch
    scored (:data:`SCORE_ROWS`; a whole view for a model that is not row by row),
    as when read from a file.
    """

    def __init__(self, model: RiskModel, rule: FlagRule) -> None:
        self._model = model
        self._rule = rule
        self.flags: pd.DataFrame | None = None  # once taken: scored()'s table

    def take(self, tables: Iterable[pa.Table]) -> int:
        """Score the view given a table of its rows at a time, in order; its rows.

        The tables are :func:`view_table`'s (a view file's row groups, unwritten);
        the first one's schema is the view's.
        """
        pieces = iter(tables)
        first = next(pieces)
        schema = first.schema
        batches = itertools.chain(
            first.to_batches(), (b for t in pieces for b in t.to_batches())
        )
        del first  # its batches are held until scored, not the table after
        scores = view_scores(self._model, batches, schema)
        self.flags = scored(scores, self._rule)
        return len(scores)


SCORED_COLUMNS = (INDEX, "score", "flagged")
"""The flags table's columns a household's outcomes read."""


def scored(scores: pd.Series, rule: FlagRule) -> pd.DataFrame:
    """The flags table's :data:`SCORED_COLUMNS` of ``scores``: the rule applied.

    The values :func:`flags_of_scores` gives them, in ``spine_household_id``
    order, without ranking the households or explaining the flagged ones.
    """
    flags = apply_flag_rule(scores, rule)
    table = pd.DataFrame(
        {
            INDEX: scores.index.to_numpy(),
            "score": scores.to_numpy(dtype=np.float64),
            "flagged": flags.to_numpy(dtype=bool),
        }
    )
    if table[INDEX].is_monotonic_increasing:
        return table
    return table.sort_values(INDEX, kind="stable", ignore_index=True)
