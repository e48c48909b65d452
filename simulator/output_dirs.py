"""Output directories that lose nothing: claimed, locked, replaced atomically.

Every linkaudit output is a directory written by one command at a time:

- :func:`claim_output` checks the target before any work (it must be new, an empty
  directory, or, with ``overwrite``, a directory whose manifest proves linkaudit wrote
  it; never one of the command's inputs, nor inside one, nor holding one), takes a
  lock beside it (``.NAME.lock``, ``fcntl.flock``: released by the kernel when the
  process dies, so a killed run leaves no stale lock) and creates the temporary
  sibling ``.NAME.XXXX.partial`` the output is written into: that creation is the
  writability check.
- :func:`atomic_directory` yields the partial directory and, on success, puts it in
  place: a rename when the target is new or empty, otherwise an atomic exchange
  (``renameat2(RENAME_EXCHANGE)`` on Linux) so the target is never missing. Where the
  exchange is unavailable the old directory is first renamed aside (``.NAME.XXXX.old``)
  and removed after: a kill between the two renames leaves the complete old output
  there, named by the next command. On any failure the partial directory is removed.
- The caller writes ``manifest.json`` last (:func:`simulator.io.write_manifest`);
  :func:`simulator.io.proven_output` is the proof ``--force`` asks for.
- :func:`leftovers` names what a killed command left beside a target (SIGKILL cannot
  be handled) and :func:`clean` removes only what a marker proves linkaudit made.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from simulator.errors import OutputError
from simulator.io import FORMAT, MANIFEST, PARTIAL_MARKER, proven_output

PARTIAL_SUFFIX = ".partial"
OLD_SUFFIX = ".old"
LOCK_SUFFIX = ".lock"
LOCK_FORMAT = "linkaudit-lock"

removed_partials: list[Path] = []
"""Partial directories removed after a failure or interrupt, for the command's
message (the command line names them)."""


# ------------------------------------------------------------------------ checks


def _inside(path: Path, other: Path) -> bool:
    return path == other or other in path.parents


def _check_target(
    target: Path, resolved: Path, overwrite: bool, inputs: Iterable[Path]
) -> None:
    """Refuse a target that would lose or mix anything, before any work starts."""
    if target.is_symlink():
        raise OutputError(
            f"{target}: is a symbolic link; give the directory it points to, or "
            "another name"
        )
    if _inside(Path.cwd().resolve(), resolved):
        raise OutputError(
            f"{target}: is the current directory or holds it; give a new directory "
            "name, e.g. -o out/run"
        )
    for given in inputs:
        source = Path(given).resolve()
        if _inside(resolved, source) or _inside(source, resolved):
            raise OutputError(
                f"{target}: is, holds or is inside the input {given}; write the "
                "output somewhere else"
            )
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputError(
            f"{target}: exists and is not a directory; choose another output name"
        )
    if not any(target.iterdir()):
        return  # an empty directory is taken as it is
    if not overwrite:
        raise OutputError(
            f"{target}: already exists; choose another directory or pass --force"
        )
    if not proven_output(target):
        raise OutputError(
            f"{target}: not a linkaudit output directory (no {MANIFEST} with the "
            "linkaudit format marker listing exactly its files); --force only "
            "replaces linkaudit's own outputs, so choose another directory"
        )


def _oserror(e: OSError, path: Path, doing: str) -> OutputError:
    """An OSError as one line naming the path and what to do."""
    hint = {
        errno.ENOSPC: "free some space or choose another location",
        errno.EDQUOT: "free some space or choose another location",
        errno.EROFS: "the file system is read-only: choose another location",
        errno.EACCES: "choose a location you can write to",
        errno.EPERM: "choose a location you can write to",
    }.get(e.errno or 0, "check the location")
    reason = e.strerror or str(e)
    return OutputError(f"{path}: cannot {doing} ({reason}); {hint}")


# ---------------------------------------------------------------- claims, locks


@dataclass
class Claim:
    """One command's hold on an output target: its lock and partial directory."""

    target: Path
    resolved: Path
    overwrite: bool
    lock_fd: int
    lock_path: Path
    partial: Path
    used: bool = False
    leftovers: list[Path] = field(default_factory=list)


