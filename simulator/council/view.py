"""The linked family view: one row of council-derived features per spine household.

The council links every agency's records to its family index (the spine) and counts,
for each spine household, what the linked records say. A record counts for the
household its link points to, whoever it truly concerns: a wrong link adds someone
else's police incident to a family, and a missed link removes the family's own. That
is the point of the view: models see the linked data, never the truth.

Columns (:func:`feature_columns` gives them in order; every column is numeric):

======================================  ========  =====================================
column                                  dtype     meaning
======================================  ========  =====================================
``<source>_<event_type>``               int64     linked events of that type up to the
                                                  reference date, one column per entry
                                                  of ``ViewConfig.events`` (e.g.
                                                  ``police_incident``,
                                                  ``police_domestic_abuse_callout``)
``education_pupils``                    int64     linked pupil-census rows (pupils on a
                                                  school roll)
``education_persistent_absence``        int64     of those, pupils whose absence rate is
                                                  at least ``persistent_absence``
``education_max_absence_rate``          float64   highest linked absence rate (0 if no
                                                  pupil is linked)
``n_events``                            int64     all counted events (the event columns
                                                  plus persistently absent pupils)
``n_agencies``                          int64     sources with at least one counted
                                                  event
``n_members``                           int64     people on the spine in the household
``n_adults``, ``n_children``            int64     members aged ``adult_age`` or more,
                                                  and under it, at the reference date
                                                  (from the date of birth held)
``n_school_age``                        int64     members of compulsory school age
``n_age_unknown``                       int64     members with no date of birth held
``lone_adult``                          bool      one adult and at least one child
``imd_decile``                          float64   IMD decile (1 = most deprived) of the
                                                  postcode sector the council holds;
                                                  5.5 where it is unknown
``imd_unknown``                         bool      no postcode, or a postcode sector the
                                                  public lookup does not know
======================================  ========  =====================================

The index is ``spine_household_id`` (int64, sorted), with every spine household, even
one with no linked record. Only the columns named in the contract are read: hidden
``true_``/``err_`` columns are dropped first
(:func:`simulator.frames.council_view`),
and of the deprivation lookup only ``postcode_sector`` and ``imd_decile`` (public
statistics) are read.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from simulator.errors import InputDataError
from simulator.frames import arrow_text, council_view
from simulator.id_positions import IdPositions
from simulator.schema.scenario import Scenario
from simulator.schema.view import ViewConfig
from simulator.vocabulary import INDEX

logger = logging.getLogger(__name__)

"""Name of the view's index."""

VIEW_SPINE_IDENTITY = ("dob", "postcode")
"""The spine's identity fields the view reads (ages, and the area's deprivation)."""
SPINE_COLUMNS = ("spine_person_id", INDEX, *VIEW_SPINE_IDENTITY)
"""Every spine column the view reads."""
RECORD_COLUMNS = ("event_type", "event_date")
"""The record columns the view reads (besides ``record_id``, to find the link)."""
OPTIONAL_COLUMNS = ("absence_rate",)
"""Record columns the view reads where a source has them (pupil-census rows)."""

CENSUS = ("education", "pupil_census")
"""The register rows that carry a pupil's absence rate."""

LABEL_EVENT = "social_care.followup_referral"
"""What the council observes after the reference date: the learned models' label."""

EDUCATION_COLUMNS = (
    "education_pupils",
    "education_persistent_absence",
    "education_max_absence_rate",
)
SUMMARY_COLUMNS = ("n_events", "n_agencies")
COMPOSITION_COLUMNS = (
    "n_members",
    "n_adults",
    "n_children",
    "n_school_age",
    "n_age_unknown",
    "lone_adult",
)
AREA_COLUMNS = ("imd_decile", "imd_unknown")
DEPRIVATION_COLUMNS = ("postcode_sector", "imd_decile")
"""The public IMD lookup's columns (of the generated ``areas``): all the view reads."""
IMD_UNKNOWN = 5.5
"""``imd_decile`` of a household whose area is unknown: the middle of the scale."""


