"""Generate a scenario's synthetic data: truth, every source's records and the spine.

Generation runs chunk by chunk (whole seeding blocks), then assembles: rows in a
chunk-independent order, spine households by the address the council holds, and the
council's identifiers as seeded permutations of the whole tables
(:mod:`simulator.world.ids`), so no id carries the truth's order.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from simulator.council.view import OPTIONAL_COLUMNS as VIEW_OPTIONAL
from simulator.council.view import RECORD_COLUMNS as VIEW_RECORDS
from simulator.council.view import SPINE_COLUMNS as VIEW_SPINE
from simulator.council.view import counted_types
from simulator.council.view_records import ABSENCE, CountedFile, CountedRecords
from simulator.io import (
    ROOMY,
    SCRATCH_COMPRESSION,
    RowGroupWriter,
    link_or_copy,
    scratch_compression,
    write_json,
    write_manifest,
    write_parquet,
)
from simulator.output_dirs import atomic_directory
from simulator.rng import BLOCK_SIZE
from simulator.schema.agencies import ErrorRates
from simulator.schema.scenario import Scenario
from simulator.vocabulary import AGENCIES, CONSENT_COLUMN
from simulator.world.agencies import MODULES
from simulator.world.agencies.base import PopulationChunk, RecordShifts
from simulator.world.arrow_memory import system_arrow_memory
from simulator.world.consent import draw_consent, shared_records
from simulator.world.corruption import CARRIED, ERRORS, corrupt
from simulator.world.ids import record_ids, spine_household_ids, spine_person_ids
from simulator.world.population import (
    OPTIONAL_PEOPLE,
    PERSON_ADDRESSES,
    Calibration,
    MemberPicker,
    area_streets,
    make_areas,
    make_chunk,
)
from simulator.world.records import (
    EVENT_COLUMNS,
    IDENTITY_COLUMNS,
    SPINE_COLUMNS,
    Rows,
    arrow_strings,
)

log = logging.getLogger(__name__)


@dataclass
class SyntheticData:
    """Everything generated for one scenario: the truth and what the council holds."""

    scenario: Scenario
    areas: pd.DataFrame
    households: pd.DataFrame
    people: pd.DataFrame
    sources: dict[str, pd.DataFrame]
    spine: pd.DataFrame


def chunks(scenario: Scenario) -> Iterator[range]:
    """Ranges of seeding blocks, ``generation.chunk_size`` households at a time."""
    n_blocks = -(-scenario.population.n_households // BLOCK_SIZE)
    step = scenario.generation.chunk_size // BLOCK_SIZE
    for start in range(0, n_blocks, step):
        yield range(start, min(start + step, n_blocks))


Columns = dict[str, np.ndarray | pa.Array]
"""A chunk's decoded columns of one table (numpy arrays, Arrow strings)."""
Parts = list[Columns]
"""One dict of decoded columns per chunk."""

_HIDDEN = ("true_person_id", "true_household_id", CARRIED)
_SOURCE_COLUMNS = (
    *EVENT_COLUMNS,
    *IDENTITY_COLUMNS,
    *_HIDDEN,
    "true_need",
    "true_from_need",
    *(f"err_{e}" for e in ERRORS),
)
_SPINE_COLUMNS = (
    *SPINE_COLUMNS,
    *IDENTITY_COLUMNS,
    *_HIDDEN,
    *(f"err_{e}" for e in ERRORS),
)

CODED = ("source", "event_type", "true_need", "sex", "first_name", "last_name")
"""Columns of a chunk's records kept coded, as Arrow dictionaries, until assembled or
numbered (:meth:`~simulator.world.records.Rows.to_arrays`): pools of one to some
thousands of values (names come from a vocabulary), so the spill holds int32 codes,
not strings; the strings are decoded once, as before, only later."""

ADDRESS_HELD = ("address", "postcode")
"""The spine's columns its households are numbered by (:func:`address_keys`): kept
coded too, in the spine's chunks only (:func:`coded`), so each chunk's households
are found from the codes of its pools (:func:`_address_codes`), whose strings are
hashed once a distinct address rather than once a row."""


def coded(source: str) -> tuple[str, ...]:
    """The columns of ``source``'s chunks kept coded (the spine's addresses too).

    >>> coded("spine")[-2:], coded("health") == CODED
    (('address', 'postcode'), True)
    """
    return (*CODED, *ADDRESS_HELD) if source == "spine" else CODED


REPEATING = (*CODED, "postcode", "prev_postcode")
"""Columns a scratch world's files write with a dictionary
(:class:`~simulator.io.RowGroupWriter`'s ``repeating``): :data:`CODED` and
postcodes (a dozen homes share one), whose strings written plain cost more to
compress than to hash."""

LEAN_SPINE_IDENTITY = ("dob", "address", "postcode")
"""The spine's identity fields a lean world holds (:func:`generate`): the view's date
of birth and postcode, and the address its households are numbered by."""


def unread(source: str, lean: bool) -> tuple[str, ...]:
    """Identity fields of ``source`` a lean world does not decode (none if not lean).

    Examples
    --------
    >>> unread("spine", True)
    ('first_name', 'last_name', 'sex', 'nhs_number', 'ni_number', 'upn')
    >>> len(unread("health", True)), unread("health", False)
    (9, ())
    """
    if not lean:
        return ()
    kept = LEAN_SPINE_IDENTITY if source == "spine" else ()
    return tuple(c for c in IDENTITY_COLUMNS if c not in kept)


def _held(columns: tuple[str, ...], source: str, lean: bool) -> tuple[str, ...]:
    """``columns`` without those :func:`unread` leaves out."""
    left_out = unread(source, lean)
    return tuple(c for c in columns if c not in left_out)


TRUTH_VIEWED = {
    "records": ("record_id", "true_person_id", *VIEW_RECORDS, *VIEW_OPTIONAL),
    "spine": (*VIEW_SPINE, "true_person_id", "true_household_id"),
}
"""The columns of a lean scratch world's files (:func:`write_generated`), by table:
what the view of the true links reads (:mod:`simulator.world.true_links`), and the
spine's household ids the outcomes join by."""


def _viewed(columns: tuple[str, ...], source: str) -> tuple[str, ...]:
    """``columns`` that :data:`TRUTH_VIEWED` keeps of ``source``'s table."""
    kept = TRUTH_VIEWED["spine" if source == "spine" else "records"]
    return tuple(c for c in columns if c in kept)


def _decoded(source: str, lean: bool, scratch: bool) -> frozenset[str] | None:
    """The columns of ``source``'s rows decoded for a lean scratch world; else None.

    Those it writes (:func:`_viewed`) and, for the spine, the address its
    households are numbered by (:func:`address_keys`).
    """
    if not (lean and scratch):
        return None
    if source == "spine":
        return frozenset((*TRUTH_VIEWED["spine"], "address"))
    return frozenset(TRUTH_VIEWED["records"])


def _unattached(lean: bool, scratch: bool) -> dict[str, frozenset[str]]:
    """Identity fields each source's rows go without (:func:`_decoded`'s others).

    A lean scratch world neither decodes nor writes them, so they are neither
    attached nor corrupted (:attr:`PopulationChunk.unattached`): its names and
    identifiers are never copied, edited or drawn for.
    """
    out = {}
    for source in MODULES:
        decoded = _decoded(source, lean, scratch)
        if decoded is not None:
            out[source] = frozenset(c for c in IDENTITY_COLUMNS if c not in decoded)
    return out


