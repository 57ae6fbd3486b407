"""Writing to a Milvus index: one ingest is one generation, committed by writing its state.

1. Leftovers go first: rows of a generation newer than the state (an ingest interrupted before
   its commit), and rows of versions the state removed that are still there (one interrupted
   after its commit, before its cleanup).
2. The ingest's rows are inserted under generation G+1, which readers (who see generations up
   to G) do not see. A changed file's new version is new rows; its old version, and the
   versions of files that are gone, are only noted.
3. The commit: the rows are flushed (in a Lite file: sealed, indexed), then state G+1 is written,
   naming the removed versions; from then on readers see G+1 less those versions.
4. The cleanup: the removed versions' rows and the older states are deleted, and the state is
   written again without the list. A failure here only warns: the index is committed, and the
   next write cleans up.

An error or an interruption before the commit leaves the previous generation as it was: none of
its rows is touched before then. A generation field, not an alias swap: an alias swap rebuilds
the whole collection on every ingest (a changed file at a million chunks would copy them all),
and Milvus Lite 2.5 has no aliases.

One ingest writes to an index at a time in this process (a Lite file is one process's anyway).
Across machines a server's collection is not locked: a commit that finds another ingest's
state committed meanwhile is refused rather than mixed in; run one ingest at a time per
collection.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from retrieval.manifest import IndexBusy, IndexConfig, StoreError
from retrieval.milvus import records
from retrieval.milvus.records import State
from retrieval.writer import DocumentNotStored, NewDocument

if TYPE_CHECKING:
    from retrieval.milvus.store import MilvusIndex

CHUNK_BATCH = 512
DOCUMENT_BATCH = 64  # pieces of up to 60 kB each
IN_LIST = 1000  # versions per delete expression

NOT_CLEANED = (
    "the index is saved; the rows it replaced could not be removed yet ({reason}): "
    "the next ingest removes them"
)

_writing: dict[str, threading.Lock] = {}
_writing_lock = threading.Lock()


class MilvusWriter:
    """Adds and removes documents inside one generation (``Writer``'s interface)."""

    def __init__(self, index: MilvusIndex, state: State, dimension: int) -> None:
        self._index = index
        self._dimension = dimension
        self.generation = state.generation + 1
        self.next_id = state.next_id
        self.dead: list[int] = []
        self._live = {d.path: d.row for d in index.documents()}  # path -> its version
        self._rows = records.Rows()
        self.added = 0
        self.removed = 0
        self.warnings: list[str] = []

    def remove(self, path: str) -> None:
        version = self._live.pop(path, None)
        if version is not None:
            self.dead.append(version)
            self.removed += 1

    def add(self, item: NewDocument) -> None:
        """Write a document and its chunks, replacing any document at the same path;
        DocumentNotStored (and the older version removed) when Milvus could not hold it."""
        path = item.document.path
        try:
            shape = np.asarray(item.embeddings).shape
            if item.chunks and (len(shape) != 2 or shape[1] != self._dimension):
                raise DocumentNotStored(path, f"could not be stored: embeddings of shape {shape}")
            rows, next_id = records.document_rows(item, self.generation, self.next_id)
        except DocumentNotStored:
            self.remove(path)
            raise
        old = self._live.pop(path, None)
        if old is not None:
            self.dead.append(old)
        self._live[path] = self.next_id
        self.next_id = next_id
        self._rows.chunks += rows.chunks
        self._rows.documents += rows.documents
        self.added += 1
        if len(self._rows.chunks) >= CHUNK_BATCH or len(self._rows.documents) >= DOCUMENT_BATCH:
            self.flush()

    def flush(self) -> None:
        """Insert the rows gathered so far."""
        location, client = self._index.location, self._index.client
        rows, self._rows = self._rows, records.Rows()
        for name, batch, size in (
            (location.name, rows.chunks, CHUNK_BATCH),
            (location.documents, rows.documents, DOCUMENT_BATCH),
        ):
            for start in range(0, len(batch), size):
                part = batch[start : start + size]
                _write(self._index, "write rows", lambda name=name, part=part: client.insert(name, part))


def _write(index: MilvusIndex, doing: str, action) -> object:
    try:
        return index._call(doing, action)
    except StoreError as exc:
        raise StoreError(f"{exc}; the index is left as it was") from exc


@contextmanager
def write(index: MilvusIndex, config: IndexConfig | None = None) -> Iterator[MilvusWriter]:
    """One ingest's changes: invisible until the block ends, then committed all at once."""
    spec = index.location.spec
    if not index.writable:
        raise StoreError(f"{spec}: the index was opened for reading only")
    with _writing_lock:
        lock = _writing.setdefault(spec, threading.Lock())
    if not lock.acquire(blocking=False):
        raise IndexBusy(f"{spec}: another ingest is writing to this index")
    try:
        state = clean(index, index.state(fresh=True))
        writer = MilvusWriter(index, state, (config or index.config).dimension)
        committed = False
        try:
            yield writer
            if not (writer.added or writer.removed) and config in (None, index.config):
                return
            writer.flush()
            committed = _commit(index, state, writer, config or index.config)
        except BaseException:
            if not committed:
                _discard(index, state.generation)
            raise
        finally:
            index.forget_state()
        if config is not None:
            index.config = config
        try:
            clean(index, index.state(fresh=True))
        except StoreError as exc:
            writer.warnings.append(NOT_CLEANED.format(reason=str(exc).split(": ", 1)[-1]))
    finally:
        lock.release()


def _flush(index: MilvusIndex, name: str) -> None:
    """Seal what was inserted into ``name``, in a Lite file, so that the rows are in segments
    (indexed, written out) before a state names them. Not on a server: there an insert is
    durable once acknowledged (its log), segments are sealed by the server itself, and flushes
    are rate-limited per collection (``quotaAndLimits.flushRate``)."""
    if index.location.lite:
        index._call("flush its rows", lambda: index.client.flush(name))


def _commit(index: MilvusIndex, state: State, writer: MilvusWriter, config: IndexConfig) -> bool:
    location, client = index.location, index.client
    for name in (location.name, location.documents):
        _write(index, "flush its rows", lambda name=name: _flush(index, name))
    if index.state(fresh=True).generation != state.generation:
        raise StoreError(
            f"{location.spec}: another ingest committed to this index meanwhile; this one is "
            "dropped, the index is as that one left it: run this ingest again"
        )
    settings = records.settings_of(config)
    new = State(writer.generation, 0, writer.next_id, settings, tuple(writer.dead))
    _write(index, "commit", lambda: client.insert(location.documents, records.state_rows(new)))
    _flush(index, location.documents)
    return True


def _delete(index: MilvusIndex, name: str, where: str) -> None:
    index._call("remove rows", lambda: index.client.delete(name, filter=where))


def _discard(index: MilvusIndex, generation: int) -> None:
    """Drop an uncommitted generation's rows (best effort: the next write drops them too)."""
    try:
        _delete(index, index.location.name, f"gen > {generation}")
        _delete(index, index.location.documents, f"gen > {generation}")
    except StoreError:
        pass


def clean(index: MilvusIndex, state: State) -> State:
    """Remove what an interrupted write left and what ``state`` removed; the state, cleaned."""
    location = index.location
    _delete(index, location.name, f"gen > {state.generation}")
    _delete(index, location.documents, f"gen > {state.generation}")
    dead = list(state.dead)
    for start in range(0, len(dead), IN_LIST):
        versions = ",".join(map(str, dead[start : start + IN_LIST]))
        _delete(index, location.name, f"version in [{versions}]")
        _delete(index, location.documents, f'kind == "{records.DOCUMENT}" and version in [{versions}]')
    if dead:
        cleaned = State(state.generation, state.revision + 1, state.next_id, state.settings)
        index._call(
            "write its state", lambda: index.client.insert(location.documents, records.state_rows(cleaned))
        )
        _flush(index, location.documents)
        state = cleaned
    older = f"gen < {state.generation} or (gen == {state.generation} and version < {state.revision})"
    _delete(index, location.documents, f'kind == "{records.MANIFEST}" and ({older})')
    index.forget_state()
    return state
