"""Probabilistic linkage with Splink 5 (Fellegi-Sunter), DuckDB backend, link-only.

All sources are linked to the spine in one model: their records are pooled into one
``records`` table (the model's m and u are the council's average over sources), so
it trains once. Records with identical normalised identities ("profiles") are linked
once, which also keeps one person's many events from dominating term frequencies.

Training never sees the truth: u probabilities come from random record-spine pairs
(``estimate_u_using_random_sampling`` with the scenario seed), m probabilities from
expectation maximisation on blocked pairs, and the prior from the data's size (each
record concerns one person, so about 1 in ``len(spine)`` record-spine pairs match).
Pairs scoring at least ``match_threshold`` are links; each record keeps its most
probable spine person (ties: the lowest ``spine_person_id``).

Splink types stay in this module: :func:`comparison` maps the plain-data
:class:`~simulator.schema.linkage.ComparisonSpec` to ``splink.comparison_library``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from simulator.council.linkage.backend import LinkageDB
from simulator.council.linkage.links import Prepared
from simulator.errors import InputDataError
from simulator.schema.linkage import ComparisonSpec, Recipe, SplinkConfig

if TYPE_CHECKING:
    from splink import Linker, SettingsCreator
    from splink.internals.blocking_rule_creator import BlockingRuleCreator
    from splink.internals.comparison_creator import ComparisonCreator

logger = logging.getLogger(__name__)

RECORDS = "records"
SPINE = "spine"
"""Splink dataset names of the two sides (``source_dataset`` values)."""


def comparison(spec: ComparisonSpec) -> ComparisonCreator:
    """The Splink comparison for a plain-data :class:`ComparisonSpec`.

    Examples
    --------
    >>> c = comparison(ComparisonSpec(column="last_name", kind="jaro_winkler",
    ...                               thresholds=(0.92, 0.8), term_frequency=True))
    >>> type(c).__name__, c.term_frequency_adjustments
    ('JaroWinklerAtThresholds', True)
    """
    import splink.comparison_library as cl

    t = list(spec.thresholds)
    col = spec.column
    if spec.kind == "exact":
        out = cl.ExactMatch(col)
    elif spec.kind == "jaro_winkler":
        out = cl.JaroWinklerAtThresholds(col, t)
    elif spec.kind == "jaro":
        out = cl.JaroAtThresholds(col, t)
    elif spec.kind == "levenshtein":
        out = cl.LevenshteinAtThresholds(col, [int(x) for x in t])
    elif spec.kind == "damerau_levenshtein":
        out = cl.DamerauLevenshteinAtThresholds(col, [int(x) for x in t])
    elif spec.kind == "date":
        out = cl.DateOfBirthComparison(
            col,
            input_is_string=False,
            datetime_thresholds=[int(x) for x in t],
            datetime_metrics=["day"] * len(t),
        )
    elif spec.kind == "postcode":
        out = cl.PostcodeComparison(col)
    else:  # pragma: no cover - the config's Literal rules this out
        raise ValueError(f"unknown comparison kind {spec.kind!r}")
    return out.configure(term_frequency_adjustments=spec.term_frequency)


def blocking_rule(columns: Sequence[Recipe]) -> BlockingRuleCreator:
    """Splink's ``block_on`` for a rule given as a list of columns."""
    from splink import block_on

    return block_on(*columns)


def settings(config: SplinkConfig, n_spine: int) -> SettingsCreator:
    """The Splink settings for linking records to a spine of ``n_spine`` rows."""
    from splink import SettingsCreator

    prior = config.probability_two_random_records_match or 1.0 / max(n_spine, 2)
    return SettingsCreator(
        link_type="link_only",
        comparisons=[comparison(c) for c in config.comparisons],
        blocking_rules_to_generate_predictions=[
            blocking_rule(r) for r in config.blocking_rules
        ],
        probability_two_random_records_match=prior,
        max_iterations=config.max_iterations,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        unique_id_column_name="unique_id",
    )


def blocked_pairs_sql(columns: Sequence[str], records: str, spine: str) -> str:
    """SQL counting the record-spine pairs a blocking rule creates (one value, n).

    Examples
    --------
    >>> print(blocked_pairs_sql(["dob"], "r", "s"))  # doctest: +NORMALIZE_WHITESPACE
    SELECT coalesce(sum(a.n * b.n), 0) AS n
    FROM (SELECT dob, count(*) AS n FROM r WHERE dob IS NOT NULL GROUP BY dob) AS a
    JOIN (SELECT dob, count(*) AS n FROM s WHERE dob IS NOT NULL GROUP BY dob) AS b
    ON a.dob = b.dob
    """
    cols = ", ".join(columns)
    present = " AND ".join(f"{c} IS NOT NULL" for c in columns)
    on = " AND ".join(f"a.{c} = b.{c}" for c in columns)

    def side(t: str) -> str:
        return f"SELECT {cols}, count(*) AS n FROM {t} WHERE {present} GROUP BY {cols}"

    return (
        f"SELECT coalesce(sum(a.n * b.n), 0) AS n\n"
        f"FROM ({side(records)}) AS a\nJOIN ({side(spine)}) AS b\nON {on}"
    )