def event_column(event: str) -> str:
    """The view column of an event: ``"police.incident"`` -> ``"police_incident"``."""
    source, event_type = event.split(".", 1)
    return f"{source}_{event_type}"


def feature_columns(config: ViewConfig) -> tuple[str, ...]:
    """Every column of the view built with ``config``, in order."""
    return (
        tuple(event_column(e) for e in config.events)
        + EDUCATION_COLUMNS
        + SUMMARY_COLUMNS
        + COMPOSITION_COLUMNS
        + AREA_COLUMNS
    )


# ------------------------------------------------------------------------- inputs


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputDataError(
            f"{what}: missing column(s) {', '.join(missing)}; expected "
            f"{', '.join(columns)}"
        )


def _few(values: np.ndarray, k: int = 5) -> str:
    shown = ", ".join(str(v) for v in values[:k])
    return shown + (", ..." if len(values) > k else "")


def spine_households(spine: pd.DataFrame) -> pd.Index:
    """The sorted, unique ``spine_household_id`` values of the spine (the view index).

    Parameters
    ----------
    spine : DataFrame
        The council's family index, with ``spine_household_id``.

    Returns
    -------
    pandas.Index
        int64, sorted, named ``spine_household_id``.
    """
    _require(spine, (INDEX,), "spine")
    ids = spine[INDEX]
    if ids.isna().any():
        raise InputDataError(f"spine: {INDEX} has missing values")
    return pd.Index(sorted_unique(ids.to_numpy(np.int64)), name=INDEX)


def sorted_unique(ids: np.ndarray) -> np.ndarray:
    """``np.unique(ids)``; ids numbered from 0, as the council numbers them, counted.

    Examples
    --------
    >>> sorted_unique(np.array([3, 0, 3, 1])).tolist()
    [0, 1, 3]
    """
    if len(ids) and ids.min() >= 0 and ids.max() < 4 * len(ids):
        return np.flatnonzero(np.bincount(ids)).astype(ids.dtype)
    return np.unique(ids)


def _positions(households: pd.Index, ids: np.ndarray, what: str) -> np.ndarray:
    """Row of each id in ``households``; an error names ids that are not there."""
    pos = rows_of(households, ids)
    unknown = pos < 0
    if unknown.any():
        raise not_on_spine(ids[unknown], what)
    return pos


def rows_of(households: pd.Index, ids: np.ndarray) -> np.ndarray:
    """``households.get_indexer(ids)`` (-1: not there) of the view's households.

    ``households`` sorted and unique (:func:`spine_households`); where they are
    consecutive integers (as the council numbers them), by subtraction, not a hash
    table.

    Examples
    --------
    >>> rows_of(pd.Index([4, 5, 6]), np.array([6, 3, 4, 7])).tolist()
    [2, -1, 0, -1]
    >>> rows_of(pd.Index([4, 6]), np.array([6, 5])).tolist()
    [1, -1]
    """
    n = len(households)
    if not n or households[-1] - households[0] != n - 1:
        return np.asarray(households.get_indexer(ids), dtype=np.int64)
    rows = ids.astype(np.int64) - households[0]
    rows[(rows < 0) | (rows >= n)] = -1
    return rows


def not_on_spine(ids: np.ndarray, what: str) -> InputDataError:
    """The error naming household ``ids`` (repeats allowed): not on the spine."""
    bad = np.unique(ids)
    return InputDataError(
        f"{what}: {len(bad)} spine household id(s) are not on the spine, e.g. "
        f"{_few(bad)}"
    )


