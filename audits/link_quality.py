"""Linkage quality against the truth: precision, recall and F1, and why links fail.

This module reads the hidden ``true_``/``err_`` columns; council-side code never
calls it.

A linker sees identities, not people. A record made against the wrong member of a
family (``err_wrong_person``) carries that member's name, date of birth and numbers;
linking it to that member is the linker doing its job on a record that is wrong. So a
link is judged against the identity the record carries (the hidden
``true_identity_person_id``, which is ``true_person_id`` except on wrong-person rows),
and links that are right about the identity but not about whom the event concerns are
counted apart, as data errors.

Definitions (record level; each record carries one person's identity and links to at
most one spine person):

- a record is **linkable** if the identity it carries is on the spine (a spine row
  carries the same person's identity);
- a link is **correct** if the linked spine row carries the record's identity (any of a
  person's duplicate spine rows counts);
- a **false link** is a link that is not correct: to another identity
  (``linked_wrong``) or for an identity not on the spine (``linked_absent``);
- a **missed link** is a linkable record without a correct link: unlinked
  (``missed``) or linked to another identity (``linked_wrong``, which is both false
  and missed, as in pairwise evaluation);
- precision = correct / linked, recall = correct / linkable, F1 = 2 PR / (P + R):
  the linker's quality;
- a **wrong-subject link** (``n_wrong_subject``) is a correct link whose spine row is
  not the person the event truly concerns: a data error (a wrong-person record, or a
  spine row carrying another member's identity), not the linker's;
- subject precision = links to the person the event truly concerns / linked: what
  the council's view gets, data errors and linkage errors together.

Each record gets one ``outcome``: ``correct``, ``linked_wrong``, ``linked_absent``,
``missed`` or ``unlinked_absent`` (rightly unlinked), and ``wrong_subject`` says whether
it is a wrong-subject link. For false and missed links the ``err_*`` errors involved are
listed: on the record, on the spine rows carrying the record's identity, and on the
spine row it was linked to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audits.link_counts import (
    COUNT_COLUMNS,
    STATE_FLAGS,
    GroupKey,
    Tally,
    cell_ids,
    combinations,
    first_positions,
    record_states,
    summed_counts,
)
from audits.link_truth import (
    CARRIED,
    ERR,
    Truth,
    carried,
    link_rows,
    record_errors,
    truth_of,
)
from simulator.errors import InputDataError
from simulator.frames import STRING
from simulator.id_positions import IdPositions
from simulator.vocabulary import CARRIED_IDENTITY, OVERALL

BY_GROUP_ORDER = (
    "ethnicity",
    "imd_decile",
    "imd_quintile",
    "tenure",
    "lone_parent",
    "moved_recently",
    "withholds_consent",
)
"""The group columns (:data:`simulator.vocabulary.GROUP_COLUMNS`, a test checks) in
the row order of the by-group table, used by default where present: ethnicity and
deprivation first, as the table has always been written."""

OUTCOMES = ("correct", "linked_wrong", "linked_absent", "missed", "unlinked_absent")
METRIC_COLUMNS = (
    *(c for c in COUNT_COLUMNS if c != "n_subject"),
    "precision",
    "recall",
    "f1",
    "subject_precision",
)
"""The counts of a link-quality table (``n_records`` to ``n_wrong_subject``), then
its rates."""
RECORD_COLUMNS = [
    "source",
    "record_id",
    "true_person_id",
    CARRIED_IDENTITY,
    "true_household_id",
    "spine_person_id",
    "linkable",
    "linked",
    "correct",
    "false_link",
    "missed",
    "true_subject",
    "wrong_subject",
    "outcome",
]
"""The columns of :attr:`LinkQuality.records`."""


@dataclass(frozen=True)
class LinkQuality:
    """Linkage quality of one links table.

    Attributes
    ----------
    records : DataFrame
        One row per record: ``source``, ``record_id``, ``true_person_id``,
        ``true_identity_person_id``, ``true_household_id``, ``spine_person_id``,
        booleans ``linkable``, ``linked``, ``correct``, ``false_link``, ``missed``,
        ``true_subject`` (linked to the person the event concerns) and
        ``wrong_subject`` (correct, but not that person), and ``outcome``.
    overall : DataFrame
        One row of :data:`METRIC_COLUMNS`.
    by_source : DataFrame
        :data:`METRIC_COLUMNS` per source (index ``source``).
    by_group : DataFrame
        Long format: ``group`` (a household column), ``value`` (as a string), then
        :data:`METRIC_COLUMNS`; empty if no households table was given.
    errors : DataFrame
        The false and missed links: ``source``, ``record_id``, ``outcome``,
        ``true_person_id``, ``true_identity_person_id``, ``spine_person_id``,
        ``true_spine_person_id`` (the lowest spine id carrying the record's
        identity, NA if none) and the ``;``-joined error names ``record_causes``,
        ``true_spine_causes`` (on the spine rows carrying that identity) and
        ``linked_spine_causes`` (empty string if none).
    causes : DataFrame
        Per error name (``cause``) and where it was (``side``: ``record``,
        ``true_spine``, ``linked_spine``): how many false and missed links
        involve it (``n_false``, ``n_missed``).
    by_source_group : DataFrame
        As ``by_group``, for each source's records alone: ``source`` first. The
        file ``linkage/quality_by_group`` is both (:func:`by_source_and_group`).
    """

    records: pd.DataFrame
    overall: pd.DataFrame
    by_source: pd.DataFrame
    by_group: pd.DataFrame
    errors: pd.DataFrame
    causes: pd.DataFrame
    by_source_group: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["source", "group", "value", *METRIC_COLUMNS]
        )
    )


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    num = num.astype(float)
    den = den.astype(float)
    return (num / den.where(den > 0)).astype(float)


def summarise(records: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Precision, recall, F1 and counts of record outcomes, overall or by columns.

    Parameters
    ----------
    records : DataFrame
        With boolean ``linkable``, ``linked``, ``correct``, ``false_link``,
        ``missed`` and, optionally, ``true_subject`` and ``wrong_subject`` (as
        :attr:`LinkQuality.records`; without them every correct link is taken to
        concern its true subject).
    by : sequence of str
        Grouping columns; none for one overall row.

    Returns
    -------
    DataFrame
        :data:`METRIC_COLUMNS`, indexed by the groups (as ``groupby(by,
        observed=True, sort=True, dropna=False)``; a default index if none).
        Precision and subject precision are NaN where nothing was linked, recall
        where nothing was linkable.

    Examples
    --------
    >>> r = pd.DataFrame({"linkable": [True, True, False],
    ...                   "linked": [True, False, True],
    ...                   "correct": [True, False, False]})
    >>> r["false_link"] = r.linked & ~r.correct
    >>> r["missed"] = r.linkable & ~r.correct
    >>> summarise(r)[["precision", "recall", "f1"]].round(3).to_dict("records")
    [{'precision': 0.5, 'recall': 0.5, 'f1': 0.5}]
    """
    keys = [GroupKey.of(records[c]) for c in by]
    return with_rates(summed_counts(_states(records), keys))


