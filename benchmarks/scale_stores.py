"""The two index stores side by side, for ``bench_scale.py --store faiss,milvus``.

The same synthetic collection (``scale_corpus.py``: the same files, the same vectors, seeded) is
written into an index folder (FAISS + BM25 + SQLite) and into a Milvus Lite file, each through
longqa's own write; then, per store, each step in a process of its own:

* ``build``: wall seconds of the write (rows, then search files or Milvus's flush and commit),
  size on disk, peak memory (Milvus Lite's engine runs in a process of its own: its memory is
  not in this process's figure, and is read from its ``/proc`` entry instead).
* ``search``: open and first search; 200 queries one at a time through ``HybridSearcher.search``
  per mode, query vectors embedded beforehand; recall@10 and @50 of the store's dense search
  against exact search over the same vectors (chunks matched by file and position, since the
  stores number their rows differently). For Milvus also its own hybrid search (its RRF ranker
  over the same two searches, one call), its time and how far its top 5 agree with longqa's fusion.
* ``throughput``: 8 threads searching at once (hybrid, 400 searches): searches a second and
  each search's time meanwhile.
* ``reingest``: ``retrieval.indexer.ingest`` of the unchanged folder, twice.

``quality`` (once): examples/ into both stores with one embedding pass, then recall@5 of gold
evidence over ``tests/retrieval/questions.jsonl`` (the quality test's figure) per mode, and for
Milvus its RRF ranker too.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import scale_corpus, scale_faiss

STORES = ("faiss", "milvus")
STEPS = ("build", "search", "throughput", "reingest")
SEARCHERS = 8
CONCURRENT_SEARCHES = 400


def location(work: Path, store: str) -> Path:
    return Path(f"milvus:{work / 'milvus.db'}") if store == "milvus" else work / "index"


def result_file(work: Path, store: str, step: str) -> Path:
    return work / f"{store}-{step}.json"


def _milvus_engine_mb() -> float:
    """Peak memory of this process's Milvus Lite engines (children named milvus), from /proc."""
    total = 0.0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("Name", "").strip() == "milvus" and int(fields.get("PPid", "0")) == os.getpid():
            total += int(fields.get("VmHWM", "0 kB").split()[0]) / 1024
    return total


def disk_mb(path: Path) -> float:
    files = path.rglob("*") if path.is_dir() else [path]
    return round(sum(p.stat().st_blocks * 512 for p in files if p.is_file()) / 2**20, 1)


def step_build(work: Path, args: Any, store: str, embedder_factory) -> dict[str, Any]:
    from retrieval.embeddings import SentenceEmbedder

    anchors = scale_corpus.load_anchors(args.work, embedder_factory, 64 if args.quick else None)
    where = location(work, store)
    shutil.rmtree(work / "docs", ignore_errors=True)
    if store == "milvus":
        for stale in work.glob("*milvus.db*"):
            stale.unlink()
    else:
        shutil.rmtree(where, ignore_errors=True)
    engine = {}
    if store == "milvus":  # sampled while the engine lives (it stops with the index's close)
        engine = _sampling_engine_memory()
    figures = scale_corpus.build_collection(
        anchors, work, args.size, args.vectors, SentenceEmbedder(), args.hnsw_threshold, where
    )
    if engine:
        engine["stop"].set()
        engine["thread"].join()
        figures["engine_peak_rss_mb"] = engine["peak"][0]
    disk = work / "milvus.db" if store == "milvus" else where
    return {**figures, "disk_mb": disk_mb(disk)}


def _sampling_engine_memory() -> dict[str, Any]:
    stop, peak = threading.Event(), [0.0]

    def sample() -> None:
        while not stop.wait(0.5):
            peak[0] = max(peak[0], _milvus_engine_mb())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    return {"stop": stop, "peak": peak, "thread": thread}