_HELD = threading.local()
"""Claims held by this thread (``claims``: by resolved target); another thread of the
process claims for itself, so it too meets the lock."""


def _claims() -> dict[Path, Claim]:
    if not hasattr(_HELD, "claims"):
        _HELD.claims = {}
    return _HELD.claims


def _lock(lock_path: Path, target: Path) -> int:
    """Take the exclusive lock of ``target``; fail at once if another holds it.

    The lock is ``flock`` on ``lock_path``; after locking, the path is checked to
    still be the file locked (a releasing command unlinks it), else it retries.
    """
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise _oserror(e, lock_path.parent, "write the output beside it") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace")
            os.close(fd)
            pid = _lock_pid(holder)
            raise OutputError(
                f"{target}: another linkaudit command{f' (pid {pid})' if pid else ''} "
                "is writing this output; wait for it to finish or choose another "
                "directory"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock_path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            text = json.dumps({"format": LOCK_FORMAT, "pid": os.getpid()})
            os.ftruncate(fd, 0)
            os.pwrite(fd, text.encode(), 0)
            return fd
        os.close(fd)


def _lock_pid(text: str) -> int | None:
    try:
        return int(json.loads(text)["pid"])
    except (ValueError, KeyError, TypeError):
        return None


def _make_partial(parent: Path, name: str) -> Path:
    """The temporary sibling the output is written into, marked as linkaudit's."""
    return _marked_sibling(parent, name, PARTIAL_SUFFIX)


def _marked_sibling(parent: Path, name: str, suffix: str) -> Path:
    """A new hidden directory ``.NAME.XXXX<suffix>`` holding the partial marker."""
    path = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=suffix, dir=parent))
    (path / PARTIAL_MARKER).write_text(
        json.dumps({"format": FORMAT, "of": name}) + "\n", encoding="utf-8"
    )
    return path


@contextlib.contextmanager
def claim_output(
    target: str | Path, *, overwrite: bool = False, inputs: Iterable[str | Path] = ()
) -> Iterator[Claim]:
    """Hold ``target`` for this command: checked, locked, partial directory made.

    Enter it before the work, so a bad or busy output is refused at once; writers
    (:func:`atomic_directory`) inside it use the claim. On leaving, an unused
    partial directory is removed and the lock released.

    Parameters
    ----------
    target : str or Path
        The output directory.
    overwrite : bool
        Replace an existing linkaudit output (``--force``).
    inputs : iterable of str or Path
        Files and directories the command reads; the output may not be, hold or be
        inside any of them.

    Raises
    ------
    OutputError
        One line naming the path and what to do.
    """
    target = Path(target)
    resolved = target.resolve()
    _check_target(target, resolved, overwrite, [Path(p) for p in inputs])
    parent = resolved.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _oserror(e, target.parent, "create the directory") from e
    lock_path = parent / f".{resolved.name}{LOCK_SUFFIX}"
    fd = _lock(lock_path, target)
    try:
        found = leftovers(target)
        if found:
            warnings.warn(
                f"{target}: found what an interrupted linkaudit command left beside "
                f"it: {', '.join(p.name for p in found)}; remove it with `linkaudit "
                f"clean {target.parent}`",
                stacklevel=3,
            )
        try:
            partial = _make_partial(target.parent, resolved.name)
        except OSError as e:
            raise _oserror(e, target, "write the output") from e
        claim = Claim(target, resolved, overwrite, fd, lock_path, partial, False, found)
        _claims()[resolved] = claim
        try:
            yield claim
        finally:
            del _claims()[resolved]
            if partial.exists():
                shutil.rmtree(partial, ignore_errors=True)
                if not claim.used:
                    removed_partials.append(partial)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock_path)
        os.close(fd)


# ------------------------------------------------------------- putting in place