def _unmade(unattached: Mapping[str, frozenset[str]], people: bool) -> frozenset[str]:
    """People's columns a chunk is made without (:func:`make_chunk`'s ``unmade``).

    None if a ``people`` file is written; else the people's copies of their
    addresses (no source reads them) and the names and identifiers no source
    attaches (:func:`_unattached`).

    >>> sorted(_unmade({}, False))
    ['address', 'postcode', 'prev_address', 'prev_postcode']
    >>> _unmade(_unattached(True, True), False) == set(OPTIONAL_PEOPLE)
    True
    """
    if people:
        return frozenset()
    attached = {
        c for s in MODULES for c in OPTIONAL_PEOPLE if c not in unattached.get(s, ())
    }
    return frozenset(
        c for c in OPTIONAL_PEOPLE if c in PERSON_ADDRESSES or c not in attached
    )


def _concat(
    values: list[np.ndarray | pa.Array],
) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """One column from its per-chunk parts: Arrow strings are chained, not copied.

    Parts still coded (:data:`CODED`) are decoded first.
    """
    if values and isinstance(values[0], pa.Array | pa.ChunkedArray):
        strings = [_decoded_strings(v) for v in values]
        return pd.array(pa.chunked_array(strings, type=pa.large_string()), dtype="str")
    return np.concatenate(values)


def _decoded_strings(values: pa.Array) -> pa.Array:
    """``values`` as strings: a dictionary array (:data:`CODED`) decoded."""
    if isinstance(values, pa.DictionaryArray):
        return values.dictionary_decode()
    return values


def _assemble(parts: Parts, columns: tuple[str, ...]) -> pd.DataFrame:
    """A frame of ``columns`` from per-chunk parts, emptying the parts as it goes.

    The council's id columns are zeros, numbered once every chunk is assembled
    (:func:`number`); a missing ``absence_rate`` is NaN. Every other column must be
    in every part.
    """
    n = sum(len(p["true_person_id"]) for p in parts)
    out: dict[str, np.ndarray | pd.api.extensions.ExtensionArray] = {}
    for col in columns:
        if col in SPINE_COLUMNS or col == "record_id":
            out[col] = np.zeros(n, dtype=np.int64)  # numbered once assembled
        elif col == "absence_rate":
            out[col] = _concat(
                [p.pop(col, np.full(len(p["true_person_id"]), np.nan)) for p in parts]
            )
        else:
            out[col] = _concat([p.pop(col) for p in parts])
    return pd.DataFrame(out, copy=False)


def _chunked(values: pd.Series) -> pa.ChunkedArray:
    arr = pa.array(values.array)
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])


def address_keys(spine: pd.DataFrame) -> pa.ChunkedArray:
    """The address the council holds of each spine row: address and postcode."""
    columns = {c: _chunked(spine[c]) for c in ("address", "postcode")}
    return _address_keys(columns)


def assign_spine_households(keys: pa.ChunkedArray) -> np.ndarray:
    """A council household id per spine row: one per address held (in order seen).

    ``keys`` are :func:`address_keys` of the whole spine, in generation order.
    """
    codes = pc.dictionary_encode(keys)
    return np.concatenate(
        [c.indices.to_numpy().astype(np.int64) for c in codes.chunks]
        or [np.empty(0, np.int64)]
    )


def number(sources: dict[str, pd.DataFrame], spine: pd.DataFrame, seed: int) -> None:
    """Set the council's identifiers of assembled tables, in place.

    ``record_id`` of each source and ``spine_person_id`` are seeded permutations of
    the rows; ``spine_household_id`` groups spine rows by the address held
    (:func:`assign_spine_households`), then permutes the groups. Rows must be in
    their chunk-independent generation order, so the ids are too.
    """
    for name, frame in sources.items():
        frame["record_id"] = record_ids(seed, name, len(frame))
    if len(spine):
        spine["spine_person_id"] = spine_person_ids(seed, len(spine))
        spine["spine_household_id"] = spine_household_ids(
            seed, assign_spine_households(address_keys(spine))
        )


