"""A comparison's files: ``compare.csv``, ``compare.html`` and ``compare.json``.

Written atomically through :mod:`simulator.output_dirs`, with the manifest last, like
every other linkaudit output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audits.compare import Comparison

COMPARE_HTML = "compare.html"
COMPARE_CSV = "compare.csv"
COMPARE_JSON = "compare.json"
METHOD = (
    "changes from the first run; intervals are percentile intervals of the change "
    "over multinomial bootstrap resamples of households (audits.confusion), paired "
    "for runs with the same households as the base, independent otherwise"
)


def comparison_summary(c: Comparison) -> dict[str, Any]:
    """What ``compare.json`` holds: the runs, the settings that differ, notes, seeds."""
    return {
        "base": c.labels[0],
        "runs": [
            {
                "label": r.label,
                "path": str(r.path),
                "scenario": r.scenario.get("name"),
                "seed": r.scenario.get("seed"),
                "audit_seed": r.audit_seed,
                "families": len(r.outcomes),
            }
            for r in c.runs
        ],
        "settings": [{"field": f, "values": v} for f, v in c.settings],
        "seed_only": c.seed_only,
        "notes": list(c.notes),
        "n_boot": c.n_boot,
        "confidence": c.confidence,
        "method": METHOD,
        "seeds": c.seeds,
        "references": c.references,
        "rows": len(c.table),
    }


def write_comparison(
    c: Comparison, out_dir: str | Path, *, overwrite: bool = False
) -> Path:
    """Write ``compare.csv``, ``compare.html`` and ``compare.json``, atomically.

    Parameters
    ----------
    c : Comparison
    out_dir : str or Path
        The directory to create (or, with ``overwrite``, an earlier linkaudit output
        to replace).
    overwrite : bool

    Returns
    -------
    Path
        ``out_dir``.
    """
    from audits.report.compare_page import render_comparison
    from simulator.io import write_json, write_manifest
    from simulator.output_dirs import atomic_directory

    out_dir = Path(out_dir)
    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        c.table.to_csv(tmp / COMPARE_CSV, index=False, lineterminator="\n")
        (tmp / COMPARE_HTML).write_text(
            render_comparison(c), encoding="utf-8", newline="\n"
        )
        write_json(comparison_summary(c), tmp / COMPARE_JSON)
        write_manifest(tmp, {"kind": "linkaudit comparison (synthetic people only)"})
    return out_dir
