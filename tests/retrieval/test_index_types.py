"""The FAISS index type switch (exact below a size, IVF above it), indexes written before it, the
BM25 build that scales, and the scale benchmark at a tiny size."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import bm25s
import numpy as np
import pytest

from retrieval import derived, lexical, vectors
from retrieval.indexer import ingest
from retrieval.manifest import read_manifest
from retrieval.search import HybridSearcher
from retrieval.store import Index
from tests.conftest import FIXTURES, ROOT, HashEmbedder
from tests.retrieval.test_index import SETTINGS, _document

BEFORE = FIXTURES / "index-v1"  # written by longqa before the IVF switch (flat, and HNSW above 1 chunk)
QUERIES = ["decode error", "queue", "hash", "FNV offset basis", "UnicodeDecodeError codec"]


def _unit_rows(n: int, seed: int = 0, clusters: int = 40) -> np.ndarray:
    """Clustered unit vectors, as embeddings of a real collection are."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, 32))
    rows = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, 32))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_small_collection_above_the_threshold_searches_exactly(corpus: Path, tmp_path: Path) -> None:
    ingest([corpus], tmp_path / "exact", HashEmbedder(), SETTINGS, hnsw_threshold=1_000_000)
    ingest([corpus], tmp_path / "ivf", HashEmbedder(), SETTINGS, hnsw_threshold=10)
    assert read_manifest(tmp_path / "exact")["faiss"] == "flat"  # type: ignore[index]
    assert read_manifest(tmp_path / "ivf")["faiss"] == "ivf"  # type: ignore[index]
    with Index.open(tmp_path / "exact") as exact, Index.open(tmp_path / "ivf") as ivf:
        n = exact.stats()["chunks"]
        for query in ["FASTA sequence error", "forty-two", "decode the codec", "queue"]:
            for mode in ("dense", "hybrid"):
                want = HybridSearcher(exact, HashEmbedder()).search(query, k=n, mode=mode)
                got = HybridSearcher(ivf, HashEmbedder()).search(query, k=n, mode=mode)
                assert [h.chunk.chunk_id for h in got] == [h.chunk.chunk_id for h in want]


def test_ivf_lists_leave_small_collections_exact_and_large_ones_probed() -> None:
    assert vectors.ivf_lists(100) == 2  # 39 training points a list at least
    assert vectors.ivf_lists(100_000) == 512 and vectors.ivf_lists(1_000_000) == 2048
    rows = _unit_rows(5_000)
    ids = np.arange(len(rows), dtype=np.int64) + 7
    approximate = vectors.build(ids, rows, 32, threshold=1_000)
    exact = vectors.build(ids, rows, 32, threshold=1_000_000)
    assert vectors.kind(approximate) == "ivf" and vectors.kind(exact) == "flat"
    found = [
        len({i for i, _ in vectors.search(approximate, q, 10)} & {i for i, _ in vectors.search(exact, q, 10)})
        for q in rows[:200]
    ]
    assert np.mean(found) / 10 >= 0.95  # 64 of 128 lists probed; one list alone finds far less


def test_saved_ivf_loads_memory_mapped_with_its_probes(tmp_path: Path) -> None:
    rows = _unit_rows(3_000, seed=1)
    index = vectors.build(np.arange(3_000, dtype=np.int64), rows, 32, threshold=1)
    vectors.save(index, tmp_path / "faiss.index")
    loaded = vectors.load(tmp_path / "faiss.index")
    assert vectors.kind(loaded) == "ivf" and loaded.ntotal == 3_000
    assert vectors.search(loaded, rows[5], 3) == vectors.search(index, rows[5], 3)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_an_index_written_before_opens_and_searches_as_it_did(kind: str, tmp_path: Path) -> None:
    folder = tmp_path / kind
    shutil.copytree(BEFORE / kind, folder)
    expected = json.loads((BEFORE / "expected.json").read_text())[kind]
    with Index.open(folder) as index:
        searcher = HybridSearcher(index, HashEmbedder())
        for mode, hits in expected.items():
            for query in QUERIES:
                assert [h.chunk.chunk_id for h in searcher.search(query, k=5, mode=mode)] == hits[query]
    assert vectors.kind(vectors.load(folder / "faiss.index")) == kind  # loaded, not rebuilt


def test_an_index_written_before_takes_new_documents(tmp_path: Path) -> None:
    folder = tmp_path / "hnsw"
    shutil.copytree(BEFORE / "hnsw", folder)
    with Index.open(folder, writable=True, hnsw_threshold=1) as index:
        with index.write() as writer:
            writer.add(_document("new.md", "a zebra crossing guide for the new document"))
        assert read_manifest(folder)["faiss"] == "ivf"  # type: ignore[index]
        hits = HybridSearcher(index, HashEmbedder()).search("zebra crossing", k=3, mode="lexical")
        assert hits[0].chunk.span.path == "new.md"
        assert index.stats()["documents"] == 6


