"""The world between two periods: needs change, and earlier flags act on families.

The truth side of a run over periods (``dynamics:``). Each function is a small pure
function of the world's state and the flags as they reached true households (the
audit's join, never the council's own tables): :func:`next_needs` moves the true
needs on a year (with **support** resolving some of a flagged family's needs) and
:func:`record_shifts` says how much more (**surveillance**) or less
(**deterrence**) of each family's life reaches each source next period. The
pipeline's loop (:mod:`simulator.pipeline.periods`) runs the agencies and the
council between them.

Every draw comes from a named stream of the period's seed
(:func:`period_seed`), over seeding blocks, so it does not depend on chunking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from simulator.rng import BLOCK_SIZE, BlockStreams, block_counts, draw_seed, stream
from simulator.schema.dynamics import DynamicsConfig
from simulator.schema.scenario import Scenario
from simulator.vocabulary import NEEDS
from simulator.world.agencies.base import RecordShifts
from simulator.world.needs import (
    carrier_candidates,
    harm_probability,
    has_member,
    need_probability,
)
from simulator.world.population import Calibration, pick_member
from simulator.world.probability import affluence


def period_seed(seed: int, period: int) -> int:
    """The seed of period ``period`` (1, 2, ...): the scenario's own for period 1.

    Examples
    --------
    >>> period_seed(7, 1)
    7
    >>> period_seed(7, 2) == period_seed(7, 2) != period_seed(7, 3)
    True
    """
    if period == 1:
        return int(seed)
    return draw_seed(stream(int(seed), "period", int(period)))


def period_scenario(scenario: Scenario, period: int) -> Scenario:
    """The scenario of period ``period``: the same settings, the period's seed."""
    if period == 1:
        return scenario
    return scenario.model_copy(update={"seed": period_seed(scenario.seed, period)})


@dataclass(frozen=True)
class NeedsMoved:
    """The households of the next period and what moved their needs.

    Attributes
    ----------
    households : DataFrame
        The truth table with the period's ``need_*``, ``carrier_*``, ``n_needs``,
        ``eligible`` and ``harm``; every other column as it was.
    resolved : ndarray of int
        Per household, needs that resolved on their own.
    supported : ndarray of int
        Per household, needs that resolved because a flag brought support.
    arisen : ndarray of int
        Per household, needs that arose.
    """

    households: pd.DataFrame
    resolved: np.ndarray
    supported: np.ndarray
    arisen: np.ndarray


