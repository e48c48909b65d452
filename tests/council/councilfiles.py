"""Helpers of the council-from-files tests: a small world, in memory and as files.

Imported by name, like tests/linkage's ``linktools``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simulator.council.linkage import link
from simulator.council.view import build_view
from simulator.frames import council_view
from simulator.io import write_parquet
from simulator.schema.linkage import LinkageConfig
from simulator.schema.scenario import Scenario
from simulator.world.generate import SyntheticData, generate
from simulator.world.true_links import oracle_links


def scenario(n_households: int, seed: int, **sections: object) -> Scenario:
    """A baseline scenario of ``n_households`` with some sections replaced."""
    data = {
        "name": "council-files-test",
        "seed": seed,
        "population": {"n_households": n_households, "households_per_area": 100},
        **sections,
    }
    return Scenario.model_validate(data)


@dataclass(frozen=True)
class World:
    """A generated dataset, its links, and the files the council reads them from."""

    data: SyntheticData
    links: pd.DataFrame
    record_files: dict[str, Path]
    spine_file: Path
    links_file: Path

    @property
    def deprivation(self) -> pd.DataFrame:
        return self.data.areas[["postcode_sector", "imd_decile"]]

    def view(self) -> pd.DataFrame:
        """The view in memory, as ``linkaudit run`` builds it."""
        s = self.data.scenario
        return build_view(
            self.data.sources,
            self.data.spine,
            self.links,
            reference_date=s.time.reference_date,
            deprivation=self.deprivation,
            config=s.view,
        )


def world(s: Scenario, directory: Path, method: str, *, hidden: bool = True) -> World:
    """Generate, link (``method``) and write records, spine and links to files.

    Without ``hidden``, the files hold no ``true_``/``err_`` column.
    """
    data = generate(s)
    links = (
        oracle_links(data.sources, data.spine)
        if method == "oracle"
        else link(data.sources, data.spine, LinkageConfig(method=method), seed=7)
    )
    keep = (lambda f: f) if hidden else council_view
    record_files = {}
    for name, frame in data.sources.items():
        record_files[name] = directory / "records" / f"{name}.parquet"
        write_parquet(keep(frame), record_files[name])
    write_parquet(keep(data.spine), directory / "spine.parquet")
    write_parquet(links, directory / "links.parquet")
    return World(
        data,
        links,
        record_files,
        directory / "spine.parquet",
        directory / "links.parquet",
    )
