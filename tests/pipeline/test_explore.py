"""``linkaudit explore``: each grid point's numbers are its run's own, the families
are the same people at every point, workers give the serial bytes, and bad input is
one ``linkaudit:`` line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from audits.pooled_tables import pooled_audit
from audits.report.explore_data import (
    FOLLOWED,
    SHOWN_RATES,
    choose_families,
    follow_families,
)
from audits.tables import audit_summary
from simulator.cli import main
from simulator.cli_sweep import parse_vary
from simulator.pipeline.explore import explore, explore_page, write_exploration
from simulator.pipeline.parallel import Workers
from simulator.pipeline.run import run
from simulator.schema.loading import apply_overrides, load_scenario, read_yaml

CLASSROOM = Path(__file__).parents[2] / "scenarios" / "classroom.yaml"
SMALL = ["population.n_households=600"]
"""A smaller classroom, so each point runs in a second or two."""
VARIES = (
    "model.min_problems=2,3",
    "agencies.police.events.incident.background_rate=0.03,0.3",
)


@pytest.fixture(scope="module")
def exploration():
    data = apply_overrides(read_yaml(CLASSROOM), SMALL)
    return explore(data, [parse_vary(v) for v in VARIES], replicates=2)


def _direct(point: tuple) -> object:
    """The point's scenario run directly, as `linkaudit run --set ...` would."""
    sets = [f"{v.split('=')[0]}={x}" for v, x in zip(VARIES, point, strict=True)]
    scenario = load_scenario(CLASSROOM, [*SMALL, "audit.replicates=2", *sets])
    return run(scenario, attribution=False)


def _close(shown: dict, estimate, low, high) -> None:
    assert shown == {
        "estimate": pytest.approx(estimate),
        "low": pytest.approx(low),
        "high": pytest.approx(high),
    }


@pytest.mark.parametrize("index", [0, 3])
def test_each_point_shows_its_runs_own_summary(exploration, index):
    point = exploration.points[index]
    numbers = exploration.results[index].numbers
    direct = _direct(point)
    summary = audit_summary(direct.audit)["headline"]
    assert numbers["worlds"] == summary["replicates"] == 2
    for metric in ("fpr", "wrongly_flagged_per_10k"):
        s = summary[metric]
        _close(
            numbers["overall"]["rates"][metric],
            s["estimate"],
            s["ci_low"],
            s["ci_high"],
        )
    assert numbers["headline"]["comparison"] == json.loads(
        json.dumps(summary["comparison"])
    )
    pooled = pooled_audit(direct.audit)
    overall = pooled.metrics.overall.iloc[0]
    assert [numbers["overall"][c] for c in ("n", "n_flagged", "fp", "fn")] == [
        int(overall[c]) for c in ("n", "n_flagged", "fp", "fn")
    ]
    table = pooled.disparities.table
    table = table[table["group"] == exploration.grouping]
    assert [g["value"] for g in numbers["groups"]] == list(
        dict.fromkeys(table["value"])
    )
    for g in numbers["groups"]:
        rows = table[table["value"] == g["value"]].set_index("metric")
        for metric in SHOWN_RATES:
            r = rows.loc[metric]
            _close(g["rates"][metric], r["estimate"], r["ci_low"], r["ci_high"])


def test_the_same_families_at_every_point(exploration):
    fates = [r.fates.set_index("household_id") for r in exploration.results]
    first = fates[0]
    for other in fates[1:]:
        assert other.index.equals(first.index)
        assert other["surname"].equals(first["surname"])
        assert other["imd_quintile"].equals(first["imd_quintile"])
    changed = pd.concat([f["fate"] for f in fates], axis=1).nunique(axis=1).gt(1)
    assert changed.any()  # the settings change some families' fate


def test_followed_families_change_fate_and_say_why(exploration):
    fates = [r.fates for r in exploration.results]
    chosen = choose_families(fates, exploration.base.seed, exploration.grouping)
    assert 1 <= len(chosen) <= FOLLOWED
    labels = [str(p) for p in exploration.points]
    records = [r.records for r in exploration.results]
    for family in follow_families(chosen, fates, records, labels):
        kinds = [p.fate for p in family.points]
        assert len(set(kinds)) > 1
        assert {"wrongly_flagged", "left_alone"} <= set(kinds) or {
            "missed",
            "rightly_flagged",
        } <= set(kinds)
        for at, fate in zip(family.points, kinds, strict=True):
            assert bool(at.change) == (fate != _contrast(kinds))
    page = explore_page(exploration)
    assert page.count('class="family ') == len(chosen) * len(exploration.points)
    assert "<script src" not in page and "http://" not in page
    assert "https://" not in page


def _contrast(kinds: list[str]) -> str:
    """The fate of the point a family is compared with (first left alone, or missed)."""
    return next(
        (k for k in kinds if k == "left_alone"),
        next((k for k in kinds if k == "missed"), kinds[0]),
    )


def test_workers_give_the_serial_page(tmp_path):
    data = apply_overrides(read_yaml(CLASSROOM), ["population.n_households=400"])
    varies = [parse_vary(VARIES[1])]
    serial = explore(data, varies, replicates=1)
    parallel = explore(data, varies, replicates=1, workers=Workers(2))
    assert explore_page(parallel) == explore_page(serial)
    # the manifest records what the points cost, workers included
    write_exploration(parallel, tmp_path / "p")
    manifest = json.loads((tmp_path / "p" / "manifest.json").read_text())
    stages = {s["stage"]: s for s in manifest["measured"]["stages"]}
    assert list(stages) == ["runs", "write outputs"]
    assert stages["runs"]["workers"] == len(parallel.points)
    assert stages["runs"]["cpu_seconds"] > 0


@pytest.mark.parametrize(
    ("vary", "expected"),
    [
        ("model.min_problems", "--vary model.min_problems: expected path.to.field="),
        ("model.min_problems=2", "give at least two values"),
        ("model.min_problems=2,x", "--vary model.min_problems='x'"),
        ("model.no_such_field=1,2", "--vary model.no_such_field=1"),
    ],
)
def test_bad_vary_is_one_linkaudit_line(tmp_path, capsys, vary, expected):
    out = tmp_path / "o"
    code = main(["explore", str(CLASSROOM), "--vary", vary, "-o", str(out), "-q"])
    assert code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("linkaudit: ")
    assert expected in err[0]
    assert "Traceback" not in err[0]
    assert not out.exists()


def test_refuses_to_replace_what_linkaudit_did_not_write(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    for force in ([], ["--force"]):
        code = main(
            ["explore", str(CLASSROOM), "--vary", VARIES[0], "-o", str(out), "-q"]
            + force
        )
        assert code != 0
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"linkaudit: {out}")
        assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_the_pool_is_sized_by_the_largest_point(monkeypatch):
    """Workers are counted for the largest point's worlds, not the base scenario's."""
    import simulator.pipeline.explore as explore_module

    sized = []
    pool = explore_module.Pool

    def recording(workers, households, tasks, **kwargs):
        sized.append((households, tasks))
        return pool(workers, households, tasks, **kwargs)

    monkeypatch.setattr(explore_module, "Pool", recording)
    data = apply_overrides(read_yaml(CLASSROOM), ["population.n_households=200"])
    varies = [parse_vary("population.n_households=200,300")]
    explore(data, varies, replicates=2)
    assert sized == [(300 * 2, 2)]