def linked_records(
    sources: Mapping[str, pd.DataFrame],
    links: pd.DataFrame,
    columns: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> dict[str, pd.DataFrame]:
    """Each source's linked records with the spine household their link points to.

    Parameters
    ----------
    sources : mapping of str to DataFrame
        Each agency's records; hidden ``true_``/``err_`` columns are dropped first.
    links : DataFrame
        The links table (:mod:`simulator.council.linkage.links`): ``source``,
        ``record_id``
        and ``spine_household_id`` are read.
    columns : tuple of str
        Record columns to keep besides ``record_id``.
    optional : tuple of str
        Record columns to keep where a source has them.

    Returns
    -------
    dict of str to DataFrame
        Per source, its linked records (``record_id``, ``columns``, the ``optional``
        columns it has, and ``spine_household_id`` as int64); unlinked records are
        left out.

    Raises
    ------
    InputDataError
        If a column is missing, a record has no row in the links table, or a record
        has two.
    """
    link_cols = ("source", "record_id", INDEX)
    _require(links, link_cols, "links table")
    by_source = dict(
        tuple(links[list(link_cols)].groupby("source", sort=False, observed=True))
    )
    out = {}
    for name, frame in sources.items():
        records = council_view(frame)
        _require(records, ("record_id", *columns), f"{name} records")
        lk = by_source.get(name, links.iloc[:0])[["record_id", INDEX]]
        linked_ids = IdPositions(lk["record_id"].to_numpy(np.int64))
        if not linked_ids.is_unique:
            dup = lk["record_id"].duplicated()
            raise InputDataError(
                f"links table: {int(dup.sum())} {name} record(s) have two rows or "
                f"more, e.g. record_id {_few(lk.loc[dup, 'record_id'].to_numpy())}"
            )
        record_id = records["record_id"].to_numpy(np.int64)
        row = linked_ids.positions(record_id)
        absent = row < 0
        if absent.any():
            raise InputDataError(
                f"links table: {int(absent.sum())} {name} record(s) have no row (the "
                f"links table has one row per record, linked or not), e.g. "
                f"record_id {_few(record_id[absent])}"
            )
        household = lk[INDEX]
        linked = household.notna().to_numpy()[row]
        keep = ["record_id", *columns, *(c for c in optional if c in records)]
        rows = records[keep].reset_index(drop=True).loc[linked]
        rows[INDEX] = household.to_numpy(np.int64, na_value=0)[row[linked]]
        out[name] = rows
    return out


def in_window(dates: pd.Series | np.ndarray, reference_date: dt.date) -> np.ndarray:
    """True where an event happened on or before the reference date (NaT: False).

    ``dates`` any pandas reads as dates, or NumPy's ``datetime64`` (the same
    seconds: both floor a finer unit).
    """
    ref = np.datetime64(reference_date, "s")
    if isinstance(dates, np.ndarray) and dates.dtype.kind == "M":
        values = dates.astype("datetime64[s]")
    else:
        values = pd.to_datetime(dates).to_numpy("datetime64[s]")
    return ~np.isnat(values) & (values <= ref)


def _deprivation_lookup(deprivation: pd.DataFrame) -> pd.Series:
    """``imd_decile`` (float) by normalised ``postcode_sector``; checks the lookup."""
    _require(deprivation, DEPRIVATION_COLUMNS, "deprivation lookup")
    sector = normalise_sector(deprivation["postcode_sector"])
    decile = pd.to_numeric(deprivation["imd_decile"], errors="coerce").to_numpy(float)
    bad = ~np.isin(decile, np.arange(1, 11))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"deprivation lookup: row {row + 1}: imd_decile must be an integer from 1 "
            f"to 10, found {deprivation['imd_decile'].iloc[row]!r}"
        )
    if sector.isna().any():
        row = int(np.flatnonzero(sector.isna().to_numpy())[0])
        raise InputDataError(
            f"deprivation lookup: row {row + 1}: postcode_sector is empty"
        )
    dup = sector.duplicated()
    if dup.any():
        raise InputDataError(
            f"deprivation lookup: postcode_sector is not unique, e.g. "
            f"{_few(sector[dup].unique())}"
        )
    return pd.Series(decile, index=pd.Index(sector.to_numpy(object)))


@dataclass(frozen=True)
class Deprivation:
    """The public IMD lookup, checked: each known sector and its decile (1 to 10)."""

    sectors: pa.Array
    deciles: np.ndarray


def deprivation_lookup(deprivation: pd.DataFrame) -> Deprivation:
    """The lookup as :func:`person_deciles` reads it; an error names what is wrong."""
    lookup = _deprivation_lookup(deprivation)
    return Deprivation(
        pa.array(lookup.index.to_numpy(object), pa.string()), lookup.to_numpy()
    )


