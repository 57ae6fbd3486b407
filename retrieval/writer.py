"""Writing documents into an index's database: one run's transaction, a savepoint per document.

A document the database refuses (duplicate chunk ids, bad data) is rolled back alone and reported
as ``DocumentNotStored``; a database that cannot be written at all (a full disk, an I/O error)
fails the whole write, which then changes nothing. The writer's connection makes every commit
durable (``synchronous=FULL``).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import reason_of
from ingest.document import Chunk, Document
from retrieval.manifest import StoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents(
    id INTEGER PRIMARY KEY,
    root TEXT NOT NULL, path TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
    doc_id TEXT NOT NULL, kind TEXT NOT NULL, language TEXT,
    pages INTEGER NOT NULL, page_starts TEXT NOT NULL, sections TEXT NOT NULL,
    title TEXT, notes TEXT NOT NULL, mtime REAL NOT NULL, size INTEGER NOT NULL,
    text TEXT NOT NULL, added REAL NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(
    id INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    document INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, page INTEGER, line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
    n_tokens INTEGER NOT NULL, section TEXT, text TEXT NOT NULL, embedding BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(document, ordinal);
CREATE TABLE IF NOT EXISTS text_boxes(
    document INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page INTEGER NOT NULL, boxes TEXT NOT NULL, PRIMARY KEY(document, page));
"""


class DocumentNotStored(StoreError):
    """One document the database refused; its changes are undone and the rest of the write goes on."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class NewDocument:
    """A file to (re)write: its document, chunks and their embeddings."""

    root: str
    source: str
    size: int
    document: Document
    chunks: list[Chunk]
    embeddings: np.ndarray


# What the database (or binding a value) raises for one document's bad data, as opposed to a
# database that cannot be written at all (sqlite3.OperationalError: full disk, I/O error), which
# fails the whole write.
_REFUSED = (
    sqlite3.IntegrityError,
    sqlite3.DataError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
    ValueError,
    TypeError,
    OverflowError,
)


class Writer:
    """Adds and removes documents inside an open write transaction."""

    def __init__(self, connection: sqlite3.Connection, dimension: int | None = None) -> None:
        self._db = connection
        self._dimension = dimension
        self.added = 0
        self.removed = 0
        self.warnings: list[str] = []

    def remove(self, path: str) -> None:
        self.removed += self._db.execute("DELETE FROM documents WHERE path = ?", (path,)).rowcount

    def add(self, item: NewDocument) -> None:
        """Write a document and its chunks, replacing any document at the same path.

        The document has a savepoint of its own: when the database refuses it, its rows are
        undone, the older version at its path is removed (it describes content that is gone) and
        ``DocumentNotStored`` says why; the transaction goes on with the other documents.
        """
        path = item.document.path
        self._db.execute("SAVEPOINT document")
        try:
            self._insert(item, time.time())
        except _REFUSED as exc:
            self._db.execute("ROLLBACK TO document")
            self._db.execute("RELEASE document")
            self.remove(path)
            raise DocumentNotStored(path, f"could not be stored: {_refusal(exc)}") from exc
        self._db.execute("RELEASE document")
        self.added += 1

    def _insert(self, item: NewDocument, now: float) -> None:
        doc = item.document
        embeddings = np.asarray(item.embeddings, dtype=np.float32)
        n = len(item.chunks)
        if n and (
            embeddings.ndim != 2
            or len(embeddings) != n
            or (self._dimension and embeddings.shape[1] != self._dimension)
        ):
            raise ValueError(f"embeddings of shape {embeddings.shape} for {n} chunks")
        self._db.execute("DELETE FROM documents WHERE path = ?", (doc.path,))
        cursor = self._db.execute(
            """INSERT INTO documents(root, path, source, doc_id, kind, language, pages,
                   page_starts, sections, title, notes, mtime, size, text, added)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                item.root,
                doc.path,
                item.source,
                doc.doc_id,
                doc.kind,
                doc.language,
                doc.pages,
                json.dumps(list(doc.page_starts)),
                json.dumps([list(s) for s in doc.sections]),
                doc.title,
                json.dumps(list(doc.notes)),
                doc.mtime,
                item.size,
                doc.text,
                now,
            ),
        )
        row = cursor.lastrowid
        self._db.executemany(
            """INSERT INTO chunks(chunk_id, document, ordinal, page, line_start, line_end,
                   char_start, char_end, n_tokens, section, text, embedding)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    c.chunk_id,
                    row,
                    c.ordinal,
                    c.span.page,
                    c.span.line_start,
                    c.span.line_end,
                    c.span.char_start,
                    c.span.char_end,
                    c.n_tokens,
                    c.section,
                    c.text,
                    embeddings[i].tobytes(),
                )
                for i, c in enumerate(item.chunks)
            ],
        )
        pages: dict[int, list[list[float]]] = {}  # a PDF's OCR'd words and table rows, per page
        for box in doc.boxes:
            pages.setdefault(box.page, []).append([box.start, box.end, *(round(v, 5) for v in box.box)])
        self._db.executemany(
            "INSERT INTO text_boxes(document, page, boxes) VALUES (?, ?, ?)",
            [(row, page, json.dumps(boxes)) for page, boxes in pages.items()],
        )


def _refusal(exc: BaseException) -> str:
    reason = reason_of(exc)
    if "UNIQUE constraint failed: chunks.chunk_id" in reason:
        return f"two of its chunks have the same id ({reason})"
    return reason if isinstance(exc, sqlite3.Error) else f"{type(exc).__name__}: {reason}"


def rollback(connection: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):  # SQLite may already have rolled back (a full disk)
        if connection.in_transaction:
            connection.execute("ROLLBACK")


def read_generation(connection: sqlite3.Connection) -> int:
    """The number every committed write bumps; 0 for a database never written to."""
    row = connection.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(row["value"]) if row else 0


def connect_writer(database: Path) -> sqlite3.Connection:
    """The connection of a writer: WAL, the schema in place, every commit fsynced, rows read by name."""
    try:
        connection = sqlite3.connect(database, check_same_thread=False, timeout=30, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{database}: {exc}") from exc
    connection.row_factory = sqlite3.Row
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.executescript(_SCHEMA)
    except sqlite3.Error as exc:
        connection.close()
        raise StoreError(f"{database}: {exc}") from exc
    return connection
