"""Families who withhold consent, and the records their agencies then keep back.

Each family draws whether it withholds consent (:func:`draw_consent`, a per-block
stream of its own, so turning consent on changes no other draw); after a source's
records are made and corrupted, :func:`shared_records` drops the records of those
families unless the source shares them for safeguarding. The council never learns
who withheld consent: it simply receives fewer records, as it would in practice.
"""

from __future__ import annotations

import numpy as np

from simulator.schema.consent import ConsentConfig
from simulator.vocabulary import CONSENT_COLUMN
from simulator.world.agencies.base import PopulationChunk
from simulator.world.probability import expit, logit
from simulator.world.records import Rows


def draw_consent(chunk: PopulationChunk, consent: ConsentConfig) -> np.ndarray:
    """Whether each household of ``chunk`` withholds consent (one bool per household).

    The odds are ``withhold_rate``'s times the odds ratios of the household's groups.
    """
    with np.errstate(divide="ignore"):  # a rate of 1: infinite log odds, all withhold
        log_odds = logit(consent.withhold_rate) + chunk.group_log_factor(
            consent.group_odds_ratios
        )
    u = chunk.streams("consent").random(chunk.h_counts)
    return u < expit(log_odds)


def shared_records(
    rows: Rows, chunk: PopulationChunk, source: str, consent: ConsentConfig
) -> Rows:
    """The records of ``source`` the council receives: without withheld families'.

    Records of a family that withholds consent are kept back unless ``source`` is a
    safeguarding source (or the spine, the council's own index). A record belongs to
    the family of the person it truly concerns.
    """
    if (
        not consent.enabled
        or source == "spine"
        or source in consent.safeguarding_sources
        or not len(rows)
    ):
        return rows
    withheld = chunk.households[CONSENT_COLUMN].to_numpy(bool)
    of = chunk.household_positions(np.asarray(rows["true_household_id"]))
    return rows.take(np.flatnonzero(~withheld[of]))