def person_deciles(postcodes: pa.Array, lookup: Deprivation) -> np.ndarray:
    """Each person's IMD decile, by the sector of their postcode (NaN: unknown).

    ``postcodes`` as :func:`~simulator.frames.arrow_text` gives them, or those
    values dictionary-encoded: each distinct postcode's sector is found once.
    """
    coded = (
        postcodes
        if pa.types.is_dictionary(postcodes.type)
        else pc.dictionary_encode(postcodes)
    )
    places = pc.index_in(sector_of(coded.dictionary), value_set=lookup.sectors)
    deciles = np.append(lookup.deciles, np.nan)[pc.fill_null(places, -1).to_numpy()]
    return np.append(deciles, np.nan)[pc.fill_null(coded.indices, -1).to_numpy()]


def normalise_sector(values: pd.Series) -> pd.Series:
    """Upper-case sector text with single spaces (``" qa12  3"`` -> ``"QA12 3"``)."""
    s = values.astype("str").str.upper().str.strip()
    s = s.str.replace(r"\s+", " ", regex=True)
    return s.where(s.str.len() > 0)


_ASCII_SPACES = "[\t\n\x0b\x0c\r\x1c-\x1f ]+"
"""Python's ``\\s`` within ASCII, for Arrow's regular expressions (RE2's ``\\s`` is
narrower)."""


def sector_of(postcodes: pa.Array) -> pa.Array:
    """:func:`postcode_sector` in Arrow: missing where the sector is missing.

    ASCII postcodes (all of a generated world's) are worked on in Arrow; any other
    text goes through Python's string methods, whose upper case and spaces differ
    from Arrow's outside ASCII.
    """
    if pc.all(pc.string_is_ascii(postcodes)).as_py() is not False:  # None: no text
        compact = pc.replace_substring_regex(
            pc.ascii_upper(postcodes), _ASCII_SPACES, ""
        )
        sector = pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(compact, 0, -3),
            pc.utf8_slice_codeunits(compact, -3, -2),
            pa.scalar(" ", pa.large_string()),
        )
        return pc.if_else(pc.greater_equal(pc.utf8_length(compact), 5), sector, None)
    text = pd.Series(pd.arrays.ArrowStringArray(postcodes), dtype="str")
    compact = text.str.upper().str.replace(r"\s+", "", regex=True)
    sector = (compact.str[:-3] + " " + compact.str[-3]).where(compact.str.len() >= 5)
    return arrow_text(sector)


def postcode_sector(postcodes: pd.Series) -> pd.Series:
    """Postcode sector of each postcode: the outward code and the inward digit.

    ``"QA12 3XY"`` -> ``"QA12 3"``; spaces and case do not matter; missing or too
    short postcodes give a missing sector.

    Examples
    --------
    >>> postcode_sector(pd.Series(["QA12 3XY", "qa123xy", None])).tolist()
    ['QA12 3', 'QA12 3', nan]
    >>> postcode_sector(pd.Series(["qa1\u00a02ab", "QA1"])).tolist()
    ['QA1 2', nan]
    """
    sector = sector_of(arrow_text(postcodes.astype("str")))
    return pd.Series(sector.to_pandas(), index=postcodes.index, dtype="str")


# ----------------------------------------------------------------------- features


def birth_dates(dob: pd.Series) -> np.ndarray:
    """Dates of birth as NumPy's ``datetime64`` (NaT: missing), in local time.

    Anything :func:`pandas.to_datetime` reads; a time zone's dates are its own.
    """
    d = pd.to_datetime(dob)
    if isinstance(d.dtype, pd.DatetimeTZDtype):
        d = d.dt.tz_localize(None)
    return d.to_numpy()


def _born_by(reference_date: dt.date, age: int) -> np.datetime64:
    """The first birth date of those not yet ``age`` at the reference date.

    Those born before it are (whole years; the 29th of February's birthday is the
    1st of March in other years).

    Examples
    --------
    >>> str(_born_by(dt.date(2024, 2, 29), 18))
    '2006-03-01'
    >>> str(_born_by(dt.date(2024, 3, 31), 5))
    '2019-04-01'
    """
    month = np.datetime64(reference_date.year - age - 1970, "Y").astype(
        "datetime64[M]"
    ) + (reference_date.month - 1)
    first = month.astype("datetime64[D]")
    days = int(((month + 1).astype("datetime64[D]") - first).astype(np.int64))
    return first + min(reference_date.day, days)


