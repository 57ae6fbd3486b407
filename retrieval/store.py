"""The index on disk (DESIGN.md §4): manifest.json, chunks.sqlite, faiss.index, bm25/.

SQLite is the source of truth: documents, chunks and their embeddings, and a generation number
that every write bumps inside its one transaction (``synchronous=FULL``: the commit is the
durability point). Each document is written under its own savepoint, so a document the database
refuses is that document's failure, not the run's. FAISS and BM25 are derived from the database and
written after the commit, each whole through ``ingest.files`` (never truncated); the manifest,
written last, records which generation they hold. A reader that finds them behind the database (an
ingest interrupted, or out of disk space, after its commit) rebuilds them in memory from SQLite, so
it never sees a half-written index; an ingest interrupted before its commit changes nothing at all.

A reader never writes: it opens SQLite read-only (immutable where the folder itself is read-only),
runs no schema script, changes no journal mode and leaves the manifest and derived files alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from ingest.document import Chunk, Document, Span
from ingest.errors import LongqaError
from ingest.files import atomic_folder, atomic_write, remove_stale
from retrieval import vectors
from retrieval.lexical import LexicalIndex

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "chunks.sqlite"
FAISS_FILE = "faiss.index"
BM25_FOLDER = "bm25"
LOCK_FILE = ".lock"

# Temporaries of writers from before ingest.files: faiss.index.tmp<pid>, manifest.json.tmp<pid>,
# bm25.tmp<pid>/ (gone once their process is), and bm25.old/ (a swap's leftover).
_LEGACY_TEMPORARY = re.compile(r"^(?:(?:faiss\.index|manifest\.json|bm25)\.tmp(?P<pid>\d+)|bm25\.old)$")

DERIVED_NOT_WRITTEN = (
    "the index is saved; its search files could not be written ({reason}): "
    "they will be rebuilt from the database on next use"
)

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
"""


class StoreError(LongqaError):
    """An index that cannot be used as asked (missing, incompatible, busy)."""


class IndexMismatchError(StoreError):
    """An index built with another embedding model or format version."""


class DocumentNotStored(StoreError):
    """One document the database refused; its changes are undone and the rest of the write goes on."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class IndexConfig:
    """What an index is built with; recorded in the manifest and checked on every open."""

    embedding_model: str
    dimension: int
    chunk_tokens: int
    chunk_overlap: int
    tokenizer: str = "cl100k_base"


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed file, without its text."""

    row: int
    root: str
    path: str
    source: str
    doc_id: str
    kind: str
    language: str | None
    pages: int
    title: str | None
    notes: tuple[str, ...]
    size: int
    chunks: int
    tokens: int


@dataclass(frozen=True)
class NewDocument:
    """A file to (re)write: its document, chunks and their embeddings."""

    root: str
    source: str
    size: int
    document: Document
    chunks: list[Chunk]
    embeddings: np.ndarray