def _states(records: pd.DataFrame) -> np.ndarray:
    """Each record's flags packed (:func:`audits.link_counts.record_states`)."""
    flags = {f: records[f] for f in STATE_FLAGS[:5]}
    subject = records.get("true_subject", flags["correct"])
    flags["wrong_subject"] = records.get("wrong_subject", flags["correct"] & ~subject)
    flags["true_subject"] = subject
    return record_states([flags[f].to_numpy(bool) for f in STATE_FLAGS])


def with_rates(counts: pd.DataFrame) -> pd.DataFrame:
    """:data:`METRIC_COLUMNS` of link counts, with the rates computed from them.

    Parameters
    ----------
    counts : DataFrame
        The ``n_*`` columns of :data:`METRIC_COLUMNS` and ``n_subject`` (links that
        reached the person the event concerns), any index; not changed.

    Returns
    -------
    DataFrame
        :data:`METRIC_COLUMNS`, on ``counts``'s index; a rate is NaN where its
        denominator is 0.
    """
    counts = counts.copy()
    p = _ratio(counts["n_correct"], counts["n_linked"])
    r = _ratio(counts["n_correct"], counts["n_linkable"])
    counts["precision"] = p
    counts["recall"] = r
    counts["f1"] = (2 * p * r / (p + r)).where((p + r) > 0, np.nan)
    counts["subject_precision"] = _ratio(counts["n_subject"], counts["n_linked"])
    return counts[list(METRIC_COLUMNS)]


