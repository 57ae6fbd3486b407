"""Synthetic collections for ``bench_scale.py``, written through longqa's own index code.

A collection of N chunks is N / ``CHUNKS_PER_FILE`` plain-text files on disk, each made of
``CHUNKS_PER_FILE`` paragraphs. Every paragraph copies the word mix of one *anchor*: a real
chunk of ``examples/`` (the PDFs and simplejson, read and chunked by longqa's ingest), its words
drawn again at random, so the vocabulary and its frequencies are real, but no paragraph repeats.
Its vector is the anchor's real all-MiniLM-L6-v2 embedding plus Gaussian noise, normalised
(``anchored``; cosine to the anchor about ``1 / sqrt(1 + NOISE**2)``), so the collection has the
clustered shape of real embeddings; ``--vectors random`` gives plain random unit vectors instead,
the hardest case for an approximate index and one no real embedder produces.

The files are written to disk and into the index with ``Index.write`` and ``Writer.add`` (one
transaction, then FAISS, BM25 and the manifest through ``write_derived``; for a Milvus index its
write, committed the same way), with each file's
sha256 as its ``doc_id`` and its folder as its root, exactly as ``retrieval.indexer`` would
store them: a later ``indexer.ingest`` of the folder finds them unchanged. Only the embedding is
skipped (the vectors are made here), which is why a collection of a million chunks can be built
at all on a laptop. Vectors are also kept in ``vectors.npy`` (row i is chunk rowid i + 1) for
exact search.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.chunking import ChunkSettings
from ingest.document import Chunk, Document, make_chunk
from ingest.pipeline import chunk_document, load_document
from ingest.walk import Found, walk
from retrieval.embeddings import Embedder
from retrieval.manifest import IndexConfig
from retrieval.stores import open_index
from retrieval.writer import NewDocument

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CHUNKS_PER_FILE = 10
NOISE = 1.0
WORDS_PER_LINE = 12
DIMENSION = 384


@dataclass(frozen=True)
class Anchors:
    """The real chunks of ``examples/``: their words and their embeddings."""

    words: list[list[str]]
    vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.words)


def load_anchors(cache: Path, embedder: Callable[[], Embedder], limit: int | None = None) -> Anchors:
    """Read and chunk ``examples/`` with longqa's ingest and embed each chunk (cached in ``cache``;
    ``embedder`` makes the model only when the cache is empty; ``limit``: the first so many)."""
    words_file, vectors_file = cache / "anchor-words.json", cache / "anchor-vectors.npy"
    if words_file.exists() and vectors_file.exists():
        return Anchors(json.loads(words_file.read_text()), np.load(vectors_file))
    chunks: list[Chunk] = []
    for item in walk([EXAMPLES]):
        if isinstance(item, Found) and not item.rel.endswith(".jsonl"):
            chunks += chunk_document(load_document(item.path, item.rel), ChunkSettings())
    kept = [c for c in chunks if len(c.text.split()) >= 20][:limit]
    vectors = embedder().embed([c.text for c in kept])
    words = [c.text.split() for c in kept]
    cache.mkdir(parents=True, exist_ok=True)
    np.save(vectors_file, vectors)
    words_file.write_text(json.dumps(words))
    return Anchors(words, vectors)


def file_path(root: Path, number: int) -> Path:
    """Where synthetic file ``number`` lives (a thousand files a folder)."""
    return root / f"{number // 1000:04d}" / f"d{number:07d}.txt"


def file_text(anchors: Anchors, rng: np.random.Generator, picks: np.ndarray) -> str:
    """One paragraph per picked anchor: its words in a fresh random draw, wrapped in lines."""
    paragraphs = []
    for anchor in picks:
        pool = anchors.words[anchor]
        drawn = [pool[i] for i in rng.integers(0, len(pool), size=len(pool))]
        lines = [" ".join(drawn[i : i + WORDS_PER_LINE]) for i in range(0, len(drawn), WORDS_PER_LINE)]
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs) + "\n"


def paragraph_bounds(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph, the chunks of a synthetic file."""
    bounds, start = [], 0
    for piece in text.rstrip("\n").split("\n\n"):
        bounds.append((start, start + len(piece)))
        start += len(piece) + 2
    return bounds


def chunk_vectors(anchors: Anchors, rng: np.random.Generator, picks: np.ndarray, kind: str) -> np.ndarray:
    """Unit vectors: anchored (the anchors' embeddings plus noise) or random."""
    noise = rng.standard_normal((len(picks), DIMENSION)).astype(np.float32)
    if kind == "anchored":
        noise = anchors.vectors[picks] + noise * (NOISE / np.sqrt(DIMENSION))
    return noise / np.linalg.norm(noise, axis=1, keepdims=True)