RENAME_EXCHANGE = 2
AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False where the system or file system cannot (the caller falls back).
    """
    func = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if func is None:
        return False
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    func.argtypes += [ctypes.c_uint]
    if func(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _put_in_place(claim: Claim) -> None:
    """Move the finished partial directory to the target, never losing either."""
    target, partial = claim.resolved, claim.partial
    if target.is_dir() and any(target.iterdir()):
        # Checked again: the directory may have changed while the work ran.
        _check_target(claim.target, target, claim.overwrite, ())
        if exchange(partial, target):
            shutil.rmtree(partial)  # now the old output
            return
        old = _marked_sibling(target.parent, target.name, OLD_SUFFIX)
        os.rename(target, old / "output")
        os.rename(partial, target)
        shutil.rmtree(old)
        return
    os.rename(partial, target)  # new, or replacing an empty directory atomically


@contextlib.contextmanager
def atomic_directory(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling directory that replaces ``target`` on success.

    Uses the command's claim on ``target`` (:func:`claim_output`) if it holds one,
    else claims it now. On any exception the temporary directory is removed and
    ``target`` is untouched; OS errors (disk full, read-only) become one
    :class:`~simulator.errors.OutputError` line. With ``overwrite``, only an empty
    directory or a proven linkaudit output is replaced, never any other directory.
    The caller writes the manifest last (:func:`write_manifest`).
    """
    claim = _claims().get(Path(target).resolve())
    if claim is None:
        with (
            claim_output(target, overwrite=overwrite),
            atomic_directory(target, overwrite) as tmp,
        ):
            yield tmp
        return
    if claim.used:
        raise OutputError(f"{target}: written twice by one command (a bug)")
    claim.used = True
    try:
        yield claim.partial
        with contextlib.suppress(FileNotFoundError):
            (claim.partial / PARTIAL_MARKER).unlink()
        _put_in_place(claim)
    except BaseException as e:
        if claim.partial.exists():
            shutil.rmtree(claim.partial, ignore_errors=True)
            removed_partials.append(claim.partial)
        if isinstance(e, OSError) and not isinstance(e, OutputError):
            raise _oserror(e, Path(target), "write the output") from e
        raise


# --------------------------------------------------------------------- leftovers


def _leftover_names(name: str) -> tuple[str, ...]:
    return (f".{name}.*{PARTIAL_SUFFIX}", f".{name}.*{OLD_SUFFIX}")


def _made_by_linkaudit(path: Path) -> bool:
    """A partial or set-aside directory whose marker proves linkaudit made it."""
    if not path.is_dir() or path.is_symlink():
        return False
    marker = path / PARTIAL_MARKER
    if marker.is_file():
        try:
            return (
                json.loads(marker.read_text(encoding="utf-8")).get("format") == FORMAT
            )
        except (OSError, ValueError, AttributeError):
            return False
    return proven_output(path)  # an old output swapped out, not yet removed


def leftovers(target: str | Path) -> list[Path]:
    """Directories a killed linkaudit command left beside ``target``.

    Only meaningful while holding the target's lock: then no live command is
    writing them.
    """
    target = Path(target).resolve()
    found: list[Path] = []
    for pattern in _leftover_names(target.name):
        found += [p for p in target.parent.glob(pattern) if _made_by_linkaudit(p)]
    return sorted(found)


def clean(directory: str | Path) -> list[Path]:
    """Remove what killed linkaudit commands left in ``directory``.

    Removes hidden ``.NAME.XXXX.partial`` and ``.NAME.XXXX.old`` directories whose
    marker proves linkaudit made them, and lock files no live command holds. Nothing
    else is touched; a target another command is writing is skipped.

    Returns
    -------
    list of Path
        What was removed.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise OutputError(f"{directory}: not a directory; give the directory to clean")
    removed = []
    candidates = sorted(directory.glob(f".*{PARTIAL_SUFFIX}"))
    candidates += sorted(directory.glob(f".*{OLD_SUFFIX}"))
    for path in candidates:
        name = path.name[1:].rsplit(".", 2)[0]
        if not _made_by_linkaudit(path) or not _free(
            directory / f".{name}{LOCK_SUFFIX}"
        ):
            continue
        shutil.rmtree(path)
        removed.append(path)
    for lock in sorted(directory.glob(f".*{LOCK_SUFFIX}")):
        if _lock_pid(_read_small(lock)) is not None and _free(lock, remove=True):
            removed.append(lock)
    return removed


def _read_small(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[:200]
    except OSError:
        return ""


def _free(lock_path: Path, *, remove: bool = False) -> bool:
    """Whether no live command holds ``lock_path`` (removing it if asked)."""
    if not lock_path.exists():
        return True
    try:
        fd = os.open(lock_path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    if remove:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock_path)
    os.close(fd)
    return True
