"""The whole pipeline: determinism, the attribution ladder, and the command line."""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audits.attribution import RUNGS, ladder, rung_flags
from simulator.cli import main
from simulator.io import MANIFEST
from simulator.pipeline.output import write_run
from simulator.pipeline.parallel import SERIAL, Pool, Workers
from simulator.pipeline.run import (
    Run,
    council_outcomes,
    council_run,
    real_world_rungs,
    replicate_scenario,
    run,
    rung_outcomes,
    rung_worlds,
)
from simulator.pipeline.timings import MEASURED, without_measured
from simulator.schema.scenario import Scenario
from simulator.vocabulary import OVERALL, is_hidden
from simulator.world.generate import generate

HOUSEHOLDS = 2_500


def small(seed: int, **sections: object) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "pipeline-test",
            "seed": seed,
            "population": {"n_households": HOUSEHOLDS, "households_per_area": 250},
            "audit": {"n_boot": 200, "min_group_size": 0},
            **sections,
        }
    )


@pytest.fixture(scope="module")
def result(seed: int) -> Run:
    return run(small(seed))


@pytest.fixture(scope="module")
def written(result: Run, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's run written once, report included (read, never changed)."""
    return write_run(result, tmp_path_factory.mktemp("written") / "run")


def digests(directory: Path) -> dict[str, str]:
    """Every file's sha256; the manifest's without its measured (timing) fields."""

    def content(p: Path) -> bytes:
        if p.name != MANIFEST:
            return p.read_bytes()
        manifest = json.loads(p.read_text(encoding="utf-8"))
        stages = {s["stage"] for s in manifest[MEASURED]["stages"]}
        assert stages >= {"generate", "link", "audit"}
        return json.dumps(without_measured(manifest), sort_keys=True).encode()

    return {
        str(p.relative_to(directory)): hashlib.sha256(content(p)).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_same_scenario_same_bytes(written, seed, tmp_path):
    """Every file of a run, report and audit included, repeats byte for byte.

    (Generation's independence of ``generation.chunk_size`` is tested in
    tests/simulator; everything after it is a function of the generated data.)
    """
    write_run(run(small(seed)), tmp_path / "b")
    a, b = digests(written), digests(tmp_path / "b")
    assert "report.html" in a
    assert len(a) > 20
    assert a == b


def test_same_splink_run_same_bytes_on_any_thread_count(
    seed, tmp_path, monkeypatch, no_report
):
    """Two Splink runs, on one DuckDB thread and on DuckDB's default, write the same
    bytes (before the EM tables were sorted, their match probabilities differed in
    the last bit: tests/linkage/test_splink_repeats.py). Every table is compared; the
    report, a function of the tables whose bytes repeat by
    :func:`test_same_scenario_same_bytes`, is not drawn."""
    import simulator.council.linkage as linkage

    scenario = small(seed, linkage={"method": "splink"})
    write_run(run(scenario, attribution=False), tmp_path / "a")
    one_thread = functools.partial(linkage.LinkageDB, threads=1)
    monkeypatch.setattr(linkage, "LinkageDB", one_thread)
    write_run(run(scenario, attribution=False), tmp_path / "b")
    a, b = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert "links.parquet" in a
    assert a == b


def test_the_manifest_measures_every_stage(written):
    """Wall, CPU and peak memory of each stage the progress bars name, and the
    machine; the measured fields are the only ones kept out of the digests."""
    manifest = json.loads((written / MANIFEST).read_text(encoding="utf-8"))
    measured = manifest[MEASURED]
    stages = {s.pop("stage"): s for s in measured["stages"]}
    assert list(stages) == [
        "model",
        "generate",
        "link",
        "view, scores and flags",
        "link quality",
        "audit",
        "attribution",
        "write outputs and report",
    ]
    for name, cost in stages.items():
        assert cost["wall_seconds"] >= 0 and cost["cpu_seconds"] >= 0, name
        assert cost["peak_memory_bytes"] > 10_000_000, name  # a Python with pandas
    total = measured["total"]
    assert total["wall_seconds"] == pytest.approx(
        sum(c["wall_seconds"] for c in stages.values()), abs=0.01
    )
    assert total["peak_memory_bytes"] == max(
        c["peak_memory_bytes"] for c in stages.values()
    )
    assert measured["machine"]["cpus"] >= 1
    assert measured["machine"]["memory_bytes"] > 0


def test_attribution_counts_add_up_to_the_real_run(result):
    overall = result.audit.metrics.overall.iloc[0]
    counts = result.attribution.counts
    everyone = counts[counts["group"] == OVERALL].set_index("error")
    assert everyone.loc["false_positive", "total"] == overall["fp"]
    assert everyone.loc["false_negative", "total"] == overall["fn"]
    for error in ("false_positive", "false_negative"):
        row = everyone.loc[error]
        assert sum(int(row[r]) for r in RUNGS) == int(row["total"])
    # Every group column's breakdown adds up to the same totals.
    for group, part in counts[counts["group"] != OVERALL].groupby("group"):
        by_error = part.groupby("error")["total"].sum()
        assert by_error["false_positive"] == overall["fp"], group
        assert by_error["false_negative"] == overall["fn"], group
    # The last rung of the ladder is the real run.
    last = result.attribution.flagged_by_rung.set_index("rung").loc[RUNGS[-1]]
    assert last["false_positives"] == overall["fp"]
    assert last["flagged"] == overall["n_flagged"]


class _Generating(Exception):
    """Raised where the real world would be generated: the test has seen enough."""


@pytest.mark.parametrize("learned", [False, True])
def test_the_pool_gets_its_worlds_before_the_real_world_is_generated(
    seed, monkeypatch, learned
):
    """A model fitted without a world sends the replicates and every world's rungs
    to the pool first, so a worker works while this process generates; a learned
    model's history cohort is fitted on the pool meanwhile, and the worlds, which
    need the fitted model, wait for it."""
    import simulator.pipeline.run as pipeline

    sent: list[str] = []
    submit = Pool.submit

    def recorded(pool: Pool, fn: object, *args: object) -> object:
        sent.append(getattr(fn, "func", fn).__name__)
        return submit(pool, fn, *args)

    def generating(scenario: Scenario, **options: object) -> None:
        raise _Generating

    monkeypatch.setattr(Pool, "submit", recorded)
    monkeypatch.setattr(pipeline, "generate", generating)
    model = {"model": {"kind": "learned"}} if learned else {}
    scenario = small(
        seed, audit={"n_boot": 50, "min_group_size": 0, "replicates": 3}, **model
    )
    with pytest.raises(_Generating):
        run(scenario, workers=SERIAL)
    if learned:
        assert sent == ["fit_model"]
    else:
        rungs = len(rung_worlds(scenario))
        assert sent == ["replicate_audit"] * 2 + ["rung_outcomes"] * 3 * rungs


class _Viewing(Exception):
    """Raised where the real world's view would be built: the test has seen enough."""


def _duckdb_threads() -> int:
    """The threads a new linkage connection of this process gets."""
    from simulator.council.linkage.backend import LinkageDB

    return int(LinkageDB().frame("SELECT current_setting('threads') AS t")["t"][0])


@pytest.mark.parametrize("method", ["splink", "deterministic"])
def test_a_splink_world_links_on_every_core_before_the_pool_gets_its_worlds(
    seed, monkeypatch, method
):
    """With a worker on this machine, the real world's Splink link comes first, with
    every core for DuckDB (while a worker works it would have its share: at 1,000,000
    households 391 s on one thread of two, against 154 s alone), and the pool then
    gets its worlds, the last replicate after the rungs (this process, helping from
    the queue's end, takes it); a deterministic link keeps its share while the pool
    works on worlds sent before generation."""
    import simulator.pipeline.parallel as parallel
    import simulator.pipeline.run as pipeline

    monkeypatch.setattr(parallel, "cores", lambda: 4)  # a worker's share: 2 threads
    sent: list[str] = []
    seen: dict[str, object] = {}

    def recorded(pool: Pool, fn: object, *args: object) -> None:
        name = getattr(fn, "func", fn).__name__
        sent.append(f"replicate {args[1]}" if name == "replicate_audit" else name)

    def linking(*args: object, **options: object) -> None:
        seen["link"] = (_duckdb_threads(), list(sent))

    def viewing(*args: object, **options: object) -> None:
        seen["view"] = (_duckdb_threads(), list(sent))
        raise _Viewing

    monkeypatch.setattr(Pool, "submit", recorded)
    monkeypatch.setattr(pipeline, "link_records", linking)
    monkeypatch.setattr(pipeline, "linked_view", viewing)
    audit = {"n_boot": 50, "min_group_size": 0, "replicates": 3}
    scenario = small(seed, linkage={"method": method}, audit=audit)
    with pytest.raises(_Viewing):
        run(scenario, workers=Workers(2))
    rungs = ["rung_outcomes"] * 3 * len(rung_worlds(scenario))
    if method == "splink":
        assert seen["link"] == (4, [])
        assert seen["view"] == (2, ["replicate 1", *rungs, "replicate 2"])
    else:
        everything = ["replicate 1", "replicate 2", *rungs]
        assert seen["link"] == (2, everything)
        assert seen["view"] == (2, everything)


TWO_WORLDS = {"n_boot": 50, "min_group_size": 0, "replicates": 2}


@pytest.fixture(scope="module")
def two_worlds(seed: int) -> tuple[Run, list[Scenario]]:
    """The small scenario run serially over two worlds (read, never changed), and
    every scenario it generated a world of, in order."""
    import simulator.pipeline.run as pipeline

    drawn: list[Scenario] = []

    def counted(scenario: Scenario, **options: object) -> object:
        drawn.append(scenario)
        return generate(scenario, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "generate", counted)
        both = run(small(seed, audit=TWO_WORLDS), workers=SERIAL)
    return both, drawn


def test_the_ladder_runs_in_every_world_and_its_counts_are_pooled(seed, two_worlds):
    """With replicates, each world's causes add up to that world's own errors, and
    the pooled counts are the mean of the worlds' (smallest and largest beside).
    Each world is generated once: its rungs in its own world (``data_error``) come
    from the data its run holds; of the others, ``spine`` draws only its spine in
    the ``model`` rung's world, and only ``model`` and ``visibility`` are generated."""
    both, drawn = two_worlds
    scenario = small(seed, audit=TWO_WORLDS)
    worlds = [replicate_scenario(scenario, r) for r in range(2)]
    for r, world in enumerate(worlds):
        assert sum(s == world for s in drawn) == 1, f"world {r} generated again"
        rungs = ladder(world)
        for rung in ("model", "visibility"):
            assert sum(s == rungs[rung][0] for s in drawn) == 1, (r, rung)
        assert rungs["spine"][0] not in drawn, f"world {r}'s spine rung generated"
    assert len(drawn) == 2 * 3
    a = both.attribution
    assert a.worlds == 2
    by_world = a.counts_by_world[a.counts_by_world["group"] == OVERALL]
    totals = []
    for r, world in enumerate(both.audit.worlds):
        overall = world.metrics.overall.iloc[0]
        mine = by_world[by_world["replicate"] == r].set_index("error")
        assert mine.loc["false_positive", "total"] == overall["fp"], r
        assert mine.loc["false_negative", "total"] == overall["fn"], r
        assert (mine[list(RUNGS)].sum(axis=1) == mine["total"]).all()
        totals.append(mine["total"])
    pooled = a.counts[a.counts["group"] == OVERALL].set_index("error")
    assert (pooled["total"] == (totals[0] + totals[1]) / 2).all()
    assert (pooled["total_low"] == np.minimum(totals[0], totals[1])).all()
    assert (pooled["total_high"] == np.maximum(totals[0], totals[1])).all()
    # the case files' families are the first world's
    first = by_world[by_world["replicate"] == 0].set_index("error")["total"]
    assert a.households["error"].value_counts().to_dict() == first.to_dict()


def test_rungs_drawn_in_shared_worlds_are_the_rungs_generated_again(result):
    """``data_error`` from the run's data, and ``spine`` from the ``model`` rung's
    world with its own spine, equal the rungs generated afresh: the run need not
    generate those worlds (and its council side left the data as drawn)."""
    scenario, model = result.scenario, result.model
    outcomes = result.audit.outcomes
    shared = real_world_rungs(result.data, scenario, model, outcomes)
    assert shared["linkage"] is outcomes
    for world in rung_worlds(scenario):
        if "spine" in world:
            assert list(world) == ["model", "spine"]
            shared.update(rung_outcomes(world, model))
    for rung in ("data_error", "spine"):  # the rungs whose worlds are not generated
        rung_scenario, method = ladder(scenario)[rung]
        afresh = council_outcomes(generate(rung_scenario), rung_scenario, model, method)
        pd.testing.assert_frame_equal(shared[rung], rung_flags(afresh), obj=rung)


def test_every_rung_shares_the_truth(result):
    for name, (scenario, _) in ladder(result.scenario).items():
        data = generate(scenario)
        pd.testing.assert_frame_equal(
            data.households, result.data.households, obj=f"households of {name}"
        )


def test_the_council_side_never_reads_the_truth(result):
    """Scrambling every hidden column changes neither the view nor the flags."""
    rng = np.random.default_rng(3)
    data = result.data

    def scramble(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for col in [c for c in frame.columns if is_hidden(c)]:  # columns, not rows
            out[col] = frame[col].to_numpy()[rng.permutation(len(frame))]
        return out

    scrambled = type(data)(
        data.scenario,
        data.areas,
        pd.DataFrame(),  # no truth tables at all: reading one would fail
        pd.DataFrame(),
        {k: scramble(v) for k, v in data.sources.items()},
        scramble(data.spine),
    )
    council = council_run(scrambled, result.scenario, result.model)
    pd.testing.assert_frame_equal(council.links, result.council.links)
    pd.testing.assert_frame_equal(council.view, result.council.view)
    pd.testing.assert_frame_equal(council.flags, result.council.flags)


def test_command_line_run_and_reaudit(tmp_path, capsys, seed, no_report):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"name: cli\nseed: {seed}\npopulation: {{n_households: 1500, "
        "households_per_area: 250}\naudit: {n_boot: 50}\n",
        encoding="utf-8",
    )
    out = tmp_path / "run"
    assert main(["run", str(scenario), "-o", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed
    assert "wrongly flagged" in printed and "why (first rung" in printed
    for rel in (
        "manifest.json",
        "flags.parquet",
        "audit/summary.json",
        "attribution/counts.csv",
        "linkage/quality.csv",
    ):
        assert (out / rel).is_file(), rel
    # Refuses to overwrite without --force, leaving the run intact.
    assert main(["run", str(scenario), "-o", str(out), "-q"]) == 1
    assert "already exists" in capsys.readouterr().err
    again = tmp_path / "harm"
    code = main(["audit", str(out), "-o", str(again), "--set", "audit.target=harm"])
    assert code == 0
    assert "audit (target: harm)" in capsys.readouterr().out
    assert (again / "summary.json").is_file()


def test_audit_refuses_a_directory_that_is_not_a_run(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    code = main(["audit", str(tmp_path / "x"), "-o", str(tmp_path / "y")])
    assert code == 1
    assert "not a complete linkaudit output directory" in capsys.readouterr().err
    assert not (tmp_path / "y").exists()


def test_replicates_are_pooled_with_their_own_seeds(seed, tmp_path, no_report):
    scenario = Scenario.model_validate(
        {
            "seed": seed,
            "population": {"n_households": 1_000, "households_per_area": 25},
            "audit": {"n_boot": 50, "replicates": 3, "min_group_size": 200},
        }
    )
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = run(scenario, attribution=False)
    small = [str(w.message) for w in seen if "min_group_size" in str(w.message)]
    assert len(small) == 1, small  # once, on the pooled families, not per world
    assert "over the 3 worlds pooled" in small[0] and "ethnicity=" in small[0]
    pooled = result.replicates
    assert set(pooled) >= {"metrics", "disparities", "seeds"}
    seeds = pooled["seeds"]
    assert seeds["scenario_seed"].nunique() == 3
    assert seeds["audit_seed"].nunique() == 3
    assert seeds["scenario_seed"].iloc[0] == seed  # replicate 0 is the scenario
    counts = pooled["counts"].set_index(["group", "value"])
    assert counts.loc[(OVERALL, OVERALL), "n"] == 3_000  # summed over replicates
    m = pooled["metrics"]
    fpr = m[(m["group"] == "overall") & (m["metric"] == "fpr")].iloc[0]
    assert fpr["replicates"] == 3
    assert fpr["min"] <= fpr["estimate"] <= fpr["max"]
    assert fpr["ci_low"] <= fpr["estimate"] <= fpr["ci_high"]  # across worlds
    write_run(result, tmp_path / "r")
    kept = tmp_path / "r" / "audit" / "replicates"
    assert (kept / "metrics.csv").is_file()
    for r, world in enumerate(result.audit.replicates, start=1):  # for compare
        on_disk = pd.read_parquet(kept / f"outcomes_{r}.parquet")
        assert len(on_disk) == 1_000 and on_disk.equals(world.outcomes)
    # the headline is pooled over the three worlds, not replicate 0's
    summary = json.loads((tmp_path / "r" / "audit" / "summary.json").read_text())
    head = summary["headline"]
    assert head["replicates"] == 3
    assert head["fpr"]["estimate"] == pytest.approx(fpr["estimate"])
    assert len(head["comparison"]["difference_per_replicate"]) == 3
    assert len(result.audit.replicates) == 2
    # each replicate task sent back its world's link quality, tables only
    others = result.link_quality_worlds
    assert len(others) == 2 and all(q.records.empty for q in others)
    n_records = [q.overall["n_records"].iloc[0] for q in (result.link_quality, *others)]
    assert len(set(n_records)) == 3  # three worlds, three sets of records
    assert summary["warnings"] == small
    # the main tables are the pooled ones; the per-world pooling files stay
    main_counts = pd.read_csv(tmp_path / "r" / "audit" / "metrics_by_group.csv")
    by_world = pooled["counts"][pooled["counts"]["group"] != OVERALL]
    assert main_counts["n"].tolist() == by_world["n"].tolist()
    rates = pd.read_csv(tmp_path / "r" / "audit" / "rates_overall.csv")
    assert rates.set_index("metric").loc["fpr", "ci_low"] == pytest.approx(
        fpr["ci_low"]
    )


def test_force_never_replaces_a_directory_linkaudit_did_not_write(tmp_path, capsys):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work", encoding="utf-8")
    scenario = tmp_path / "s.yaml"
    scenario.write_text("population: {n_households: 200}\n", encoding="utf-8")
    code = main(["generate", str(scenario), "-o", str(precious), "--force", "-q"])
    assert code == 1
    assert "not a linkaudit output directory" in capsys.readouterr().err
    assert (precious / "thesis.txt").read_text(encoding="utf-8") == "years of work"


@pytest.mark.parametrize("learned", [False, True])
def test_a_run_whose_tasks_stream_through_files_writes_the_same_bytes(
    seed, tmp_path, no_report, request, learned
):
    """Replicates, rungs and the history cohort run in scratch directories (on two
    workers) give the run's every file as in memory, and leave no scratch
    directory behind. (Without a learned model, the run in memory is
    ``two_worlds``'s: the same scenario, run serially, as ``run`` does.)"""
    from simulator.pipeline.streamed import Streamed

    model = {"model": {"kind": "learned"}} if learned else {}
    scenario = small(seed, audit=TWO_WORLDS, **model)
    scratch = tmp_path / "scratch"
    streamed = run(scenario, workers=Workers(2), streamed=Streamed(scratch))
    write_run(streamed, tmp_path / "streamed")
    if learned:
        in_memory = run(scenario)
    else:
        in_memory, _ = request.getfixturevalue("two_worlds")
        assert in_memory.scenario == scenario
    write_run(in_memory, tmp_path / "memory")
    assert digests(tmp_path / "streamed") == digests(tmp_path / "memory")
    assert list(scratch.iterdir()) == []


def test_run_with_stream_writes_the_same_bytes_and_no_scratch(
    tmp_path, capsys, monkeypatch, no_report
):
    """``run --stream`` sends its replicates and rungs through files, writes every
    file as in memory, and its output holds no scratch directory (when it streams
    without the switch: :func:`simulator.pipeline.estimate.streams_better`)."""
    from simulator.pipeline import run as run_module
    from simulator.pipeline.streamed import SCRATCH_DIRECTORY, Streamed

    path = tmp_path / "s.yaml"
    path.write_text(
        "name: cli\nseed: 5\npopulation: {n_households: 1200, households_per_area: "
        "200}\naudit: {n_boot: 50, replicates: 2}\n",
        encoding="utf-8",
    )
    sent = []
    real_submit = run_module.Pool.submit

    def submit(pool, fn, *args):
        if fn in (run_module.replicate_audit, run_module.rung_outcomes):
            sent.append(inspect.signature(fn).bind(*args).arguments["streamed"])
        return real_submit(pool, fn, *args)

    monkeypatch.setattr(run_module.Pool, "submit", submit)
    base = ["run", str(path), "--workers", "2", "-q"]
    assert main([*base, "-o", str(tmp_path / "memory")]) == 0
    assert sent and all(s is None for s in sent)
    sent.clear()
    assert main([*base, "-o", str(tmp_path / "streamed"), "--stream"]) == 0
    assert sent and all(isinstance(s, Streamed) for s in sent)
    assert all(s.root.name == SCRATCH_DIRECTORY for s in sent)
    capsys.readouterr()
    assert digests(tmp_path / "streamed") == digests(tmp_path / "memory")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "memory",
        "s.yaml",
        "streamed",
    ]