def _profiles(db: LinkageDB, records: str, columns: Sequence[str]) -> tuple[str, str]:
    """Tables of distinct identities (``unique_id`` = lowest rid) and rid -> profile."""
    cols = ", ".join(columns)
    rid_profile, profiles = db.name("rid_profile"), db.name("profiles")
    db.create(
        rid_profile,
        f"SELECT rid, min(rid) OVER (PARTITION BY {cols}) AS unique_id, {cols} "
        f"FROM {records}",
    )
    db.create(
        profiles,
        f"SELECT unique_id, {cols} FROM {rid_profile} WHERE rid = unique_id "
        f"ORDER BY unique_id",
    )
    return rid_profile, profiles


def n_steps(config: SplinkConfig) -> int:
    """Progress steps of :func:`link_splink`: u, each EM session, scoring."""
    return 2 + len(config.em_blocking_rules)


def link_splink(
    prepared: Prepared,
    config: SplinkConfig,
    db: LinkageDB,
    seed: int,
    step: Callable[[], object] | None = None,
) -> pd.DataFrame:
    """Link prepared records to the spine with a Splink model trained on them.

    Parameters
    ----------
    prepared : Prepared
        Normalised records and spine (:func:`simulator.council.linkage.links.prepare`).
    config : SplinkConfig
        Blocking rules, comparisons, threshold and training options.
    db : LinkageDB
        The connection Splink runs on.
    seed : int
        Seed of the random pairs used to estimate u.
    step : callable, optional
        Called after u estimation, each EM session and scoring (see
        :func:`n_steps`).

    Returns
    -------
    DataFrame
        One row per linked record: ``rid``, ``spine_person_id``, ``match_key``
        (``"splink"``), ``match_probability`` and ``n_candidates`` (spine persons
        at or above the threshold). ``attrs["splink"]`` holds the number of
        distinct identities linked and the record-spine pairs each blocking rule
        creates (before pairs found by an earlier rule are removed).
    """
    start = time.perf_counter()
    columns = [c for c in prepared.records.columns if c != "rid"]
    records, spine_in = db.name("records_in"), db.name("spine_in")
    db.register(records, prepared.records)
    db.register(spine_in, prepared.spine)
    rid_profile, profiles = _profiles(db, records, columns)
    spine = db.name("spine_profiles")
    db.create(
        spine,
        f"SELECT spine_person_id AS unique_id, {', '.join(columns)} FROM {spine_in} "
        f"ORDER BY unique_id",
    )
    db.unregister(records, spine_in)
    n_profiles = int(db.scalar(f"SELECT count(*) FROM {profiles}"))  # type: ignore[arg-type]
    logger.info(
        "splink: %d records have %d distinct identities; spine has %d rows",
        len(prepared.records),
        n_profiles,
        len(prepared.spine),
    )

    pairs = {}
    for rule in config.blocking_rules:
        n = int(db.scalar(blocked_pairs_sql(rule, profiles, spine)))  # type: ignore[arg-type]
        pairs[" & ".join(rule)] = n
        logger.info("splink blocking rule %s: %d pairs", " & ".join(rule), n)
    total = sum(pairs.values())
    logger.info("splink blocking: %d pairs in all (before removing repeats)", total)
    if total > config.max_blocked_pairs:
        raise InputDataError(
            f"the splink blocking rules create {total:,} record-spine pairs, more than "
            f"max_blocked_pairs={config.max_blocked_pairs:,}: make the rules stricter "
            "(add columns) or raise max_blocked_pairs"
        )

    api = db.splink_api()
    inputs = [
        api.register(profiles, dataset_display_name=RECORDS),
        api.register(spine, dataset_display_name=SPINE),
    ]
    try:
        linker = train(
            inputs, settings(config, len(prepared.spine)), config, seed, step
        )
        found = _predict(db, linker, config, rid_profile)
        found.attrs["splink"] = {
            "distinct_identities": n_profiles,
            "spine_rows": len(prepared.spine),
            "blocked_pairs": pairs,
            "blocked_pairs_total": total,
        }
        if step is not None:
            step()
    finally:
        if not db.debug:
            api.delete_tables_created_by_splink_from_db()
        db.drop(rid_profile, profiles, spine)
    logger.info(
        "splink linkage: %d of %d records linked in %.1fs",
        len(found),
        len(prepared.records),
        time.perf_counter() - start,
    )
    return found