def _concat_frames(
    frames: list[pd.DataFrame], strings: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Frames one after another, column by column; ``strings`` become ``str``.

    Categoricals must share their categories; string columns are chained Arrow chunks.
    """
    out = {}
    for col in frames[0].columns:
        parts = [f[col] for f in frames]
        dtype = parts[0].dtype
        if isinstance(dtype, pd.CategoricalDtype) and col not in strings:
            codes = np.concatenate([p.array.codes for p in parts])
            out[col] = pd.Categorical.from_codes(codes, dtype=dtype)
        elif isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(
            dtype
        ):
            out[col] = _concat([arrow_strings(p) for p in parts])
        else:
            out[col] = np.concatenate([p.to_numpy() for p in parts])
    return pd.DataFrame(out, copy=False)


def add_records(
    chunk: PopulationChunk,
    parts: dict[str, Parts],
    lean: bool = False,
    scratch: bool = False,
    clean: dict[str, Parts] | None = None,
) -> None:
    """Append each source's corrupted records of ``chunk`` to its parts, in place.

    Records of families who withhold consent are kept back (:mod:`.consent`). With
    ``lean``, the identity fields :func:`unread` names are not decoded; with
    ``scratch`` too, only the columns a lean scratch world writes (:func:`_decoded`).
    With ``clean``, each source's records before their errors are appended to its
    parts there too, as a lean scratch world of the scenario without errors holds
    them (:func:`write_generated_worlds`' error-free twin): the same rows, for no
    error draw reads or moves the streams the records are drawn from.
    """
    scenario = chunk.scenario
    for source, source_parts in parts.items():
        cfg = scenario.agencies.source(source)
        made = MODULES[source].records(chunk, cfg)
        if clean is not None:  # corrupt() with no error adds only columns not kept
            rows = shared_records(made, chunk, source, scenario.consent)
            skip = _skipped(rows, source, True, True)  # a lean scratch world's
            clean[source].append(rows.to_arrays(skip=skip, coded=coded(source)))
        rows = corrupt(made, chunk, source, cfg.errors, scenario.error_multipliers)
        del made
        rows = shared_records(rows, chunk, source, scenario.consent)
        skip = _skipped(rows, source, lean, scratch)
        source_parts.append(rows.to_arrays(skip=skip, coded=coded(source)))
        del rows


_NO_ERRORS = ErrorRates.zero()
"""Every error rate 0: a source's records as the truth has them."""


def _skipped(rows: Rows, source: str, lean: bool, scratch: bool) -> tuple[str, ...]:
    """The columns of ``source``'s ``rows`` not decoded (``lean``, ``scratch``)."""
    decoded = _decoded(source, lean, scratch)
    if decoded is None:
        return unread(source, lean)
    return tuple(c for c in rows.columns if c not in decoded)


def generated_chunks(
    scenario: Scenario,
    areas: pd.DataFrame,
    progress: bool = False,
    lean: bool = False,
    scratch: bool = False,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame, dict[str, Columns]]]:
    """Each chunk's households, people and every enabled source's records, in order.

    ``areas`` are :func:`make_areas`'s. The records of a chunk are one dict of
    decoded columns per source (the spine included, ``lean`` as for
    :func:`generate`, ``scratch`` as for :func:`add_records`), ids not yet
    numbered; consent is drawn into the households first.
    """
    for hh, pp, (records,) in _shared_chunks(
        (Drawn(scenario),), areas, progress, lean, scratch, people=True
    ):
        yield hh, pp, records


def same_population(a: Scenario, b: Scenario) -> bool:
    """Whether ``a`` and ``b`` draw the same areas, households, people and consent.

    They do if they differ at most in what the agencies record (``agencies``) and
    in which sources share the records of families who withhold consent: every
    population draw reads the other sections and the seed only (the attribution
    ladder's counterfactual worlds of one world, :mod:`audits.counterfactuals`).
    """
    consent = a.consent.model_copy(
        update={"safeguarding_sources": b.consent.safeguarding_sources}
    )
    return a.model_copy(update={"agencies": b.agencies, "consent": consent}) == b


@dataclass(frozen=True)
class Drawn:
    """What :func:`_shared_chunks` draws of one world of a shared population.

    ``sources``: only these of its enabled sources (None: all). ``before_errors_of``:
    none of its own; its records are the world at that index's (an earlier one)
    before their errors, as a lean scratch world holds them (its error-free twin).
    """

    scenario: Scenario
    sources: tuple[str, ...] | None = None
    before_errors_of: int | None = None

    def enabled(self) -> list[str]:
        """The sources it draws records of."""
        agencies = self.scenario.agencies
        return [
            s
            for s in MODULES
            if agencies.source(s).enabled
            and (self.sources is None or s in self.sources)
        ]


def same_records_before_errors(a: Scenario, b: Scenario) -> bool:
    """Whether ``b`` is ``a`` with every error rate 0 (the ladder's ``visibility``).

    Then ``b``'s records are ``a``'s before their errors: the agencies draw their
    records from ``a``'s other settings only, and each error from its own streams.
    """
    if a.model_copy(update={"agencies": b.agencies}) != b:
        return False
    return all(
        b.agencies.source(s).errors == _NO_ERRORS
        and a.agencies.source(s).model_copy(update={"errors": _NO_ERRORS})
        == b.agencies.source(s)
        for s in MODULES
    )


def _shared_chunks(
    worlds: tuple[Drawn, ...],
    areas: pd.DataFrame,
    progress: bool,
    lean: bool,
    scratch: bool,
    *,
    people: bool,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Columns]]]]:
    """:func:`generated_chunks` of worlds of one population, drawn once.

    Each chunk's households and people (:func:`same_population`: equal for every
    world), then each world's records of them, in the order of ``worlds``.
    Without ``people`` (no people file written), the people lack the columns
    nothing reads (:func:`_unmade`).
    """
    first = worlds[0].scenario
    if not all(same_population(first, w.scenario) for w in worlds[1:]):
        raise ValueError("the scenarios draw different populations")
    twins = {i: w.before_errors_of for i, w in enumerate(worlds)}
    twins = {i: of for i, of in twins.items() if of is not None}
    if len(set(twins.values())) < len(twins):
        raise ValueError("a world has one error-free twin at most")
    for i, of in twins.items():
        if not (of < i and twins.get(of) is None and worlds[of].sources is None):
            raise ValueError("a twin follows a world of its own records")
        if not same_records_before_errors(worlds[of].scenario, worlds[i].scenario):
            raise ValueError("a twin's scenario is not its world's without errors")
    from tqdm import tqdm

    cal = Calibration.from_scenario(first)
    streets = area_streets(first)
    all_chunks = list(chunks(first))
    unattached = _unattached(lean, scratch)  # the same for every chunk
    unmade = _unmade(unattached, people)
    for blocks in tqdm(all_chunks, desc="generate", unit="chunk", disable=not progress):
        pickers: dict[str, MemberPicker] = {}
        hh, pp = make_chunk(first, cal, areas, streets, blocks, unmade, pickers)
        chunk = PopulationChunk(
            first, hh, pp, blocks, unattached=unattached, pickers=pickers
        )
        if first.consent.enabled:
            hh[CONSENT_COLUMN] = draw_consent(chunk, first.consent)
        records: list[dict[str, Columns]] = []
        cleans: dict[int, dict[str, Parts]] = {}
        for i, world in enumerate(worlds):
            if world.before_errors_of is not None:
                clean = cleans.pop(world.before_errors_of)
                records.append({s: p[0] for s, p in clean.items()})
                continue
            enabled = world.enabled()
            parts: dict[str, Parts] = {s: [] for s in enabled}
            if i in twins.values():
                cleans[i] = {s: [] for s in enabled}
            if world.scenario is not chunk.scenario:
                chunk = PopulationChunk(
                    world.scenario,
                    hh,
                    pp,
                    blocks,
                    unattached=unattached,
                    pickers=pickers,
                )
            add_records(chunk, parts, lean, scratch, cleans.get(i))
            records.append({s: p[0] for s, p in parts.items()})
        yield hh, pp, records


@system_arrow_memory()
def generate(
    scenario: Scenario, progress: bool = False, *, lean: bool = False
) -> SyntheticData:
    """Generate the truth, every enabled source's corrupted records and the spine.

    With ``lean``, for a world linked by the truth (the attribution ladder's rungs,
    whose files are not written): the records hold no identity fields and the spine
    only :data:`LEAN_SPINE_IDENTITY`, for nothing reads the others (the truth's
    links read ids); every other value is as without it. It saves decoding and
    holding those strings: a rung world peaked at 0.71 GiB against 0.92 GiB at
    200,000 households.
    """
    areas = make_areas(scenario)
    enabled = [s for s in MODULES if scenario.agencies.source(s).enabled]
    households, people = [], []
    parts: dict[str, Parts] = {s: [] for s in enabled}
    for hh, pp, records in generated_chunks(scenario, areas, progress, lean):
        for source, columns in records.items():
            parts[source].append(columns)
        households.append(hh)
        people.append(pp)
    data = _assembled(scenario, areas, households, people, parts, lean)
    number(data.sources, data.spine, scenario.seed)
    log.info(
        "generated %d households, %d people, %s",
        len(data.households),
        len(data.people),
        ", ".join(f"{k}: {len(v)} records" for k, v in data.sources.items()),
    )
    return data


def _assembled(
    scenario: Scenario,
    areas: pd.DataFrame,
    households: list[pd.DataFrame],
    people: list[pd.DataFrame],
    parts: dict[str, Parts],
    lean: bool = False,
) -> SyntheticData:
    """Chunks' tables as one dataset, the council's ids not yet numbered (zeros).

    Empties ``parts``, ``people`` and ``households`` as it goes, so each table's
    chunks are freed once it is assembled.
    """
    sources = {
        s: _assemble(parts.pop(s), _held(_SOURCE_COLUMNS, s, lean))
        for s in list(parts)
        if s != "spine"
    }
    spine = _spine_table(parts.pop("spine", []), lean)
    people_all = _concat_frames(people, strings=_PEOPLE_STRINGS)
    people.clear()
    households_all = _concat_frames(households, strings=_ADDRESS_STRINGS)
    households.clear()
    return SyntheticData(scenario, areas, households_all, people_all, sources, spine)


