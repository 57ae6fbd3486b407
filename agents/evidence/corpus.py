"""What the strategies read: one index's chunks in document order, its search, its documents,
and their sizes in the serving model's tokens."""

from __future__ import annotations

import random
import threading

from agents.evidence.blocks import block_text
from ingest.document import Chunk, Document
from retrieval.search import Hit, HybridSearcher
from retrieval.stores import IndexStore, resolved


class Corpus:
    """An index seen by the strategies. Safe to share between threads."""

    def __init__(self, index: IndexStore, searcher: HybridSearcher) -> None:
        self.index = index
        self.searcher = searcher
        self._lock = threading.Lock()
        self._chunks: list[Chunk] | None = None
        self._generation = -1
        self._documents: dict[str, Document] = {}
        self._token_counts: dict[tuple[str, str], int] = {}

    def chunks(self) -> list[Chunk]:
        """Every chunk, in document order."""
        with self._lock:
            generation = self.index.generation
            if self._chunks is None or generation != self._generation:
                self._chunks = self.index.all_chunks()
                self._documents.clear()
                self._generation = generation
            return self._chunks

    @property
    def cache_tag(self) -> str:
        """``folder@generation``: which collection, in which state, a cached prefix was read from."""
        return f"{resolved(self.index.folder)}@{self.index.generation}"

    def search(self, question: str, k: int) -> list[Hit]:
        return self.searcher.search(question, k=k)

    def document(self, path: str) -> Document:
        with self._lock:
            if path not in self._documents:
                self._documents[path] = self.index.document(path)
            return self._documents[path]

    @property
    def cl100k_tokens(self) -> int:
        return sum(c.n_tokens for c in self.chunks())

    def block_tokens(self, chunk: Chunk, backend_spec: str, count) -> int:
        """A chunk's block size in the backend's tokens (marker and label included), cached."""
        key = (backend_spec, chunk.chunk_id)
        cached = self._token_counts.get(key)
        if cached is None:
            cached = count(block_text(999, chunk))
            self._token_counts[key] = cached
        return cached

    def estimate_tokens(self, backend_spec: str, count, sample: int = 24) -> int:
        """The whole corpus in the backend's tokens, from a sample's ratio to the known cl100k counts."""
        chunks = self.chunks()
        if not chunks:
            return 0
        picked = chunks if len(chunks) <= sample else random.Random(7).sample(chunks, sample)
        model = sum(self.block_tokens(c, backend_spec, count) for c in picked)
        base = sum(c.n_tokens for c in picked) or 1
        return int(self.cl100k_tokens * model / base)