def write_file(root: Path, number: int, text: str) -> tuple[Path, bytes]:
    path = file_path(root, number)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode()
    path.write_bytes(data)
    return path, data


def new_document(root: Path, path: Path, data: bytes, text: str, vectors: np.ndarray) -> NewDocument:
    """The file as ``retrieval.indexer`` stores it: sha256 as doc_id, rel path, one chunk a paragraph."""
    rel = path.relative_to(root).as_posix()
    doc = Document(
        doc_id=hashlib.sha256(data).hexdigest(),
        path=rel,
        kind="text",
        text=text,
        language="text",
        mtime=path.stat().st_mtime,
    )
    chunks = [
        make_chunk(doc, start, end, ordinal, n_tokens=(end - start) // 4)
        for ordinal, (start, end) in enumerate(paragraph_bounds(text))
    ]
    return NewDocument(str(root), str(path.resolve()), len(data), doc, chunks, vectors)


def synthetic_files(
    anchors: Anchors, root: Path, n_files: int, seed: int, kind: str
) -> Iterator[tuple[NewDocument, np.ndarray]]:
    """Write ``n_files`` files under ``root``; yield each as the index stores it, with its vectors."""
    rng = np.random.default_rng(seed)
    for number in range(n_files):
        picks = rng.integers(0, len(anchors), size=CHUNKS_PER_FILE)
        text = file_text(anchors, rng, picks)
        vectors = chunk_vectors(anchors, rng, picks, kind)
        path, data = write_file(root, number, text)
        yield new_document(root, path, data, text, vectors), vectors


def build_collection(
    anchors: Anchors,
    work: Path,
    n_chunks: int,
    kind: str,
    embedder: Embedder,
    hnsw_threshold: int,
    location: Path | None = None,
) -> dict[str, float]:
    """Files under ``work/docs``, the index in ``location`` (``work/index`` unless given: a folder
    or a ``milvus:`` spec), vectors in ``work/vectors.npy``; recorded as built by ``embedder``
    (its name, and its variant where it names one, as ``retrieval.indexer`` records them), so
    that its later ingests find the same settings."""
    named = getattr(embedder, "variant", None)
    variant = {"embedder_variant": named} if named else {}
    root, folder = (work / "docs").resolve(), location or work / "index"
    n_files = n_chunks // CHUNKS_PER_FILE
    settings = ChunkSettings()
    config = IndexConfig(embedder.name, DIMENSION, settings.tokens, settings.overlap, **variant)
    matrix = np.lib.format.open_memmap(
        work / "vectors.npy.tmp", mode="w+", dtype=np.float32, shape=(n_files * CHUNKS_PER_FILE, DIMENSION)
    )
    started, cpu = time.perf_counter(), time.process_time()
    with open_index(folder, expect=config, create=True, hnsw_threshold=hnsw_threshold) as index:
        with index.write() as writer:
            for number, (item, vectors) in enumerate(synthetic_files(anchors, root, n_files, 7, kind)):
                writer.add(item)
                matrix[number * CHUNKS_PER_FILE : (number + 1) * CHUNKS_PER_FILE] = vectors
            rows_written, rows_cpu = time.perf_counter(), time.process_time()
        total, total_cpu = time.perf_counter() - started, time.process_time() - cpu
        stored = index.stats()["chunks"]
    if stored != len(matrix):
        raise RuntimeError(f"{folder}: {stored} chunks stored, {len(matrix)} made")
    matrix.flush()
    del matrix
    (work / "vectors.npy.tmp").rename(work / "vectors.npy")
    return {
        "files": n_files,
        "chunks": stored,
        "build_s": total,
        "write_rows_s": rows_written - started,
        "search_files_s": total - (rows_written - started),
        "write_rows_cpu_s": rows_cpu - cpu,
        "search_files_cpu_s": total_cpu - (rows_cpu - cpu),
    }


def change_files(anchors: Anchors, work: Path, share: float) -> int:
    """Rewrite ``share`` of the files with new text (as an edit would), spread over the folder."""
    root = (work / "docs").resolve()
    n_files = sum(1 for _ in root.rglob("*.txt"))
    rng = np.random.default_rng(99)
    chosen = rng.choice(n_files, size=max(1, round(n_files * share)), replace=False)
    for number in chosen:
        write_file(root, int(number), file_text(anchors, rng, rng.integers(0, len(anchors), CHUNKS_PER_FILE)))
    return len(chosen)
