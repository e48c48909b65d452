"""The synthetic population, i.e. the truth: areas, households, people, needs and harm.

Areas come first (global, small). Households are numbered 0..N-1 in area order and
generated in chunks of whole seeding blocks; every draw comes from the household's
block stream, so a chunk's output does not depend on which other chunks exist.
Prevalences are calibrated on the expected population mix (never on a sample), so
they too are the same whatever the chunking.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.special import ndtr

from simulator.rng import BLOCK_SIZE, BlockStreams, block_counts, stable_id, stream
from simulator.schema.scenario import Scenario
from simulator.vocabulary import ETHNICITIES, NEEDS, TENURES
from simulator.world import identity
from simulator.world.needs import (
    CARRIER_KINDS,
    carrier_candidates,
    harm_probability,
    has_member,
    need_probability,
)
from simulator.world.probability import affluence, calibrate_intercept, expit
from simulator.world.records import arrow_strings

MAX_MEMBERS = 10
"""person_id = household_id * MAX_MEMBERS + member: stable ids with no coordination."""
PREVIOUS_HOME_OCCUPIED = 0.5
"""Assumption: share of movers whose previous home is now another family's home."""
PERSON_ADDRESSES = ("address", "postcode", "prev_address", "prev_postcode")
"""People's copies of their household's addresses: only the people file reads them
(the sources code addresses from the households: ``PopulationChunk.identity``)."""
PERSON_NAMES_AND_IDS = ("first_name", "last_name", "nhs_number", "ni_number", "upn")
"""People's names and identifiers: each drawn from its own streams (or none), so a
chunk made without them draws every other value the same."""
OPTIONAL_PEOPLE = (*PERSON_NAMES_AND_IDS, *PERSON_ADDRESSES)
"""People's columns a chunk can be made without (:func:`make_chunk`'s ``unmade``)."""


@dataclass(frozen=True)
class Calibration:
    """Population mix and intercepts derived once from a scenario."""

    decile_probs: np.ndarray  # (10,)
    ethnicity_given_decile: np.ndarray  # (10, 5)
    tenure_given_decile: np.ndarray  # (10, 3)
    lone_parent_intercept: float
    need_intercepts: dict[str, float]

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Calibration:
        """Solve every intercept on the expected mix of deciles, groups and families."""
        pop = scenario.population
        deciles = np.arange(1, 11)
        dep = 1.0 - affluence(deciles)  # 1 in the most deprived decile, 0 in the least
        decile_probs = np.asarray(pop.decile_weights, float)
        decile_probs = decile_probs / decile_probs.sum()

        shares = pop.ethnicity.normalised()
        d1 = pop.ethnicity_decile_one.model_dump()
        eth = np.empty((10, len(ETHNICITIES)))
        for j, g in enumerate(ETHNICITIES):
            slope = (1.0 - 10.0 * d1[g]) / 45.0
            eth[:, j] = shares[g] * 10.0 * (d1[g] + (deciles - 1) * slope)
        eth = eth / eth.sum(axis=1, keepdims=True)

        ten_share = pop.tenure.normalised()
        target = np.array([ten_share[t] for t in TENURES])
        grad = pop.tenure_deprivation_odds_ratio
        log_or = np.array([0.0, np.log(grad.private_rent), np.log(grad.social_rent)])
        intercepts = np.zeros(3)
        for _ in range(200):  # iterative proportional fitting of two intercepts
            odds = np.exp(intercepts + np.outer(dep, log_or))
            probs = odds / odds.sum(axis=1, keepdims=True)
            marg = decile_probs @ probs
            intercepts += np.log(target / marg) - np.log(target[0] / marg[0])
        tenure = np.exp(intercepts + np.outer(dep, log_or))
        tenure = tenure / tenure.sum(axis=1, keepdims=True)

        lp_eth = np.array(
            [
                np.log(pop.lone_parent_ethnicity_odds_ratio.get(g, 1.0))
                for g in ETHNICITIES
            ]
        )
        lp_off = np.log(pop.lone_parent_deprivation_odds_ratio) * dep[:, None] + lp_eth
        cell_w = decile_probs[:, None] * eth
        lp_a = calibrate_intercept(
            pop.lone_parent_share, lp_off.ravel(), cell_w.ravel()
        )
        p_lp = (cell_w * expit(lp_a + lp_off)).sum(axis=1) / cell_w.sum(axis=1)

        # Cells (decile, lone parent) with their expected weights.
        w = np.concatenate([decile_probs * (1 - p_lp), decile_probs * p_lp])
        lone = np.repeat([0.0, 1.0], 10)
        dep2 = np.tile(dep, 2)
        need_a = {}
        for need in NEEDS:
            cfg = scenario.needs.need(need)
            off = (
                np.log(cfg.deprivation_odds_ratio) * dep2
                + np.log(cfg.lone_parent_odds_ratio) * lone
            )
            need_a[need] = calibrate_intercept(cfg.prevalence, off, w)
        return cls(decile_probs, eth, tenure, lp_a, need_a)