def _joined_names(flags: pd.DataFrame) -> pd.Series:
    """Each row's True columns, names without ``err_``, joined by ``;``.

    Joined once per distinct row of flags (a few hundred), then taken per row.
    """
    marks = flags.to_numpy(bool).reshape(len(flags), flags.shape[1])
    names = np.array([str(c).removeprefix(ERR) for c in flags.columns], dtype=object)
    kinds = np.zeros(len(marks), dtype=np.int64)  # no error columns: one kind
    if marks.shape[1]:
        kinds = cell_ids(list(marks.T.astype(np.int64)), [2] * marks.shape[1])
    first = first_positions(kinds, int(kinds.max()) + 1 if len(kinds) else 0)
    joined = [";".join(names[marks[row]]) for row in first]  # distinct rows
    out = np.array(joined, dtype=object)[kinds]
    return pd.Series(pd.array(out, dtype=STRING), index=flags.index)


def link_quality(
    links: pd.DataFrame,
    sources: Mapping[str, pd.DataFrame],
    spine: pd.DataFrame,
    households: pd.DataFrame | None = None,
    *,
    group_columns: Sequence[str] | None = None,
) -> LinkQuality:
    """Measure a links table against the truth.

    Parameters
    ----------
    links : DataFrame
        ``source``, ``record_id``, ``spine_person_id`` (NA if unlinked); records
        absent from it count as unlinked.
    sources : mapping of str to DataFrame
        Each agency's records with hidden ``true_person_id``, ``true_household_id``
        and ``err_*`` columns.
    spine : DataFrame
        With ``spine_person_id``, hidden ``true_person_id`` and ``err_*`` columns.
    households : DataFrame, optional
        The truth households table (``household_id`` plus group columns).
    group_columns : sequence of str, optional
        Household columns to break results down by; default: those of
        :data:`BY_GROUP_ORDER` that ``households`` has.

    Returns
    -------
    LinkQuality
    """
    groups = household_groups(households, group_columns)
    truth = truth_of(sources)
    part = quality_part(links, truth, SpineTruth.of(spine), groups, keep_records=True)
    return combined([part], groups is not None)


