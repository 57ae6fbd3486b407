"""Prefix states on disk: what llama.cpp computed for a long, question-independent prompt prefix
(a whole document for full_context, one segment for a Chain-of-Agents worker), kept so that a
later call with the same prefix loads it and evaluates only the rest (DESIGN.md §4, §6).

Each entry is a llama.cpp session file, written and read by llama.cpp itself
(``llama_state_save_file`` / ``llama_state_load_file``, as bound by llama-cpp-python): the exact
prefix tokens and the KV cache they produced. Entries are keyed by the model file's sha256, the
context settings that shape the KV cache, and the exact prefix tokens, so a changed document,
model or setting can never load a wrong state. A sidecar names the collection the prefix came
from, so an entry of an older generation of that collection is removed when a newer one is
stored (the collection changed).

The folder is bounded: past ``max_bytes`` the least recently used entries go first (a hit
refreshes an entry's time). Several processes (the CLI, the UI) may share it: entries are written
under a temporary name and renamed into place, eviction runs under a file lock, and a reader whose
entry vanishes or does not load (truncated, corrupt, from another model or llama.cpp build)
recomputes the prefix: the cache is an optimisation only and never an error. An entry counts as
stored only when its header is llama.cpp's session header and its size the one its sidecar
recorded, so a damaged entry is read again by ``longqa warm`` and never counted as cached.

It must never fail a question or a warm: a folder that cannot be written (read-only, full) stores
nothing and says why in one warning line; files it did not write (other names, folders, links,
pipes, foreign JSON) are left alone and never read past a regular file's check.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import json
import logging
import os
import shutil
import stat
import struct
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import reason_of
from core.files import atomic_path, atomic_write, remove_stale, temporary_name

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 8 * 1024**3
_SUFFIX = ".state"
_HEADER = struct.Struct("<III")  # a llama.cpp session file opens with magic, version, token count
_PROBE_BYTES = 1 << 16  # what ``unwritable`` writes to learn whether a state could be


@dataclass(frozen=True)
class CacheStats:
    entries: int
    bytes: int


@dataclass
class Lookup:
    """What one call found: how many prompt tokens came from where, and the seconds each took."""

    prefix_tokens: int = 0
    memory_tokens: int = 0  # already in the model's KV cache (the previous call shared them)
    loaded_tokens: int = 0  # loaded from disk
    computed_tokens: int = 0  # prefilled now (and stored)
    load_seconds: float = 0.0
    store_seconds: float = 0.0
    stored_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(self).items()}


class PrefixCache:
    """llama.cpp session files under ``folder``, least recently used evicted past ``max_bytes``."""

    def __init__(self, folder: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes

    # ----------------------------------------------------------------- keys
    @staticmethod
    def key(model_sha256: str, settings: str, tokens: Sequence[int]) -> str:
        """The entry name for a prefix: model, context settings and the exact tokens."""
        digest = hashlib.sha256(f"{model_sha256}|{settings}|".encode())
        digest.update(_token_array(tokens))
        return digest.hexdigest()[:40]

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}{_SUFFIX}"

    def has(self, key: str) -> bool:
        """Whether an intact entry is stored for ``key`` (llama.cpp's header, the recorded size)."""
        return self.size(key) > 0

    def size(self, key: str) -> int:
        """Bytes of the intact entry (0 when there is none, or it is damaged or foreign)."""
        path = self._path(key)
        size = _regular_size(path)
        if size < _HEADER.size:
            return 0
        import llama_cpp

        try:
            with path.open("rb") as handle:
                magic, version, _ = _HEADER.unpack(handle.read(_HEADER.size))
        except (OSError, struct.error):
            return 0
        if (magic, version) != (llama_cpp.LLAMA_SESSION_MAGIC, llama_cpp.LLAMA_SESSION_VERSION):
            return 0
        recorded = _read_sidecar(path.with_suffix(".json")).get("bytes")
        return size if recorded in (None, size) else 0

    # ----------------------------------------------------------------- loading
    def load(self, ctx: Any, key: str, tokens: Sequence[int]) -> bool:
        """Load the entry into the llama.cpp context ``ctx``; False (and the entry removed when it
        is damaged) if it is missing or does not hold exactly ``tokens``."""
        path = self._path(key)
        if _regular_size(path) < 0:
            return False
        if not self.has(key):
            return self._damaged(path)
        import llama_cpp

        capacity = len(tokens) + 1
        out = (llama_cpp.llama_token * capacity)()
        count = ctypes.c_size_t(0)
        try:
            ok = llama_cpp.llama_state_load_file(ctx, str(path).encode(), out, capacity, ctypes.byref(count))
        except OSError as exc:  # vanished between the check and the read (evicted by another process)
            log.info("prefix state %s unreadable (%s); recomputing", path.name, exc)
            return False
        if not ok or count.value != len(tokens) or list(out[: count.value]) != list(tokens):
            return self._damaged(path)
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently used goes first: a hit is a use
        return True

    @staticmethod
    def _damaged(path: Path) -> bool:
        log.warning("prefix state %s is damaged or does not match; recomputing it", path.name)
        with contextlib.suppress(OSError):  # a read-only folder keeps it: it is checked each time
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)
        return False

    # ----------------------------------------------------------------- storing
    def store(self, ctx: Any, key: str, tokens: Sequence[int], tag: str | None = None) -> int:
        """Write the context's state (which must hold exactly ``tokens``) as the entry ``key``;
        the bytes stored (0 when it could not be written: a full disk is not an error here)."""
        import llama_cpp

        array = (llama_cpp.llama_token * len(tokens))(*tokens)
        expected = _HEADER.size + 4 * len(tokens) + llama_cpp.llama_state_get_size(ctx)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # llama.cpp writes the file itself, so it is given a temporary path. Not fsynced: a
            # store happens while a user waits for an answer, and a damaged entry is recomputed.
            with atomic_path(self._path(key), durable=False) as tmp:
                saved = llama_cpp.llama_state_save_file(ctx, str(tmp).encode(), array, len(tokens))
                if not saved or _regular_size(tmp) != expected:  # llama.cpp may not see a short write
                    raise OSError(self._why_not_written(expected))
        except OSError as exc:
            log.warning(
                "could not store a prefix state in %s (%s); it is read again when next needed",
                self.folder,
                reason_of(exc),
            )
            return 0
        try:
            self._describe(key, expected, tag)
        except OSError as exc:  # the entry is whole; only its size check and collection are lost
            log.info("could not describe prefix state %s: %s", key, exc)
        self.evict()
        return expected

    def unwritable(self) -> str | None:
        """Why no state can be stored in the folder now (read-only, full, not a folder); None
        when one can."""
        probe = temporary_name(self.folder / ".probe")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with probe.open("wb") as handle:
                handle.write(b"\0" * _PROBE_BYTES)
                handle.flush()
        except OSError as exc:
            return reason_of(exc)
        finally:
            with contextlib.suppress(OSError):
                probe.unlink(missing_ok=True)
        return None

    def _why_not_written(self, needed: int) -> str:
        """The reason llama.cpp (which says only no) could not write a state of ``needed`` bytes."""
        with contextlib.suppress(OSError):
            free = shutil.disk_usage(self.folder).free
            if free < needed:
                return f"No space left on device: {free / 1e6:,.1f} MB free, {needed / 1e6:,.1f} MB needed"
        return self.unwritable() or "llama.cpp could not write the state"

    def _describe(self, key: str, size: int, tag: str | None) -> None:
        """The sidecar of a stored entry: its size (what ``has`` checks) and, with a ``tag``, the
        collection (``folder@generation``) it came from; entries of older generations of that
        collection are dropped now."""
        info: dict[str, Any] = {"bytes": size, "stored": time.time()}
        if tag is not None:
            collection, _, generation = tag.rpartition("@")
            for sidecar, other in self._sidecars():
                older = other.get("collection") == collection and other.get("generation") != generation
                if older and sidecar.stem != key:  # the same tokens again are this very entry
                    self._remove(sidecar.stem)
            info |= {"collection": collection, "generation": generation}
        atomic_write(self.folder / f"{key}.json", json.dumps(info))

    def _sidecars(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        """Every sidecar in the folder with what it says (files of other shapes are skipped)."""
        for sidecar in self.folder.glob("*.json"):
            info = _read_sidecar(sidecar)
            if info:
                yield sidecar, info

    def _remove(self, key: str) -> None:
        with contextlib.suppress(OSError):
            self._path(key).unlink(missing_ok=True)
            (self.folder / f"{key}.json").unlink(missing_ok=True)

    def invalidate(self, collection: str) -> int:
        """Remove every entry that came from ``collection``; how many."""
        removed = 0
        for sidecar, other in self._sidecars():
            if other.get("collection") == collection:
                self._remove(sidecar.stem)
                removed += 1
        return removed

    # ----------------------------------------------------------------- size
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle = (self.folder / ".lock").open("a")
        except OSError as exc:  # no lock to take (a read-only folder, junk in its place): go on
            log.info("prefix cache %s: no lock (%s)", self.folder, exc)
            yield
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _entries(self) -> list[tuple[float, int, Path]]:
        """(mtime, size, path) of every entry: regular files only, never folders or links."""
        entries = []
        for path in self.folder.glob(f"*{_SUFFIX}"):
            try:
                info = path.lstat()
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                entries.append((info.st_mtime, info.st_size, path))
        return entries

    def evict(self) -> int:
        """Remove least recently used entries until the folder is within ``max_bytes``; how many."""
        removed = 0
        with self._locked():
            remove_stale(self.folder)
            entries = self._entries()
            total = sum(size for _, size, _ in entries)
            for _, size, path in sorted(entries):
                if total <= self.max_bytes:
                    break
                self._remove(path.stem)
                total -= size
                removed += 1
        return removed

    def stats(self) -> CacheStats:
        sizes = [size for _, size, _ in self._entries()]
        return CacheStats(len(sizes), sum(sizes))


def _regular_size(path: Path) -> int:
    """The size of ``path`` if it is a regular file (not a link, folder or pipe), else -1."""
    try:
        info = path.lstat()
    except OSError:
        return -1
    return info.st_size if stat.S_ISREG(info.st_mode) else -1


def _read_sidecar(path: Path) -> dict[str, Any]:
    """What a sidecar says; {} for none, or for anything that is not a small JSON object file."""
    if not 0 <= _regular_size(path) <= 1 << 16:  # never opens a pipe, a folder or a huge file
        return {}
    try:
        info = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _token_array(tokens: Sequence[int]) -> bytes:
    import array

    return array.array("i", tokens).tobytes()
