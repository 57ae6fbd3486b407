"""The index on disk (DESIGN.md §4): manifest.json, chunks.sqlite, faiss.index, bm25/.

SQLite is the source of truth: documents, chunks and their embeddings, and a generation number
that every write bumps inside its one transaction (``synchronous=FULL``: the commit is the
durability point). Each document is written under its own savepoint (``retrieval.writer``), so a
document the database refuses is that document's failure, not the run's. FAISS and BM25
(``retrieval.derived``) are derived from the database and written after the commit, each whole
(never truncated); the manifest, written last, records which generation they hold. A reader that
finds them behind the database (an ingest interrupted, or out of disk space, after its commit)
rebuilds them in memory from SQLite, so it never sees a half-written index; an ingest interrupted
before its commit changes nothing at all. Rows are read by column name (``sqlite3.Row``).

A reader never writes: it opens SQLite read-only (immutable where the folder itself is read-only),
runs no schema script, changes no journal mode and leaves the manifest and derived files alone.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import sqlite3
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from core.errors import reason_of
from core.files import remove_stale
from ingest.document import Chunk, Document, Span, TextBox
from retrieval import derived, vectors
from retrieval.manifest import (
    MANIFEST,
    IndexBusy,
    IndexConfig,
    StoreError,
    check_manifest,
    read_manifest,
    write_manifest,
)
from retrieval.rows import DocumentInfo, KnownFile
from retrieval.writer import Writer, connect_writer, read_generation, rollback

log = logging.getLogger(__name__)

DATABASE = "chunks.sqlite"
LOCK_FILE = ".lock"

# Temporaries of writers from before core.files: faiss.index.tmp<pid>, manifest.json.tmp<pid>,
# bm25.tmp<pid>/ (gone once their process is), and bm25.old/ (a swap's leftover).
_LEGACY_TEMPORARY = re.compile(r"^(?:(?:faiss\.index|manifest\.json|bm25)\.tmp(?P<pid>\d+)|bm25\.old)$")

DERIVED_NOT_WRITTEN = (
    "the index is saved; its search files could not be written ({reason}): "
    "they will be rebuilt from the database on next use"
)


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
        self._search_files: derived.SearchFiles | None = None

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
        manifest = read_manifest(folder)
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
                raise StoreError(f"{folder}: cannot create the index folder ({reason_of(exc)})") from exc
            config = expect
        else:
            config = check_manifest(folder, manifest, expect)
        if writable and not os.access(folder, os.W_OK):
            raise StoreError(f"{folder}: the index folder is read-only; cannot write to it")
        database = folder / DATABASE
        if not writable and not database.exists():
            raise StoreError(f"{database}: missing (damaged index?); re-ingest into a new folder")
        if database.exists():
            try:
                database.open("rb").close()  # the system's reason, where SQLite's would be vague
            except OSError as exc:
                raise StoreError(f"{database}: cannot be read ({reason_of(exc)})") from exc
        connection = connect_writer(database) if writable else _connect_reader(database)
        index = cls(folder, connection, config, hnsw_threshold, writable)
        if manifest is None:
            try:
                write_manifest(folder, config, index.generation, faiss_kind="flat")
            except OSError as exc:
                connection.close()
                raise StoreError(f"{folder / MANIFEST}: cannot be written ({reason_of(exc)})") from exc
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
            return read_generation(self._db)

    def documents(self) -> list[DocumentInfo]:
        """Every indexed file, in path order."""
        with self._lock:
            rows = self._db.execute(
                """SELECT d.id AS row, d.root, d.path, d.source, d.doc_id, d.kind, d.language,
                          d.pages, d.title, d.notes, d.size, COUNT(c.id) AS chunks,
                          COALESCE(SUM(c.n_tokens), 0) AS tokens
                   FROM documents d LEFT JOIN chunks c ON c.document = d.id
                   GROUP BY d.id ORDER BY d.path"""
            ).fetchall()
        # the columns are named as DocumentInfo's fields; only the notes are stored as JSON
        return [DocumentInfo(**{**dict(r), "notes": tuple(json.loads(r["notes"]))}) for r in rows]

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
            doc_id=row["doc_id"],
            path=row["path"],
            kind=row["kind"],
            text=row["text"],
            language=row["language"],
            pages=row["pages"],
            page_starts=tuple(json.loads(row["page_starts"])),
            mtime=row["mtime"],
            title=row["title"],
            sections=tuple((int(o), str(t)) for o, t in json.loads(row["sections"])),
            notes=tuple(json.loads(row["notes"])),
        )

    def text_boxes(self, path: str, page: int) -> list[TextBox]:
        """The boxes of page ``page``'s OCR'd words and table rows (none in indexes made before)."""
        with self._lock:
            try:
                row = self._db.execute(
                    "SELECT b.boxes FROM text_boxes b JOIN documents d ON d.id = b.document "
                    "WHERE d.path = ? AND b.page = ?",
                    (path, page),
                ).fetchone()
            except sqlite3.OperationalError as exc:  # an index written by a longqa without them
                if "no such table" not in str(exc):
                    raise
                return []
        boxes = json.loads(row["boxes"]) if row else []
        return [
            TextBox(page, int(s), int(e), (left, top, right, bottom))
            for s, e, left, top, right, bottom in boxes
        ]

    _CHUNK_COLUMNS = """c.id, c.chunk_id, d.doc_id, c.text, d.path, c.page, c.line_start,
        c.line_end, c.char_start, c.char_end, c.n_tokens, c.ordinal, c.section"""

    @staticmethod
    def _chunk(row: sqlite3.Row) -> Chunk:
        span = Span(
            path=row["path"],
            page=row["page"],
            line_start=row["line_start"],
            line_end=row["line_end"],
            char_start=row["char_start"],
            char_end=row["char_end"],
        )
        return Chunk(
            chunk_id=row["chunk_id"],
            doc_id=row["doc_id"],
            text=row["text"],
            span=span,
            n_tokens=row["n_tokens"],
            ordinal=row["ordinal"],
            section=row["section"],
        )

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
                found.update((r["id"], self._chunk(r)) for r in rows)
        return found

    def all_chunks(self) -> list[Chunk]:
        """Every chunk in document order (by path, then position)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document "
                "ORDER BY d.path, c.ordinal"
            ).fetchall()
        return [self._chunk(r) for r in rows]

    def stats(self) -> dict[str, int]:
        with self._lock:
            row = self._db.execute(
                "SELECT (SELECT COUNT(*) FROM documents) AS documents, COUNT(*) AS chunks, "
                "COALESCE(SUM(n_tokens), 0) AS tokens FROM chunks"
            ).fetchone()
        return dict(row)

    def known_files(self) -> dict[str, KnownFile]:
        """Every indexed file by the path it is cited by."""
        with self._lock:
            rows = self._db.execute("SELECT path, root, doc_id, id FROM documents").fetchall()
        return {r["path"]: KnownFile(r["root"], r["doc_id"], r["id"]) for r in rows}

    # ----------------------------------------------------------------- search
    def dense_search(self, query_vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        return vectors.search(self._current_search_files().dense, query_vector, n)

    def lexical_search(self, query: str, n: int) -> list[tuple[int, float]]:
        return self._current_search_files().lexical.search(query, n)

    def _current_search_files(self) -> derived.SearchFiles:
        """FAISS and BM25 for the database as it is now: loaded, or rebuilt where they lag behind it."""
        with self._lock:
            generation = self.generation
            files = self._search_files
            if files is None or files.generation != generation:
                files = derived.load(self.folder, generation)
                if files is None:
                    log.info("%s: rebuilding FAISS and BM25 from the database", self.folder)
                    files = self._build_search_files(generation)
                self._search_files = files
            return files

    def _build_search_files(self, generation: int) -> derived.SearchFiles:
        with self._lock:  # only for the read: a writer's build leaves readers going meanwhile
            rows = derived.read_rows(self._db)
        return derived.build(rows, generation, self.config.dimension, self.hnsw_threshold)

    # ----------------------------------------------------------------- writing
    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Only one ingest writes to a folder at a time."""
        try:
            handle = (self.folder / LOCK_FILE).open("w")
        except OSError as exc:
            raise StoreError(f"{self.folder}: cannot write to the index ({reason_of(exc)})") from exc
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexBusy(f"{self.folder}: another ingest is writing to this index") from None
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
            connection = connect_writer(self.folder / DATABASE)
            writer = Writer(connection, (config or self.config).dimension)
            try:
                connection.execute("BEGIN IMMEDIATE")
                yield writer
                current = (read_manifest(self.folder) or {}).get("generation") == read_generation(connection)
                if current and not (writer.added or writer.removed) and config in (None, self.config):
                    rollback(connection)  # nothing changed and the search files are current: no rebuild
                    return
                generation = read_generation(connection) + 1
                connection.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('generation', ?)", (str(generation),)
                )
                connection.execute("COMMIT")
            except sqlite3.Error as exc:
                rollback(connection)
                raise StoreError(
                    f"{self.folder}: the index could not be written ({exc}); it is left as it was"
                ) from exc
            except BaseException:
                rollback(connection)
                raise
            finally:
                connection.close()
            if config is not None:
                self.config = config
            try:
                self.write_derived(generation)
            except Exception as exc:  # the data is committed: these files are only derived from it
                log.warning("%s: search files not written", self.folder, exc_info=True)
                writer.warnings.append(DERIVED_NOT_WRITTEN.format(reason=reason_of(exc)))

    def write_derived(self, generation: int) -> None:
        """Write FAISS, then BM25, then the manifest, each replaced whole and fsynced.

        A failure (a full disk) leaves each file as it was or whole and new; the manifest, still
        naming an older generation, then makes readers rebuild them from the database.
        """
        files = self._build_search_files(generation)
        with self._lock:
            self._search_files = files
        derived.save(self.folder, files)
        write_manifest(self.folder, self.config, generation, vectors.kind(files.dense))


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
    connection.row_factory = sqlite3.Row
    try:
        read_generation(connection)
    except BaseException:
        connection.close()
        raise
    return connection
