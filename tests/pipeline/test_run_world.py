"""A run's own world streamed into its output: the in-memory run's directory, byte
for byte, and nothing left behind when it stops midway."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.cli import main
from simulator.output_dirs import claim_output
from simulator.pipeline import run as run_module
from simulator.pipeline.output import ReportMeanwhile, write_run
from simulator.pipeline.parallel import Workers
from simulator.pipeline.run import Run, run
from simulator.pipeline.streamed import SCRATCH_PREFIX
from simulator.schema.scenario import Scenario
from simulator.world.generate import BLOCK_SIZE
from tests.pipeline.test_run import digests
from tests.pipeline.test_streamed import small as streamed_small


def small(seed: int, households: int, chunk: int, method: str) -> Scenario:
    """test_streamed's small scenario with one world (no replicates)."""
    one_world = {"n_boot": 50, "min_group_size": 0}
    return streamed_small(seed, households, chunk, method, audit=one_world)


def streamed_run(scenario: Scenario, out: Path) -> Run:
    """``run`` with its world generated into ``out``'s claim, then written there."""
    with claim_output(out) as claim:
        result = run(scenario, directory=claim.partial)
        assert result.files is not None and result.files.directory == claim.partial
        write_run(result, out)
    return result


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 2**31 - 1),
    households=st.integers(2, 8).map(lambda k: k * 100),
    chunks=st.integers(1, 3),
    method=st.sampled_from(["deterministic", "oracle"]),
)
def test_a_run_streamed_into_its_output_writes_the_run_in_memory(
    tmp_path, no_report, seed, households, chunks, method
):
    """Truth, records, spine, links, view, flags, audit, attribution, transparency
    and manifest rows: every file as the in-memory run writes it, whatever the
    chunk size; no scratch directory inside, nothing beside."""
    scenario = small(seed, households, chunks * BLOCK_SIZE, method)
    here = Path(tempfile.mkdtemp(dir=tmp_path))  # new for every example
    streamed = streamed_run(scenario, here / "streamed")
    in_memory = run(scenario)
    write_run(in_memory, here / "memory")
    assert digests(here / "streamed") == digests(here / "memory")
    assert streamed.audit.outcomes.equals(in_memory.audit.outcomes)
    assert not list((here / "streamed").rglob(f"{SCRATCH_PREFIX}*"))
    assert sorted(p.name for p in here.iterdir()) == ["memory", "streamed"]


def test_a_report_drawn_while_the_last_rungs_run_is_the_report_drawn_after(tmp_path):
    """What ReportMeanwhile writes and computes while the replicates run (the
    world's last files; the case files, from world 0 and its own attribution, and
    the population's section on a thread), then while the pool's worker runs its
    last tasks (the audit, replicate and transparency files, the sections but the
    attribution's, some of them on that worker while the run pools the
    attribution), and write_run then the rest: the directory write_run writes
    alone, report included."""
    scenario = streamed_small(3, 300, BLOCK_SIZE, "deterministic")  # two worlds
    meanwhile = ReportMeanwhile()
    for name, called in (("after", None), ("meanwhile", meanwhile)):
        out = tmp_path / name
        with claim_output(out) as claim:
            two = Workers(2)
            result = run(
                scenario, directory=claim.partial, workers=two, meanwhile=called
            )
            write_run(result, out, workers=two, meanwhile=called)
    assert meanwhile.inputs is not None and "thresholds" in meanwhile.drawn
    assert "scores" in meanwhile.drawn and "cases" in meanwhile.ahead
    assert meanwhile.drawn_ahead.keys() == {"population"} <= meanwhile.drawn.keys()
    assert digests(tmp_path / "meanwhile") == digests(tmp_path / "after")


def write_scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: cli\nseed: 5\npopulation: {n_households: 1200, households_per_area: "
        f"200}}\naudit: {{n_boot: 50, replicates: 2}}\n{text}",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def in_memory() -> dict[str, tuple[str, dict[str, str]]]:
    """The console and file digests of each scenario's run in memory, made once.

    A run's console and files do not depend on its workers (the manifest's measured
    fields aside, which the digests leave out; tests/pipeline/test_parallel.py), so
    the serial and two-worker streamed runs of a scenario are held to one run in
    memory: one run at 1,200 households over two worlds fewer."""
    return {}


@pytest.mark.parametrize(
    ("workers", "extra"),
    [
        ("1", "model: {kind: learned}\n"),
        ("2", "model: {kind: learned}\n"),
        ("2", "dynamics: {periods: 2}\n"),
    ],
)
def test_run_with_stream_prints_and_writes_what_a_run_in_memory_does(
    tmp_path,
    tmp_path_factory,
    capsys,
    monkeypatch,
    no_report,
    in_memory,
    workers,
    extra,
):
    """``run --stream``, serial or on two workers, with replicates and a learned
    model: the same console lines and files as in memory. A run over periods keeps
    its real world in memory (its later periods move it on), streams its tasks, and
    says so."""
    generated = []
    real = run_module.generate_worlds

    def generate_worlds(worlds, **options):
        generated.extend(world.directory for world in worlds)
        return real(worlds, **options)

    monkeypatch.setattr(run_module, "generate_worlds", generate_worlds)
    path = write_scenario(tmp_path, extra)
    base = ["run", str(path), "--workers", workers]
    if extra not in in_memory:
        out = tmp_path_factory.mktemp("memory") / "run"
        assert main([*base, "-o", str(out)]) == 0
        console = capsys.readouterr().out.replace(str(out), "OUT")
        in_memory[extra] = console, digests(out)
    memory, memory_digests = in_memory[extra]
    generated.clear()  # the streamed run's worlds only
    assert main([*base, "-o", str(tmp_path / "streamed"), "--stream"]) == 0
    captured = capsys.readouterr()
    assert captured.out.replace(str(tmp_path / "streamed"), "OUT") == memory
    over_periods = "periods" in extra
    held = "its real world held in memory over its periods"
    assert (held in captured.err) == over_periods
    assert any(d.name.endswith(".partial") for d in generated) != over_periods
    assert digests(tmp_path / "streamed") == memory_digests
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml", "streamed"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
@pytest.mark.parametrize("where", ["world_view", "shared_world"])
def test_a_streamed_run_stopped_midway_leaves_nothing(
    tmp_path, capsys, monkeypatch, no_report, error, where
):
    """An error or Ctrl-C while the real world is viewed (in the output being
    written) or its rungs linked (in a scratch directory inside it) removes the
    partial output, scratch and all: the scenario file is all that is left."""
    seen = []

    def stop(world, *args, **kwargs):
        seen.append(world.directory)
        assert world.directory.name.endswith(".partial")
        raise error("stopped")

    monkeypatch.setattr(run_module, where, stop)
    path = write_scenario(tmp_path, "")
    code = main(["run", str(path), "-o", str(tmp_path / "out"), "--stream", "-q"])
    assert code == (130 if error is KeyboardInterrupt else 1)
    capsys.readouterr()
    assert seen and not seen[0].exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]
