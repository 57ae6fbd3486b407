"""The dense side of the index: a FAISS inner-product index over normalised embeddings.

Exact search (``IndexFlatIP``) by default; HNSW once the collection passes a configurable size,
where exact search would grow slow. FAISS ids are the chunks' SQLite rowids. A saved file is
replaced whole or not at all: never left truncated.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from core.files import atomic_write

DEFAULT_HNSW_THRESHOLD = 200_000
_HNSW_M = 32
_EF_CONSTRUCTION = 80
_EF_SEARCH = 64


def build(
    ids: np.ndarray, vectors: np.ndarray, dimension: int, hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD
) -> faiss.Index:
    """An id-mapped FAISS index holding ``vectors`` under ``ids``."""
    inner: faiss.Index
    if len(ids) >= hnsw_threshold:
        inner = faiss.IndexHNSWFlat(dimension, _HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = _EF_CONSTRUCTION
        inner.hnsw.efSearch = _EF_SEARCH
    else:
        inner = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIDMap2(inner)
    if len(ids):
        index.add_with_ids(
            np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64)
        )
    return index


def kind(index: faiss.Index) -> str:
    """'flat' or 'hnsw'."""
    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index  # type: ignore[attr-defined]
    return "hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat"


def save(index: faiss.Index, path: Path) -> None:
    """Replace ``path`` whole and durably (serialised in memory, then ``atomic_write``).

    Not ``faiss.write_index``: its C++ writer can leave a short file behind on a full disk without
    raising, and that file would then be swapped into place.
    """
    atomic_write(path, faiss.serialize_index(index).tobytes())


def load(path: Path) -> faiss.Index:
    index = faiss.read_index(str(path))
    inner = faiss.downcast_index(index.index)  # type: ignore[attr-defined]
    if isinstance(inner, faiss.IndexHNSW):
        inner.hnsw.efSearch = _EF_SEARCH
    return index


def search(index: faiss.Index, query: np.ndarray, n: int) -> list[tuple[int, float]]:
    """Up to ``n`` (id, cosine) pairs, best first."""
    if index.ntotal == 0:
        return []
    scores, ids = index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), min(n, index.ntotal))
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