def _streams(scenario: Scenario, n_households: int, *names: str) -> BlockStreams:
    """The period's streams over every seeding block of the population."""
    n_blocks = -(-n_households // BLOCK_SIZE)
    return BlockStreams(scenario.seed, ("dynamics", *names), range(n_blocks))


def family_factor(scenario: Scenario, household_ids: np.ndarray) -> np.ndarray:
    """Each family's common latent risk, as the population drew it for period 1.

    The population draws a family's needs from one common factor plus one factor
    per need (``needs.correlation``); the common one is drawn again here from the
    same stream (``population``, ``needs``, ``common``) of the scenario's seed, so
    later periods keep the family's clustering of needs.
    """
    ids = np.asarray(household_ids)
    blocks = range(-(-len(ids) // BLOCK_SIZE))
    streams = BlockStreams(scenario.seed, ("population", "needs", "common"), blocks)
    return streams.normal(block_counts(ids // BLOCK_SIZE, blocks))


def steady_chance(p: np.ndarray, common: np.ndarray, rho: float) -> np.ndarray:
    """A family's chance of a need given its common factor (the population's model).

    The population gives a family the need when
    ``sqrt(rho) * common + sqrt(1 - rho) * own < ndtri(p)``, ``own`` standard normal,
    so given ``common`` the chance is ``ndtr((ndtri(p) - sqrt(rho) * common) /
    sqrt(1 - rho))``; given it, the needs are independent.
    """
    return ndtr((ndtri(p) - np.sqrt(rho) * common) / np.sqrt(1.0 - rho))


def next_needs(
    households: pd.DataFrame,
    people: pd.DataFrame,
    flagged: np.ndarray,
    scenario: Scenario,
    cal: Calibration,
    common: np.ndarray,
) -> NeedsMoved:
    """Move every family's true needs on one period.

    A need resolves with its yearly rate ``r`` (``dynamics.needs``); a family
    without it gains it with ``q * r / (1 - q)`` (capped at 1), ``q`` the family's
    chance of the need given its common factor (:func:`steady_chance`). Period 1's
    needs are drawn from that steady state, so without feedback every period is
    as likely to be in need, and needs cluster in families, as period 1. With
    ``dynamics.support`` on, each remaining need of a flagged family also resolves
    with ``support.resolve_probability``, from a stream of its own, so support
    only ever removes needs that would otherwise persist. A need that persists
    keeps its carrier; one that arises gets a new one. Harm in the follow-up is
    drawn again from the period's needs.

    Parameters
    ----------
    households, people : DataFrame
        The truth of the period that ends, sorted by household id.
    flagged : ndarray of bool
        Per household, whether a flag of the period that ends reached it.
    scenario : Scenario
        The scenario with the coming period's seed (:func:`period_scenario`).
    cal : Calibration
        The population's calibration (:meth:`Calibration.from_scenario`).
    common : ndarray
        Each family's common factor (:func:`family_factor`).

    Returns
    -------
    NeedsMoved
    """
    dyn = scenario.dynamics
    hh = households.copy(deep=False)
    n = len(hh)
    counts = block_counts(
        hh["household_id"].to_numpy() // BLOCK_SIZE, range(-(-n // BLOCK_SIZE))
    )
    dep = 1.0 - affluence(hh["imd_decile"].to_numpy())
    lone = hh["lone_parent"].to_numpy()
    h_pos = np.searchsorted(
        hh["household_id"].to_numpy(), people["household_id"].to_numpy()
    )
    candidates = carrier_candidates(people, h_pos, n)
    has_school = has_member(h_pos, candidates["education"], n)
    pid = people["person_id"].to_numpy()
    support = dyn.support.resolve_probability if dyn.support.enabled else 0.0
    resolved = np.zeros(n, np.int64)
    supported = np.zeros(n, np.int64)
    arisen = np.zeros(n, np.int64)
    n_needs = np.zeros(n, np.int64)
    for need in NEEDS:
        has = hh[f"need_{need}"].to_numpy(dtype=bool)
        p = need_probability(
            scenario, cal.need_intercepts[need], need, dep, lone, has_school
        )
        q = steady_chance(p, common, scenario.needs.correlation)
        r = dyn.needs.rate(need)
        arise = np.minimum(q * r / np.maximum(1.0 - q, 1e-12), 1.0)
        u = _streams(scenario, n, need, "course").random(counts)
        gone = has & (u < r)
        helped = has & ~gone & np.asarray(flagged, bool)
        helped &= _streams(scenario, n, need, "support").random(counts) < support
        new = ~has & (u < arise)
        now = (has & ~gone & ~helped) | new
        pick = pick_member(
            h_pos,
            candidates[need],
            _streams(scenario, n, need, "carrier").random(counts),
            n,
        )
        new_carrier = np.where(pick >= 0, pid[np.maximum(pick, 0)], -1)
        old_carrier = hh[f"carrier_{need}"].to_numpy()
        hh[f"need_{need}"] = now
        hh[f"carrier_{need}"] = np.where(
            now, np.where(has, old_carrier, new_carrier), -1
        )
        resolved += gone
        supported += helped
        arisen += new
        n_needs += now
    hh["n_needs"] = n_needs.astype(np.int8)
    hh["eligible"] = n_needs >= scenario.eligibility.min_needs
    u_harm = _streams(scenario, n, "harm").random(counts)
    hh["harm"] = u_harm < harm_probability(scenario, n_needs, dep)
    return NeedsMoved(hh, resolved, supported, arisen)


def record_shifts(
    households: pd.DataFrame, times_flagged: np.ndarray, dyn: DynamicsConfig
) -> tuple[RecordShifts | None, np.ndarray, np.ndarray]:
    """What earlier flags change in what reaches each source next period.

    **Surveillance**: for each past flag of a family, the odds that a need reaches
    a watching source are multiplied by ``visibility_odds_ratio`` and its
    background events by ``background_ratio``; and every family of an area by
    ``area_ratio`` raised to (the area's past flags per family over the
    population's, minus 1), so attention follows where flags were and the places
    watched more yield more records and more flags (Ensign et al.'s loop).
    **Deterrence**: a family ever flagged has the odds of a
    need reaching a help-seeking source multiplied by ``odds_ratio``; every other
    family by ``area_odds_ratio`` raised to the share of its area's families ever
    flagged. Deterrence changes only what reaches records, never a true need.

    Parameters
    ----------
    households : DataFrame
        The truth table (``area_id``), sorted by household id.
    times_flagged : ndarray of int
        Per household, the periods so far in which a flag reached it.
    dyn : DynamicsConfig
        The scenario's ``dynamics:`` section.

    Returns
    -------
    shifts : RecordShifts or None
        None when no effect is switched on (records are drawn as in a single run).
    deterred : ndarray of bool
        Per household, whether it was ever flagged and deterrence is on.
    neighbours : ndarray of bool
        Per household, whether deterrence lowered its chance of being seen because
        others in its area were flagged (never flagged itself).
    """
    n = len(households)
    times = np.asarray(times_flagged, dtype=np.int64)
    visibility: dict[str, np.ndarray] = {}
    background: dict[str, np.ndarray] = {}
    deterred = np.zeros(n, bool)
    neighbours = np.zeros(n, bool)
    area = households["area_id"].to_numpy()
    watch = dyn.surveillance
    if watch.enabled:
        per_family = np.bincount(area, weights=times) / np.maximum(np.bincount(area), 1)
        relative = per_family / max(times.mean(), 1e-12) if times.any() else 1.0
        place = np.log(watch.area_ratio) * (np.asarray(relative) - 1.0)
        place = np.broadcast_to(place, per_family.shape)[area]
        for source in watch.sources:
            visibility[source] = np.log(watch.visibility_odds_ratio) * times + place
            background[source] = np.log(watch.background_ratio) * times + place
    deter = dyn.deterrence
    if deter.enabled:
        ever = times > 0
        share = np.bincount(area, weights=ever) / np.maximum(np.bincount(area), 1)
        shift = np.where(
            ever,
            np.log(deter.odds_ratio),
            np.log(deter.area_odds_ratio) * share[area],
        )
        deterred = ever
        neighbours = ~ever & (shift < 0)
        for source in deter.sources:
            visibility[source] = visibility.get(source, np.zeros(n)) + shift
    if not visibility and not background:
        return None, deterred, neighbours
    return RecordShifts(visibility, background), deterred, neighbours
