"""Generate a scenario's synthetic data: truth, every source's records and the spine.

Generation runs chunk by chunk (whole seeding blocks), then assembles: record ids in
a chunk-independent order, and spine households by the address the council holds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.agencies import MODULES
from simulator.agencies.base import PopulationChunk
from simulator.corruption import ERRORS, corrupt
from simulator.io import MANIFEST, atomic_directory, write_json, write_parquet
from simulator.population import Calibration, area_streets, make_areas, make_chunk
from simulator.records import EVENT_COLUMNS, IDENTITY_COLUMNS, SPINE_COLUMNS
from simulator.rng import BLOCK_SIZE
from simulator.scenario import Scenario

log = logging.getLogger(__name__)

AGENCIES = ("health", "education", "police", "benefits", "social_care")
"""The sources linked to the spine (everything but the spine itself)."""


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


def _finish_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn working categoricals of free text into plain strings for output."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype) and col in IDENTITY_COLUMNS:
            out[col] = out[col].astype("str")
    return out


def _finish_source(parts: list[pd.DataFrame]) -> pd.DataFrame:
    frame = pd.concat(parts, ignore_index=True)
    frame.insert(0, "record_id", np.arange(len(frame), dtype=np.int64))
    if "absence_rate" not in frame:
        frame["absence_rate"] = np.nan
    hidden = ["true_person_id", "true_household_id", "true_need", "true_from_need"]
    cols = list(EVENT_COLUMNS) + list(IDENTITY_COLUMNS) + hidden
    cols += [f"err_{e}" for e in ERRORS]
    frame = frame[cols]
    frame["source"] = frame["source"].astype("str")
    frame["event_type"] = frame["event_type"].astype("str")
    frame["true_need"] = frame["true_need"].astype("str")
    return _finish_strings(frame)


def assign_spine_households(spine: pd.DataFrame) -> pd.DataFrame:
    """Council ids: a person id per row, a household id per address held."""
    key = (
        spine["address"].astype("str").fillna("")
        + "|"
        + spine["postcode"].astype("str").fillna("")
    )
    hh, _ = pd.factorize(key)
    out = spine.drop(
        columns=[
            "source",
            "event_type",
            "event_date",
            "true_need",
            "true_from_need",
            "absence_rate",
        ],
        errors="ignore",
    )
    out.insert(0, "spine_household_id", hh.astype(np.int64))
    out.insert(0, "spine_person_id", np.arange(len(out), dtype=np.int64))
    cols = list(SPINE_COLUMNS) + list(IDENTITY_COLUMNS)
    cols += ["true_person_id", "true_household_id"] + [f"err_{e}" for e in ERRORS]
    return _finish_strings(out[cols])


def generate(scenario: Scenario, progress: bool = False) -> SyntheticData:
    """Generate the truth, every enabled source's corrupted records and the spine."""
    from tqdm import tqdm

    cal = Calibration.from_scenario(scenario)
    areas = make_areas(scenario)
    streets = area_streets(scenario)
    enabled = [s for s in MODULES if scenario.agencies.source(s).enabled]
    households, people = [], []
    parts: dict[str, list[pd.DataFrame]] = {s: [] for s in enabled}
    all_chunks = list(chunks(scenario))
    for blocks in tqdm(all_chunks, desc="generate", unit="chunk", disable=not progress):
        hh, pp = make_chunk(scenario, cal, areas, streets, blocks)
        chunk = PopulationChunk(scenario, hh, pp, blocks)
        for source in enabled:
            cfg = scenario.agencies.source(source)
            rows = MODULES[source].records(chunk, cfg)
            parts[source].append(
                corrupt(rows, chunk, source, cfg.errors, scenario.error_multipliers)
            )
        households.append(hh)
        people.append(pp)
    sources = {s: _finish_source(parts[s]) for s in enabled if s != "spine"}
    spine_parts = parts.get("spine") or []
    spine = (
        assign_spine_households(pd.concat(spine_parts, ignore_index=True))
        if spine_parts
        else pd.DataFrame(columns=list(SPINE_COLUMNS) + list(IDENTITY_COLUMNS))
    )
    people_all = _finish_strings(pd.concat(people, ignore_index=True))
    for col in (
        "first_name",
        "last_name",
        "nhs_number",
        "ni_number",
        "upn",
        "role",
        "sex",
    ):
        people_all[col] = people_all[col].astype("str")
    hh_all = pd.concat(households, ignore_index=True)
    for col in ("address", "postcode", "prev_address", "prev_postcode"):
        hh_all[col] = hh_all[col].astype("str")
        people_all[col] = people_all[col].astype("str")
    log.info(
        "generated %d households, %d people, %s",
        len(hh_all),
        len(people_all),
        ", ".join(f"{k}: {len(v)} records" for k, v in sources.items()),
    )
    return SyntheticData(scenario, areas, hh_all, people_all, sources, spine)


def package_versions() -> dict[str, str]:
    """Versions of linkaudit and the libraries that shape its outputs."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("linkaudit", "numpy", "pandas", "pyarrow", "pydantic", "faker"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def dataset_files(data: SyntheticData) -> dict[str, pd.DataFrame]:
    """The Parquet files of a dataset, by path relative to the output directory."""
    return {
        "truth/areas.parquet": data.areas,
        "truth/households.parquet": data.households,
        "truth/people.parquet": data.people,
        "spine.parquet": data.spine,
        **{f"records/{k}.parquet": v for k, v in data.sources.items()},
    }


def write_dataset_files(data: SyntheticData, directory: Path) -> dict[str, int]:
    """Write the dataset's Parquet files and ``scenario.json`` into ``directory``.

    Not atomic on its own: callers write into a temporary directory
    (:func:`simulator.io.atomic_directory`). Returns the row count of each file.
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
        rows = write_dataset_files(data, tmp)
        write_json(
            {
                "kind": "linkaudit synthetic dataset (synthetic people only)",
                "seed": data.scenario.seed,
                "versions": package_versions(),
                "rows": rows,
            },
            tmp / MANIFEST,
        )
    return out_dir
