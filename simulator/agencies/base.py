"""What every source shares: the population chunk it reads and the event engine.

A source is a tuple of :class:`EventRule` (which need leaves which event on whom) plus,
for register-type sources, one row per person on the register. :func:`emit_events`
turns rules and their :class:`~simulator.scenario.EventConfig` into records, drawing
from per-block streams named after the source and event type, so changing one rate
never reshuffles another source's draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

from simulator.population import SCHOOL_AGES, YOUTH_AGE, pick_member
from simulator.probability import affluence, expit, gradient, logit
from simulator.records import IDENTITY_COLUMNS
from simulator.rng import BLOCK_SIZE, BlockStreams, block_counts
from simulator.scenario import EventConfig, GroupFactor, Scenario

Who = Literal["any", "adult", "adult1", "child", "pupil", "youth_or_adult"]
Window = Literal["observation", "followup"]


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


@dataclass
class PopulationChunk:
    """The truth for the households of some seeding blocks, as sources read it."""

    scenario: Scenario
    households: pd.DataFrame
    people: pd.DataFrame
    blocks: range
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
    def person_household(self) -> np.ndarray:
        """Position in ``households`` of each person's household."""
        return np.searchsorted(
            self.households["household_id"].to_numpy(),
            self.people["household_id"].to_numpy(),
        )

    def members(self, who: Who) -> np.ndarray:
        """Boolean mask over people: who may carry an event of this kind."""
        if who in self._cache:
            return self._cache[who]
        role = self.people["role"].to_numpy().astype(str)
        age = self.people["age"].to_numpy()
        child = role == "child"
        mask = {
            "any": np.ones(len(role), bool),
            "adult": ~child,
            "adult1": role == "adult1",
            "child": child,
            "pupil": child & (age >= SCHOOL_AGES[0]) & (age <= SCHOOL_AGES[1]),
            "youth_or_adult": ~child | (age >= YOUTH_AGE),
        }[who]
        self._cache[who] = mask
        return mask

    def group_log_factor(self, factors: tuple[GroupFactor, ...]) -> np.ndarray:
        """Sum of log factors that apply to each household."""
        out = np.zeros(len(self.households))
        for f in factors:
            out += np.log(f.factor) * (self.households[f.column].to_numpy() == f.value)
        return out

    def window(self, which: Window) -> tuple[np.datetime64, int]:
        """First day and length in days of the observation or follow-up window."""
        t = self.scenario.time
        ref = np.datetime64(t.reference_date, "D")
        if which == "observation":
            return ref - np.timedelta64(t.observation_days - 1, "D"), t.observation_days
        return ref + np.timedelta64(1, "D"), t.followup_days