class Index:
    """An open index folder. Safe to share between threads."""

    def __init__(
        self,
        folder: Path,
        connection: sqlite3.Connection,
        config: IndexConfig,
        hnsw_threshold: int,
        writable: bool = False,
    ) -> None:
        self.folder = folder
        self.config = config
        self.hnsw_threshold = hnsw_threshold
        self.writable = writable
        self._db = connection
        self._lock = threading.RLock()
        self._dense: faiss.Index | None = None
        self._lexical: LexicalIndex | None = None
        self._loaded_generation = -1

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(
        cls,
        folder: Path,
        expect: IndexConfig | None = None,
        create: bool = False,
        hnsw_threshold: int = vectors.DEFAULT_HNSW_THRESHOLD,
        writable: bool = False,
    ) -> Index:
        """Open ``folder`` for reading; with ``create`` (making it if need be) or ``writable``, for
        writing too. Refuses an index built otherwise."""
        folder = Path(folder)
        writable = writable or create
        if folder.exists() and not folder.is_dir():
            raise StoreError(f"{folder}: is a file, not an index folder")
        manifest = _read_manifest(folder)
        if manifest is None:
            if not create:
                if (folder / DATABASE).exists():
                    raise StoreError(
                        f"{folder}: index has no manifest.json (damaged?); re-ingest into a new folder"
                    )
                raise StoreError(f"no index at {folder}: run `longqa ingest PATH --index {folder}` first")
            if expect is None:
                raise StoreError(f"{folder}: cannot create an index without its settings")
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{folder}: cannot create the index folder ({_reason(exc)})") from exc
            config = expect
        else:
            config = _check_manifest(folder, manifest, expect)
        if writable and not os.access(folder, os.W_OK):
            raise StoreError(f"{folder}: the index folder is read-only; cannot write to it")
        database = folder / DATABASE
        if not writable and not database.exists():
            raise StoreError(f"{database}: missing (damaged index?); re-ingest into a new folder")
        if database.exists():
            try:
                database.open("rb").close()  # the system's reason, where SQLite's would be vague
            except OSError as exc:
                raise StoreError(f"{database}: cannot be read ({_reason(exc)})") from exc
        connection = _connect_writer(database) if writable else _connect_reader(database)
        index = cls(folder, connection, config, hnsw_threshold, writable)
        if manifest is None:
            try:
                index._write_manifest(generation=index.generation)
            except OSError as exc:
                connection.close()
                raise StoreError(f"{folder / MANIFEST}: cannot be written ({_reason(exc)})") from exc
        return index

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- reading
    @property
    def generation(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def documents(self) -> list[DocumentInfo]:
        """Every indexed file, in path order."""
        with self._lock:
            rows = self._db.execute(
                """SELECT d.id, d.root, d.path, d.source, d.doc_id, d.kind, d.language, d.pages,
                          d.title, d.notes, d.size, COUNT(c.id), COALESCE(SUM(c.n_tokens), 0)
                   FROM documents d LEFT JOIN chunks c ON c.document = d.id
                   GROUP BY d.id ORDER BY d.path"""
            ).fetchall()
        return [
            DocumentInfo(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
                tuple(json.loads(r[9])),
                r[10],
                r[11],
                r[12],
            )
            for r in rows
        ]

    def document(self, path: str) -> Document:
        """The full Document (with its text) indexed under ``path``."""
        with self._lock:
            row = self._db.execute(
                """SELECT doc_id, path, kind, text, language, pages, page_starts, mtime, title,
                          sections, notes FROM documents WHERE path = ?""",
                (path,),
            ).fetchone()
        if row is None:
            raise StoreError(f"{path}: not in the index at {self.folder}")
        return Document(
            doc_id=row[0],
            path=row[1],
            kind=row[2],
            text=row[3],
            language=row[4],
            pages=row[5],
            page_starts=tuple(json.loads(row[6])),
            mtime=row[7],
            title=row[8],
            sections=tuple((int(o), str(t)) for o, t in json.loads(row[9])),
            notes=tuple(json.loads(row[10])),
        )

    _CHUNK_COLUMNS = """c.id, c.chunk_id, d.doc_id, c.text, d.path, c.page, c.line_start,
        c.line_end, c.char_start, c.char_end, c.n_tokens, c.ordinal, c.section"""

    @staticmethod
    def _chunk(row: tuple) -> tuple[int, Chunk]:
        span = Span(row[4], row[5], row[6], row[7], row[8], row[9])
        return row[0], Chunk(row[1], row[2], row[3], span, row[10], row[11], row[12])

    def chunks(self, rowids: list[int]) -> dict[int, Chunk]:
        """Chunks by rowid (missing ids are left out)."""
        found: dict[int, Chunk] = {}
        with self._lock:
            for start in range(0, len(rowids), 500):
                batch = rowids[start : start + 500]
                marks = ",".join("?" * len(batch))
                rows = self._db.execute(
                    f"SELECT {self._CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document "
                    f"WHERE c.id IN ({marks})",
                    batch,
                ).fetchall()
                found.update(self._chunk(r) for r in rows)
        return found

    def all_chunks(self) -> list[Chunk]:
        """Every chunk in document order (by path, then position)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document "
                "ORDER BY d.path, c.ordinal"
            ).fetchall()
        return [self._chunk(r)[1] for r in rows]

    def stats(self) -> dict[str, int]:
        with self._lock:
            docs, chunks, tokens = self._db.execute(
                "SELECT (SELECT COUNT(*) FROM documents), COUNT(*), COALESCE(SUM(n_tokens), 0) FROM chunks"
            ).fetchone()
        return {"documents": docs, "chunks": chunks, "tokens": tokens}

    def known_files(self) -> dict[str, tuple[str, str, int]]:
        """path → (root, doc_id, row) of every indexed file."""
        with self._lock:
            rows = self._db.execute("SELECT path, root, doc_id, id FROM documents").fetchall()
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    # ----------------------------------------------------------------- search
    def dense_search(self, query_vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        self._ensure_derived()
        assert self._dense is not None
        return vectors.search(self._dense, query_vector, n)

    def lexical_search(self, query: str, n: int) -> list[tuple[int, float]]:
        self._ensure_derived()
        assert self._lexical is not None
        return self._lexical.search(query, n)

    def _ensure_derived(self) -> None:
        """Load FAISS and BM25, rebuilding them from SQLite when they lag behind it."""
        with self._lock:
            generation = self.generation
            if self._loaded_generation == generation:
                return
            manifest = _read_manifest(self.folder) or {}
            faiss_path, bm25_path = self.folder / FAISS_FILE, self.folder / BM25_FOLDER
            if manifest.get("generation") == generation and faiss_path.exists() and bm25_path.exists():
                try:
                    self._dense = vectors.load(faiss_path)
                    self._lexical = LexicalIndex.load(bm25_path)
                    self._loaded_generation = generation
                    return
                except Exception as exc:  # noqa: BLE001 - derived files are rebuilt, never trusted
                    log.warning("%s: derived index files unreadable (%s); rebuilding", self.folder, exc)
            log.info("%s: rebuilding FAISS and BM25 from the database", self.folder)
            self._dense, self._lexical = self._build_derived()
            self._loaded_generation = generation

    def _build_derived(self):
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, c.embedding, c.text, c.section, d.path FROM chunks c "
                "JOIN documents d ON d.id = c.document ORDER BY c.id"
            ).fetchall()
        ids = np.asarray([r[0] for r in rows], dtype=np.int64)
        matrix = (
            np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
            if rows
            else np.zeros((0, self.config.dimension), dtype=np.float32)
        )
        dense = vectors.build(ids, matrix, self.config.dimension, self.hnsw_threshold)
        lexical = LexicalIndex.build(ids.tolist(), [f"{r[3] or ''}\n{r[2]}" for r in rows])
        return dense, lexical

    # ----------------------------------------------------------------- writing
    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Only one ingest writes to a folder at a time."""
        try:
            handle = (self.folder / LOCK_FILE).open("w")
        except OSError as exc:
            raise StoreError(f"{self.folder}: cannot write to the index ({_reason(exc)})") from exc
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreError(f"{self.folder}: another ingest is writing to this index") from None
            yield
        finally:
            handle.close()

    @contextmanager
    def write(self, config: IndexConfig | None = None) -> Iterator[Writer]:
        """One ingest's changes: invisible until the block ends, then committed all at once.

        Changes go through a connection of their own inside one transaction, so readers
        (this process's included) keep seeing the previous index until the commit; an error or
        an interruption inside the block rolls everything back. After the commit FAISS, BM25
        and the manifest are refreshed; when they cannot be written the data stays committed
        and ``Writer.warnings`` says so. Temporaries of killed writers are removed first.
        """
        if not self.writable:
            raise StoreError(f"{self.folder}: the index was opened for reading only")
        with self.writer_lock():
            remove_stale(self.folder, legacy=_LEGACY_TEMPORARY)
            connection = _connect_writer(self.folder / DATABASE)
            writer = Writer(connection, (config or self.config).dimension)
            try:
                connection.execute("BEGIN IMMEDIATE")
                yield writer
                row = connection.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
                generation = (int(row[0]) if row else 0) + 1
                connection.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('generation', ?)", (str(generation),)
                )
                connection.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(connection)
                raise StoreError(
                    f"{self.folder}: the index could not be written ({exc}); it is left as it was"
                ) from exc
            except BaseException:
                _rollback(connection)
                raise
            finally:
                connection.close()
            if config is not None:
                self.config = config
            try:
                self.write_derived(generation)
            except Exception as exc:  # the data is committed: these files are only derived from it
                log.warning("%s: search files not written", self.folder, exc_info=True)
                writer.warnings.append(DERIVED_NOT_WRITTEN.format(reason=_reason(exc)))

    def write_derived(self, generation: int) -> None:
        """Write FAISS, then BM25, then the manifest, each replaced whole and fsynced.

        A failure (a full disk) leaves each file as it was or whole and new; the manifest, still
        naming an older generation, then makes readers rebuild them from the database.
        """
        dense, lexical = self._build_derived()
        with self._lock:
            self._dense, self._lexical, self._loaded_generation = dense, lexical, generation
        vectors.save(dense, self.folder / FAISS_FILE)
        with atomic_folder(self.folder / BM25_FOLDER) as tmp:
            lexical.save(tmp)
            LexicalIndex.load(tmp)  # numpy can miss a short write: what does not load back stays out
        self._write_manifest(generation)

    def _write_manifest(self, generation: int) -> None:
        data = {
            "format_version": FORMAT_VERSION,
            **asdict(self.config),
            "generation": generation,
            "faiss": vectors.kind(self._dense) if self._dense is not None else "flat",
            "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        atomic_write(self.folder / MANIFEST, json.dumps(data, indent=2) + "\n")


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


def _reason(exc: BaseException) -> str:
    """An exception as the short reason a one-line message ends with."""
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return " ".join(text.split())


def _refusal(exc: BaseException) -> str:
    reason = _reason(exc)
    if "UNIQUE constraint failed: chunks.chunk_id" in reason:
        return f"two of its chunks have the same id ({reason})"
    return reason if isinstance(exc, sqlite3.Error) else f"{type(exc).__name__}: {reason}"


def _rollback(connection: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):  # SQLite may already have rolled back (a full disk)
        if connection.in_transaction:
            connection.execute("ROLLBACK")


def _connect_writer(database: Path) -> sqlite3.Connection:
    """The connection of a writer: WAL, the schema in place, every commit fsynced."""
    try:
        connection = sqlite3.connect(database, check_same_thread=False, timeout=30, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{database}: {exc}") from exc
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.executescript(_SCHEMA)
    except sqlite3.Error as exc:
        connection.close()
        raise StoreError(f"{database}: {exc}") from exc
    return connection


def _connect_reader(database: Path) -> sqlite3.Connection:
    """A connection that cannot write. Where the folder is read-only, so that SQLite cannot make
    the WAL's shared-memory file, the database is read as an immutable file instead."""
    uri = "file:" + urllib.parse.quote(str(database.resolve()))
    try:
        return _probe(f"{uri}?mode=ro")
    except sqlite3.OperationalError as exc:
        if os.access(database.parent, os.W_OK):
            raise StoreError(f"{database}: {exc}") from exc
    except sqlite3.Error as exc:
        raise StoreError(f"{database}: {exc}") from exc
    wal = database.with_name(database.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        log.warning("%s: read-only folder; changes still in its write-ahead log are not seen", database)
    try:
        return _probe(f"{uri}?immutable=1")
    except sqlite3.Error as exc:
        raise StoreError(f"{database}: {exc}") from exc


def _probe(uri: str) -> sqlite3.Connection:
    """Connect to ``uri`` and read the index's own table (what fails on a file that is not one)."""
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)
    try:
        connection.execute("SELECT value FROM meta WHERE key = 'generation'").fetchall()
    except BaseException:
        connection.close()
        raise
    return connection


def _read_manifest(folder: Path) -> dict | None:
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise StoreError(f"{path}: unreadable manifest ({_reason(exc)})") from exc
    except ValueError as exc:
        raise StoreError(f"{path}: unreadable manifest ({exc})") from exc
    if not isinstance(data, dict):
        raise StoreError(f"{path}: not an index manifest; re-ingest into a new folder")
    return data


def _check_manifest(folder: Path, manifest: dict, expect: IndexConfig | None) -> IndexConfig:
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{folder}: index format version {version}, but this longqa reads version "
            f"{FORMAT_VERSION}; re-ingest into a new --index folder"
        )
    try:
        config = IndexConfig(
            embedding_model=manifest["embedding_model"],
            dimension=int(manifest["dimension"]),
            chunk_tokens=int(manifest["chunk_tokens"]),
            chunk_overlap=int(manifest["chunk_overlap"]),
            tokenizer=manifest.get("tokenizer", "cl100k_base"),
        )
    except (KeyError, ValueError) as exc:
        raise StoreError(f"{folder}: manifest.json lacks {exc}; re-ingest into a new folder") from exc
    if expect is not None and (
        expect.embedding_model != config.embedding_model or expect.dimension != config.dimension
    ):
        raise IndexMismatchError(
            f"{folder}: built with embedding model {config.embedding_model} ({config.dimension}-d), "
            f"not {expect.embedding_model} ({expect.dimension}-d); use that model or re-ingest "
            "into a new --index folder"
        )
    return config