def age_groups(
    dates: np.ndarray, reference_date: dt.date, config: ViewConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who is an adult, a child, and of school age, at the reference date.

    ``dates`` of birth as :func:`birth_dates` gives them (the time of day does not
    count); ages in whole years (``adult_age`` or more: an adult; under it: a
    child; ``school_ages`` inclusive). A missing date is none of them. Compared by
    day numbers with the birthdays that make each age, no calendar per person.
    """
    day = dates.astype("datetime64[D]")

    def at_least(age: int) -> np.ndarray:
        return day < _born_by(reference_date, age)  # NaT: False

    adult = at_least(config.adult_age)
    child = ~adult & ~np.isnat(day)
    lo, hi = config.school_ages
    return adult, child, at_least(lo) & ~at_least(hi + 1)


def composition(
    pos: np.ndarray, groups: tuple[np.ndarray, np.ndarray, np.ndarray], n: int
) -> dict[str, np.ndarray]:
    """:data:`COMPOSITION_COLUMNS` of households ``0..n-1``, from members' rows.

    ``pos``: each row's household; ``groups``: :func:`age_groups` of the rows.
    """
    adult, child, school = groups

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(pos[mask], minlength=n).astype(np.int64)

    members = np.bincount(pos, minlength=n).astype(np.int64)
    return composition_of(members, count(adult), count(child), count(school))


def composition_of(
    members: np.ndarray, adults: np.ndarray, children: np.ndarray, school: np.ndarray
) -> dict[str, np.ndarray]:
    """:data:`COMPOSITION_COLUMNS` (int64, and ``lone_adult``) of counted members."""
    adults, children = adults.astype(np.int64), children.astype(np.int64)
    return {
        "n_members": members.astype(np.int64),
        "n_adults": adults,
        "n_children": children,
        "n_school_age": school.astype(np.int64),
        "n_age_unknown": (members - adults - children).astype(np.int64),
        "lone_adult": (adults == 1) & (children >= 1),
    }


def _composition(
    spine: pd.DataFrame,
    households: pd.Index,
    reference_date: dt.date,
    config: ViewConfig,
) -> dict[str, np.ndarray]:
    pos = _positions(households, spine[INDEX].to_numpy(np.int64), "spine")
    groups = age_groups(birth_dates(spine["dob"]), reference_date, config)
    return composition(pos, groups, len(households))


def _area(
    spine: pd.DataFrame, households: pd.Index, deprivation: pd.DataFrame | None
) -> dict[str, np.ndarray]:
    n = len(households)
    decile = np.full(n, np.nan)
    if deprivation is not None and len(spine):
        lookup = deprivation_lookup(deprivation)
        person_decile = person_deciles(arrow_text(spine["postcode"]), lookup)
        ok = ~np.isnan(person_decile)
        # The first member (lowest spine_person_id) whose sector is known.
        row = lowest_rows(
            rows_of(households, spine[INDEX].to_numpy(np.int64)[ok]),
            spine["spine_person_id"].to_numpy(np.int64)[ok],
            n,
        )
        has = row >= 0
        decile[has] = person_decile[ok][row[has]]
    return area_of(decile)


def area_of(decile: np.ndarray) -> dict[str, np.ndarray]:
    """:data:`AREA_COLUMNS` of each household's decile (NaN: unknown)."""
    unknown = np.isnan(decile)
    return {
        "imd_decile": np.where(unknown, IMD_UNKNOWN, decile),
        "imd_unknown": unknown,
    }


def lowest_rows(pos: np.ndarray, person: np.ndarray, n: int) -> np.ndarray:
    """Per household ``0..n-1``, the row of its lowest ``person`` id (-1: no row).

    ``pos`` is each row's household. Of rows tied on the lowest id, the first (as
    a stable sort by household, then id, would put first); two passes of
    ``np.minimum.at`` where a sort took ten times as long.

    Examples
    --------
    >>> lowest_rows(np.array([1, 1, 0, 1, 1]), np.array([7, 5, 9, 6, 5]), 3).tolist()
    [2, 1, -1]
    """
    best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, pos, person)
    rows = np.flatnonzero(person == best[pos])
    first = np.full(n, len(pos), dtype=np.int64)
    np.minimum.at(first, pos[rows], rows)
    return np.where(first < len(pos), first, -1)


