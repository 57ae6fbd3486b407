"""Hybrid retrieval: dense search and BM25 fused by reciprocal rank (either store: FAISS and bm25s, or
Milvus's own two searches).

Dense search finds paraphrases, BM25 finds exact identifiers and rare words; reciprocal rank
fusion (Cormack et al., 2009) combines their rankings without having to calibrate their scores.
Each hit keeps both component ranks and scores so callers (the router, the UI) can see why it
was found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingest.document import Chunk
from retrieval.embeddings import Embedder
from retrieval.stores import IndexStore

RRF_K = 60


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the component ranks behind it."""

    chunk: Chunk
    score: float
    dense_score: float | None
    dense_rank: int | None
    lexical_score: float | None
    lexical_rank: int | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``longqa search --json`` and ``longqa serve``'s search (without its rank)."""
        return {
            "label": self.chunk.label,
            "score": self.score,
            "dense_rank": self.dense_rank,
            "lexical_rank": self.lexical_rank,
            "section": self.chunk.section,
            "chunk_id": self.chunk.chunk_id,
            "span": self.chunk.span.__dict__,
            "text": self.chunk.text,
        }


class HybridSearcher:
    """Searches one index with one embedder."""

    def __init__(self, index: IndexStore, embedder: Embedder, depth: int = 50) -> None:
        self.index = index
        self.embedder = embedder
        self.depth = depth

    def search(self, query: str, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        """The ``k`` best chunks for ``query``; mode is 'hybrid', 'dense' or 'lexical'."""
        query = query.strip()
        if not query or k <= 0:
            return []
        depth = max(self.depth, 4 * k)
        dense: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        if mode in ("hybrid", "dense"):
            dense = self.index.dense_search(self.embedder.embed([query])[0], depth)
        if mode in ("hybrid", "lexical"):
            lexical = self.index.lexical_search(query, depth)
        fused: dict[int, float] = {}
        for ranking in (dense, lexical):
            for rank, (rowid, _score) in enumerate(ranking):
                fused[rowid] = fused.get(rowid, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(fused, key=lambda r: (-fused[r], r))[:k]
        chunks = self.index.chunks(best)
        dense_at = {rowid: (rank, score) for rank, (rowid, score) in enumerate(dense)}
        lexical_at = {rowid: (rank, score) for rank, (rowid, score) in enumerate(lexical)}
        hits = []
        for rowid in best:
            if rowid not in chunks:
                continue
            d, lx = dense_at.get(rowid), lexical_at.get(rowid)
            hits.append(
                Hit(
                    chunk=chunks[rowid],
                    score=fused[rowid],
                    dense_score=d[1] if d else None,
                    dense_rank=d[0] + 1 if d else None,
                    lexical_score=lx[1] if lx else None,
                    lexical_rank=lx[0] + 1 if lx else None,
                )
            )
        return hits
