"""The dense side of the index: a FAISS inner-product index over normalised embeddings.

Exact search (``IndexFlatIP``) for collections under ``DEFAULT_HNSW_THRESHOLD`` chunks; an
inverted-file index (``IndexIVFFlat``) from there on, where exact search grows slow. FAISS ids
are the chunks' SQLite rowids. A saved file is replaced whole or not at all: never left
truncated; it is read memory-mapped. Files written with HNSW by earlier versions still load.

Why IVF (``benchmarks/bench_scale.py``, figures in ``benchmarks/results/scale.md``): a
collection's chunks sit in tight clusters (a manual's pages, a codebase's files), where HNSW's
graph loses its way. At 1,000,000 chunks HNSW (M 32, efConstruction 80) took 530 s to build and
found 48-69% of the exact top 10 (efSearch 64-256); IVF with 2,048 lists built in 81 s and found
99.4% with 64 lists probed, in 2.5 ms a query; exact search took 120 ms.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

from core.files import atomic_write

DEFAULT_HNSW_THRESHOLD = 100_000
"""From this many chunks, IVF instead of exact search (exact: 11-44 ms a query at 100,000 chunks,
120 ms at 1,000,000). Named for HNSW, the approximate index of earlier versions, as the settings
still call it."""
IVF_PROBES = 64
"""Lists searched per query: recall@10 0.994 at 1,000,000 chunks (2,048 lists) in 2.5 ms, 0.998
at 100,000 (512 lists); 32 probes found 0.988 and 0.993."""
IVF_TRAIN_PER_LIST = 64
"""Training sample per list (FAISS warns under 39)."""
IVF_ITERATIONS = 10
_EF_SEARCH = 64  # HNSW files of earlier versions


def ivf_lists(n: int) -> int:
    """About 2 sqrt(n) lists, a power of two, with 39 training points each at least (so a small
    collection gets few lists, all probed, and its search stays exact). Half FAISS's usual 4
    sqrt(n): at 1,000,000 chunks 2,048 lists built in 81 s against 243 s for 4,096, and found as
    much at the same speed (64 probes: recall@10 0.994 in 2.5 ms; 4,096 lists, 128 probes:
    0.995 in 5.8 ms)."""
    lists = 2 ** round(math.log2(max(1.0, 2 * math.sqrt(n))))
    return max(1, min(lists, n // 39))


def ivf(vectors: np.ndarray, lists: int | None = None) -> faiss.IndexIVFFlat:
    """An empty IVF index trained on ``vectors`` (a fixed sample of them, so builds repeat)."""
    n, dimension = vectors.shape
    lists = lists or ivf_lists(n)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = IVF_ITERATIONS
    index.cp.min_points_per_centroid = 1  # ivf_lists keeps 39 a list where it can; below, no warning
    sample = np.random.default_rng(0).choice(n, min(n, IVF_TRAIN_PER_LIST * lists), replace=False)
    index.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
    index.nprobe = min(IVF_PROBES, lists)
    return index


def build(
    ids: np.ndarray, vectors: np.ndarray, dimension: int, threshold: int = DEFAULT_HNSW_THRESHOLD
) -> faiss.Index:
    """An id-mapped FAISS index holding ``vectors`` under ``ids``: exact below ``threshold``."""
    inner = ivf(vectors) if len(ids) >= threshold and len(ids) else faiss.IndexFlatIP(dimension)
    index = faiss.IndexIDMap2(inner)
    if len(ids):
        index.add_with_ids(
            np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64)
        )
    return index


def kind(index: faiss.Index) -> str:
    """'flat', 'ivf' or 'hnsw'."""
    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index  # type: ignore[attr-defined]
    if isinstance(inner, faiss.IndexIVF):
        return "ivf"
    return "hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat"


def save(index: faiss.Index, path: Path) -> None:
    """Replace ``path`` whole and durably (serialised in memory, then ``atomic_write``).

    Not ``faiss.write_index``: its C++ writer can leave a short file behind on a full disk without
    raising, and that file would then be swapped into place.
    """
    atomic_write(path, faiss.serialize_index(index).tobytes())


def load(path: Path) -> faiss.Index:
    """The index in ``path``, memory-mapped (``save`` only ever replaces the file whole)."""
    index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
    inner = faiss.downcast_index(index.index)  # type: ignore[attr-defined]
    if isinstance(inner, faiss.IndexIVF):
        inner.nprobe = min(IVF_PROBES, inner.nlist)
    elif isinstance(inner, faiss.IndexHNSW):
        inner.hnsw.efSearch = _EF_SEARCH
    return index


def search(index: faiss.Index, query: np.ndarray, n: int) -> list[tuple[int, float]]:
    """Up to ``n`` (id, cosine) pairs, best first."""
    if index.ntotal == 0:
        return []
    # One thread: a single query gains nothing from more, and waking OpenMP's threads beside
    # torch's took 2-12 ms a query instead of 0.4 (at 10,000 chunks). The setting is this
    # thread's own (an OpenMP per-thread value), so a build elsewhere keeps its threads.
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        scores, ids = index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), min(n, index.ntotal))
    finally:
        faiss.omp_set_num_threads(threads)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
