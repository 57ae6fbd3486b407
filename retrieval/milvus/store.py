"""An index held by Milvus (a Lite file or a server's collection): the folder store's interface
(``retrieval.store.Index``) over two collections, so that search, strategies and the UI use
either without knowing which.

Milvus is the source of truth here, documents included: a cluster's readers on other machines
have no SQLite of this machine's, and one engine holding everything has no second store to
fall out of step with. Dense search is Milvus's on the stored vectors; keyword search is its
BM25 function over longqa's own terms; ``HybridSearcher`` fuses the two lists as for the folder
store (measured against Milvus's RRF ranker in ``benchmarks/results/scale.md``).

Milvus has no transactions across rows: an ingest writes its rows under the next generation,
invisible to readers, and commits by writing the new state (``retrieval.milvus.records``);
``retrieval.milvus.writing`` holds that protocol. A reader re-reads the state at most once a
second, so another process's commit shows within a second.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import reason_of
from ingest.document import Chunk, Document, TextBox
from retrieval.lexical import tokenize
from retrieval.manifest import IndexConfig, StoreError, check_manifest
from retrieval.milvus import client as milvus
from retrieval.milvus import records
from retrieval.milvus.location import MilvusLocation, parse
from retrieval.milvus.records import State
from retrieval.rows import DocumentInfo, KnownFile

MAX_HITS = 16_384
"""The most rows one Milvus search or query returns."""
STATE_SECONDS = 1.0
_STATE_FIELDS = ["key", "gen", "version", "part", "parts", "data"]
_CHUNK_FIELDS = ["id", "text", "meta"]


class MilvusIndex:
    """An open Milvus index. Safe to share between threads."""

    def __init__(self, location: MilvusLocation, client: Any, config: IndexConfig, writable: bool) -> None:
        self.location = location
        self.client = client
        self.config = config
        self.writable = writable
        self._lock = threading.RLock()
        self._state: State | None = None
        self._state_read = 0.0
        self._closed = False

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(
        cls,
        spec: str,
        expect: IndexConfig | None = None,
        create: bool = False,
        writable: bool = False,
        token: str | None = None,
    ) -> MilvusIndex:
        """Open the index at ``spec``; with ``create`` make it if need be. Refuses one built otherwise."""
        location = parse(spec)
        writable = writable or create
        if location.lite and Path(location.uri).is_dir():
            raise StoreError(f"{location.spec}: is a folder, not a Milvus Lite file")
        if location.lite and not create and not _lite_file_exists(location):
            raise StoreError(
                f"no index at {location.spec}: run `longqa ingest PATH --index {location.spec}` first"
            )
        if location.lite and create:
            try:
                Path(location.uri).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{location.spec}: cannot create its folder ({reason_of(exc)})") from exc
        client = milvus.connect(location, token)
        try:
            config = _open_collections(client, location, expect, create)
        except BaseException:
            milvus.disconnect(location, client)
            raise
        return cls(location, client, config, writable)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                milvus.disconnect(self.location, self.client)

    def __enter__(self) -> MilvusIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def folder(self) -> str:
        """The spec, as the folder store's folder: what reports and caches name the index by."""
        return self.location.spec

    # ----------------------------------------------------------------- state
    def state(self, fresh: bool = False) -> State:
        """The committed state (re-read when older than ``STATE_SECONDS``, or ``fresh``)."""
        with self._lock:
            if fresh or self._state is None or time.monotonic() - self._state_read > STATE_SECONDS:
                self._state = read_state(self.client, self.location)
                self._state_read = time.monotonic()
            return self._state

    def forget_state(self) -> None:
        with self._lock:
            self._state = None

    @property
    def generation(self) -> int:
        return self.state().generation

    def _call(self, doing: str, action: Any) -> Any:
        return milvus.call(self.location, doing, action)

    # ----------------------------------------------------------------- reading
    def _documents(self, where: str, fields: list[str]) -> Iterator[dict]:
        state = self.state()
        rows = milvus.query_all(
            self.client, self.location.documents, f"{state.visible(True)} and {where}", fields
        )
        return iter(self._call("read the documents", lambda: list(rows)))

    def documents(self) -> list[DocumentInfo]:
        """Every indexed file, in path order."""
        infos = [records.info_of(r) for r in self._documents("part == 0", ["version", "info"])]
        return sorted(infos, key=lambda d: d.path)

    def _document(self, path: str) -> tuple[Document, list[TextBox]]:
        where = f'path_key == "{records.path_key(path)}"'
        text = records.joined(self._documents(where, ["part", "parts", "data"]))
        if text is None:
            raise StoreError(f"{path}: not in the index at {self.location.spec}")
        return records.document_of(text)

    def document(self, path: str) -> Document:
        """The full Document (with its text) indexed under ``path``."""
        return self._document(path)[0]

    def text_boxes(self, path: str, page: int) -> list[TextBox]:
        """The boxes of page ``page``'s OCR'd words and table rows."""
        return [box for box in self._document(path)[1] if box.page == page]

    def chunks(self, rowids: list[int]) -> dict[int, Chunk]:
        """Chunks by rowid (missing ids are left out)."""
        found: dict[int, Chunk] = {}
        for start in range(0, len(rowids), 1000):
            batch = [int(r) for r in rowids[start : start + 1000]]
            rows = self._call(
                "read chunks",
                lambda batch=batch: self.client.get(
                    self.location.name, ids=batch, output_fields=_CHUNK_FIELDS
                ),
            )
            found.update((int(r["id"]), records.chunk_of(r)) for r in rows)
        return found

    def all_chunks(self) -> list[Chunk]:
        """Every chunk in document order (by path, then position)."""
        rows = milvus.query_all(self.client, self.location.name, self.state().visible(), _CHUNK_FIELDS)
        chunks = [records.chunk_of(r) for r in self._call("read the chunks", lambda: list(rows))]
        return sorted(chunks, key=lambda c: (c.span.path, c.ordinal))

    def stats(self) -> dict[str, int]:
        documents = self.documents()
        return {
            "documents": len(documents),
            "chunks": sum(d.chunks for d in documents),
            "tokens": sum(d.tokens for d in documents),
        }

    def known_files(self) -> dict[str, KnownFile]:
        """Every indexed file by the path it is cited by."""
        return {d.path: KnownFile(d.root, d.doc_id, d.row) for d in self.documents()}

    # ----------------------------------------------------------------- search
    def _search(self, data: list, field: str, n: int, params: dict) -> list[tuple[int, float]]:
        if n <= 0:
            return []
        where = self.state().visible()
        hits = self._call(
            "search",
            lambda: self.client.search(
                self.location.name,
                data=data,
                anns_field=field,
                limit=min(n, MAX_HITS),
                filter=where,
                search_params=params,
                output_fields=[],
            ),
        )
        return [(int(hit["id"]), float(hit["distance"])) for hit in hits[0]]

    def dense_search(self, query_vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        vector = np.asarray(query_vector, dtype=np.float32).reshape(-1).tolist()
        return self._search([vector], "dense", n, milvus.DENSE_SEARCH)

    def lexical_search(self, query: str, n: int) -> list[tuple[int, float]]:
        terms = records.bm25_terms(query)
        if not tokenize(query):
            return []
        hits = self._search([terms], "sparse", n, {"metric_type": "BM25"})
        return [(rowid, score) for rowid, score in hits if score > 0]

    # ----------------------------------------------------------------- writing
    def write(self, config: IndexConfig | None = None) -> AbstractContextManager[Any]:
        """One ingest's changes, invisible until the block ends, then committed all at once
        (``retrieval.milvus.writing``)."""
        from retrieval.milvus.writing import write

        return write(self, config)


def _lite_file_exists(location: MilvusLocation) -> bool:
    return Path(location.uri).is_file()


def read_state(client: Any, location: MilvusLocation) -> State:
    where = f'kind == "{records.MANIFEST}"'
    rows = milvus.query_all(client, location.documents, where, _STATE_FIELDS)
    state = records.newest_state(milvus.call(location, "read the index's state", lambda: list(rows)))
    if state is None:
        raise StoreError(f"{location.spec}: the index has no state (damaged?); re-ingest into a new --index")
    return state


def _open_collections(
    client: Any, location: MilvusLocation, expect: IndexConfig | None, create: bool
) -> IndexConfig:
    """Load the index's collections (making them with ``create``) and check what it was built with."""
    names = milvus.call(location, "list its collections", client.list_collections)
    if location.documents not in names:
        if not create:
            raise StoreError(
                f"no index at {location.spec}: run `longqa ingest PATH --index {location.spec}` first"
            )
        if expect is None:
            raise StoreError(f"{location.spec}: cannot create an index without its settings")
        if location.name in names:
            raise StoreError(f"{location.spec}: collection {location.name} exists and is not a longqa index")
        dimension = expect.dimension
        milvus.call(
            location, "create its collections", lambda: milvus.create_collections(client, location, dimension)
        )
        first = records.state_rows(State(0, 0, 1, records.settings_of(expect)))
        milvus.call(location, "write its state", lambda: client.insert(location.documents, first))
    for name in (location.name, location.documents):
        milvus.call(location, f"load collection {name}", functools.partial(client.load_collection, name))
    state = read_state(client, location)
    return check_manifest(location.spec, state.settings, expect)