def emit_events(
    chunk: PopulationChunk,
    source: str,
    rule: EventRule,
    cfg: EventConfig,
    visibility_factors: tuple[GroupFactor, ...],
    background_factors: tuple[GroupFactor, ...],
) -> pd.DataFrame:
    """Event rows (``true_person_id``, ``event_type``, ``event_date``) for one rule."""
    hh = chunk.households
    n = len(hh)
    aff = affluence(hh["imd_decile"].to_numpy())
    streams = ("events", source, rule.event_type)
    counts = chunk.h_counts

    has_need = np.zeros(n, bool)
    need_person = np.full(n, -1, dtype=np.int64)
    n_need = np.zeros(n, dtype=np.int64)
    pid = chunk.people["person_id"].to_numpy()
    if rule.need is not None:
        column = "harm" if rule.need == "harm" else f"need_{rule.need}"
        has_need = hh[column].to_numpy()
        if rule.on is None:
            need_person = hh[f"carrier_{rule.need}"].to_numpy()
        else:
            pick = pick_member(
                chunk.person_household,
                chunk.members(rule.on),
                chunk.streams(*streams, "on").random(counts),
                n,
            )
            need_person = np.where(pick >= 0, pid[np.maximum(pick, 0)], -1)
        if cfg.visibility > 0:
            p = expit(
                logit(min(cfg.visibility, 1 - 1e-12))
                + np.log(cfg.affluent_visibility_odds_ratio) * aff
                + chunk.group_log_factor(visibility_factors)
            )
            seen = has_need & (need_person >= 0)
            seen &= chunk.streams(*streams, "visible").random(counts) < p
            extra = chunk.streams(*streams, "count").poisson(
                counts, np.full(n, cfg.mean_events - 1.0)
            )
            n_need = np.where(seen, 1 + extra, 0)

    start, days = chunk.window(rule.window)
    n_bg = np.zeros(n, dtype=np.int64)
    bg_person = np.full(n, -1, dtype=np.int64)
    if cfg.background_rate > 0:
        lam = (
            cfg.background_rate
            * gradient(hh["imd_decile"].to_numpy(), cfg.affluent_background_ratio)
            * np.exp(chunk.group_log_factor(background_factors))
            * days
            / 365.0
        )
        lam = np.where(has_need, 0.0, lam)
        n_bg = chunk.streams(*streams, "background").poisson(counts, lam)
        pick = pick_member(
            chunk.person_household,
            chunk.members(rule.background_who),
            chunk.streams(*streams, "background_who").random(counts),
            n,
        )
        bg_person = np.where(pick >= 0, pid[np.maximum(pick, 0)], -1)
        n_bg = np.where(bg_person >= 0, n_bg, 0)

    # One row per event: need events then background events of each household.
    per_h = n_need + n_bg
    h_rows = np.repeat(np.arange(n), per_h)
    k = np.arange(len(h_rows)) - np.repeat(np.cumsum(per_h) - per_h, per_h)
    person = np.where(k < n_need[h_rows], need_person[h_rows], bg_person[h_rows])
    hid = hh["household_id"].to_numpy()[h_rows]
    offset = chunk.streams(*streams, "date").random(chunk.counts(hid))
    date = start + np.floor(offset * days).astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "true_person_id": person,
            "true_household_id": hid,
            "event_type": rule.event_type,
            "event_date": date.astype("datetime64[s]"),
            "true_need": rule.need if rule.need else None,
            "true_from_need": k < n_need[h_rows],
        }
    )


def register_rows(
    chunk: PopulationChunk, source: str, who: Who, coverage: float, event_type: str
) -> pd.DataFrame:
    """One row per eligible person on a register (GP list, school roll, spine)."""
    people = chunk.people
    on = chunk.members(who) & (
        chunk.streams("register", source).random(chunk.p_counts) < coverage
    )
    rows = people.loc[on, ["person_id", "household_id"]]
    return pd.DataFrame(
        {
            "true_person_id": rows["person_id"].to_numpy(),
            "true_household_id": rows["household_id"].to_numpy(),
            "event_type": event_type,
            "event_date": np.datetime64(chunk.scenario.time.reference_date, "s"),
            "true_need": None,
            "true_from_need": False,
        }
    )


def with_identity(
    chunk: PopulationChunk, rows: pd.DataFrame, source: str
) -> pd.DataFrame:
    """Attach each row's true identity; null identifiers the source does not hold."""
    from simulator.records import HELD_IDENTIFIERS

    people = chunk.people
    pos = np.searchsorted(
        people["person_id"].to_numpy(), rows["true_person_id"].to_numpy()
    )
    out = rows.reset_index(drop=True)
    for col in IDENTITY_COLUMNS:
        values = people[col].take(pos).reset_index(drop=True)
        if (
            col in ("nhs_number", "ni_number", "upn")
            and col not in HELD_IDENTIFIERS[source]
        ):
            values = pd.Series(
                pd.Categorical.from_codes(
                    np.full(len(out), -1), categories=values.cat.categories
                )
            )
        out[col] = values
    return out


def source_records(
    chunk: PopulationChunk,
    source: str,
    rules: tuple[EventRule, ...],
    events_cfg: object,
    visibility_factors: tuple[GroupFactor, ...],
    background_factors: tuple[GroupFactor, ...],
    registers: tuple[pd.DataFrame, ...] = (),
) -> pd.DataFrame:
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
    frame = pd.concat(parts, ignore_index=True)
    order = np.argsort(frame["true_household_id"].to_numpy(), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "source", source)
    return with_identity(chunk, frame, source)