def _exact_keys(work: Path, query_vectors: np.ndarray) -> list[list[tuple[str, int]]]:
    """The exact top chunks of each query, as (path, position): the same in both stores."""
    matrix = np.load(work / "vectors.npy", mmap_mode="r")
    rows = scale_faiss.exact_top(matrix, query_vectors)
    root = (work / "docs").resolve()
    per_file = scale_corpus.CHUNKS_PER_FILE
    return [
        [
            (scale_corpus.file_path(root, int(r) // per_file).relative_to(root).as_posix(), int(r) % per_file)
            for r in top
        ]
        for top in rows
    ]


def step_search(work: Path, args: Any, store: str, model, embedded) -> dict[str, Any]:
    from benchmarks.bench_scale import _timed_searches
    from retrieval.search import HybridSearcher
    from retrieval.stores import open_index

    queries = list(embedded.vectors)
    started = time.perf_counter()
    index = open_index(location(work, store), hnsw_threshold=args.hnsw_threshold)
    opened = time.perf_counter() - started
    index.lexical_search("warm", 1)
    loaded = time.perf_counter() - started
    searcher = HybridSearcher(index, embedded)
    figures: dict[str, Any] = {"open_s": opened, "open_and_load_s": loaded}
    for mode in ("hybrid", "dense", "lexical"):
        figures[mode] = scale_faiss.percentiles(_timed_searches(searcher, queries, mode))
    vectors = embedded.embed(queries)
    found = []
    for vector in vectors:
        rowids = [rowid for rowid, _ in index.dense_search(vector, scale_faiss.DEPTH)]
        chunks = index.chunks(rowids)
        found.append([(chunks[r].span.path, chunks[r].ordinal) for r in rowids if r in chunks])
    exact = _exact_keys(work, vectors)
    for k in (10, scale_faiss.DEPTH):
        figures[f"recall@{k}"] = float(
            np.mean([len(set(f[:k]) & set(e[:k])) / k for f, e in zip(found, exact)])
        )
    if store == "milvus":
        figures["milvus_rrf"] = _milvus_rrf(index, searcher, queries, vectors)
    index.close()
    return figures


def milvus_rrf_search(index, vector: np.ndarray, query: str, k: int, depth: int = 50) -> list[int]:
    """Milvus's own hybrid search: its dense and BM25 searches fused by its RRF ranker, in one call."""
    from pymilvus import AnnSearchRequest, RRFRanker

    from retrieval.milvus import client as milvus
    from retrieval.milvus import records
    from retrieval.search import RRF_K

    where = index.state().visible()
    requests = [
        AnnSearchRequest([vector.tolist()], "dense", milvus.DENSE_SEARCH, depth, expr=where),
        AnnSearchRequest([records.bm25_terms(query)], "sparse", {"metric_type": "BM25"}, depth, expr=where),
    ]
    hits = index.client.hybrid_search(
        index.location.name, requests, RRFRanker(RRF_K), limit=k, output_fields=[]
    )
    return [int(hit["id"]) for hit in hits[0]]


def _milvus_rrf(index, searcher, queries: list[str], vectors: np.ndarray) -> dict[str, Any]:
    seconds, agree = [], []
    for query, vector in zip(queries, vectors):
        started = time.perf_counter()
        theirs = milvus_rrf_search(index, vector, query, 5)
        seconds.append(time.perf_counter() - started)
        ours = [hit.chunk.chunk_id for hit in searcher.search(query, k=5)]
        chunks = index.chunks(theirs)
        agree.append(len({chunks[r].chunk_id for r in theirs if r in chunks} & set(ours)) / 5)
    return {**scale_faiss.percentiles(seconds), "top5_shared_with_longqa_fusion": float(np.mean(agree))}


def step_throughput(work: Path, args: Any, store: str, embedded) -> dict[str, Any]:
    from retrieval.search import HybridSearcher
    from retrieval.stores import open_index

    queries = list(embedded.vectors)
    with open_index(location(work, store), hnsw_threshold=args.hnsw_threshold) as index:
        searcher = HybridSearcher(index, embedded)
        for query in queries[:10]:
            searcher.search(query, k=5)
        jobs = [queries[i % len(queries)] for i in range(CONCURRENT_SEARCHES)]

        def one(query: str) -> float:
            started = time.perf_counter()
            searcher.search(query, k=5)
            return time.perf_counter() - started

        started = time.perf_counter()
        alone = [one(q) for q in jobs[:100]]
        alone_s = time.perf_counter() - started
        started = time.perf_counter()
        with ThreadPoolExecutor(SEARCHERS) as pool:
            seconds = list(pool.map(one, jobs))
        wall = time.perf_counter() - started
    return {
        "searchers": SEARCHERS,
        "searches": len(jobs),
        "searches_per_s": len(jobs) / wall,
        "one_searcher_per_s": len(alone) / alone_s,
        "under_load": scale_faiss.percentiles(seconds),
    }


def step_reingest(work: Path, args: Any, store: str) -> dict[str, Any]:
    from ingest.chunking import ChunkSettings
    from retrieval.embeddings import SentenceEmbedder
    from retrieval.indexer import ingest

    figures: dict[str, Any] = {}
    for name in ("unchanged", "unchanged_again"):
        started = time.perf_counter()
        report = ingest([work / "docs"], location(work, store), SentenceEmbedder(), ChunkSettings())
        figures[name] = {"wall_s": time.perf_counter() - started, "summary": report.to_dict()["summary"]}
    return figures


def step_quality(out: Path, model) -> dict[str, Any]:
    """examples/ into both stores (one embedding pass), recall@5 of gold evidence per mode."""
    from app.evaluation.metrics import CitedSpan, evidence_hit
    from ingest.chunking import ChunkSettings
    from retrieval.indexer import ingest
    from retrieval.search import HybridSearcher
    from retrieval.stores import open_index
    from tests.retrieval.test_quality import QUESTIONS, gold_evidence, recall_at

    class Remembered:
        name, dimension, variant = model.name, model.dimension, getattr(model, "variant", None)

        def __init__(self) -> None:
            self.vectors: dict[str, np.ndarray] = {}

        def embed(self, texts: list[str]) -> np.ndarray:
            missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
            if missing:
                self.vectors.update(zip(missing, model.embed(missing)))
            return np.stack([self.vectors[t] for t in texts])

    shared = Remembered()
    figures: dict[str, Any] = {}
    for store in STORES:
        where = location(out, store)
        ingest([scale_corpus.EXAMPLES], where, shared, ChunkSettings())
        with open_index(where) as index:
            searcher = HybridSearcher(index, shared)
            figures[store] = {
                mode: {"recall@5": recall, "missed": missed}
                for mode in ("hybrid", "dense", "lexical")
                for recall, missed in [recall_at(searcher, mode)]
            }
            if store == "milvus":
                missed = []
                for q in QUESTIONS:
                    rowids = milvus_rrf_search(index, shared.embed([q["question"]])[0], q["question"], 5)
                    chunks = index.chunks(rowids)
                    spans = [CitedSpan.of(chunks[r].span) for r in rowids if r in chunks]
                    if evidence_hit(spans, gold_evidence(q["evidence"])) != 1.0:
                        missed.append(q["id"])
                figures[store]["milvus_rrf"] = {
                    "recall@5": 1 - len(missed) / len(QUESTIONS),
                    "missed": missed,
                }
    return figures


def load(work: Path) -> dict[str, Any]:
    """Every figure measured so far under ``work``, by size, store and step."""
    sizes: dict[str, Any] = {}
    for folder in sorted(
        (p for p in work.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name)
    ):
        for store in STORES:
            steps = {
                s: json.loads(result_file(folder, store, s).read_text())
                for s in STEPS
                if result_file(folder, store, s).exists()
            }
            if steps:
                sizes.setdefault(folder.name, {})[store] = steps
    return sizes
