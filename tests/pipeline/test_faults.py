"""Faults on the command line: each gives one ``linkaudit:`` line, loses nothing and
leaves nothing (signals to a child process, a full disk, bad paths, mixed inputs)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from simulator.cli import main
from simulator.io import MANIFEST, proven_output, sha256_file

ROOT = Path(__file__).resolve().parents[2]
SMALL = (
    "name: faults\nseed: {seed}\n"
    "population: {{n_households: 500, households_per_area: 250}}\n"
    "audit: {{n_boot: 20, min_group_size: 0}}\n"
)


def scenario_file(directory: Path, seed: int) -> Path:
    path = directory / "s.yaml"
    path.write_text(SMALL.format(seed=seed), encoding="utf-8")
    return path


def one_line_error(capsys) -> str:
    """The command's error: exactly one ``linkaudit:`` line, no traceback."""
    err = [
        line
        for line in capsys.readouterr().err.splitlines()
        if not line.startswith("linkaudit: warning:")
    ]
    assert len(err) == 1 and err[0].startswith("linkaudit: "), err
    return err[0]


def stub_report(run, directory: Path) -> Path:
    """A one-line report.html: these tests are about files, not the report."""
    path = directory / "report.html"
    path.write_text("<!DOCTYPE html>\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory, seed) -> dict[str, Path]:
    """A small run, its dataset, and another (other seed and size) with flags."""
    base = tmp_path_factory.mktemp("runs")
    scenario = scenario_file(base, seed)
    out = {"run": base / "run", "other": base / "other", "data": base / "data"}
    run = ["run", str(scenario), "-o", str(out["run"]), "-q", "--no-attribution"]
    with pytest.MonkeyPatch.context() as patch:  # the report is not tested here
        patch.setattr("audits.report.write_report", stub_report)
        assert main(run) == 0
    assert main(["generate", str(scenario), "-o", str(out["data"]), "-q"]) == 0
    other = ["--set", f"seed={seed + 1}", "--set", "population.n_households=400"]
    assert main(["generate", str(scenario), "-o", str(out["other"]), "-q", *other]) == 0
    # Flags of another run: the other dataset's spine households, scored.
    spine = pd.read_parquet(out["other"] / "spine.parquet")
    ids = spine["spine_household_id"].drop_duplicates().sort_values().to_numpy()
    flags = pd.DataFrame({"spine_household_id": ids, "flagged": ids % 7 == 0})
    flags.assign(score=flags["flagged"].astype(float)).to_parquet(
        out["other"] / "flags.parquet", index=False
    )
    return out


def copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def forge(run: Path, rel: str, source: Path) -> None:
    """Copy ``source`` over ``run/rel`` and make the manifest lie about it."""
    shutil.copyfile(source, run / rel)
    manifest = json.loads((run / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"][rel] = {
        "bytes": (run / rel).stat().st_size,
        "sha256": sha256_file(run / rel),
    }
    manifest["rows"][rel] = len(pd.read_parquet(run / rel))
    (run / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


# ------------------------------------------------------------------ mixed inputs


@pytest.mark.parametrize("rel", ["flags.parquet", "truth/households.parquet"])
def test_audit_refuses_a_file_copied_from_another_run(runs, tmp_path, capsys, rel):
    run = copy(runs["run"], tmp_path / "run")
    shutil.copyfile(runs["other"] / rel, run / rel)
    assert main(["audit", str(run), "-o", str(tmp_path / "a")]) == 1
    assert f"{run / rel}: its content does not match" in one_line_error(capsys)
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize(
    ("rel", "message"),
    [
        ("flags.parquet", "flags are from another run"),
        ("truth/households.parquet", "households it does not hold"),
    ],
)
def test_audit_refuses_a_lying_manifest(runs, tmp_path, capsys, rel, message):
    run = copy(runs["run"], tmp_path / "run")
    forge(run, rel, runs["other"] / rel)
    assert main(["audit", str(run), "-o", str(tmp_path / "a")]) == 1
    line = one_line_error(capsys)
    assert str(run / rel) in line and message in line


def test_audit_refuses_a_manifest_whose_rows_or_seed_lie(runs, tmp_path, capsys):
    run = copy(runs["run"], tmp_path / "run")
    manifest = json.loads((run / MANIFEST).read_text(encoding="utf-8"))
    manifest["rows"]["spine.parquet"] += 1
    (run / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert main(["audit", str(run), "-o", str(tmp_path / "a")]) == 1
    assert "spine.parquet: holds" in one_line_error(capsys)
    manifest["rows"]["spine.parquet"] -= 1
    manifest["seeds"]["scenario"] += 1
    (run / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert main(["audit", str(run), "-o", str(tmp_path / "a")]) == 1
    assert "do not belong together" in one_line_error(capsys)


@pytest.mark.parametrize("damage", ["not json", "truncated parquet", "foreign"])
def test_damaged_inputs_are_one_line(runs, tmp_path, capsys, damage):
    run = copy(runs["run"], tmp_path / "run")
    if damage == "not json":
        (run / MANIFEST).write_text("{oops", encoding="utf-8")
        expect = f"{run / MANIFEST}: not valid JSON"
    else:
        flags = run / "flags.parquet"
        data = flags.read_bytes()
        fake = data[: len(data) // 2] if damage == "truncated parquet" else b"PAR1x"
        # The manifest is made to agree, so the Parquet reader itself meets it.
        flags.write_bytes(fake)
        manifest = json.loads((run / MANIFEST).read_text(encoding="utf-8"))
        manifest["files"]["flags.parquet"] = {
            "bytes": len(fake),
            "sha256": sha256_file(flags),
        }
        (run / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        expect = f"{flags}: not a readable Parquet file"
    assert main(["audit", str(run), "-o", str(tmp_path / "a")]) == 1
    assert expect in one_line_error(capsys)


def test_audit_of_a_score_file_checks_the_truth_directory(runs, tmp_path, capsys):
    data = copy(runs["data"], tmp_path / "data")
    scores = tmp_path / "scores.csv"
    spine = pd.read_parquet(data / "spine.parquet")
    households = spine["spine_household_id"].drop_duplicates()
    pd.DataFrame({"spine_household_id": households, "score": 0.5}).to_csv(
        scores, index=False
    )
    args = ["audit", "--scores", str(scores), "--truth", str(data), "-o"]
    assert main([*args, str(tmp_path / "a")]) == 0
    capsys.readouterr()
    shutil.copyfile(runs["other"] / "spine.parquet", data / "spine.parquet")
    assert main([*args, str(tmp_path / "b")]) == 1
    assert "spine.parquet: its content does not match" in one_line_error(capsys)


# ----------------------------------------------------------------- output paths


def test_an_audit_never_writes_into_its_run(runs, tmp_path, capsys):
    run = copy(runs["run"], tmp_path / "run")
    before = {p: sha256_file(p) for p in run.rglob("*") if p.is_file()}
    for out in (run, run / "audit2"):
        assert main(["audit", str(run), "-o", str(out), "--force"]) == 1
        assert "is, holds or is inside the input" in one_line_error(capsys)
    assert {p: sha256_file(p) for p in run.rglob("*") if p.is_file()} == before


def test_force_keeps_a_folder_holding_a_bare_manifest(tmp_path, capsys, seed):
    work = tmp_path / "w"
    (work / "src").mkdir(parents=True)
    (work / "src" / "main.py").write_text("precious", encoding="utf-8")
    (work / MANIFEST).write_text("{}", encoding="utf-8")
    scenario = scenario_file(tmp_path, seed)
    assert main(["generate", str(scenario), "-o", str(work), "--force", "-q"]) == 1
    assert "not a linkaudit output directory" in one_line_error(capsys)
    assert (work / "src" / "main.py").read_text(encoding="utf-8") == "precious"


@pytest.fixture
def no_work(monkeypatch):
    """Generation fails the test: outputs must be refused before any work."""

    def refuse(*args, **kwargs):
        raise AssertionError("work started before the output was checked")

    monkeypatch.setattr("simulator.world.generate.make_chunk", refuse)


@pytest.mark.parametrize("case", ["exists", "file", "cwd", "holds scenario"])
def test_bad_outputs_are_refused_before_any_work(
    tmp_path, capsys, monkeypatch, seed, no_work, case
):
    scenario = scenario_file(tmp_path, seed)
    out, flags = tmp_path / "out", []
    if case == "exists":
        out.mkdir()
        (out / "x").write_text("x", encoding="utf-8")
    elif case == "file":
        out.write_text("x", encoding="utf-8")
        flags = ["--force"]
    elif case == "cwd":
        monkeypatch.chdir(tmp_path)
        out, flags = Path("."), ["--force"]
    else:
        out, flags = tmp_path, ["--force"]
    code = main(["generate", str(scenario), "-o", str(out), *flags, "-q"])
    assert code == 1
    line = one_line_error(capsys)
    assert {
        "exists": "already exists",
        "file": "not a directory",
        "cwd": "current directory",
        "holds scenario": "is, holds or is inside the input",
    }[case] in line


def test_an_empty_directory_is_taken_as_output(tmp_path, capsys, seed):
    out = tmp_path / "empty"
    out.mkdir()
    scenario = scenario_file(tmp_path, seed)
    assert main(["generate", str(scenario), "-o", str(out), "-q"]) == 0
    assert proven_output(out)


def test_a_directory_as_scenario_is_one_line(tmp_path, capsys):
    assert main(["run", str(tmp_path), "-o", str(tmp_path / "out"), "-q"]) == 1
    assert f"{tmp_path}: is a directory" in one_line_error(capsys)


def test_a_full_disk_is_one_line_and_leaves_the_old_output(
    runs, tmp_path, capsys, monkeypatch, seed
):
    data = copy(runs["data"], tmp_path / "data")
    before = {p: sha256_file(p) for p in data.rglob("*") if p.is_file()}

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("simulator.io.pq.ParquetWriter.write_table", full)
    scenario = scenario_file(tmp_path, seed)
    assert main(["generate", str(scenario), "-o", str(data), "--force", "-q"]) == 1
    line = one_line_error(capsys)
    assert f"{data}: cannot write the output (No space left on device)" in line
    assert {p: sha256_file(p) for p in data.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "s.yaml"]


@pytest.mark.parametrize("failing", ["world files", "report"])
def test_a_run_failing_while_its_world_is_written_leaves_nothing(
    tmp_path, capsys, monkeypatch, seed, failing
):
    """The world's files are written on a thread beside the report: a failure on
    either side is one line, and nothing is left once the thread is done, even when
    the report fails while the thread still writes into the partial directory."""
    import simulator.pipeline.output as output

    written = threading.Event()
    real = output._write_world_files

    def world_files(run_, directory):
        try:
            if failing == "world files":
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            time.sleep(0.5)  # still writing when the report fails
            return real(run_, directory)
        finally:
            written.set()

    def report(*args, **kwargs):
        if failing == "report":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return stub_report(*args, **kwargs)

    monkeypatch.setattr(output, "_write_world_files", world_files)
    monkeypatch.setattr("audits.report.write_report", report)
    scenario = scenario_file(tmp_path, seed)
    out = tmp_path / "out"
    assert main(["run", str(scenario), "-o", str(out), "-q"]) == 1
    line = one_line_error(capsys)
    assert f"{out}: cannot write the output (No space left on device)" in line
    assert written.wait(30)
    time.sleep(0.2)  # a thread left running would have written by now
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


def test_an_unexpected_error_is_one_line_and_v_shows_the_traceback(
    tmp_path, capsys, monkeypatch, seed
):
    def bug(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr("simulator.world.generate.make_chunk", bug)
    scenario = scenario_file(tmp_path, seed)
    args = ["generate", str(scenario), "-o", str(tmp_path / "out"), "-q"]
    assert main(args) == 1
    assert "unexpected error (KeyError" in one_line_error(capsys)
    assert main(["-v", *args]) == 1
    assert "Traceback" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


# ------------------------------------------------------------- signals, kills

CHILD = textwrap.dedent(
    """
    import sys, time
    import simulator.world.generate as g
    def slow(*args, **kwargs):
        time.sleep(60)
    g.make_chunk = slow
    from simulator.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def start_child(scenario: Path, out: Path) -> subprocess.Popen:
    """A CLI child writing ``out``, stuck in its work (generation sleeps)."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, "generate", str(scenario), "-o", str(out), "-q"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(out.parent.glob(f".{out.name}.*.partial")):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the child never claimed its output"
        time.sleep(0.05)
    return child


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_cleans_up_and_says_so(tmp_path, capsys, seed, signum):
    scenario = scenario_file(tmp_path, seed)
    out = tmp_path / "out"
    child = start_child(scenario, out)
    # Meanwhile a second command into the same output is refused at once.
    started = time.monotonic()
    assert main(["generate", str(scenario), "-o", str(out), "--force", "-q"]) == 1
    assert time.monotonic() - started < 5
    assert f"pid {child.pid}) is writing this output" in one_line_error(capsys)
    child.send_signal(signum)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 128 + signum
    name = signal.Signals(signum).name
    assert err.startswith(f"linkaudit: interrupted by {name}; removed the partial")
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


def test_a_killed_run_leaves_what_the_next_names_and_clean_removes(
    tmp_path, capsys, seed
):
    scenario = scenario_file(tmp_path, seed)
    out = tmp_path / "out"
    child = start_child(scenario, out)
    child.kill()  # SIGKILL cannot be handled
    child.communicate(timeout=30)
    partial = next(tmp_path.glob(".out.*.partial"))
    assert main(["generate", str(scenario), "-o", str(out), "-q"]) == 0
    err = capsys.readouterr().err
    assert f"{partial.name}; remove it with `linkaudit clean {tmp_path}`" in err
    assert main(["clean", str(tmp_path)]) == 0
    assert f"removed {partial}" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "s.yaml"]
    assert proven_output(out)
