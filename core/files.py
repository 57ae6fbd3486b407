"""Writing files so that a crash, a kill or a full disk leaves the old file or the new one, never
a mixture, and nothing half-written in its place.

Every write goes to a temporary file beside its target, is flushed and fsynced, then renamed over
the target, and the folder is fsynced so that the rename itself survives a crash. A write that
fails (a full disk, a killed process) removes its temporary file and leaves the target as it was.
Temporary names are recognisable (``.NAME.tmp-PID-RANDOM``) so that ``remove_stale`` can clear
what a killed process left behind on the next run. This module must never leave a target
truncated: bytes are written with Python's own ``write``, which raises on a short write.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from core.errors import LongqaError

_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)-[0-9a-f]{8}$")


def temporary_name(target: Path) -> Path:
    """A fresh temporary path beside ``target`` that ``remove_stale`` recognises."""
    return target.with_name(f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def fsync_folder(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(target: Path, durable: bool = True) -> Iterator[Path]:
    """A temporary path to write ``target`` through (for libraries that write to a path).

    On success the file is fsynced and renamed over ``target``; on any error it is removed and
    ``target`` is left as it was. ``durable=False`` skips the fsyncs, for caches whose reader
    checks what it loads: there a power cut that damages the new file costs a recomputation, while
    an fsync of a large file would cost its writer's time on every write.
    """
    tmp = temporary_name(target)
    try:
        yield tmp
        if durable:
            fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    if durable:
        fsync_folder(target.parent)


def atomic_write(target: Path, data: bytes | str) -> None:
    """Replace ``target`` with ``data`` (text is written as UTF-8), durably and all at once."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(target) as tmp, tmp.open("wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """A temporary folder to fill, then swapped in place of ``target`` (a crash leaves one of the
    two whole, never a mixture: the old one is moved aside before the new one takes its name)."""
    tmp = temporary_name(target)
    try:
        yield tmp
        for path in tmp.rglob("*"):
            if path.is_file():
                fsync_file(path)
        fsync_folder(tmp)
        aside = temporary_name(target)
        if target.exists():
            os.rename(target, aside)
        os.rename(tmp, target)
        fsync_folder(target.parent)
        _remove(aside)
    except BaseException:
        _remove(tmp)
        raise


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` (a temporary's writer, named in its file name) may still be running."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(folder: Path, legacy: re.Pattern[str] | None = None) -> list[Path]:
    """Remove the temporary files and folders in ``folder`` whose writing process is gone.

    ``legacy`` also matches the temporary names a folder's writers used before this module: a name
    with a ``pid`` group goes once that process is gone, one without goes at once (so pass such a
    pattern only while holding the folder's writer lock).
    """
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for path in entries:
        match = _TEMPORARY.match(path.name) or (legacy.match(path.name) if legacy else None)
        if match is None:
            continue
        pid = match.groupdict().get("pid")
        if pid is None or not process_alive(int(pid)):
            _remove(path)
            removed.append(path)
    return removed


def sha256_bytes(data: bytes) -> str:
    """A document's id: the sha256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """sha256 of a file read in blocks (for files too large to hold in memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def read_text(path: Path, what: str) -> str:
    """A UTF-8 text file the user named (a byte-order mark allowed); one line naming it and why,
    as a LongqaError, when it is missing, a folder, unreadable or not UTF-8."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise LongqaError(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise LongqaError(f"{path}: is a folder, not a {what} file") from None
    except OSError as exc:
        raise LongqaError(f"{path}: cannot read the {what} file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise LongqaError(
            f"{path}: the {what} file is not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x})"
        ) from None