def _spine_table(parts: Parts, lean: bool = False) -> pd.DataFrame:
    """The spine from its per-chunk parts (no rows: an empty table, spine off)."""
    if parts:
        return _assemble(parts, _held(_SPINE_COLUMNS, "spine", lean))
    return pd.DataFrame(
        columns=_held((*SPINE_COLUMNS, *IDENTITY_COLUMNS), "spine", lean)
    )


def _chunks_of(
    scenario: Scenario,
    households: pd.DataFrame,
    people: pd.DataFrame,
    shifts: RecordShifts | None = None,
) -> Iterator[PopulationChunk]:
    """An existing population's chunks, as :func:`generate` made them."""
    hid = households["household_id"].to_numpy()
    person_hid = people["household_id"].to_numpy()
    for blocks in chunks(scenario):
        bounds = [blocks.start * BLOCK_SIZE, blocks.stop * BLOCK_SIZE]
        h = slice(*np.searchsorted(hid, bounds))
        p = slice(*np.searchsorted(person_hid, bounds))
        yield PopulationChunk(
            scenario,
            households.iloc[h].reset_index(drop=True),
            people.iloc[p].reset_index(drop=True),
            blocks,
            shifts.take(h) if shifts is not None else None,
        )


@system_arrow_memory()
def spine_again(
    scenario: Scenario,
    households: pd.DataFrame,
    people: pd.DataFrame,
    lean: bool = False,
) -> pd.DataFrame:
    """The council's index of an existing population, drawn from ``scenario``.

    The spine :func:`generate` would draw for ``scenario`` if its population were
    ``households`` and ``people`` (as :func:`generate` made them, consent drawn):
    the spine's draws read only the truth, the spine's own section and the seed,
    so a scenario that differs from another only in ``agencies.spine`` (the
    attribution ladder's ``spine`` rung beside its ``model`` rung) needs no other
    table drawn again.

    Parameters
    ----------
    scenario : Scenario
        The scenario whose spine section and seed are used.
    households, people : DataFrame
        The truth tables, sorted by household id.
    lean : bool
        As for :func:`generate`.

    Returns
    -------
    DataFrame
        The spine, numbered from ``scenario``'s seed.
    """
    parts: dict[str, Parts] = {"spine": []}
    if scenario.agencies.spine.enabled:
        for chunk in _chunks_of(scenario, households, people):
            add_records(chunk, parts, lean)
    spine = _spine_table(parts["spine"], lean)
    number({}, spine, scenario.seed)
    return spine


@system_arrow_memory()
def records_again(
    scenario: Scenario,
    households: pd.DataFrame,
    people: pd.DataFrame,
    shifts: RecordShifts | None = None,
) -> dict[str, pd.DataFrame]:
    """Every agency's records of an existing population, drawn from ``scenario``'s seed.

    A later period of the same world (:mod:`simulator.world.dynamics`): the
    households (with their needs of the period) and people are given, not drawn;
    the agencies record them afresh, with their errors, chunk by chunk as
    :func:`generate` does. The spine is not made again: the council's family
    index is the one it already holds.

    Parameters
    ----------
    scenario : Scenario
        The scenario, with the period's seed.
    households, people : DataFrame
        The truth tables, sorted by household id (as :func:`generate` makes them).
    shifts : RecordShifts, optional
        What earlier flags change in each source, aligned with ``households``.

    Returns
    -------
    dict of str to DataFrame
        Each enabled agency's records, numbered from ``scenario``'s seed.
    """
    enabled = [s for s in AGENCIES if scenario.agencies.source(s).enabled]
    parts: dict[str, Parts] = {s: [] for s in enabled}
    for chunk in _chunks_of(scenario, households, people, shifts):
        add_records(chunk, parts)
    sources = {s: _assemble(parts.pop(s), _SOURCE_COLUMNS) for s in enabled}
    number(sources, pd.DataFrame(), scenario.seed)
    return sources


_ADDRESS_STRINGS = ("address", "postcode", "prev_address", "prev_postcode")
_PEOPLE_STRINGS = (
    "role",
    "sex",
    "first_name",
    "last_name",
    "nhs_number",
    "ni_number",
    "upn",
    *_ADDRESS_STRINGS,
)
"""Columns output as strings (some are categoricals while generating)."""


DATA_PACKAGES = ("linkaudit", "numpy", "pandas", "pyarrow", "pydantic", "faker")
"""Packages whose versions shape generated data (recorded in every manifest)."""