def _codes(values: pd.Series, categories: list[str]) -> np.ndarray:
    """Position of each value in ``categories``; -1 for others and missing values."""
    codes, uniques = pd.factorize(values)
    lookup = pd.Index(categories).get_indexer(pd.Index(uniques).astype(str))
    return np.where(codes >= 0, np.append(lookup, -1)[codes], -1)


def _event_counts(
    linked: Mapping[str, pd.DataFrame],
    households: pd.Index,
    reference_date: dt.date,
    events: list[tuple[str, str]],
) -> np.ndarray:
    """(households, events) matrix of linked events in the observation window."""
    n, n_ev = len(households), len(events)
    flat = []
    for name, rows in linked.items():
        types = [e for s, e in events if s == name]
        if not types:
            continue
        columns = np.array([i for i, (s, _) in enumerate(events) if s == name])
        codes = _codes(rows["event_type"], types)
        hit = in_window(rows["event_date"], reference_date) & (codes >= 0)
        pos = _positions(households, rows[INDEX].to_numpy()[hit], "links table")
        flat.append(pos.astype(np.int64) * n_ev + columns[codes[hit]])
    idx = np.concatenate(flat) if flat else np.empty(0, np.int64)
    return np.bincount(idx, minlength=n * n_ev).reshape(n, n_ev).astype(np.int64)


def _education(
    linked: Mapping[str, pd.DataFrame],
    households: pd.Index,
    reference_date: dt.date,
    config: ViewConfig,
) -> dict[str, np.ndarray]:
    """Pupils on a roll, persistently absent pupils and the highest absence rate."""
    n = len(households)
    rows = linked.get(CENSUS[0])
    if rows is None or "absence_rate" not in rows.columns:
        pos, rate = np.empty(0, np.int64), np.empty(0)
    else:
        census = (
            in_window(rows["event_date"], reference_date)
            & (rows["event_type"] == CENSUS[1]).to_numpy()
        )
        pos = _positions(households, rows[INDEX].to_numpy()[census], "links table")
        rate = absence_rates(rows["absence_rate"])[census]
    highest = np.zeros(n)
    np.maximum.at(highest, pos, rate)
    persistent = rate >= config.persistent_absence
    return {
        "education_pupils": np.bincount(pos, minlength=n).astype(np.int64),
        "education_persistent_absence": np.bincount(
            pos[persistent], minlength=n
        ).astype(np.int64),
        "education_max_absence_rate": highest,
    }


def absence_rates(rates: pd.Series | np.ndarray) -> np.ndarray:
    """Pupils' absence rates as the view reads them: floats, 0 where unknown."""
    if isinstance(rates, pd.Series):
        rates = pd.to_numeric(rates, errors="coerce").to_numpy(float)
    return np.nan_to_num(np.asarray(rates, dtype=float), nan=0.0)


def _summary(
    counts: np.ndarray, events: list[tuple[str, str]], persistent: np.ndarray
) -> dict[str, np.ndarray]:
    """All counted events, and how many sources show at least one."""
    agencies = np.zeros(len(counts), dtype=np.int64)
    counted = counts != 0  # a byte a count: each source's columns taken from these
    for name in sorted({s for s, _ in events} | {CENSUS[0]}):
        seen = counted[:, [i for i, (s, _) in enumerate(events) if s == name]].any(1)
        if name == CENSUS[0]:
            seen |= persistent > 0
        agencies += seen
    return {
        "n_events": counts.sum(axis=1, dtype=np.int64) + persistent,
        "n_agencies": agencies,
    }