# ------------------------------------------------------------------------- areas


def make_areas(scenario: Scenario) -> pd.DataFrame:
    """Small areas with an IMD decile (1 = most deprived) and their household ranges."""
    pop = scenario.population
    n_areas, n = pop.n_areas, pop.n_households
    w = np.asarray(pop.decile_weights, float)
    expected = w / w.sum() * n_areas
    counts = np.floor(expected).astype(int)
    short = n_areas - counts.sum()
    counts[np.argsort(-(expected - counts), kind="stable")[:short]] += 1
    decile = np.repeat(np.arange(1, 11), counts)
    stream(scenario.seed, "areas", "decile").shuffle(decile)
    area_id = np.arange(n_areas)
    first = (area_id * n + n_areas - 1) // n_areas
    size = np.diff(np.append(first, n))
    return pd.DataFrame(
        {
            "area_id": area_id,
            "imd_decile": decile.astype(np.int8),
            "imd_quintile": ((decile + 1) // 2).astype(np.int8),
            "postcode_sector": pd.array(
                identity.postcode_sectors(area_id), dtype=pd.ArrowDtype(pa.string())
            ).astype("str"),
            "first_household": first,
            "n_households": size,
        }
    )


# -------------------------------------------------------------------- households


def _strings(values: pa.Array) -> pd.api.extensions.ExtensionArray:
    """Arrow strings as a pandas ``str`` array (no copy of the characters)."""
    return pd.array(values, dtype="str")


def _only_where(mask: np.ndarray, make: Callable[[np.ndarray], pa.Array]) -> pa.Array:
    """``make(rows)`` for the rows where ``mask`` holds, null elsewhere.

    The strings are not copied: each row's offsets are those of the last value
    made at or before it, so a null row is empty, as Arrow's ``take`` makes it.
    """
    rows = np.flatnonzero(mask)
    made = make(rows)
    if not pa.types.is_string(made.type) or made.null_count:
        return made.take(pa.array(np.cumsum(mask) - 1, mask=~mask))
    offsets = np.frombuffer(made.buffers()[1], dtype=np.int32)
    offsets = offsets[made.offset : made.offset + len(made) + 1]
    before = np.zeros(len(mask) + 1, dtype=np.int64)
    np.cumsum(mask, out=before[1:])
    return pa.StringArray.from_buffers(
        len(mask),
        pa.py_buffer(offsets[before]),
        made.buffers()[2],
        pa.array(mask).buffers()[1],
        len(mask) - len(rows),
    )


@cache
def _dtypes() -> dict[str, pd.CategoricalDtype]:
    """The fixed categories of people's working categoricals (built once)."""
    return {
        "role": pd.CategoricalDtype(["adult1", "adult2", "child"]),
        "sex": pd.CategoricalDtype(["M", "F"]),
        "name": pd.CategoricalDtype(pd.Index(identity.name_vocabulary(), dtype="str")),
    }


def _choose(u: np.ndarray, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Index of the category each uniform falls in, row ``rows`` of ``probs`` each.

    ``probs`` holds a few distinct rows of probabilities, so their running sums are
    taken once, then read per uniform (the sums of each row as before). The sums a
    uniform exceeds are counted a category at a time: numpy's sum along a short
    axis of a (rows, categories) table went a row at a time (1.5 against 0.4 ms
    for 50,000 uniforms and five categories).
    """
    cumulative = np.cumsum(probs, axis=1)
    count = np.zeros(len(u), dtype=np.int64)
    for j in range(probs.shape[1]):
        count += u > cumulative[:, j].take(rows)
    return np.minimum(count, probs.shape[1] - 1)


def _read_only(values: np.ndarray) -> np.ndarray:
    """``values``, made read-only: an array kept and handed to several readers."""
    values.flags.writeable = False
    return values


@dataclass(frozen=True)
class MemberLayout:
    """Where each person of a chunk sits: their household's row, their place in it.

    People are in household order; within a household the adults come first
    (member 0 is the first adult), then the children, eldest first.
    """

    n_adults: np.ndarray
    """Adults per household (1 in a lone-parent family, else 2)."""
    n_kids: np.ndarray
    """Children per household."""
    starts: np.ndarray
    """Per household: the row of its first member."""
    h_idx: np.ndarray
    """Per person: the row of their household."""
    member: np.ndarray
    """Per person: their place in the household (0 for the first adult)."""
    hid: np.ndarray
    """Per person: their household's id."""
    p_counts: np.ndarray
    """People per seeding block."""

    @classmethod
    def of(cls, hh: pd.DataFrame, blocks: range) -> MemberLayout:
        """Lay out the members of households ``hh`` (of seeding ``blocks``)."""
        n_adults = np.where(hh["lone_parent"].to_numpy(), 1, 2)
        n_kids = hh["n_children"].to_numpy().astype(np.int64)
        size = n_adults + n_kids
        h_idx = np.repeat(np.arange(len(hh)), size)
        starts = np.concatenate([[0], np.cumsum(size)[:-1]])
        hid = hh["household_id"].to_numpy()[h_idx]
        return cls(
            n_adults=n_adults,
            n_kids=n_kids,
            starts=starts,
            h_idx=h_idx,
            member=np.arange(len(h_idx)) - starts[h_idx],
            hid=hid,
            p_counts=block_counts(hid // BLOCK_SIZE, blocks),
        )

    @cached_property
    def is_adult(self) -> np.ndarray:
        """Per person: an adult of the household (read by several draws)."""
        return _read_only(self.member < self.n_adults[self.h_idx])

    @cached_property
    def child_no(self) -> np.ndarray:
        """Per person: their place among the children (0 for the eldest)."""
        return _read_only(self.member - self.n_adults[self.h_idx])


class HouseholdFrame:
    """Builds one chunk of households and their people; use :func:`make_chunk`."""

    def __init__(
        self,
        scenario: Scenario,
        cal: Calibration,
        areas: pd.DataFrame,
        streets: np.ndarray,
        blocks: range,
        unmade: frozenset[str] = frozenset(),
    ):
        self.s, self.cal, self.areas, self.streets = scenario, cal, areas, streets
        self.blocks = blocks
        if not unmade <= set(OPTIONAL_PEOPLE):
            raise ValueError(f"people's columns always made: {sorted(unmade)}")
        self.unmade = unmade
        self.pickers: dict[str, MemberPicker] = {}
        """The member pickers the needs' carriers were picked with, by kind of
        member (:data:`~simulator.world.needs.CARRIER_KINDS`), once drawn."""
        n = scenario.population.n_households
        self.hid = np.arange(
            blocks.start * BLOCK_SIZE, min(blocks.stop * BLOCK_SIZE, n)
        )
        self.h_counts = block_counts(self.hid // BLOCK_SIZE, blocks)

    def streams(self, *names: str) -> BlockStreams:
        """The per-block streams for one named draw of this stage."""
        return BlockStreams(self.s.seed, ("population", *names), self.blocks)

    def u(self, name: str) -> np.ndarray:
        """One uniform per household from stream ``name``."""
        return self.streams(name).random(self.h_counts)

    @cached_property
    def households(self) -> pd.DataFrame:
        """Households of the chunk: area, group attributes, addresses."""
        _s, pop, cal, areas = self.s, self.s.population, self.cal, self.areas
        n_areas, n = pop.n_areas, pop.n_households
        area = self.hid * n_areas // n
        slot = self.hid - areas["first_household"].to_numpy()[area]
        decile = areas["imd_decile"].to_numpy()[area]
        dep = 1.0 - affluence(decile)
        eth = _choose(self.u("ethnicity"), cal.ethnicity_given_decile, decile - 1)
        tenure = _choose(self.u("tenure"), cal.tenure_given_decile, decile - 1)
        lp_or = np.array(
            [
                np.log(pop.lone_parent_ethnicity_odds_ratio.get(g, 1.0))
                for g in ETHNICITIES
            ]
        )
        p_lp = expit(
            cal.lone_parent_intercept
            + np.log(pop.lone_parent_deprivation_odds_ratio) * dep
            + lp_or[eth]
        )
        lone = self.u("lone_parent") < p_lp
        kids = np.asarray(pop.children_shares, float)
        n_children = 1 + _choose(
            self.u("n_children"),
            (kids / kids.sum())[None, :],
            np.zeros(len(area), dtype=np.int64),
        )
        moved_p = np.array([getattr(pop.moved_last_year, t) for t in TENURES])[tenure]
        moved = self.u("moved") < moved_p

        # Previous home of movers: another family's home in the area, or a vacant one.
        occupied = self.u("previous_home_occupied") < PREVIOUS_HOME_OCCUPIED
        size = areas["n_households"].to_numpy()[area]
        other = (
            slot + 1 + (self.u("previous_home") * (size - 1)).astype(np.int64)
        ) % size
        prev_slot = np.where(occupied & (size > 1), other, slot)
        prev_vacant = ~(occupied & (size > 1))

        hh = pd.DataFrame(
            {
                "household_id": self.hid,
                "area_id": area,
                "imd_decile": decile.astype(np.int8),
                "imd_quintile": ((decile + 1) // 2).astype(np.int8),
                "ethnicity": pd.Categorical.from_codes(
                    eth, categories=list(ETHNICITIES)
                ),
                "tenure": pd.Categorical.from_codes(tenure, categories=list(TENURES)),
                "lone_parent": lone,
                "n_children": n_children.astype(np.int8),
                "moved_recently": moved,
                "address": _strings(
                    identity.addresses(
                        area, slot, self.streets, np.zeros(len(area), bool)
                    )
                ),
                "postcode": _strings(identity.postcodes(area, slot)),
                "prev_address": _strings(
                    identity.addresses(area, prev_slot, self.streets, prev_vacant)
                ),
                "prev_postcode": _strings(identity.postcodes(area, prev_slot)),
            }
        )
        return hh

    @cached_property
    def layout(self) -> MemberLayout:
        """Where each person of the chunk sits: household row, place in it."""
        return MemberLayout.of(self.households, self.blocks)

    def person_u(self, name: str) -> np.ndarray:
        """One uniform per person from the people's stream ``name``."""
        return self.streams("people", name).random(self.layout.p_counts)

    def person_n(self, name: str) -> np.ndarray:
        """One standard normal per person from the people's stream ``name``."""
        return self.streams("people", name).normal(self.layout.p_counts)

    def female(self) -> np.ndarray:
        """Whether each person is female (the first adult is the mother mostly)."""
        m, pop = self.layout, self.s.population
        lone_h = self.households["lone_parent"].to_numpy()[m.h_idx]
        u_sex = self.person_u("sex")
        return np.where(
            m.member == 0,
            np.where(lone_h, u_sex < pop.lone_parent_mother_share, True),
            np.where(m.member == 1, u_sex < 0.02, u_sex < 0.488),
        )

    def ages(self) -> np.ndarray:
        """Ages: the eldest child, then spacings; parents from the eldest's age."""
        m = self.layout
        n = len(m.h_idx)
        kids_h = m.n_kids[m.h_idx]
        eldest = (kids_h - 1) + np.floor(
            self.person_u("eldest") * (18 - (kids_h - 1))
        ).astype(np.int64)
        spacing = np.where(
            m.child_no > 0,
            1 + self.streams("people", "spacing").poisson(m.p_counts, 1.2),
            0,
        )
        spacing = np.where(self.person_u("twins") < 0.03, 0, spacing)
        cum_spacing = np.cumsum(spacing)
        first_child = m.starts + m.n_adults  # the eldest child of each household
        cum_at_eldest = cum_spacing[np.minimum(first_child, n - 1)][m.h_idx]
        eldest_h = np.where(m.n_kids > 0, eldest[np.minimum(first_child, n - 1)], 0)[
            m.h_idx
        ]
        child_age = np.maximum(eldest_h - (cum_spacing - cum_at_eldest), 0)
        mother_age = eldest_h + np.clip(
            np.round(28.5 + 5.5 * self.person_n("age_at_birth")), 16, 45
        )
        partner_age = np.maximum(
            mother_age + np.round(2 + 3.5 * self.person_n("partner_age")), 18
        )
        age = np.where(
            m.member == 0, mother_age, np.where(m.is_adult, partner_age, child_age)
        )
        return age.astype(np.int64)

    def names(self, female: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First and last name codes.

        The household's surname is the first adult's; a partner sometimes keeps
        their own, and children mostly take the first parent's.
        """
        m, pop = self.layout, self.s.population
        eth = self.households["ethnicity"].array
        groups = list(identity.NAME_LOCALES)
        eth_h = np.array([groups.index(c) for c in eth.categories])[eth.codes][m.h_idx]
        kinds = identity.NAME_KINDS
        first_kind = np.where(female, kinds.index("female"), kinds.index("male"))
        first = identity.sample_names(eth_h, first_kind, self.person_u("first_name"))
        own_last = identity.sample_names(
            eth_h, kinds.index("last"), self.person_u("last_name")
        )
        fam_last = own_last[m.starts][m.h_idx]  # first adult's surname
        second_idx = np.where(m.n_adults == 2, m.starts + 1, m.starts)[m.h_idx]
        partner_last = own_last[second_idx]
        u_sur = self.person_u("surname_choice")
        last = np.where(
            m.member == 0,
            own_last,
            np.where(
                m.is_adult,
                np.where(u_sur < pop.partner_shares_surname, fam_last, own_last),
                np.where(
                    u_sur < pop.child_shares_parent_surname,
                    fam_last,
                    np.where(m.n_adults[m.h_idx] == 2, partner_last, own_last),
                ),
            ),
        )
        return first, last

    def identifiers(self, pid: np.ndarray, age: np.ndarray) -> dict[str, pa.Array]:
        """NHS numbers for all, NI numbers for adults, UPNs for children from 4.

        Those in ``unmade`` left out (none is drawn: each is a function of the id).
        """
        is_adult = self.layout.is_adult
        key = stable_id(f"{self.s.seed}")
        make = {
            "nhs_number": lambda: identity.nhs_numbers(pid, key),
            "ni_number": lambda: _only_where(
                is_adult, lambda rows: identity.ni_numbers(pid[rows], key)
            ),
            "upn": lambda: _only_where(
                ~is_adult & (age >= 4), lambda rows: identity.upns(pid[rows], key)
            ),
        }
        return {col: f() for col, f in make.items() if col not in self.unmade}

    @cached_property
    def people(self) -> pd.DataFrame:
        """People of the chunk's households: roles, ages, names, identifiers.

        Without the columns in ``unmade`` (:data:`OPTIONAL_PEOPLE`).
        """
        m, hh = self.layout, self.households
        female = self.female()
        age = self.ages()
        dob = dates_of_birth(self.s.time.reference_date, age, self.person_u("birthday"))
        pid = m.hid * MAX_MEMBERS + m.member
        role = np.where(m.member == 0, 0, np.where(m.is_adult, 1, 2))
        dtypes = _dtypes()
        columns = {
            "person_id": pid,
            "household_id": m.hid,
            "role": pd.Categorical.from_codes(role, dtype=dtypes["role"]),
            "sex": pd.Categorical.from_codes(
                female.astype(np.int8), dtype=dtypes["sex"]
            ),
            "age": age.astype(np.int16),
            "dob": dob,
        }
        if not {"first_name", "last_name"} <= self.unmade:
            first, last = self.names(female)
            for col, codes in (("first_name", first), ("last_name", last)):
                if col not in self.unmade:
                    columns[col] = pd.Categorical.from_codes(
                        codes, dtype=dtypes["name"]
                    )
        for col, values in self.identifiers(pid, age).items():
            columns[col] = _strings(values)
        h_take = pa.array(m.h_idx)
        for col in PERSON_ADDRESSES:
            if col not in self.unmade:
                columns[col] = _strings(arrow_strings(hh[col]).take(h_take))
        return pd.DataFrame(columns, copy=False)

    def with_needs(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Add the true needs, the eligibility, the harm and each need's carrier.

        The new columns are gathered, then joined to the households at once (a
        frame's column set one at a time is copied into its blocks each time).
        """
        s, cal = self.s, self.cal
        hh, people = self.households, self.people
        dep = 1.0 - affluence(hh["imd_decile"].to_numpy())
        lone = hh["lone_parent"].to_numpy()
        rho = s.needs.correlation
        common = self.streams("needs", "common").normal(self.h_counts)
        h_pos = self.layout.h_idx  # each person's household row, as a search finds
        candidates = carrier_candidates(people, h_pos, len(hh))
        has_school = has_member(h_pos, candidates["education"], len(hh))
        n_needs = np.zeros(len(hh), dtype=np.int64)
        new: dict[str, np.ndarray] = {}
        for need in NEEDS:
            p = need_probability(
                s, cal.need_intercepts[need], need, dep, lone, has_school
            )
            z = np.sqrt(rho) * common + np.sqrt(1 - rho) * self.streams(
                "needs", need
            ).normal(self.h_counts)
            has = ndtr(z) < p
            new[f"need_{need}"] = has
            n_needs += has
        new["n_needs"] = n_needs.astype(np.int8)
        new["eligible"] = n_needs >= s.eligibility.min_needs
        new["harm"] = self.u("harm") < harm_probability(s, n_needs, dep)
        pid = people["person_id"].to_numpy()
        for need in NEEDS:
            picker = MemberPicker.of(h_pos, candidates[need], len(hh))
            if need in CARRIER_KINDS:
                self.pickers[CARRIER_KINDS[need]] = picker
            pick = picker.pick(self.u(f"carrier_{need}"))
            has = new[f"need_{need}"]
            new[f"carrier_{need}"] = np.where(
                has & (pick >= 0), pid[np.maximum(pick, 0)], -1
            )
        return pd.concat([hh, pd.DataFrame(new, index=hh.index)], axis=1), people


def dates_of_birth(reference: dt.date, age: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Dates of birth giving exactly ``age`` whole years at ``reference``.

    Uniform (by ``u``) over that year of days; ``datetime64[s]``.
    """
    age = np.asarray(age, dtype=np.int64)
    (by_years,) = _years_before(reference, np.arange(age.max() + 2 if len(age) else 1))
    latest, earliest = by_years[age], by_years[age + 1]
    span = (latest - earliest).astype(np.int64)
    days = np.floor(u * span).astype(np.int64)
    return (latest - days.astype("timedelta64[D]")).astype("datetime64[s]")


def _years_before(date: dt.date, *years: np.ndarray) -> tuple[np.ndarray, ...]:
    """``date`` minus each array of whole years (29 February becomes 28 February)."""
    ref = np.datetime64(date, "D")
    month = ref.astype("datetime64[M]")
    day = (ref - month.astype("datetime64[D]")).astype(np.int64)
    out = []
    for y in years:
        m = month - (12 * np.asarray(y, dtype=np.int64)).astype("timedelta64[M]")
        start = m.astype("datetime64[D]")
        last = ((m + 1).astype("datetime64[D]") - start).astype(np.int64) - 1
        out.append(start + np.minimum(day, last).astype("timedelta64[D]"))
    return tuple(out)


def pick_member(
    h_pos: np.ndarray, eligible: np.ndarray, u: np.ndarray, n_households: int
) -> np.ndarray:
    """Row index of one eligible person per household (uniform via ``u``), or -1."""
    return MemberPicker.of(h_pos, eligible, n_households).pick(u)


@dataclass(frozen=True)
class MemberPicker:
    """:func:`pick_member` for one mask of eligible people, for any uniforms.

    What depends on who is eligible only (each household's count and first rank)
    is worked out once, for the several draws of one kind of member a chunk's
    sources make.
    """

    count: np.ndarray
    """Eligible people per household."""
    first_rank: np.ndarray
    """Per household: the rank, among the eligible, of its first eligible person."""
    rows: np.ndarray
    """The eligible people's rows."""

    @classmethod
    def of(
        cls, h_pos: np.ndarray, eligible: np.ndarray, n_households: int
    ) -> MemberPicker:
        """The picker of ``eligible`` people, of households ``h_pos``."""
        count = np.bincount(h_pos, weights=eligible, minlength=n_households).astype(
            np.int64
        )
        first_rank = np.concatenate([[0], np.cumsum(count)[:-1]])
        return cls(count, first_rank, np.flatnonzero(eligible))

    def pick(self, u: np.ndarray) -> np.ndarray:
        """Row index of one eligible person per household (uniform via ``u``), or -1.

        The rank's floor by truncation (``u * count`` is not negative); households
        without one read a row clipped into range, then dropped by a ``where``.
        """
        if not len(self.rows):
            return np.full(len(self.count), -1, dtype=np.int64)
        want = self.first_rank + (u * self.count).astype(np.int64)
        got = self.rows[np.minimum(want, len(self.rows) - 1)]
        return np.where(self.count > 0, got, -1)


def make_chunk(
    scenario: Scenario,
    cal: Calibration,
    areas: pd.DataFrame,
    streets: np.ndarray,
    blocks: range,
    unmade: frozenset[str] = frozenset(),
    pickers: dict[str, MemberPicker] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households (with needs and harm) and people of the households in ``blocks``.

    The people go without the columns ``unmade`` (of :data:`OPTIONAL_PEOPLE`);
    every other value is the same. ``pickers``, if given, is filled with the member
    pickers the carriers were picked with, by kind of member
    (:attr:`HouseholdFrame.pickers`), for the sources' draws of the same kinds.
    """
    frame = HouseholdFrame(scenario, cal, areas, streets, blocks, unmade)
    households, people = frame.with_needs()
    if pickers is not None:
        pickers.update(frame.pickers)
    return households, people


def area_streets(scenario: Scenario) -> np.ndarray:
    """Street names of every area, drawn from the area stream."""
    return identity.street_names(
        scenario.population.n_areas, stream(scenario.seed, "areas", "streets")
    )