def train(
    inputs: Sequence[object],
    model: SettingsCreator | dict[str, object],
    config: SplinkConfig,
    seed: int,
    step: Callable[[], object] | None = None,
) -> Linker:
    """A Splink linker on ``inputs`` with u and m estimated from the data.

    u probabilities come from ``config.max_pairs`` random record-spine pairs drawn
    with ``seed``; m probabilities from one EM session per
    ``config.em_blocking_rules``. No truth is used.

    Parameters
    ----------
    inputs : sequence of SplinkDataFrame
        The registered records and spine tables.
    model : SettingsCreator or dict
        Splink settings (see :func:`settings`).
    config : SplinkConfig
        Training options.
    seed : int
        Seed of the u sampling.
    step : callable, optional
        Called after u estimation and after each EM session.

    Returns
    -------
    splink.Linker
        The trained linker.
    """
    from splink import Linker

    t0 = time.perf_counter()
    linker = Linker(list(inputs), model, log_level=None)
    linker.training.estimate_u_using_random_sampling(
        max_pairs=config.max_pairs, seed=seed
    )
    t1 = time.perf_counter()
    if step is not None:
        step()
    for rule in config.em_blocking_rules:
        linker = _em_session(linker, inputs, rule, config)
        if step is not None:
            step()
    logger.info(
        "splink: u estimated in %.1fs, m (EM) in %.1fs",
        t1 - t0,
        time.perf_counter() - t1,
    )
    return linker


def _em_session(
    linker: Linker,
    inputs: Sequence[object],
    rule: Sequence[Recipe],
    config: SplinkConfig,
) -> Linker:
    """One EM session, retried with fewer iterations if EM underflows.

    On very clean data, EM drives the m probability of a level never seen among
    matches towards 0; once it underflows to exactly 0, Splink 5 refuses it (a
    ``ValueError``) and leaves the linker's model half-changed. Then the session is
    rerun from the model as it was, with half the iterations (an earlier stop of the
    same EM), down to one; if even that fails the session is skipped.
    """
    from splink import Linker

    before = linker.misc.save_model_to_json()
    iterations = config.max_iterations
    while True:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                blocking_rule(rule),
                estimate_without_term_frequencies=True,
                max_pairs=config.em_max_pairs,
            )
            return linker
        except ValueError as e:
            if "below the minimum allowed" not in str(e):
                raise
            reason = str(e).split(".", 1)[0]
        if iterations == 1:
            logger.warning(
                "splink EM session blocked on %s skipped (%s)", " & ".join(rule), reason
            )
            return Linker(list(inputs), before, log_level=None)
        iterations = max(1, iterations // 2)
        logger.warning(
            "splink EM session blocked on %s underflowed (%s); rerunning it with "
            "%d iterations",
            " & ".join(rule),
            reason,
            iterations,
        )
        linker = Linker(
            list(inputs), {**before, "max_iterations": iterations}, log_level=None
        )


def _predict(
    db: LinkageDB, linker: Linker, config: SplinkConfig, rid_profile: str
) -> pd.DataFrame:
    """Each record's most probable spine person at or above the threshold."""
    t0 = time.perf_counter()
    predictions = linker.inference.predict(
        threshold_match_probability=config.match_threshold, warning_mode="never"
    )
    logger.info("splink: pairs scored in %.1fs", time.perf_counter() - t0)
    pred = predictions.physical_name
    best = db.name("best")
    db.create(
        best,
        f"""
        WITH oriented AS (
            SELECT
                CASE WHEN source_dataset_l = '{RECORDS}' THEN unique_id_l
                     ELSE unique_id_r END AS unique_id,
                CASE WHEN source_dataset_l = '{RECORDS}' THEN unique_id_r
                     ELSE unique_id_l END AS spine_person_id,
                match_probability
            FROM {pred}
        )
        SELECT unique_id, spine_person_id, match_probability,
               count(*) OVER (PARTITION BY unique_id) AS n_candidates
        FROM oriented
        QUALIFY row_number() OVER (
            PARTITION BY unique_id ORDER BY match_probability DESC, spine_person_id
        ) = 1
        """,
    )
    found = db.frame(
        f"""
        SELECT p.rid, CAST(b.spine_person_id AS BIGINT) AS spine_person_id,
               'splink' AS match_key, b.match_probability,
               CAST(b.n_candidates AS BIGINT) AS n_candidates
        FROM {rid_profile} AS p JOIN {best} AS b USING (unique_id)
        ORDER BY p.rid
        """
    )
    db.drop(best)
    return found
