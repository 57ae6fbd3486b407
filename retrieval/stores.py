"""Which store holds an index, read from its ``--index`` spec, and the one place that opens it:
a folder (FAISS + BM25 + SQLite, ``retrieval.store``) or a Milvus collection (``milvus:FILE.db``,
``milvus://HOST:PORT/NAME``; ``retrieval.milvus``). Both offer ``IndexStore``; search, the
strategies and the doors use that and never ask which one they hold.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

import numpy as np

from ingest.document import Chunk, Document, TextBox
from retrieval import vectors
from retrieval.manifest import MANIFEST, IndexConfig
from retrieval.milvus.location import is_milvus, parse
from retrieval.rows import DocumentInfo, KnownFile
from retrieval.store import Index
from retrieval.writer import NewDocument

__all__ = ["IndexStore", "IndexWriter", "exists", "is_milvus", "open_index", "resolved", "stamp"]


class IndexWriter(Protocol):
    """One write's changes (``retrieval.writer.Writer``, ``retrieval.milvus.writing.MilvusWriter``)."""

    added: int
    removed: int
    warnings: list[str]

    def add(self, item: NewDocument) -> None: ...

    def remove(self, path: str) -> None: ...


class IndexStore(Protocol):
    """An open index, whichever store holds it."""

    config: IndexConfig

    @property
    def folder(self) -> Path | str: ...

    @property
    def generation(self) -> int: ...

    def documents(self) -> list[DocumentInfo]: ...

    def document(self, path: str) -> Document: ...

    def text_boxes(self, path: str, page: int) -> list[TextBox]: ...

    def chunks(self, rowids: list[int]) -> dict[int, Chunk]: ...

    def all_chunks(self) -> list[Chunk]: ...

    def stats(self) -> dict[str, int]: ...

    def known_files(self) -> dict[str, KnownFile]: ...

    def dense_search(self, query_vector: np.ndarray, n: int) -> list[tuple[int, float]]: ...

    def lexical_search(self, query: str, n: int) -> list[tuple[int, float]]: ...

    def write(self, config: IndexConfig | None = None) -> AbstractContextManager[IndexWriter]: ...

    def close(self) -> None: ...

    def __enter__(self) -> IndexStore: ...

    def __exit__(self, *exc: object) -> None: ...


def open_index(
    location: Path | str,
    expect: IndexConfig | None = None,
    create: bool = False,
    hnsw_threshold: int = vectors.DEFAULT_HNSW_THRESHOLD,
    writable: bool = False,
    token: str | None = None,
) -> IndexStore:
    """The index at ``location`` (a folder or a ``milvus:`` spec), for reading; with ``create``
    (making it if need be) or ``writable``, for writing too. Refuses an index built otherwise
    (``expect``); ``token``: a Milvus server's (the folder store has none)."""
    if is_milvus(location):
        from retrieval.milvus.store import MilvusIndex

        return MilvusIndex.open(str(location), expect, create=create, writable=writable, token=token)
    return Index.open(Path(location), expect, create=create, hnsw_threshold=hnsw_threshold, writable=writable)


def resolved(location: Path | str) -> Path:
    """``location`` as one name for one index: a folder made absolute, a spec in its own form
    (a Path, as ``--index`` and the settings hold it)."""
    if is_milvus(location):
        return Path(parse(location).spec)
    return Path(location).expanduser().resolve()


def exists(location: Path | str) -> bool:
    """Whether an index is there, as far as can be told without opening it (a server's
    collection is taken to be there: opening it says if not)."""
    if not is_milvus(location):
        return (Path(location) / MANIFEST).exists()
    where = parse(location)
    return not where.lite or Path(where.uri).is_file()


def stamp(location: Path | str) -> float:
    """When the index last changed, as far as its files tell (0.0 for a server's, or none yet):
    what a cache of views of its documents is keyed by."""
    if is_milvus(location):
        where = parse(location)
        path = Path(where.uri) if where.lite else None
    else:
        path = Path(location) / MANIFEST
    try:
        return path.stat().st_mtime if path else 0.0
    except OSError:
        return 0.0
