"""What every source shares: the population chunk it reads and the event engine.

A source is a tuple of :class:`EventRule` (which need leaves which event on whom) plus,
for register-type sources, one row per person on the register. :func:`emit_events`
turns rules and their :class:`~simulator.schema.scenario.EventConfig` into records,
drawing
from per-block streams named after the source and event type, so changing one rate
never reshuffles another source's draws.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from simulator.rng import BLOCK_SIZE, BlockStreams, block_counts
from simulator.schema.agencies import EventConfig, GroupFactor
from simulator.schema.scenario import Scenario
from simulator.world.needs import SCHOOL_AGES, YOUTH_AGE
from simulator.world.population import MemberPicker
from simulator.world.probability import affluence, expit, gradient, logit
from simulator.world.records import (
    HELD_IDENTIFIERS,
    IDENTITY_COLUMNS,
    Column,
    Rows,
    Strings,
    arrow_strings,
    coded_strings,
)

Who = Literal["any", "adult", "adult1", "child", "pupil", "youth_or_adult"]
Window = Literal["observation", "followup"]
NATIONAL_IDS = ("nhs_number", "ni_number", "upn")


@dataclass(frozen=True)
class EventRule:
    """One kind of event a source records.

    ``need`` is the headline need (or ``"harm"``) whose families leave the event,
    on the need's carrier; ``None`` means background events only. Background events
    fall on a household member chosen among ``background_who``.
    """

    event_type: str
    need: str | None
    background_who: Who = "any"
    window: Window = "observation"
    on: Who | None = None
    """If set, need events fall on a random member of this kind, not the carrier."""
    each: Who | None = None
    """If set, a seen family's need events fall on every member of this kind (a
    plan for each child of the family), not on one person."""


class Positions:
    """Positions of keys in a sorted array of unique ids, by a dense table.

    Ids of a chunk span a short range (household ids are consecutive, person ids
    leave a few gaps per household), so a table over that range finds each key in
    one read where ``np.searchsorted`` takes a binary search; the same positions
    for keys in ``ids``. A wide range falls back to ``np.searchsorted``.
    """

    MAX_SPREAD = 16
    """Largest table, in entries per id, before falling back to a search."""

    def __init__(self, ids: np.ndarray):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.first = int(self.ids[0]) if len(self.ids) else 0
        span = int(self.ids[-1]) - self.first + 1 if len(self.ids) else 0
        self.table: np.ndarray | None = None
        if 0 < span <= self.MAX_SPREAD * len(self.ids):
            self.table = np.zeros(span, dtype=np.int64)
            self.table[self.ids - self.first] = np.arange(len(self.ids))

    def __call__(self, keys: np.ndarray) -> np.ndarray:
        """The position in ``ids`` of each key (every key must be in ``ids``)."""
        keys = np.asarray(keys, dtype=np.int64)
        if self.table is None:
            return np.searchsorted(self.ids, keys)
        return self.table[keys - self.first]


@dataclass(frozen=True)
class RecordShifts:
    """How earlier flags change what reaches each source, per household.

    Arrays are aligned with a table of households; a source without an entry is
    unchanged. Made by :func:`simulator.world.dynamics.record_shifts` from the
    council's earlier flags; period 1 has none.

    Attributes
    ----------
    visibility : mapping of str to ndarray
        Log-odds added to the chance that a need reaches the source.
    background : mapping of str to ndarray
        Log of the multiplier on the source's background events.
    """

    visibility: Mapping[str, np.ndarray] = field(default_factory=dict)
    background: Mapping[str, np.ndarray] = field(default_factory=dict)

    def take(self, rows: slice) -> RecordShifts:
        """The shifts of the households ``rows`` (a chunk's)."""
        return RecordShifts(
            {k: v[rows] for k, v in self.visibility.items()},
            {k: v[rows] for k, v in self.background.items()},
        )


@dataclass
class PopulationChunk:
    """The truth for the households of some seeding blocks, as sources read it.

    ``shifts`` (later periods only) change what reaches the records of flagged
    families; without them every source records exactly as in a single run.
    """

    scenario: Scenario
    households: pd.DataFrame
    people: pd.DataFrame
    blocks: range
    shifts: RecordShifts | None = None
    unattached: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Identity fields a source's rows go without, by source: those a lean scratch
    world neither writes nor decodes (:func:`with_identity`); none if absent."""
    pickers: Mapping[str, MemberPicker] = field(default_factory=dict)
    """Member pickers already made for these people, by kind of member (the
    carriers' of :func:`~simulator.world.population.make_chunk`): the same
    pickers :meth:`picker` would make."""
    _cache: dict = field(default_factory=dict, repr=False)

    def streams(self, *names: str) -> BlockStreams:
        """Per-block streams for a named draw."""
        return BlockStreams(self.scenario.seed, names, self.blocks)

    def counts(self, household_ids: np.ndarray) -> np.ndarray:
        """Rows per block for rows sorted by household id."""
        return block_counts(np.asarray(household_ids) // BLOCK_SIZE, self.blocks)

    @cached_property
    def h_counts(self) -> np.ndarray:
        """Households per block."""
        return self.counts(self.households["household_id"].to_numpy())

    @cached_property
    def p_counts(self) -> np.ndarray:
        """People per block."""
        return self.counts(self.people["household_id"].to_numpy())

    @cached_property
    def _household_lookup(self) -> Positions:
        return Positions(self.households["household_id"].to_numpy())

    @cached_property
    def _person_lookup(self) -> Positions:
        return Positions(self.people["person_id"].to_numpy())

    def household_positions(self, household_ids: np.ndarray) -> np.ndarray:
        """Position in ``households`` of each of ``household_ids`` (the chunk's)."""
        return self._household_lookup(household_ids)

    def person_positions(self, person_ids: np.ndarray) -> np.ndarray:
        """Position in ``people`` of each of ``person_ids`` (the chunk's)."""
        return self._person_lookup(person_ids)

    @cached_property
    def person_household(self) -> np.ndarray:
        """Position in ``households`` of each person's household."""
        return self.household_positions(self.people["household_id"].to_numpy())

    @cached_property
    def household_start(self) -> np.ndarray:
        """Position in ``people`` of each household's first member."""
        starts = np.zeros(len(self.households), dtype=np.int64)
        np.cumsum(self.household_size[:-1], out=starts[1:])
        return starts

    @cached_property
    def household_size(self) -> np.ndarray:
        """Members of each household."""
        return np.bincount(self.person_household, minlength=len(self.households))

    def members(self, who: Who) -> np.ndarray:
        """Boolean mask over people: who may carry an event of this kind."""
        if who in self._cache:
            return self._cache[who]
        role = self.people["role"]
        age = self.people["age"].to_numpy()
        child = (role == "child").to_numpy()
        if who == "any":
            mask = np.ones(len(role), bool)
        elif who == "adult":
            mask = ~child
        elif who == "adult1":
            mask = (role == "adult1").to_numpy()
        elif who == "child":
            mask = child
        elif who == "pupil":
            mask = child & (age >= SCHOOL_AGES[0]) & (age <= SCHOOL_AGES[1])
        else:  # youth_or_adult
            mask = ~child | (age >= YOUTH_AGE)
        self._cache[who] = mask
        return mask

    def picker(self, who: Who) -> MemberPicker:
        """Picks one member of kind ``who`` per household (:meth:`members`)."""
        if who in self.pickers:
            return self.pickers[who]
        return self.cached(
            ("picker", who),
            lambda: MemberPicker.of(
                self.person_household, self.members(who), len(self.households)
            ),
        )

    def in_group(self, column: str, value: str | int | bool) -> np.ndarray:
        """Boolean mask over households: those whose ``column`` is ``value``."""
        return self.cached(
            ("group", column, value),
            lambda: (self.households[column] == value).to_numpy(),
        )

    def cached(self, key: tuple[object, ...], make: Callable[[], Any]) -> Any:
        """``make()``'s value, made once a chunk under ``key`` and kept with it.

        For what several sources or errors of the chunk read alike (a group's
        mask, a member picker, an error's rates by household).
        """
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def by_decile(self, values: np.ndarray) -> np.ndarray:
        """``values[d - 1]`` for each household's IMD decile ``d`` (10 values).

        What depends on a household's decile alone is worked out for the ten
        deciles, then read per household: the same floating-point steps on the same
        values as over every household, a tenth of a millisecond for a chunk's
        50,000 households where ``expit`` took 0.25 ms.
        """
        rows = self.cached(
            ("decile_row",),
            lambda: self.households["imd_decile"].to_numpy().astype(np.intp) - 1,
        )
        return np.asarray(values).take(rows)

    def group_log_factor(self, factors: tuple[GroupFactor, ...]) -> np.ndarray:
        """Sum of log factors that apply to each household."""
        out = np.zeros(len(self.households))
        for f in factors:
            out += np.log(f.factor) * self.in_group(f.column, f.value)
        return out

    def identity(self, column: str) -> Strings:
        """A string identity column of ``people``, coded (one row per person).

        ``address`` and ``postcode`` are coded into a pool of the households' current
        then previous values: code ``len(households) + h`` is household ``h``'s
        previous value (see :meth:`previous_code`).
        """
        key = ("identity", column)
        if key not in self._cache:
            if column in ("address", "postcode"):
                hh = self.households
                pool = pa.concat_arrays(
                    [arrow_strings(hh[column]), arrow_strings(hh[f"prev_{column}"])]
                )
                coded = Strings(self.person_household, pool)
            else:
                coded = coded_strings(self.people[column])
            self._cache[key] = coded
        return self._cache[key]

    def previous_code(self, column: str, h_pos: np.ndarray) -> np.ndarray:
        """Codes of the previous home of households ``h_pos`` in :meth:`identity`.

        ``column`` is address or postcode.
        """
        if column not in ("address", "postcode"):
            raise ValueError(
                f"only address and postcode have a previous value: {column}"
            )
        return len(self.households) + np.asarray(h_pos, dtype=np.int64)

    def window(self, which: Window) -> tuple[np.datetime64, int]:
        """First day and length in days of the observation or follow-up window."""
        t = self.scenario.time
        ref = np.datetime64(t.reference_date, "D")
        if which == "observation":
            return ref - np.timedelta64(t.observation_days - 1, "D"), t.observation_days
        return ref + np.timedelta64(1, "D"), t.followup_days


def _need_events(
    chunk: PopulationChunk,
    source: str,
    rule: EventRule,
    cfg: EventConfig,
    visibility_factors: tuple[GroupFactor, ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per household: has the rule's need; who carries its events; how many are seen.

    A family with the need is seen with the visibility probability (lower for
    affluent families, by group factor); a seen family leaves ``1 + Poisson(mean
    events - 1)`` events. Returns ``(has_need, need_person, n_need)``, ``need_person``
    being -1 where no member can carry them.
    """
    hh = chunk.households
    n = len(hh)
    streams, counts = ("events", source, rule.event_type), chunk.h_counts
    has_need = np.zeros(n, bool)
    need_person = np.full(n, -1, dtype=np.int64)
    n_need = np.zeros(n, dtype=np.int64)
    if rule.need is None:
        return has_need, need_person, n_need
    pid = chunk.people["person_id"].to_numpy()
    column = "harm" if rule.need == "harm" else f"need_{rule.need}"
    has_need = hh[column].to_numpy()
    if rule.on is None:
        need_person = hh[f"carrier_{rule.need}"].to_numpy()
    else:
        pick = chunk.picker(rule.on).pick(chunk.streams(*streams, "on").random(counts))
        need_person = np.where(pick >= 0, pid[np.maximum(pick, 0)], -1)
    if cfg.visibility > 0:
        p = _visibility(chunk, source, cfg, visibility_factors)
        seen = has_need & (need_person >= 0)
        seen &= chunk.streams(*streams, "visible").random(counts) < p
        mean_extra = cfg.mean_events - 1.0
        extra: np.ndarray | int = 0  # numpy draws nothing for a mean of 0
        if mean_extra:
            extra = chunk.streams(*streams, "count").poisson(counts, mean_extra)
        n_need = np.where(seen, 1 + extra, 0)
    return has_need, need_person, n_need


_DECILES = np.arange(1, 11)
"""The ten IMD deciles, for what :meth:`PopulationChunk.by_decile` reads."""


def _visibility(
    chunk: PopulationChunk,
    source: str,
    cfg: EventConfig,
    factors: tuple[GroupFactor, ...],
) -> np.ndarray:
    """Each household's chance that a family's need reaches the source.

    The base visibility, lower for affluent families, by group factor, shifted by
    earlier flags. Without factors or shifts it depends on the decile alone
    (:meth:`PopulationChunk.by_decile`; adding no factor adds nothing).
    """
    base = logit(min(cfg.visibility, 1 - 1e-12))
    log_or = np.log(cfg.affluent_visibility_odds_ratio)
    shift = chunk.shifts.visibility.get(source) if chunk.shifts else None
    if not factors and shift is None:
        return chunk.by_decile(expit(base + log_or * affluence(_DECILES)))
    aff = affluence(chunk.households["imd_decile"].to_numpy())
    log_odds = base + log_or * aff + chunk.group_log_factor(factors)
    return expit(log_odds if shift is None else log_odds + shift)


def _background_events(
    chunk: PopulationChunk,
    source: str,
    rule: EventRule,
    cfg: EventConfig,
    background_factors: tuple[GroupFactor, ...],
    has_need: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per household without the need: how many background events, on whom.

    Poisson at the background rate over the rule's window (higher in deprived
    areas, by group factor), on one member among ``rule.background_who``. Returns
    ``(n_bg, bg_person)``, ``bg_person`` being -1 where no member qualifies.
    """
    n = len(chunk.households)
    streams, counts = ("events", source, rule.event_type), chunk.h_counts
    n_bg = np.zeros(n, dtype=np.int64)
    bg_person = np.full(n, -1, dtype=np.int64)
    if cfg.background_rate <= 0:
        return n_bg, bg_person
    _, days = chunk.window(rule.window)
    rate = chunk.by_decile(
        cfg.background_rate * gradient(_DECILES, cfg.affluent_background_ratio)
    )
    if background_factors:
        rate = rate * np.exp(chunk.group_log_factor(background_factors))
    lam = rate * days / 365.0  # without factors, their exp(0) = 1 multiplied nothing
    shift = chunk.shifts.background.get(source) if chunk.shifts else None
    if shift is not None:
        lam = lam * np.exp(shift)
    lam = np.where(has_need, 0.0, lam)
    n_bg = chunk.streams(*streams, "background").poisson(counts, lam)
    pick = chunk.picker(rule.background_who).pick(
        chunk.streams(*streams, "background_who").random(counts)
    )
    pid = chunk.people["person_id"].to_numpy()
    bg_person = np.where(pick >= 0, pid[np.maximum(pick, 0)], -1)
    return np.where(bg_person >= 0, n_bg, 0), bg_person


def _event_people(
    chunk: PopulationChunk,
    rule: EventRule,
    need: tuple[np.ndarray, np.ndarray],
    background: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per event: need events then background events of each household.

    ``need`` and ``background`` are ``(events per household, person)``. Returns
    ``(household row, person, from_need)`` per event.
    """
    (n_need, need_person), (n_bg, bg_person) = need, background
    if rule.each is None:
        with_events = np.flatnonzero(n_need + n_bg)  # few: the rest repeat nothing
        per_h = n_need[with_events] + n_bg[with_events]
        h_rows = np.repeat(with_events, per_h)
        k = np.arange(len(h_rows)) - np.repeat(np.cumsum(per_h) - per_h, per_h)
        from_need = k < n_need[h_rows]
        person = np.where(from_need, need_person[h_rows], bg_person[h_rows])
        return h_rows, person, from_need
    # Need events on every member of the kind: people are in household order,
    # so a stable sort by household puts them before the background events.
    pid = chunk.people["person_id"].to_numpy()
    ph = chunk.person_household
    per_p = np.where(chunk.members(rule.each), n_need[ph], 0)
    on = np.flatnonzero(per_p)
    bg = np.flatnonzero(n_bg)
    h_all = np.concatenate([np.repeat(ph[on], per_p[on]), np.repeat(bg, n_bg[bg])])
    order = np.argsort(h_all, kind="stable")
    from_need = (np.arange(len(h_all)) < per_p.sum())[order]
    person = np.concatenate(
        [np.repeat(pid[on], per_p[on]), np.repeat(bg_person[bg], n_bg[bg])]
    )
    return h_all[order], person[order], from_need


def emit_events(
    chunk: PopulationChunk,
    source: str,
    rule: EventRule,
    cfg: EventConfig,
    visibility_factors: tuple[GroupFactor, ...],
    background_factors: tuple[GroupFactor, ...],
) -> Rows:
    """Event rows (``true_person_id``, ``event_type``, ``event_date``) for one rule.

    Need events of the families seen (:func:`_need_events`), background events of
    the others (:func:`_background_events`), one row each
    (:func:`_event_people`), on a uniform day of the rule's window.
    """
    has_need, need_person, n_need = _need_events(
        chunk, source, rule, cfg, visibility_factors
    )
    background = _background_events(
        chunk, source, rule, cfg, background_factors, has_need
    )
    h_rows, person, from_need = _event_people(
        chunk, rule, (n_need, need_person), background
    )
    start, days = chunk.window(rule.window)
    hid = chunk.households["household_id"].to_numpy()[h_rows]
    offset = chunk.streams("events", source, rule.event_type, "date").random(
        chunk.counts(hid)
    )
    date = start + np.floor(offset * days).astype("timedelta64[D]")
    return Rows(
        {
            "true_person_id": person,
            "true_household_id": hid,
            "event_type": Strings.constant(rule.event_type, len(hid)),
            "event_date": date.astype("datetime64[s]"),
            "true_need": Strings.constant(rule.need, len(hid)),
            "true_from_need": from_need,
        }
    )


def register_rows(
    chunk: PopulationChunk, source: str, who: Who, coverage: float, event_type: str
) -> Rows:
    """One row per eligible person on a register (GP list, school roll, spine)."""
    people = chunk.people
    on = chunk.members(who) & (
        chunk.streams("register", source).random(chunk.p_counts) < coverage
    )
    n = int(on.sum())
    return Rows(
        {
            "true_person_id": people["person_id"].to_numpy()[on],
            "true_household_id": people["household_id"].to_numpy()[on],
            "event_type": Strings.constant(event_type, n),
            "event_date": np.full(
                n, np.datetime64(chunk.scenario.time.reference_date, "s")
            ),
            "true_need": Strings.constant(None, n),
            "true_from_need": np.zeros(n, bool),
        }
    )


def with_identity(chunk: PopulationChunk, rows: Rows, source: str) -> Rows:
    """Attach each row's true identity; null identifiers the source does not hold.

    Fields in ``chunk.unattached[source]`` are not attached (no error changes
    them then: :func:`simulator.world.corruption.corrupt`).
    """
    pos = chunk.person_positions(rows["true_person_id"])
    unattached = chunk.unattached.get(source, frozenset())
    for col in IDENTITY_COLUMNS:
        if col in unattached:
            continue
        if col == "dob":
            rows[col] = chunk.people["dob"].to_numpy()[pos]
        elif col in NATIONAL_IDS and col not in HELD_IDENTIFIERS[source]:
            rows[col] = Strings.constant(None, len(pos))
        else:
            rows[col] = chunk.identity(col).take(pos)
    return rows


def concat_rows(parts: list[Rows]) -> Rows:
    """Rows of ``parts`` one after another.

    A column missing from a part is NaN there (``absence_rate``) or missing (strings).
    """
    names = list(dict.fromkeys(k for p in parts for k in p.columns))
    out: dict[str, Column] = {}
    for name in names:
        cols = [p.columns.get(name) for p in parts]
        if any(isinstance(c, Strings) for c in cols):
            out[name] = _concat_strings(
                [
                    c if c is not None else Strings.constant(None, len(p))
                    for c, p in zip(cols, parts, strict=True)
                ]
            )
        else:
            out[name] = np.concatenate(
                [
                    c if c is not None else np.full(len(p), np.nan)
                    for c, p in zip(cols, parts, strict=True)
                ]
            )
    return Rows(out)


def _concat_strings(cols: list[Strings]) -> Strings:
    """Small-pool string columns one after another (their pools are concatenated)."""
    codes, pools, offset = [], [], 0
    for c in cols:
        pool = pa.concat_arrays([c.base, pa.array(c.extra, pa.large_string())])
        codes.append(np.where(c.codes >= 0, c.codes + offset, -1))
        pools.append(pool)
        offset += len(pool)
    return Strings(np.concatenate(codes), pa.concat_arrays(pools))


def source_records(
    chunk: PopulationChunk,
    source: str,
    rules: tuple[EventRule, ...],
    events_cfg: object,
    visibility_factors: tuple[GroupFactor, ...],
    background_factors: tuple[GroupFactor, ...],
    registers: tuple[Rows, ...] = (),
) -> Rows:
    """All of a source's rows for a chunk, in a chunk-independent order, with identity.

    Rows are ordered by household, then by rule (registers first), then as emitted, so
    the order (and hence every later draw) is the same whatever the chunking.
    """
    parts = list(registers) + [
        emit_events(
            chunk,
            source,
            r,
            getattr(events_cfg, r.event_type),
            visibility_factors,
            background_factors,
        )
        for r in rules
    ]
    rows = concat_rows(parts)
    order = np.argsort(rows["true_household_id"], kind="stable")
    rows = rows.take(order)
    rows = Rows({"source": Strings.constant(source, len(rows)), **rows.columns})
    return with_identity(chunk, rows, source)