def test_unchanged_reingest_keeps_the_generation_and_search_files(corpus: Path, tmp_path: Path) -> None:
    ingest([corpus], tmp_path / "ix", HashEmbedder(), SETTINGS)
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "ix").iterdir()}
    generation = read_manifest(tmp_path / "ix")["generation"]  # type: ignore[index]
    report = ingest([corpus], tmp_path / "ix", HashEmbedder(), SETTINGS)
    assert report.count("unchanged") == 5 and report.count("ingested") == 0
    assert read_manifest(tmp_path / "ix")["generation"] == generation  # type: ignore[index]
    after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "ix").iterdir()}
    assert {k: after[k] for k in ("faiss.index", "bm25", "manifest.json")} == {
        k: before[k] for k in ("faiss.index", "bm25", "manifest.json")
    }
    (corpus / "notes.md").write_text("# Notes\n\nChanged words.\n")
    ingest([corpus], tmp_path / "ix", HashEmbedder(), SETTINGS)
    assert read_manifest(tmp_path / "ix")["generation"] == generation + 1  # type: ignore[index]


def test_bm25_matrix_equals_bm25s_own_build() -> None:
    texts = [
        "The HTTPAdapter sends get_parser requests",
        "the the and of",  # stopwords only: an empty document
        "Parser errors: HTTP 404 and 500 from the adapter adapter adapter",
        "Ünïcode wörds und Zahlen 42 get_parser",
    ] * 3
    vocab: dict[str, int] = {}
    corpus = lexical._TokenIds(texts, vocab)
    assert list(corpus) == [[vocab[t] for t in lexical.tokenize(text)] for text in texts]
    ours, theirs = lexical._BM25(), bm25s.BM25()
    ours.index(bm25s.tokenization.Tokenized(ids=corpus, vocab=dict(vocab)), show_progress=False)  # type: ignore[arg-type]
    theirs.index(bm25s.tokenization.Tokenized(ids=list(corpus), vocab=dict(vocab)), show_progress=False)
    for key in ("indptr", "indices"):
        assert np.array_equal(ours.scores[key], theirs.scores[key])
    assert np.allclose(ours.scores["data"], theirs.scores["data"], rtol=1e-6)


def test_a_collection_of_stopwords_only_has_no_keyword_hits(tmp_path: Path) -> None:
    index = lexical.LexicalIndex.build([1, 2], ["the and of", "a an the"])
    assert index.search("the", 5) == []
    index.save(tmp_path / "bm25")
    assert lexical.LexicalIndex.load(tmp_path / "bm25").search("and", 5) == []


def test_rows_are_read_compactly_in_rowid_order(corpus: Path, tmp_path: Path) -> None:
    ingest([corpus], tmp_path / "ix", HashEmbedder(), SETTINGS)
    connection = sqlite3.connect(tmp_path / "ix" / "chunks.sqlite")
    rows = derived.read_rows(connection)
    stored = connection.execute("SELECT id, embedding FROM chunks ORDER BY id").fetchall()
    connection.close()
    assert rows.ids.tolist() == [r[0] for r in stored] and len(rows.texts) == len(stored)
    matrix = np.frombuffer(rows.embeddings, dtype=np.float32).reshape(len(stored), -1)
    assert np.array_equal(matrix[3], np.frombuffer(stored[3][1], dtype=np.float32))


@pytest.mark.slow
def test_scale_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "bench_scale.py"), "--sizes", "2000", "--quick"]
    command += ["--work", str(tmp_path / "work"), "--out", str(out), "--hnsw-threshold", "1000"]
    subprocess.run(command, check=True, cwd=ROOT, timeout=900)
    steps = json.loads(out.read_text())["sizes"]["2000"]
    assert set(steps) == {"build", "search", "faiss", "reingest"}
    assert steps["build"]["chunks"] == 2000 and steps["build"]["faiss"] == "ivf"
    assert 0.9 <= steps["search"]["recall@10"] <= 1.0
    assert {v["index"].rstrip("0123456789") for v in steps["faiss"]["variants"]} == {
        "flat",
        "hnsw32-efc",
        "ivf",
    }
    assert steps["reingest"]["unchanged"]["summary"]["unchanged"] == 200
    assert steps["reingest"]["changed_1pct"]["summary"]["ingested"] == 2
    assert "| 2,000 | ivf |" in out.with_suffix(".md").read_text()
    assert not (tmp_path / "work" / "2000" / "index").exists()  # removed once measured