def package_versions(packages: tuple[str, ...] = DATA_PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages``; ``"unknown"`` for one not installed."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in packages:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "unknown"
    return out


AREAS_FILE = "truth/areas.parquet"
HOUSEHOLDS_FILE = "truth/households.parquet"
PEOPLE_FILE = "truth/people.parquet"
SPINE_FILE = "spine.parquet"
RECORDS_PREFIX, RECORDS_SUFFIX = "records/", ".parquet"
"""A source's records file is ``records/<source>.parquet``."""


def records_file(source: str) -> str:
    """The path of ``source``'s records file, relative to a dataset's directory."""
    return f"{RECORDS_PREFIX}{source}{RECORDS_SUFFIX}"


def records_source(rel: str) -> str | None:
    """The source whose records file ``rel`` is (None: not a records file).

    >>> records_source(records_file("police")), records_source(SPINE_FILE)
    ('police', None)
    """
    if not rel.startswith(RECORDS_PREFIX):
        return None
    return rel.removeprefix(RECORDS_PREFIX).removesuffix(RECORDS_SUFFIX)


def dataset_files(data: SyntheticData) -> dict[str, pd.DataFrame]:
    """The Parquet files of a dataset, by path relative to the output directory."""
    return {
        AREAS_FILE: data.areas,
        HOUSEHOLDS_FILE: data.households,
        PEOPLE_FILE: data.people,
        SPINE_FILE: data.spine,
        **{records_file(k): v for k, v in data.sources.items()},
    }


def write_dataset_files(data: SyntheticData, directory: Path) -> dict[str, int]:
    """Write the dataset's Parquet files and ``scenario.json`` into ``directory``.

    Not atomic on its own: callers write into a temporary directory
    (:func:`simulator.output_dirs.atomic_directory`). Returns the row count of each
    file.
    """
    files = dataset_files(data)
    for rel, frame in files.items():
        write_parquet(frame, directory / rel)
    write_json(data.scenario.model_dump(mode="json"), directory / "scenario.json")
    return {rel: len(frame) for rel, frame in files.items()}


def write_dataset(
    data: SyntheticData, out_dir: str | Path, overwrite: bool = False
) -> Path:
    """Write truth, records and spine as Parquet, atomically, with a manifest last.

    Layout: ``truth/{areas,households,people}.parquet``, ``records/<source>.parquet``,
    ``spine.parquet``, ``scenario.json`` (the resolved scenario) and ``manifest.json``.
    """
    out_dir = Path(out_dir)
    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        _write_dataset_manifest(tmp, data.scenario, write_dataset_files(data, tmp))
    return out_dir


def _write_dataset_manifest(
    directory: Path, scenario: Scenario, rows: dict[str, int]
) -> None:
    write_manifest(
        directory,
        {
            "kind": "linkaudit synthetic dataset (synthetic people only)",
            "seed": scenario.seed,
            "versions": package_versions(),
            "rows": rows,
        },
    )


# ------------------------------------------------------- generated straight to disk

SPILL_DIRECTORY = ".chunks"
"""Inside the output being written: each table's chunks before their ids."""
SPILL_COMPRESSION: str | None = "lz4"
"""How spilled chunks are compressed (they are read back once, then removed)."""
SCRATCH_BYTES_PER_HOUSEHOLD = 1_000
"""Bytes of a scratch world's files a household, written :data:`~simulator.io.ROOMY`
(a replicate's world and its error-free twin 1,140 together at 1,000,000 households
of ``scenarios/baseline.yaml``, the twin the smaller): what
:func:`simulator.io.scratch_compression` is asked room for, a world's spill
about as much."""
_IDS = (*SPINE_COLUMNS, "record_id")
"""The council's id columns, numbered once every chunk is generated."""
SCRATCH_STATISTICS = ("household_id", "true_person_id", *_IDS)
"""The columns of a scratch world's files with statistics: those row groups are
skipped by (:func:`_chunks_on_disk`) or tables indexed by id are sized by
(:func:`simulator.io.id_bound`). Every other column's would cost a fifth of the
writing for nothing read."""


@system_arrow_memory()
def generate_dataset(
    scenario: Scenario,
    out_dir: str | Path,
    overwrite: bool = False,
    progress: bool = False,
) -> dict[str, int]:
    """Generate a scenario straight to a dataset directory, chunk by chunk.

    The same files, byte for byte, as :func:`write_dataset` of :func:`generate`, with
    memory bounded by ``generation.chunk_size`` and Parquet's row groups rather than
    by the population (:func:`write_generated`). Returns each file's row count.
    """
    with atomic_directory(Path(out_dir), overwrite=overwrite) as tmp:
        rows = write_generated(scenario, tmp, progress)
        write_json(scenario.model_dump(mode="json"), tmp / "scenario.json")
        _write_dataset_manifest(tmp, scenario, rows)
    return rows


@system_arrow_memory()
def write_generated(
    scenario: Scenario,
    directory: Path,
    progress: bool = False,
    *,
    lean: bool = False,
    scratch: bool = False,
    people: bool = True,
) -> dict[str, int]:
    """Write a scenario's dataset Parquet files as its chunks are generated.

    The truth is written as chunks come. Records and the spine wait for their ids,
    seeded permutations of whole tables (:mod:`simulator.world.ids`) that need
    every chunk's count: their chunks, without the ids, go to Arrow files under
    :data:`SPILL_DIRECTORY` (:class:`_Spill`), then a second pass numbers them into
    Parquet and removes the spill. What stays in memory for the whole population is
    each spine row's code into its chunk's distinct addresses held, and those
    addresses (its households are numbered by the address held, in order seen:
    :func:`address_keys`, :func:`_address_codes`), and one table's ids at a
    time. Not atomic on its own. ``lean`` as for :func:`generate` (a scratch world
    linked by the truth): the records and the spine lack the fields it leaves out.
    ``scratch``: a world no output keeps (a streamed task's), its files encoded as
    :data:`simulator.io.SCRATCH_COMPRESSION` (the same values, other bytes); lean
    too, its records and spine hold only :data:`TRUTH_VIEWED`, all that the view of
    the true links and the outcomes read of them. Without ``people``, no
    ``truth/people.parquet``: a scratch world whose spine is not drawn again
    (:func:`write_spine_again`) reads none (a third of the truth's strings, not
    encoded).

    Returns
    -------
    dict of str to int
        The row count of each file, by path relative to ``directory``.
    """
    (rows,) = write_generated_worlds(
        [Written(scenario, directory, people)],
        progress,
        lean=lean,
        scratch=scratch,
    )
    return rows


@dataclass(frozen=True)
class Written:
    """A world :func:`write_generated_worlds` writes into ``directory``.

    ``people``: whether it has a people file. ``spine_only``: its spine alone, no
    truth and no records (the ladder's ``spine`` rung beside its ``model`` rung,
    whose other files are the same). ``before_errors_of``: the error-free twin of
    the world at that index (an earlier one; its scenario that world's without
    errors, :func:`same_records_before_errors`): a lean scratch world whose
    records are that world's before their errors (the ladder's ``visibility``
    world of a world), drawn with it rather than again. ``counted``: its records
    files are not written; what the view of the true links counts of them is
    drawn there as each chunk comes
    (:meth:`~simulator.council.view_records.CountedRecords.draw`), all that a
    rung task's world reads of them (its ``rows`` still count them).
    ``households``: the only columns of its households file (None: all; a rung
    task's world, whose outcomes read the ids and the audit's target alone).
    """

    scenario: Scenario
    directory: Path
    people: bool = True
    spine_only: bool = False
    before_errors_of: int | None = None
    counted: CountedRecords | None = None
    households: tuple[str, ...] | None = None

    def drawn(self) -> Drawn:
        """What :func:`_shared_chunks` draws of it."""
        only = ("spine",) if self.spine_only else None
        return Drawn(self.scenario, only, self.before_errors_of)


@system_arrow_memory()
def write_generated_worlds(
    worlds: Sequence[Written],
    progress: bool = False,
    *,
    lean: bool = False,
    scratch: bool = False,
) -> list[dict[str, int]]:
    """:func:`write_generated` of worlds of one population, drawn once.

    The scenarios must draw the same population (:func:`same_population`, as the
    attribution ladder's worlds of one world do), which is drawn once a chunk at
    a time, each world's records then drawn from it: every world's files are
    those :func:`write_generated` writes of it alone (``lean`` and ``scratch`` as
    there; an error-free twin is lean and scratch whatever they are; a
    ``spine_only`` world's are its spine's). Returns each world's rows.
    """
    areas = make_areas(worlds[0].scenario)
    twins = [world.before_errors_of is not None for world in worlds]
    compression = _scratch_compression(worlds[0], len(worlds))
    with ExitStack() as held:  # on an error, files closed unfinished, spill removed
        writers = [
            _WorldWriter(
                world,
                held,
                lean=lean or twin,
                scratch=scratch or twin,
                compression=compression,
            )
            for world, twin in zip(worlds, twins, strict=True)
        ]
        _share_truth(writers)
        for writer in writers:
            writer.write_areas(areas)
        drawn = tuple(world.drawn() for world in worlds)
        people = any(w.people and not w.spine_only for w in worlds)
        chunks_ = _shared_chunks(drawn, areas, progress, lean, scratch, people=people)
        for hh, pp, records in chunks_:
            truth: dict[tuple[str, tuple[str, ...] | None], pa.Table] = {}  # once
            for writer, world_records in zip(writers, records, strict=True):
                writer.write_chunk(hh, pp, world_records, truth)
        return [writer.finish() for writer in writers]


def _share_truth(writers: Sequence[_WorldWriter]) -> None:
    """Let a scratch world take the truth files of the first like it, linked.

    Worlds of one population write the same truth tables; scratch files of the same
    codec, people file or not, are then the same bytes, written once (a replicate's
    error-free twin's, 97 MB of 1,000,000 households, and the ladder's worlds'). An
    output's files are never linked: each is its own.
    """
    first: dict[tuple[bool, str, tuple[str, ...] | None], _WorldWriter] = {}
    for writer in writers:
        if writer.truth and writer.scratch:
            key = (writer.people, writer.compression, writer.households)
            writer.truth_of = first.setdefault(key, writer)
            if writer.truth_of is writer:
                writer.truth_of = None


def _scratch_compression(world: Written, worlds: int) -> str:
    """The codec of ``worlds`` scratch worlds the size of ``world`` in its disk.

    :func:`simulator.io.scratch_compression` of their room as
    :data:`~simulator.io.ROOMY` files: the codec of their scratch files and of
    their spills (an output's spill too).
    """
    households = world.scenario.population.n_households
    room = worlds * households * SCRATCH_BYTES_PER_HOUSEHOLD
    return scratch_compression(world.directory, room)


def _writer(
    path: Path,
    schema: pa.Schema,
    scratch: bool,
    compression: str,
    required: Collection[str] = (),
    coded: Collection[str] = (),
) -> RowGroupWriter:
    """A generated world's Parquet file: an output's bytes, or a scratch file's.

    A scratch file's row groups are its tables as they come, :data:`REPEATING`
    columns have a dictionary, only :data:`SCRATCH_STATISTICS` have statistics,
    ``required`` columns (:func:`_never_null`) no definition levels, ``coded``
    ones come as Arrow dictionaries (written as they are), and it is compressed
    with ``compression``.
    """
    if not scratch:
        return RowGroupWriter(path, schema)
    return RowGroupWriter(
        path,
        schema,
        scratch=True,
        as_given=True,
        repeating=REPEATING,
        statistics=SCRATCH_STATISTICS,
        compression=compression,
        required=required,
        coded=coded,
    )


def _never_null(columns: Mapping[str, object]) -> tuple[str, ...]:
    """The columns of ``columns`` that cannot hold a null: numpy integers and flags.

    Those of a frame (its numpy dtypes, not pandas' nullable ones) or of a chunk's
    columns; a scratch file declares them required (:func:`_writer`).

    >>> _never_null({"a": np.zeros(2, int), "b": np.zeros(2), "c": pd.Series([1])})
    ('a', 'c')
    """
    out = []
    for name, values in columns.items():
        dtype = getattr(values, "dtype", None)
        if isinstance(dtype, np.dtype) and dtype.kind in "biu":
            out.append(name)
    return tuple(out)


def _write_frame(
    frame: pd.DataFrame, path: Path, scratch: bool, compression: str
) -> None:
    """A world's file of ``frame``, as :func:`_writer` writes it."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    required = _never_null(dict(frame.items()))
    with _writer(path, table.schema, scratch, compression, required) as writer:
        writer.write(table)


class _WorldWriter:
    """One world's files while :func:`write_generated_worlds` writes it.

    The truth is written a chunk at a time (none for a ``spine_only`` world);
    records and the spine are spilled (:class:`_Spill`) until :meth:`finish`
    numbers them. Files are closed and the spill removed by ``held`` on an error.
    ``compression``: a scratch world's files' codec, and the spill's.
    """

    def __init__(
        self,
        world: Written,
        held: ExitStack,
        *,
        lean: bool,
        scratch: bool,
        compression: str = SCRATCH_COMPRESSION,
    ):
        self.scenario, self.directory, self.held = world.scenario, world.directory, held
        self.people, self.truth = world.people, not world.spine_only
        self.lean, self.scratch, self.compression = lean, scratch, compression
        self.spill = self.directory / SPILL_DIRECTORY
        self.spill.mkdir()
        held.callback(shutil.rmtree, self.spill, ignore_errors=True)
        self.rows: dict[str, int] = {}
        self.files: dict[str, RowGroupWriter | _Spill] = {}
        self.addresses: list[_Addresses] = []  # the spine's, by chunk
        self.truth_of: _WorldWriter | None = None
        """An earlier world whose truth files are this one's (:func:`_share_truth`)."""
        self.counted, self.households = world.counted, world.households

    def write_areas(self, areas: pd.DataFrame) -> None:
        """The areas' file (none without the truth)."""
        if self.truth:
            path = self.directory / AREAS_FILE
            if self.truth_of is not None:  # written already: its areas come first
                link_or_copy(self.truth_of.directory / AREAS_FILE, path)
            else:
                _write_frame(areas, path, self.scratch, self.compression)
            self.rows[AREAS_FILE] = len(areas)

    def write_chunk(
        self,
        hh: pd.DataFrame,
        pp: pd.DataFrame,
        records: dict[str, Columns],
        tables: dict[tuple[str, tuple[str, ...] | None], pa.Table] | None = None,
    ) -> None:
        """A chunk's truth written, its records and spine spilled.

        ``tables``: the chunk's truth tables converted so far (:func:`_truth_table`),
        by file and columns (None: all), shared by its worlds; those converted here
        are added.
        """
        files, rows = self.files, self.rows
        if "spine" in records:
            self.addresses.append(_address_codes(records["spine"]))
        truth = _truth_frames(hh, pp if self.people else None) if self.truth else ()
        tables = {} if tables is None else tables
        for rel, frame, strings in truth:
            rows[rel] = rows.get(rel, 0) + len(frame)
            if self.truth_of is not None:
                continue  # its files linked once written (finish)
            columns = self.households if rel == HOUSEHOLDS_FILE else None
            if columns is not None:
                frame = frame[list(columns)]
            if (rel, columns) not in tables:
                tables[rel, columns] = _truth_table(frame, strings)
            table = tables[rel, columns]
            if rel not in files:
                writer = _writer(
                    self.directory / rel,
                    table.schema,
                    self.scratch,
                    self.compression,
                    _never_null(dict(frame.items())),
                )
                files[rel] = self.held.enter_context(writer)
            files[rel].write(table)
        for source, columns in records.items():
            rel = SPINE_FILE if source == "spine" else records_file(source)
            if self.counted is not None and source != "spine":
                self._count(source, rel, columns)
                rows[rel] = rows.get(rel, 0) + _Spill.rows_of(columns)
                continue
            if rel not in files:
                names = _numbered_columns(source, self.lean, self.scratch)
                schema = _numbered_schema(columns, names)
                path = self.spill / f"{len(files)}.arrow"
                required = _numbered_required(columns, names)
                spill = _Spill(path, schema, self.compression, required, coded(source))
                files[rel] = self.held.enter_context(spill)
            file = files[rel]
            assert isinstance(file, _Spill)
            file.write(columns)
            rows[rel] = rows.get(rel, 0) + file.rows_of(columns)

    def _count(self, source: str, rel: str, columns: Columns) -> None:
        """A chunk of ``source``'s records drawn into :attr:`counted`, not written.

        As the view of the true links reads its file: each record's household
        found by its ``true_person_id``
        (:func:`simulator.world.true_links.write_oracle_view_file`).
        """
        assert self.counted is not None
        path = self.directory / rel
        names = _numbered_columns(source, self.lean, self.scratch)
        view, types = self.scenario.view, counted_types(self.scenario.view)
        file = (
            CountedFile(
                path,
                source,
                "true_person_id",
                types[source],
                ABSENCE in names,
                view,
                self.scenario.time.reference_date,
            )
            if source in types
            else None
        )
        self.counted.draw(path, names, file, columns)

    def finish(self) -> dict[str, int]:
        """Every file closed, the spilled ones numbered; each file's rows.

        A world sharing the truth of another (:attr:`truth_of`, an earlier one,
        finished first) links its files.
        """
        if self.truth_of is not None:
            for rel in (HOUSEHOLDS_FILE, PEOPLE_FILE):
                if rel in self.rows:
                    link_or_copy(self.truth_of.directory / rel, self.directory / rel)
        for rel, file in self.files.items():
            file.close()
            if isinstance(file, _Spill):
                ids = _council_ids(
                    self.scenario.seed, rel, self.rows[rel], self.addresses
                )
                file.write_numbered(
                    self.directory / rel, ids, self.scratch, self.compression
                )
        if not self.scenario.agencies.spine.enabled:
            self.rows[SPINE_FILE] = 0
            empty = _no_spine(self.lean, self.scratch)
            path = self.directory / SPINE_FILE
            _write_frame(empty, path, self.scratch, self.compression)
        shutil.rmtree(self.spill, ignore_errors=True)
        return self.rows


def _no_spine(lean: bool, scratch: bool) -> pd.DataFrame:
    """The spine file's table when the spine is off.

    ``lean`` and ``scratch`` as for :func:`write_generated`.
    """
    empty = _spine_table([], lean)
    return (
        empty[list(_viewed(tuple(empty.columns), "spine"))]
        if lean and scratch
        else empty
    )


def _council_ids(
    seed: int, rel: str, n: int, addresses: list[_Addresses]
) -> dict[str, np.ndarray]:
    """The id columns of a records file or the spine, as :func:`number` sets them.

    ``addresses``: :func:`_address_codes` of the spine's chunks, in order (emptied).
    """
    source = records_source(rel)
    if source is not None:
        return {"record_id": record_ids(seed, source, n)}
    codes = _households_held(addresses)
    addresses.clear()
    return {
        "spine_person_id": spine_person_ids(seed, n),
        "spine_household_id": spine_household_ids(seed, codes),
    }


def _truth_frames(
    households: pd.DataFrame, people: pd.DataFrame | None
) -> Iterator[tuple[str, pd.DataFrame, tuple[str, ...]]]:
    """A chunk's truth files, frames and their string columns (people unless None)."""
    yield HOUSEHOLDS_FILE, households, _ADDRESS_STRINGS
    if people is not None:
        yield PEOPLE_FILE, people, _PEOPLE_STRINGS


def _truth_table(frame: pd.DataFrame, strings: tuple[str, ...]) -> pa.Table:
    """A truth file's table of ``frame``: ``strings`` as ``str`` columns."""
    table = _concat_frames([frame], strings=strings)
    return pa.Table.from_pandas(table, preserve_index=False)


def _numbered_columns(source: str, lean: bool, scratch: bool) -> tuple[str, ...]:
    """The columns of ``source``'s table (the spine's or a source's records).

    ``lean`` and ``scratch`` as for :func:`write_generated`.
    """
    columns = _SPINE_COLUMNS if source == "spine" else _SOURCE_COLUMNS
    held = _held(columns, source, lean)
    return _viewed(held, source) if lean and scratch else held


def _numbered_schema(columns: Columns, names: tuple[str, ...]) -> pa.Schema:
    """The schema, pandas metadata included, of ``names`` from chunks like ``columns``.

    That of :func:`_assemble`'s frame, converted: made of none of their rows.
    """
    empty = {k: v[:0] for k, v in columns.items()}
    frame = _assemble([empty], names)
    return pa.Table.from_pandas(frame, preserve_index=False).schema


def _numbered_required(columns: Columns, names: tuple[str, ...]) -> tuple[str, ...]:
    """The ``names`` a scratch file declares required: ids, numpy integers, flags."""
    numpy = _never_null(columns)
    return tuple(c for c in names if c in _IDS or c in numpy)


def _address_keys(
    columns: Mapping[str, pa.Array | pa.ChunkedArray],
) -> pa.Array | pa.ChunkedArray:
    """:func:`address_keys` of a spine's Arrow columns (a chunk's, as generated)."""
    return pc.binary_join_element_wise(
        pc.fill_null(columns["address"], ""),
        pc.fill_null(columns["postcode"], ""),
        pa.scalar("|", pa.large_string()),
    )


_Addresses = tuple[np.ndarray, pa.Array]
"""A spine chunk's addresses held: each row's code into the chunk's distinct
:func:`address_keys`, and those keys in order seen (:func:`_address_codes`)."""


def _address_codes(columns: Columns) -> _Addresses:
    """A spine chunk's :data:`_Addresses`, from its columns as generated.

    Coded (:data:`ADDRESS_HELD`, dictionary arrays), rows are grouped by their
    pair of codes and only each pair's key is joined: a chunk's rows hold about
    half as many pairs (a household's members share one). Codes need not name
    distinct strings; :func:`_households_held` merges equal keys.
    """
    address, postcode = (columns[c] for c in ADDRESS_HELD)
    assert isinstance(address, pa.DictionaryArray)
    assert isinstance(postcode, pa.DictionaryArray)
    width = len(postcode.dictionary) + 1
    a = pc.fill_null(address.indices, -1).to_numpy().astype(np.int64) + 1
    p = pc.fill_null(postcode.indices, -1).to_numpy().astype(np.int64) + 1
    codes, pairs = pd.factorize(a * width + p)
    first = {"address": pairs // width - 1, "postcode": pairs % width - 1}
    held = {
        c: columns[c].dictionary.take(pa.array(first[c], mask=first[c] < 0))
        for c in ADDRESS_HELD
    }
    return codes, _address_keys(held)


def _households_held(addresses: list[_Addresses]) -> np.ndarray:
    """:func:`assign_spine_households` of the spine whose chunks gave ``addresses``.

    Each chunk's distinct keys are numbered over the whole spine, in order seen
    (a key first seen in a chunk comes after every key of earlier chunks, and
    within it in the order of its rows), then each row takes its key's number.
    """
    keys = pa.chunked_array([k for _, k in addresses], pa.large_string())
    numbers = assign_spine_households(keys)
    starts = np.cumsum([0, *(len(k) for _, k in addresses)])
    return np.concatenate(
        [numbers[start + c] for start, (c, _) in zip(starts, addresses, strict=False)]
        or [np.empty(0, np.int64)]
    )


def _spilled_field(field: pa.Field, held: Collection[str]) -> pa.Field:
    """How a numbered table's ``field`` is spilled: those ``held`` coded as codes."""
    if field.name in held and field.type == pa.large_string():
        return field.with_type(pa.dictionary(pa.int32(), pa.large_string()))
    return field


def _numpy_column(values: np.ndarray, type_: pa.DataType) -> pa.Array:
    """A chunk's numpy column as Arrow, as ``pa.array(..., from_pandas=True)``.

    Flags (numpy booleans) are packed into Arrow's bits by :func:`numpy.packbits`,
    about ten times faster than Arrow's conversion a value at a time: a full
    world's records carry two dozen ``err_*`` flags.
    """
    if values.dtype == np.bool_ and type_ == pa.bool_():
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(type_, len(values), [None, pa.py_buffer(bits)])
    return pa.array(values, type_, from_pandas=True)


def _coded_strings(values: pa.Array) -> pa.DictionaryArray:
    """``values`` as a :func:`_spilled_field` dictionary column (int32 codes)."""
    if isinstance(values, pa.DictionaryArray):
        return values
    return pc.dictionary_encode(values).cast(pa.dictionary(pa.int32(), values.type))


def _distinct_codes(values: pa.DictionaryArray) -> pa.DictionaryArray:
    """``values`` coded into a dictionary of the distinct strings they hold.

    A chunk's pools may name one string twice (a sex drawn per pool): Parquet
    writes a dictionary array's codes as they are only when its dictionary holds
    no duplicate, else it falls back to plain strings. Strings no row holds
    (most of a small source's pool of names) are left out, as Parquet's own
    dictionary would, for readers to decode no more of it than they did. Only
    the pools' strings are hashed, not the rows'.
    """
    n = len(values.dictionary)
    absent = pa.scalar(n, values.indices.type)  # a missing value's code: n
    codes = pc.fill_null(values.indices, absent).to_numpy()
    held = np.bincount(codes, minlength=n + 1)[:n] > 0
    distinct = pc.dictionary_encode(values.dictionary.filter(held))
    renumbered = np.zeros(n + 1, np.int32)
    renumbered[np.flatnonzero(held)] = distinct.indices.to_numpy()
    missing = codes == n if values.null_count else None
    return pa.DictionaryArray.from_arrays(
        pa.array(renumbered[codes], mask=missing), distinct.dictionary
    )


class _Spill:
    """A numbered table's chunks until their ids are known, read back once, in order.

    A chunk is written as generated (numpy and Arrow columns, as
    :func:`_assemble` would convert them; ``held`` columns still coded, each
    chunk its own dictionary: :func:`coded`), without the id columns, into an
    Arrow stream compressed with :data:`SPILL_COMPRESSION` (uncompressed for a
    ``codec`` of :data:`~simulator.io.ROOMY`: :func:`simulator.io.scratch_compression`
    found room); :meth:`write_numbered` then reads it back mapped (not copied)
    and writes the Parquet file with the strings decoded (a scratch file's
    :data:`REPEATING` ones kept as codes) and the ids put in their places of
    ``schema``.
    """

    def __init__(
        self,
        path: Path,
        schema: pa.Schema,
        codec: str = SCRATCH_COMPRESSION,
        required: tuple[str, ...] = (),
        held: Collection[str] = CODED,
    ):
        self.path, self.schema, self.required = path, schema, required
        compression = None if codec == ROOMY else SPILL_COMPRESSION
        self._spilled = pa.schema(
            [_spilled_field(f, held) for f in schema if f.name not in _IDS]
        )
        options = pa.ipc.IpcWriteOptions(compression=compression)
        self._writer: pa.ipc.RecordBatchStreamWriter | None = pa.ipc.new_stream(
            path, self._spilled, options=options
        )

    @staticmethod
    def rows_of(columns: Columns) -> int:
        """Rows of a chunk's columns."""
        return len(columns["true_person_id"])

    def write(self, columns: Columns) -> None:
        """Spill a chunk's columns (their absent ``absence_rate`` is null)."""
        assert self._writer is not None
        n = self.rows_of(columns)
        arrays = []
        for field in self._spilled:
            values = columns.get(field.name)
            if values is None:  # absence_rate, on rows not from a pupil census
                arrays.append(pa.nulls(n, field.type))
            elif isinstance(values, np.ndarray):
                arrays.append(_numpy_column(values, field.type))
            elif pa.types.is_dictionary(field.type):
                arrays.append(_coded_strings(values))
            else:
                arrays.append(_decoded_strings(values))
        batch = pa.RecordBatch.from_arrays(arrays, schema=self._spilled)
        self._writer.write_batch(batch)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> _Spill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write_numbered(
        self,
        path: Path,
        ids: dict[str, np.ndarray],
        scratch: bool = False,
        compression: str = SCRATCH_COMPRESSION,
    ) -> None:
        """Write the chunks to Parquet at ``path`` with their id columns set.

        ``scratch`` (and then ``compression``) as for :func:`_writer`. A scratch
        file takes the coded columns as they were spilled: Parquet writes their
        codes as its dictionary, not hashing the decoded strings again.
        """
        coded = [
            f.name
            for f in self._spilled
            if scratch and pa.types.is_dictionary(f.type) and f.name in REPEATING
        ]
        file = _writer(path, self.schema, scratch, compression, self.required, coded)
        with pa.memory_map(str(self.path)) as source, file as writer:
            start = 0
            for batch in pa.ipc.open_stream(source):
                stop = start + batch.num_rows
                arrays = [
                    pa.array(ids[f.name][start:stop])
                    if f.name in _IDS
                    else _distinct_codes(batch.column(f.name))
                    if f.name in coded
                    else _decoded_strings(batch.column(f.name))
                    for f in self.schema
                ]
                writer.write(pa.Table.from_arrays(arrays, names=self.schema.names))
                start = stop
        self.path.unlink()


def _chunks_on_disk(
    scenario: Scenario,
    households_file: Path,
    people_file: Path,
    unattached: Mapping[str, frozenset[str]],
) -> Iterator[PopulationChunk]:
    """A population's chunks read from its truth files, as :func:`generate` made them.

    Each is a range of household ids: Parquet's row groups outside it are skipped.
    ``unattached`` as :func:`_unattached` gives.
    """
    for blocks in chunks(scenario):
        ids = [("household_id", ">=", blocks.start * BLOCK_SIZE)]
        ids.append(("household_id", "<", blocks.stop * BLOCK_SIZE))
        hh = pq.read_table(households_file, filters=ids).to_pandas()
        pp = pq.read_table(people_file, filters=ids).to_pandas()
        yield PopulationChunk(scenario, hh, pp, blocks, unattached=unattached)


@system_arrow_memory()
def write_spine_again(
    scenario: Scenario, directory: Path, lean: bool = False, scratch: bool = False
) -> int:
    """:func:`spine_again` of the population on disk in ``directory``, written there.

    The spine ``scenario`` draws for the truth files of ``directory`` (a world
    :func:`write_generated` wrote from a scenario that differs only in
    ``agencies.spine``) replaces its ``spine.parquet``, a chunk at a time as
    :func:`write_generated` writes it (``scratch`` as there). Returns its rows.
    """
    path = directory / SPINE_FILE
    compression = _scratch_compression(Written(scenario, directory), 1)
    if not scenario.agencies.spine.enabled:
        _write_frame(_no_spine(lean, scratch), path, scratch, compression)
        return 0
    spill_dir = directory / SPILL_DIRECTORY
    spill_dir.mkdir()
    addresses: list[_Addresses] = []
    rows = 0
    with ExitStack() as held:  # on an error, the spill removed
        held.callback(shutil.rmtree, spill_dir, ignore_errors=True)
        spill: _Spill | None = None
        truth = directory / HOUSEHOLDS_FILE, directory / PEOPLE_FILE
        for chunk in _chunks_on_disk(scenario, *truth, _unattached(lean, scratch)):
            parts: dict[str, Parts] = {"spine": []}
            add_records(chunk, parts, lean, scratch)
            columns = parts["spine"][0]
            addresses.append(_address_codes(columns))
            if spill is None:
                names = _numbered_columns("spine", lean, scratch)
                schema = _numbered_schema(columns, names)
                required = _numbered_required(columns, names)
                spill = _Spill(
                    spill_dir / "0.arrow", schema, compression, required, coded("spine")
                )
                held.enter_context(spill)
            spill.write(columns)
            rows += spill.rows_of(columns)
        assert spill is not None  # a scenario has one chunk at least
        spill.close()
        ids = _council_ids(scenario.seed, SPINE_FILE, rows, addresses)
        spill.write_numbered(path, ids, scratch, compression)
    return rows
