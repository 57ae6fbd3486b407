"""FAISS index types side by side on one collection's vectors, for ``bench_scale.py``.

Exact search (``IndexFlatIP``), HNSW and IVF-flat are built over the same vectors and asked the
same queries one at a time, as longqa asks them (k = 50, the hybrid search's dense depth).
Reported per variant: build seconds, serialised bytes, seconds to load the file back, per-query
search p50 and p95, and recall@10 and recall@50 against exact search.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import faiss
import numpy as np

from retrieval import vectors

DEPTH = 50


def exact_top(matrix: np.ndarray, queries: np.ndarray, k: int = DEPTH, block: int = 100_000) -> np.ndarray:
    """Row numbers of the ``k`` best rows for each query (exact inner product), best first."""
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(matrix), block):
        scores = queries @ np.asarray(matrix[start : start + block]).T
        rows = np.broadcast_to(np.arange(start, start + scores.shape[1]), scores.shape)
        merged_scores = np.concatenate([best_scores, scores], axis=1)
        merged_rows = np.concatenate([best_rows, rows], axis=1)
        keep = np.argsort(-merged_scores, axis=1, kind="stable")[:, :k]
        best_scores = np.take_along_axis(merged_scores, keep, axis=1)
        best_rows = np.take_along_axis(merged_rows, keep, axis=1)
    return best_rows


def recall(found: list[list[int]], exact: np.ndarray, k: int) -> float:
    """Mean share of the exact top ``k`` found in each result's first ``k``."""
    shares = [len(set(f[:k]) & set(e[:k].tolist())) / k for f, e in zip(found, exact)]
    return float(np.mean(shares))


def percentiles(seconds: list[float]) -> dict[str, float]:
    values = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(values, 50)), "p95_ms": float(np.percentile(values, 95))}


def time_queries(index: faiss.Index, queries: np.ndarray) -> tuple[list[list[int]], list[float]]:
    """Each query searched alone (as the product does), its rows and its seconds."""
    found, seconds = [], []
    for query in queries:
        started = time.perf_counter()
        hits = vectors.search(index, query, DEPTH)
        seconds.append(time.perf_counter() - started)
        found.append([row for row, _ in hits])
    return found, seconds


def _hnsw(m: int, ef_construction: int) -> Callable[[np.ndarray], faiss.Index]:
    def make(matrix: np.ndarray) -> faiss.Index:
        index = faiss.IndexHNSWFlat(matrix.shape[1], m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.add(matrix)
        return index

    return make


def _ivf(lists: int) -> Callable[[np.ndarray], faiss.Index]:
    def make(matrix: np.ndarray) -> faiss.Index:
        index = vectors.ivf(matrix, lists)  # the product's own IVF, trained as it trains it
        index.add(matrix)
        return index

    return make


def _flat(matrix: np.ndarray) -> faiss.Index:
    index = faiss.IndexFlatIP(matrix.shape[1])
    index.add(matrix)
    return index


def variants(n: int, quick: bool) -> list[tuple[str, Callable[[np.ndarray], faiss.Index], str, list[int]]]:
    """(name, builder, search knob, knob values) for each index type tried: exact, HNSW, the
    product's IVF (``vectors.ivf_lists(n)`` lists) and one with twice as many (FAISS's 4 sqrt(n))."""
    lists = vectors.ivf_lists(n)
    if quick:
        return [("flat", _flat, "", [0]), ("hnsw32-efc80", _hnsw(32, 80), "efSearch", [64]),
                (f"ivf{lists}", _ivf(lists), "nprobe", [vectors.IVF_PROBES])]  # fmt: skip
    found = [
        ("flat", _flat, "", [0]),
        ("hnsw32-efc80", _hnsw(32, 80), "efSearch", [64, 128, 256]),
        (f"ivf{lists}", _ivf(lists), "nprobe", [16, 32, 64, 128]),
        (f"ivf{2 * lists}", _ivf(2 * lists), "nprobe", [32, 64, 128]),
    ]
    if n < 500_000:  # it built slower and found less than M 32 at 10,000 and 100,000 chunks
        found.insert(2, ("hnsw16-efc40", _hnsw(16, 40), "efSearch", [64, 128, 256]))
    return found


def _set(index: faiss.Index, knob: str, value: int) -> None:
    if knob == "efSearch":
        index.hnsw.efSearch = value
    elif knob == "nprobe":
        index.nprobe = value


def sweep(
    matrix: np.ndarray,
    queries: np.ndarray,
    exact: np.ndarray,
    log: Callable[[str], None],
    quick: bool = False,
) -> list[dict]:
    """Every variant built, saved, loaded and searched at each knob value."""
    rows: list[dict[str, Any]] = []
    for name, make, knob, values in variants(len(matrix), quick):
        log(f"faiss: building {name}")
        started = time.perf_counter()
        index = make(matrix)
        built = time.perf_counter() - started
        blob = faiss.serialize_index(index)
        started = time.perf_counter()
        faiss.deserialize_index(blob)
        loaded = time.perf_counter() - started
        for value in values:
            _set(index, knob, value)
            time_queries(index, queries[:20])  # warm caches
            found, seconds = time_queries(index, queries)
            rows.append(
                {
                    "index": name,
                    "knob": f"{knob}={value}" if knob else "",
                    "build_s": built,
                    "bytes": len(blob),
                    "load_s": loaded,
                    **percentiles(seconds),
                    "recall@10": recall(found, exact, 10),
                    "recall@50": recall(found, exact, DEPTH),
                }
            )
            log(
                f"faiss: {name} {knob}={value}: {rows[-1]['p50_ms']:.2f} ms, r@10 {rows[-1]['recall@10']:.3f}"
            )
        del index, blob
    return rows