def build_view(
    sources: Mapping[str, pd.DataFrame],
    spine: pd.DataFrame,
    links: pd.DataFrame,
    *,
    reference_date: dt.date,
    deprivation: pd.DataFrame | None,
    config: ViewConfig,
) -> pd.DataFrame:
    """One row of features per spine household, from the records linked to it.

    Parameters
    ----------
    sources : mapping of str to DataFrame
        Each agency's records (``record_id``, ``event_type``, ``event_date``, and
        ``absence_rate`` on pupil-census rows). Hidden ``true_``/``err_`` columns
        are dropped before anything is read.
    spine : DataFrame
        The council's family index: ``spine_person_id``, ``spine_household_id``,
        ``dob`` and ``postcode`` are read.
    links : DataFrame
        The links table: one row per record (:mod:`simulator.council.linkage.links`).
    reference_date : datetime.date
        End of the observation window: only events on or before it count.
    deprivation : DataFrame or None
        The public IMD lookup: ``postcode_sector`` and ``imd_decile`` (the ``areas``
        frame of the generated data; no other column is read). ``None`` leaves every
        household's decile unknown.
    config : ViewConfig
        Which events to count and how.

    Returns
    -------
    DataFrame
        Indexed by ``spine_household_id`` (int64, sorted, every spine household),
        columns :func:`feature_columns` in order (int64, float64 or bool).

    Raises
    ------
    InputDataError
        If a frame lacks a column it needs, a record has no row in the links table,
        a link names a household that is not on the spine, or the deprivation
        lookup is malformed.
    """
    _require(spine, SPINE_COLUMNS, "spine")  # before the links' checks, as always
    linked = linked_records(sources, links, RECORD_COLUMNS, optional=OPTIONAL_COLUMNS)
    return view_of_linked(
        linked,
        spine,
        reference_date=reference_date,
        deprivation=deprivation,
        config=config,
    )


def scenario_view(
    sources: Mapping[str, pd.DataFrame],
    spine: pd.DataFrame,
    links: pd.DataFrame,
    scenario: Scenario,
    deprivation: pd.DataFrame | None,
) -> pd.DataFrame:
    """The view of a scenario's linked data: :func:`build_view` with its settings.

    The scenario's ``time.reference_date`` and ``view`` section; ``deprivation`` as
    for :func:`build_view` (only :data:`DEPRIVATION_COLUMNS` are read). The one
    place a run, a streamed world and the benchmarks call :func:`build_view` with a
    scenario (:func:`simulator.council.view_files.write_view_file` gives its bytes
    from files).
    """
    return build_view(
        sources,
        spine,
        links,
        reference_date=scenario.time.reference_date,
        deprivation=deprivation,
        config=scenario.view,
    )


def view_of_linked(
    linked: Mapping[str, pd.DataFrame],
    spine: pd.DataFrame,
    *,
    reference_date: dt.date,
    deprivation: pd.DataFrame | None,
    config: ViewConfig,
) -> pd.DataFrame:
    """:func:`build_view` of records already joined to their links.

    Every feature of a spine household reads only its own spine rows, the records
    linked to it and the public deprivation lookup, so the view of some spine
    households is the rows of the whole view for them: the view can be built a
    range of households at a time (:mod:`simulator.council.view_files`).

    Parameters
    ----------
    linked : mapping of str to DataFrame
        Per source, its linked records (:func:`linked_records`: ``event_type``,
        ``event_date``, ``absence_rate`` where the source has it, and
        ``spine_household_id``); records of other households or event types may be
        left out, as they count for nothing.
    spine, reference_date, deprivation, config
        As for :func:`build_view`.
    """
    spine, households = _checked_spine(spine)
    counts = _event_counts(linked, households, reference_date, view_events(config))
    education = _education(linked, households, reference_date, config)
    features = _composition(spine, households, reference_date, config)
    features |= _area(spine, households, deprivation)
    return _view(counts, education, features, households, config)


