"""An index's search files, FAISS and BM25: derived from the database and never trusted over it.

They are built from the chunks in SQLite, written whole after a commit (each through
``core.files``, never truncated), and loaded only when the manifest says they hold the
database's current generation; otherwise the caller rebuilds them in memory. Nothing here writes
the database or the manifest.
"""

from __future__ import annotations

import logging
import sqlite3
from array import array
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from core.files import atomic_folder
from retrieval import vectors
from retrieval.lexical import LexicalIndex
from retrieval.manifest import read_manifest

log = logging.getLogger(__name__)

FAISS_FILE = "faiss.index"
BM25_FOLDER = "bm25"

_ROWS = """SELECT c.id, c.embedding, c.section, c.text
           FROM chunks c JOIN documents d ON d.id = c.document ORDER BY c.id"""


@dataclass(frozen=True)
class SearchFiles:
    """FAISS and BM25 as they stand for one generation of the database."""

    dense: faiss.Index
    lexical: LexicalIndex
    generation: int


@dataclass(frozen=True)
class Rows:
    """What the search files are built from, compactly: one array of ids, one buffer of every
    embedding, the texts (a list of SQLite rows, then a joined copy of the embeddings, held a
    Python object per value besides: gigabytes at a million chunks)."""

    ids: np.ndarray
    embeddings: bytearray
    texts: list[str]


def read_rows(connection: sqlite3.Connection) -> Rows:
    """Every chunk's rowid, embedding and text, in rowid order, in one statement (so one snapshot;
    the caller holds the connection's lock)."""
    ids, embeddings, texts = array("q"), bytearray(), []
    for rowid, embedding, section, text in connection.execute(_ROWS):
        ids.append(rowid)
        embeddings += embedding
        texts.append(f"{section or ''}\n{text}")
    return Rows(np.frombuffer(ids, dtype=np.int64) if ids else np.zeros(0, np.int64), embeddings, texts)


def build(rows: Rows, generation: int, dimension: int, hnsw_threshold: int) -> SearchFiles:
    """FAISS over the stored embeddings and BM25 over each chunk's section and text."""
    matrix = np.frombuffer(rows.embeddings, dtype=np.float32).reshape(
        len(rows.ids), -1 if len(rows.ids) else dimension
    )
    dense = vectors.build(rows.ids, matrix, dimension, hnsw_threshold)
    lexical = LexicalIndex.build(rows.ids.tolist(), rows.texts)
    return SearchFiles(dense, lexical, generation)


def load(folder: Path, generation: int) -> SearchFiles | None:
    """The files on disk when the manifest says they hold ``generation`` and they load; else None."""
    manifest = read_manifest(folder) or {}
    faiss_path, bm25_path = folder / FAISS_FILE, folder / BM25_FOLDER
    if manifest.get("generation") != generation or not (faiss_path.exists() and bm25_path.exists()):
        return None
    try:
        return SearchFiles(vectors.load(faiss_path), LexicalIndex.load(bm25_path), generation)
    except Exception as exc:  # noqa: BLE001 - derived files are rebuilt, never trusted
        log.warning("%s: derived index files unreadable (%s); rebuilding", folder, exc)
        return None


def save(folder: Path, files: SearchFiles) -> None:
    """Write FAISS, then BM25, each replaced whole and fsynced; a failure leaves each old or new."""
    vectors.save(files.dense, folder / FAISS_FILE)
    with atomic_folder(folder / BM25_FOLDER) as tmp:
        files.lexical.save(tmp)
        LexicalIndex.load(tmp)  # numpy can miss a short write: what does not load back stays out