@dataclass(frozen=True)
class SpineTruth:
    """The spine's truth as link quality reads it, indexed once.

    Batches of records judged one after another (:mod:`audits.link_quality_files`)
    share it, rather than each building the spine's indexes and scanning its
    columns again (a pass over every spine row per batch).

    Attributes
    ----------
    person_id : ndarray of int64
        Each row's ``spine_person_id``.
    person : IdPositions
        Each ``spine_person_id``'s row (unique).
    subject, identity : ndarray of int64
        Each row's ``true_person_id`` and the identity it carries.
    on_spine : IdPositions
        The identities carried (repeated where a person is on the spine twice).
    by_identity : ndarray of int64
        Rows in order of the identity they carry (stable), for :meth:`carried_errors`.
    ordered : ndarray of int64
        The identities carried in that order (sorted once, not per batch).
    errors : Table
        The rows' ``err_*`` flags, missing ones False: Arrow's bits, an eighth of
        a frame of booleans, read for the few rows :meth:`flags` is asked for.
    """

    person_id: np.ndarray
    person: IdPositions
    subject: np.ndarray
    identity: np.ndarray
    on_spine: IdPositions
    by_identity: np.ndarray
    ordered: np.ndarray
    errors: pa.Table

    @classmethod
    def of(cls, spine: pd.DataFrame, errors: pa.Table | None = None) -> SpineTruth:
        """Index a spine with ``spine_person_id``, hidden truth and ``err_*`` flags.

        ``errors``: the flags as Arrow columns (a spine read from a file), in
        place of ``spine``'s ``err_*`` columns.

        Raises
        ------
        InputDataError
            If a ``spine_person_id`` repeats.
        """
        person_id = spine["spine_person_id"].to_numpy(np.int64)
        person = IdPositions(person_id)
        if not person.is_unique:
            raise InputDataError("spine has a spine_person_id more than once")
        identity = carried(spine)
        by_identity = np.argsort(identity, kind="stable")
        if errors is None:
            flags = [c for c in spine.columns if c.startswith(ERR)]
            errors = pa.table(
                {c: spine[c].fillna(False).astype(bool).to_numpy(bool) for c in flags}
            )
        filled = [pc.fill_null(column, False) for column in errors.columns]
        return cls(
            person_id=person_id,
            person=person,
            subject=spine["true_person_id"].to_numpy(np.int64),
            identity=identity,
            on_spine=IdPositions(identity),
            by_identity=by_identity,
            ordered=identity[by_identity],
            errors=pa.table(filled, names=errors.column_names).combine_chunks(),
        )

    def flags(self, rows: np.ndarray) -> np.ndarray:
        """The ``err_*`` flags of spine rows ``rows`` (-1: none, all False).

        One row of booleans per row asked for, a column per flag.
        """
        out = np.zeros((len(rows), self.errors.num_columns), dtype=bool)
        there = np.flatnonzero(rows >= 0)
        if len(there) and self.errors.num_columns:
            taken = self.errors.take(pa.array(rows[there]))
            for k, column in enumerate(taken.columns):  # flags, not rows
                out[there, k] = column.to_numpy()
        return out

    def carried_errors(
        self, identities: np.ndarray
    ) -> tuple[np.ndarray, pd.arrays.IntegerArray]:
        """Per identity, the flags on any spine row carrying it and the lowest such row.

        Flags as :meth:`flags` (all False where no row carries the identity) and
        ``spine_person_id`` (NA there); only the rows carrying ``identities`` are
        read, each identity's run of :attr:`ordered` reduced at once.

        Examples
        --------
        >>> t = SpineTruth.of(pd.DataFrame({"spine_person_id": [5, 6, 7],
        ...                                 "true_person_id": [2, 1, 2],
        ...                                 "err_x": [False, True, True]}))
        >>> flags, first = t.carried_errors(np.array([2, 9, 1]))
        >>> flags[:, 0].tolist(), first.tolist()
        ([True, False, True], [5, <NA>, 6])
        """
        wanted, back = np.unique(identities, return_inverse=True)
        start = np.searchsorted(self.ordered, wanted, side="left")
        lengths = np.searchsorted(self.ordered, wanted, side="right") - start
        ends = np.cumsum(lengths)
        within = np.arange(ends[-1] if len(ends) else 0) - np.repeat(
            ends - lengths, lengths
        )
        rows = self.by_identity[np.repeat(start, lengths) + within]
        has = lengths > 0
        flags = np.zeros((len(wanted), self.errors.num_columns), dtype=bool)
        first = np.zeros(len(wanted), dtype=np.int64)
        if has.any():  # each identity's rows are a run: reduced from its start
            starts = (ends - lengths)[has]
            flags[has] = np.logical_or.reduceat(self.flags(rows), starts, axis=0)
            first[has] = np.minimum.reduceat(self.person_id[rows], starts)
        back = back.reshape(-1)
        return flags[back], pd.arrays.IntegerArray(first[back], ~has[back])


@dataclass(frozen=True)
class QualityPart:
    """Link quality of some of the records, to be combined (:func:`combined`).

    ``records`` are the judged records (:attr:`LinkQuality.records`; none unless
    kept), ``tally`` their states by source and group, ``errors`` and ``flags``
    their false and missed links (:func:`_errors`).
    """

    records: pd.DataFrame
    tally: Tally
    errors: pd.DataFrame
    flags: dict[str, pd.DataFrame]


def quality_part(
    links: pd.DataFrame,
    truth: Truth,
    spine: SpineTruth,
    groups: HouseholdGroups | None,
    *,
    keep_records: bool = False,
) -> QualityPart:
    """Judge the records of ``truth`` (every source's, or a batch of one's).

    The source key's codes follow ``truth.sources``, so batches whose mapping
    names every source (the others with no rows) share them, and so do the group
    keys, factorised over the households once.
    """
    return judged_part(
        _linked_ids(links, truth), truth, spine, groups, keep_records=keep_records
    )


def judged_part(
    linked_ids: pd.Series,
    truth: Truth,
    spine: SpineTruth,
    groups: HouseholdGroups | None,
    *,
    keep_records: bool = False,
    record_flags: Callable[[np.ndarray], pd.DataFrame] | None = None,
) -> QualityPart:
    """:func:`quality_part` of records whose links the caller has found already.

    ``linked_ids`` is each record of ``truth``'s linked ``spine_person_id`` (NA if
    unlinked), in its order: a batch read beside its links
    (:mod:`audits.link_quality_files`) has them, without looking each record up in
    a links table of the batch (:func:`audits.link_truth.link_rows`).
    ``record_flags`` gives the ``err_*`` flags of records ``rows`` as
    :func:`audits.link_truth.record_errors` does, by default from
    ``truth.sources``: a batch without its flags in those frames reads them for
    its false and missed links alone.
    """
    judged = _judged(linked_ids, truth, spine)
    if record_flags is None:
        record_flags = partial(record_errors, truth)
    errors, flags = _errors(judged, record_flags, spine)
    if groups is None:
        tally = Tally.of(judged.state, [truth.source])
    else:
        households = truth.frame["true_household_id"].to_numpy()
        tally = groups.tally(
            judged.state, truth.source, households, batch=not keep_records
        )
    records = judged.records(None if keep_records else np.empty(0, np.int64))
    return QualityPart(records, tally, errors, flags)