def view_of_counted(
    counts: np.ndarray,
    education: Mapping[str, np.ndarray],
    features: Mapping[str, np.ndarray],
    households: pd.Index,
    config: ViewConfig,
) -> pd.DataFrame:
    """:func:`view_of_linked` given what the records and the spine count per household.

    For each of ``households`` (the spine's, or a range of them, in order):
    ``counts`` (households, events) and ``education`` (:data:`EDUCATION_COLUMNS`),
    what :func:`view_of_linked` counts of its linked records
    (:mod:`simulator.council.view_counts` sums them from files, a batch of records
    at a time), and ``features``, its :data:`COMPOSITION_COLUMNS` and
    :data:`AREA_COLUMNS` (:mod:`simulator.council.view_spine` sums them from the
    spine's file, a batch of rows at a time).
    """
    if len(counts) != len(households):
        raise ValueError(f"{len(counts)} households counted, {len(households)} held")
    return _view(counts, education, features, households, config)


def _checked_spine(spine: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index]:
    """The spine as the council sees it, checked, and its households (the rows)."""
    spine = council_view(spine)
    _require(spine, SPINE_COLUMNS, "spine")
    return spine, spine_households(spine)


def _view(
    counts: np.ndarray,
    education: Mapping[str, np.ndarray],
    features: Mapping[str, np.ndarray],
    households: pd.Index,
    config: ViewConfig,
) -> pd.DataFrame:
    """The view's frame: the records' counts and the spine's features."""
    events = view_events(config)
    data: dict[str, np.ndarray] = {
        event_column(f"{s}.{e}"): counts[:, i] for i, (s, e) in enumerate(events)
    }
    data |= education
    data |= _summary(counts, events, data["education_persistent_absence"])
    data |= features
    view = pd.DataFrame(data, index=households, copy=False)
    logger.info("view: %d spine households, %d features", len(view), len(view.columns))
    return view[list(feature_columns(config))]


def view_events(config: ViewConfig) -> list[tuple[str, str]]:
    """``(source, event_type)`` of each event the view counts, in column order."""
    return [(s, e) for s, e in (x.split(".", 1) for x in config.events)]


def counted_types(config: ViewConfig) -> dict[str, tuple[str, ...]]:
    """Per source, the event types any feature of the view reads (census included).

    Records of other types, or of other sources, change no feature.
    """
    out: dict[str, tuple[str, ...]] = {}
    for source, event_type in [*view_events(config), CENSUS]:
        out[source] = tuple(dict.fromkeys([*out.get(source, ()), event_type]))
    return out


def observed_labels(
    sources: Mapping[str, pd.DataFrame],
    links: pd.DataFrame,
    *,
    reference_date: dt.date,
    households: pd.Index,
    event: str = LABEL_EVENT,
) -> pd.Series:
    """What the council observes after the reference date: the learned model's label.

    A household is labelled True when at least one record of ``event`` dated after
    the reference date is linked to it. Like the view, this is the linked data, not
    the truth: a referral that is not recorded, or not linked, is not seen; one linked
    to the wrong family labels that family.

    Parameters
    ----------
    sources : mapping of str to DataFrame
        Each agency's records (hidden columns are dropped first).
    links : DataFrame
        The links table.
    reference_date : datetime.date
        End of the observation window; only later events count.
    households : pandas.Index
        The households to label, normally ``view.index``.
    event : str
        ``"source.event_type"`` of the label; a later children's-social-care
        referral by default.

    Returns
    -------
    Series of bool
        Indexed by ``households``, named ``observed_label``.

    Raises
    ------
    InputDataError
        If the label's source is not among ``sources``, a record has no row in the
        links table, or a link names a household not in ``households``.
    """
    source, event_type = event.split(".", 1)
    if source not in sources:
        raise InputDataError(
            f"the label {event!r} comes from {source} records, which are not among "
            f"the sources ({', '.join(sources) or 'none'})"
        )
    rows = linked_records(
        {source: sources[source]}, links, ("event_type", "event_date")
    )[source]
    later = (
        ~in_window(rows["event_date"], reference_date)
        & rows["event_date"].notna().to_numpy()
    )
    hit = later & (rows["event_type"] == event_type).to_numpy()
    pos = _positions(households, rows[INDEX].to_numpy()[hit], "links table")
    label = np.zeros(len(households), dtype=bool)
    label[pos] = True
    return pd.Series(label, index=households, name="observed_label")
