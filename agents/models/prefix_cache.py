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
entry vanishes or does not load (truncated, corrupt, from another llama.cpp build) recomputes the
prefix: the cache is an optimisation only and never an error.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.files import atomic_path, atomic_write, remove_stale

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 8 * 1024**3
_SUFFIX = ".state"


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
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        """Bytes of the entry (0 when there is none)."""
        try:
            return self._path(key).stat().st_size
        except OSError:
            return 0

    # ----------------------------------------------------------------- loading
    def load(self, ctx: Any, key: str, tokens: Sequence[int]) -> bool:
        """Load the entry into the llama.cpp context ``ctx``; False (and the entry removed when it
        is damaged) if it is missing or does not hold exactly ``tokens``."""
        path = self._path(key)
        if not path.is_file():
            return False
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
            log.warning("prefix state %s is damaged or does not match; recomputing it", path.name)
            path.unlink(missing_ok=True)
            return False
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently used goes first: a hit is a use
        return True

    # ----------------------------------------------------------------- storing
    def store(self, ctx: Any, key: str, tokens: Sequence[int], tag: str | None = None) -> int:
        """Write the context's state (which must hold exactly ``tokens``) as the entry ``key``;
        the bytes stored (0 when it could not be written: a full disk is not an error here)."""
        import llama_cpp

        self.folder.mkdir(parents=True, exist_ok=True)
        array = (llama_cpp.llama_token * len(tokens))(*tokens)
        try:
            # llama.cpp writes the file itself, so it is given a temporary path. Not fsynced: a
            # store happens while a user waits for an answer, and a damaged entry is recomputed.
            with atomic_path(self._path(key), durable=False) as tmp:
                if not llama_cpp.llama_state_save_file(ctx, str(tmp).encode(), array, len(tokens)):
                    raise OSError("llama.cpp could not write the state")
                size = tmp.stat().st_size
            if tag is not None:
                self._tag(key, tag)
        except OSError as exc:
            log.warning("could not store a prefix state in %s: %s", self.folder, exc)
            return 0
        self.evict()
        return size

    def _tag(self, key: str, tag: str) -> None:
        """Remember the collection (``folder@generation``) a prefix came from; entries of older
        generations of that collection are dropped now."""
        collection, _, generation = tag.rpartition("@")
        for sidecar in self.folder.glob("*.json"):
            try:
                other = json.loads(sidecar.read_text())
            except (OSError, ValueError):
                continue
            if other.get("collection") == collection and other.get("generation") != generation:
                self._path(sidecar.stem).unlink(missing_ok=True)
                sidecar.unlink(missing_ok=True)
        info = {"collection": collection, "generation": generation, "stored": time.time()}
        atomic_write(self.folder / f"{key}.json", json.dumps(info))

    def invalidate(self, collection: str) -> int:
        """Remove every entry that came from ``collection``; how many."""
        removed = 0
        for sidecar in self.folder.glob("*.json"):
            try:
                other = json.loads(sidecar.read_text())
            except (OSError, ValueError):
                continue
            if other.get("collection") == collection:
                self._path(sidecar.stem).unlink(missing_ok=True)
                sidecar.unlink(missing_ok=True)
                removed += 1
        return removed

    # ----------------------------------------------------------------- size
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def evict(self) -> int:
        """Remove least recently used entries until the folder is within ``max_bytes``; how many."""
        removed = 0
        with self._locked():
            remove_stale(self.folder)
            entries = []
            for path in self.folder.glob(f"*{_SUFFIX}"):
                try:
                    stat = path.stat()
                except OSError:
                    continue
                entries.append((stat.st_mtime, stat.st_size, path))
            total = sum(size for _, size, _ in entries)
            for _, size, path in sorted(entries):
                if total <= self.max_bytes:
                    break
                path.unlink(missing_ok=True)
                path.with_suffix(".json").unlink(missing_ok=True)
                total -= size
                removed += 1
        return removed

    def stats(self) -> CacheStats:
        sizes = [p.stat().st_size for p in self.folder.glob(f"*{_SUFFIX}") if p.is_file()]
        return CacheStats(len(sizes), sum(sizes))


def _token_array(tokens: Sequence[int]) -> bytes:
    import array

    return array.array("i", tokens).tobytes()
