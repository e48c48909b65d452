"""Output directories: only linkaudit's own are replaced, one writer at a time, never
missing during a replace, and OS failures leave nothing behind (no pipeline runs)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import output_dirs
from simulator.errors import InputDataError, OutputError
from simulator.io import (
    FORMAT,
    MANIFEST,
    PARTIAL_MARKER,
    proven_output,
    read_manifest,
    verify_file,
    write_manifest,
)
from simulator.output_dirs import atomic_directory, claim_output, clean, exchange


def write_output(target: Path, files: dict[str, str], *, overwrite=False) -> Path:
    """A small linkaudit output holding ``files`` (path -> text)."""
    with atomic_directory(target, overwrite=overwrite) as tmp:
        for rel, text in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(text, encoding="utf-8")
        write_manifest(tmp, {"kind": "test"})
    return target


def hidden(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


names = st.from_regex(r"[a-z]{1,6}(/[a-z]{1,6})?\.txt", fullmatch=True)


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(names, st.text(max_size=30), min_size=1, max_size=5))
def test_a_written_output_is_proven_and_every_file_verifies(tmp_path_factory, files):
    # A file and a directory cannot share a name ("a.txt" and "a.txt/b.txt").
    files = {
        k: v for k, v in files.items() if not any(o.startswith(k + "/") for o in files)
    }
    out = write_output(tmp_path_factory.mktemp("w") / "out", files)
    manifest = read_manifest(out)
    assert manifest["format"] == FORMAT
    assert sorted(manifest["files"]) == sorted(files)
    assert proven_output(out)
    for rel in files:
        verify_file(out, rel, manifest)
    assert not hidden(out.parent)  # no lock, no partial left


def test_the_manifest_is_deterministic_and_names_no_absolute_path(tmp_path):
    a = write_output(tmp_path / "a", {"x.txt": "1", "d/y.txt": "2"})
    b = write_output(tmp_path / "b", {"x.txt": "1", "d/y.txt": "2"})
    text = (a / MANIFEST).read_text(encoding="utf-8")
    assert text == (b / MANIFEST).read_text(encoding="utf-8")
    assert str(tmp_path) not in text


@pytest.mark.parametrize(
    "tamper",
    ["extra file", "fake manifest", "not json", "no marker", "file missing"],
)
def test_force_replaces_only_a_proven_output(tmp_path, tamper):
    out = write_output(tmp_path / "out", {"a.txt": "mine"})
    manifest = out / MANIFEST
    if tamper == "extra file":
        (out / "thesis.txt").write_text("years of work", encoding="utf-8")
    elif tamper == "fake manifest":
        manifest.write_text("{}", encoding="utf-8")
    elif tamper == "not json":
        manifest.write_text("{not json", encoding="utf-8")
    elif tamper == "no marker":
        data = json.loads(manifest.read_text(encoding="utf-8"))
        manifest.write_text(json.dumps({**data, "format": "x"}), encoding="utf-8")
    else:
        (out / "a.txt").unlink()
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(OutputError, match="not a linkaudit output directory"):
        write_output(out, {"b.txt": "new"}, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == before
    assert not hidden(tmp_path)


def test_force_replaces_a_proven_output_and_an_empty_directory_is_taken(tmp_path):
    out = write_output(tmp_path / "out", {"a.txt": "old"})
    with pytest.raises(OutputError, match="already exists"):
        write_output(out, {"b.txt": "new"})
    write_output(out, {"b.txt": "new"}, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["b.txt", MANIFEST]
    empty = tmp_path / "empty"
    empty.mkdir()
    write_output(empty, {"c.txt": "x"})  # no --force needed
    assert proven_output(empty)
    assert not hidden(tmp_path)


@pytest.mark.parametrize("where", ["is", "inside", "holds"])
def test_an_output_never_overlaps_an_input(tmp_path, where):
    run = write_output(tmp_path / "run", {"flags.txt": "1"})
    target = {"is": run, "inside": run / "audit", "holds": tmp_path}[where]
    with (
        pytest.raises(OutputError, match="input"),
        claim_output(target, overwrite=True, inputs=[run]),
    ):
        pass
    assert proven_output(run)


def test_the_current_directory_is_never_an_output(tmp_path, monkeypatch):
    out = write_output(tmp_path / "out", {"a.txt": "1"})
    monkeypatch.chdir(out)
    with pytest.raises(OutputError, match="current directory"):
        write_output(Path("."), {"b.txt": "2"}, overwrite=True)
    assert (out / "a.txt").exists()


def test_a_file_is_not_an_output(tmp_path):
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with (
        pytest.raises(OutputError, match="not a directory"),
        claim_output(tmp_path / "f", overwrite=True),
    ):
        pass


def test_a_second_writer_is_refused_at_once(tmp_path):
    """Two threads claim one target: the second fails while the first holds it."""
    target = tmp_path / "out"
    held, release = threading.Event(), threading.Event()

    def first() -> None:
        with atomic_directory(target) as tmp:
            (tmp / "a.txt").write_text("first", encoding="utf-8")
            held.set()
            release.wait(10)
            write_manifest(tmp, {})

    thread = threading.Thread(target=first)
    thread.start()
    assert held.wait(10)
    try:
        with pytest.raises(OutputError, match=f"pid {os.getpid()}.*is writing"):
            write_output(target, {"b.txt": "second"}, overwrite=True)
    finally:
        release.set()
        thread.join()
    assert (target / "a.txt").read_text(encoding="utf-8") == "first"
    write_output(target, {"b.txt": "second"}, overwrite=True)  # free again
    assert not hidden(tmp_path)


def test_the_target_is_never_missing_while_it_is_replaced(tmp_path):
    out = write_output(tmp_path / "out", {"a.txt": "0"})
    stop, missing = threading.Event(), []

    def watch() -> None:
        while not stop.is_set():
            if not (out / MANIFEST).exists():
                missing.append(1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for i in range(30):
            write_output(out, {"a.txt": str(i)}, overwrite=True)
    finally:
        stop.set()
        watcher.join()
    assert (out / "a.txt").read_text(encoding="utf-8") == "29"
    assert not missing


def test_exchange_swaps_two_directories(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a", encoding="utf-8")
    (b / "x").write_text("b", encoding="utf-8")
    if not exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) not available here")
    assert (a / "x").read_text(encoding="utf-8") == "b"
    assert (b / "x").read_text(encoding="utf-8") == "a"


def test_without_exchange_the_fallback_replaces_too(tmp_path, monkeypatch):
    monkeypatch.setattr(output_dirs, "exchange", lambda a, b: False)
    out = write_output(tmp_path / "out", {"a.txt": "old"})
    write_output(out, {"b.txt": "new"}, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["b.txt", MANIFEST]
    assert not hidden(tmp_path)


def test_a_full_disk_leaves_nothing_and_keeps_the_old_output(tmp_path, monkeypatch):
    out = write_output(tmp_path / "out", {"a.txt": "old"})

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "x")

    with (
        pytest.raises(OutputError, match="No space left on device.*free some space"),
        atomic_directory(out, overwrite=True) as tmp,
    ):
        monkeypatch.setattr(Path, "write_text", full)
        (tmp / "b.txt").write_text("new")
    monkeypatch.undo()
    assert (out / "a.txt").read_text(encoding="utf-8") == "old"
    assert proven_output(out)
    assert not hidden(tmp_path)


def _immutable(directory: Path) -> bool:
    """Make ``directory`` unwritable even for root (chattr +i), or by mode."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return True
    done = subprocess.run(["chattr", "+i", str(directory)], capture_output=True)
    return done.returncode == 0