def combined(parts: Sequence[QualityPart], households: bool) -> LinkQuality:
    """The link quality of every part's records together, tables as of one frame.

    Counts are summed over the parts' cells (exact integers), and errors listed
    in the parts' order.
    """
    tally = (
        parts[0].tally if len(parts) == 1 else Tally.merged([p.tally for p in parts])
    )
    errors = pd.concat([p.errors for p in parts], ignore_index=True)
    flags = {
        side: pd.concat([p.flags[side] for p in parts], ignore_index=True)
        for side in parts[0].flags
    }
    return LinkQuality(
        records=pd.concat([p.records for p in parts], ignore_index=True),
        overall=with_rates(tally.summed([])),
        by_source=with_rates(tally.summed([0])),
        by_group=_by_group(tally, households),
        errors=errors,
        causes=_cause_counts(errors, flags),
        by_source_group=_by_group(tally, households, within_source=True),
    )


def judge_links(
    links: pd.DataFrame, sources: Mapping[str, pd.DataFrame], spine: pd.DataFrame
) -> pd.DataFrame:
    """Every record judged against the truth: :attr:`LinkQuality.records`."""
    truth = truth_of(sources)
    return _judged(_linked_ids(links, truth), truth, SpineTruth.of(spine)).records()


@dataclass(frozen=True)
class _Judged:
    """Every record judged: what :func:`link_quality` counts and lists.

    ``truth`` is the records with their truth columns, ``to_id`` their links'
    ``spine_person_id``, ``flags`` their judgement: :meth:`records` puts them
    together with each record's outcome (:func:`_outcomes`, worked out for the
    rows listed alone); ``state`` each record's flags packed
    (:func:`audits.link_counts.record_states`); ``to_spine`` the position in the
    spine of the row it is linked to (-1 if unlinked or linked to none).
    """

    truth: Truth
    to_id: pd.Series
    flags: dict[str, np.ndarray]
    state: np.ndarray
    to_spine: np.ndarray

    def records(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        """:attr:`LinkQuality.records`, of records ``rows`` alone if given.

        As the whole table's ``iloc[rows]`` on a default index: a batch's
        table is built only for its false and missed links, not every record.
        """
        rec, to_id, flags = self.truth.frame, self.to_id, self.flags
        if rows is not None:
            rec = rec.iloc[rows].reset_index(drop=True)
            to_id = to_id.iloc[rows].reset_index(drop=True)
            flags = {name: flag[rows] for name, flag in flags.items()}
        records = pd.DataFrame(
            {
                "source": self.truth.source_names(rows),
                **{c: rec[c] for c in rec.columns},
                "spine_person_id": to_id,
                **flags,
                "outcome": pd.Categorical.from_codes(
                    _outcomes(flags), categories=list(OUTCOMES)
                ),
            }
        )
        return records[RECORD_COLUMNS]


def _linked_ids(links: pd.DataFrame, truth: Truth) -> pd.Series:
    """Each truth record's linked ``spine_person_id`` in ``links`` (NA if none)."""
    rows = link_rows(links, truth)
    return pd.Series(links["spine_person_id"].array.take(rows, allow_fill=True))


def _judged(to_id: pd.Series, truth: Truth, spine: SpineTruth) -> _Judged:
    """Every record with its truth and its link's outcome (``to_id``: its link)."""
    rec = truth.frame
    spine_subject = spine.subject
    spine_identity = spine.identity
    identity = rec[CARRIED].to_numpy(np.int64)
    subject = rec["true_person_id"].to_numpy(np.int64)
    on_spine = spine.on_spine.contains(identity)
    linked = to_id.notna().to_numpy()
    to = to_id.to_numpy(np.int64, na_value=0)[linked]
    at = spine.person.positions(to)
    there = at >= 0
    to_spine = np.full(len(rec), -1, dtype=np.int64)
    to_spine[linked] = at
    correct = np.zeros(len(rec), dtype=bool)
    correct[linked] = there & (spine_identity[at] == identity[linked])
    true_subject = np.zeros(len(rec), dtype=bool)
    true_subject[linked] = there & (spine_subject[at] == subject[linked])
    false_link = linked & ~correct
    missed = on_spine & ~correct
    wrong_subject = correct & ~true_subject
    flags = {
        "linkable": on_spine,
        "linked": linked,
        "correct": correct,
        "false_link": false_link,
        "missed": missed,
        "true_subject": true_subject,
        "wrong_subject": wrong_subject,
    }
    state = record_states([flags[f] for f in STATE_FLAGS])
    return _Judged(truth, to_id, flags, state, to_spine)


def _outcomes(flags: Mapping[str, np.ndarray]) -> np.ndarray:
    """Each record's outcome (int8 codes of :data:`OUTCOMES`) from its flags."""
    correct, linked, on_spine = flags["correct"], flags["linked"], flags["linkable"]
    outcome = np.select(
        [correct, linked & on_spine, linked, on_spine], [0, 1, 2, 3], default=4
    )
    return outcome.astype(np.int8)


def _errors(
    judged: _Judged,
    record_flags: Callable[[np.ndarray], pd.DataFrame],
    spine: SpineTruth,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The false and missed links with their causes, and the cause flags by side.

    ``record_flags``: the ``err_*`` flags of records at given rows.
    """
    rows = np.flatnonzero(judged.flags["false_link"] | judged.flags["missed"])
    bad = judged.records(rows)
    record_side = record_flags(rows)
    spine_errs = spine.errors.column_names
    # Errors on any spine row carrying the record's identity (duplicates included):
    # only the rows carrying the identity of a false or missed link are read.
    carried_flags, first_row = spine.carried_errors(bad[CARRIED].to_numpy(np.int64))
    true_side = pd.DataFrame(carried_flags, columns=spine_errs)
    linked_side = pd.DataFrame(spine.flags(judged.to_spine[rows]), columns=spine_errs)
    out = pd.DataFrame(
        {
            "source": bad["source"],
            "record_id": bad["record_id"].astype(np.int64),
            "outcome": bad["outcome"],
            "true_person_id": bad["true_person_id"].astype(np.int64),
            CARRIED: bad[CARRIED].astype(np.int64),
            "spine_person_id": bad["spine_person_id"],
            "true_spine_person_id": first_row,
            "record_causes": _joined_names(record_side),
            "true_spine_causes": _joined_names(true_side),
            "linked_spine_causes": _joined_names(linked_side),
        }
    )
    flags = {
        "record": record_side,
        "true_spine": true_side,
        "linked_spine": linked_side,
    }
    return out, flags


def _cause_counts(
    errors: pd.DataFrame, flags: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    false_ = errors["outcome"].isin(["linked_wrong", "linked_absent"]).to_numpy()
    missed = errors["outcome"].isin(["linked_wrong", "missed"]).to_numpy()
    rows = []
    for side, f in flags.items():  # three sides, not rows
        m = f.to_numpy(bool).reshape(len(f), f.shape[1])
        rows.append(
            pd.DataFrame(
                {
                    "cause": [c.removeprefix(ERR) for c in f.columns],
                    "side": side,
                    "n_false": m[false_].sum(axis=0).astype(np.int64),
                    "n_missed": m[missed].sum(axis=0).astype(np.int64),
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    out = out[(out["n_false"] > 0) | (out["n_missed"] > 0)]
    return out.sort_values(
        ["side", "n_missed", "n_false", "cause"],
        ascending=[True, False, False, True],
        ignore_index=True,
    )


@dataclass(frozen=True)
class HouseholdGroups:
    """The truth households' group columns, each factorised once over households.

    ``table`` is indexed by ``household_id``; ``at`` finds its rows (None if a
    household id repeats); ``keys`` are the columns' keys over its rows;
    ``combination`` each row's combination of their codes and ``codes`` each
    key's code of each combination (:func:`audits.link_counts.combinations`; none
    without keys).
    """

    table: pd.DataFrame
    at: IdPositions | None
    keys: list[GroupKey]
    combination: np.ndarray | None = None
    codes: list[np.ndarray] = field(default_factory=list)

    def tally(
        self, state: np.ndarray, source: GroupKey, ids: np.ndarray, *, batch: bool
    ) -> Tally:
        """Records of ``state`` and households ``ids`` counted by source and groups.

        Keyed by ``source`` then each group column, through the records'
        households. Records are counted by their household's combination of group
        codes (one code taken per record, not one per group column; a few hundred
        cells, not every product of the columns' values), each cell then given
        the columns' codes of its combination: the cells and counts of counting
        by every column's key.

        If a record's household is not in the table (or ids repeat), the keys are
        over the records themselves (its group value is missing); not for a
        ``batch``, whose codes must be those of every other batch.
        """
        at = self.at.positions(ids) if self.at is not None else None
        if at is None or not (at >= 0).all():
            return Tally.of(state, [source, *self._joined(ids, batch)])
        if self.combination is None:
            return Tally.of(state, [source])
        n = len(self.codes[0])
        both = GroupKey(None, self.combination[at], pd.RangeIndex(n).to_series())
        cells = Tally.of(state, [source, both])
        at_cell = cells.keys[1].codes
        keys = (
            GroupKey(k.name, c[at_cell], k.values)
            for k, c in zip(self.keys, self.codes, strict=True)
        )
        return Tally(cells.state, (cells.keys[0], *keys), cells.counts)

    def _joined(self, ids: np.ndarray, batch: bool) -> list[GroupKey]:
        """The keys over the records' households joined (missing ones NA)."""
        if batch:
            raise InputDataError(
                "a record's household is missing from the households table, or a "
                "household_id repeats"
            )
        joined = self.table.reindex(ids).reset_index(drop=True)
        return [GroupKey.of(joined[c]) for c in self.table.columns]


def household_groups(
    households: pd.DataFrame | None, group_columns: Sequence[str] | None
) -> HouseholdGroups | None:
    """The households' group columns (:class:`HouseholdGroups`); None without them.

    The columns are ``group_columns``, by default those of :data:`BY_GROUP_ORDER`
    that ``households`` has.
    """
    if households is None:
        return None
    cols = (
        [c for c in BY_GROUP_ORDER if c in households.columns]
        if group_columns is None
        else list(group_columns)
    )
    missing = [c for c in ["household_id", *cols] if c not in households.columns]
    if missing:
        raise InputDataError(f"households table lacks column(s) {', '.join(missing)}")
    hh = households.set_index("household_id")[cols]
    at = IdPositions(hh.index)
    if not at.is_unique:
        return HouseholdGroups(hh, None, [])
    keys = [GroupKey.of(hh[c]) for c in cols]
    if not keys:
        return HouseholdGroups(hh, at, keys)
    return HouseholdGroups(hh, at, keys, *combinations(keys))


def _by_group(
    tally: Tally, households: bool, *, within_source: bool = False
) -> pd.DataFrame:
    """:func:`summarise` by each group key of ``tally`` in turn.

    The group keys are ``tally``'s keys after the first (the source); within each
    source if ``within_source``; empty without ``households``.
    """
    by = ["source"] if within_source else []
    empty = pd.DataFrame(columns=[*by, "group", "value", *METRIC_COLUMNS])
    parts = []
    for i in range(1, len(tally.keys) if households else 1):  # group columns
        s = with_rates(tally.summed([0, i] if within_source else [i]))
        s = s.reset_index(names=[*by, "value"])
        s["value"] = s["value"].astype(str).astype(STRING)
        s.insert(len(by), "group", tally.keys[i].name)
        parts.append(s)
    return pd.concat(parts, ignore_index=True) if parts else empty


def by_source_and_group(
    by_group: pd.DataFrame, per_source: pd.DataFrame
) -> pd.DataFrame:
    """The table ``linkage/quality_by_group``: every source's rows, then each source's.

    Parameters
    ----------
    by_group : DataFrame
        :attr:`LinkQuality.by_group` (every source together).
    per_source : DataFrame
        :attr:`LinkQuality.by_source_group` (``source`` first).

    Returns
    -------
    DataFrame
        ``source`` (``overall`` for every source together, then each source in
        order), ``group``, ``value`` and :data:`METRIC_COLUMNS`; within a source,
        the groups in :attr:`LinkQuality.by_group`'s order.
    """
    every = by_group.assign(source=OVERALL)
    columns = ["source", "group", "value", *METRIC_COLUMNS]
    ordered = per_source.sort_values("source", kind="stable")
    out = pd.concat([every[columns], ordered[columns]], ignore_index=True)
    out["source"] = out["source"].astype(str).astype(STRING)
    return out