def test_an_unwritable_location_is_refused_before_any_work(tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir()
    if not _immutable(locked):
        pytest.skip("cannot make a directory unwritable here (chattr +i refused)")
    try:
        with (
            pytest.raises(OutputError, match=r"ro: cannot .*; choose a location"),
            claim_output(locked / "out"),
        ):
            pytest.fail("the claim must fail before the work")
    finally:
        subprocess.run(["chattr", "-i", str(locked)], capture_output=True)
        locked.chmod(0o755)
    assert list(locked.iterdir()) == []


def test_leftovers_are_named_and_clean_removes_only_linkaudits(tmp_path):
    # What a SIGKILLed command leaves: a marked partial directory and a lock file.
    partial = output_dirs._make_partial(tmp_path, "out")
    (partial / "half.parquet").write_text("x", encoding="utf-8")
    (tmp_path / ".out.lock").write_text('{"pid": 1}', encoding="utf-8")
    mine = tmp_path / ".out.abc.partial"  # not linkaudit's: no marker
    mine.mkdir()
    (mine / "notes.txt").write_text("keep", encoding="utf-8")
    with pytest.warns(UserWarning, match=rf"{partial.name}.*linkaudit clean"):
        write_output(tmp_path / "out", {"a.txt": "1"})
    assert partial.exists()  # named, not removed behind the user's back
    (tmp_path / ".out.lock").write_text('{"pid": 1}', encoding="utf-8")
    assert clean(tmp_path) == [partial, tmp_path / ".out.lock"]
    assert hidden(tmp_path) == [mine.name]
    assert proven_output(tmp_path / "out")


def test_clean_skips_what_a_running_command_holds(tmp_path):
    with claim_output(tmp_path / "out") as claim:
        assert clean(tmp_path) == []
        assert (claim.partial / PARTIAL_MARKER).exists()


def test_verify_file_names_a_changed_or_unlisted_file(tmp_path):
    out = write_output(tmp_path / "out", {"a.txt": "1"})
    manifest = read_manifest(out)
    (out / "a.txt").write_text("2", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"a.txt: its content does not match"):
        verify_file(out, "a.txt", manifest)
    (out / "b.txt").write_text("2", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"b.txt: not listed"):
        verify_file(out, "b.txt", manifest)
