"""``longqa warm`` with a real llama.cpp model (the tiny packaged one): every segment's prefix is
stored once, a second warm reads nothing, and a chain of agents then loads every segment instead
of reading it; the router counts those tokens as cached."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.evidence.corpus import Corpus
from agents.models.backends import load_backend
from agents.models.prefix_cache import PrefixCache
from agents.orchestrator import Answerer, AskOptions
from agents.reading.router import reading
from agents.reading.warm import warm
from core.errors import LongqaError
from ingest.chunking import ChunkSettings
from retrieval.indexer import ingest
from retrieval.search import HybridSearcher
from retrieval.store import Index
from tests.agents.fakes import scripted
from tests.conftest import EXAMPLES, HashEmbedder

pytestmark = pytest.mark.slow


@pytest.fixture
def readme_corpus(tmp_path: Path):
    """Two real READMEs (about 3,000 tokens): a few segments of a 1,536-token window."""
    root = tmp_path / "docs"
    root.mkdir()
    (root / "examples.md").write_text((EXAMPLES / "README.md").read_text())
    (root / "simplejson.rst").write_text((EXAMPLES / "simplejson" / "README.rst").read_text())
    embedder = HashEmbedder()
    ingest([root], tmp_path / "ix", embedder, ChunkSettings(tokens=128, overlap=8))
    with Index.open(tmp_path / "ix") as index:
        yield Corpus(index, HybridSearcher(index, embedder))


def test_warm_stores_every_segment_once_and_a_chain_of_agents_loads_them(
    readme_corpus: Corpus, tmp_path: Path
) -> None:
    small_corpus = readme_corpus
    cache = PrefixCache(tmp_path / "prefixes")
    backend = load_backend("llamacpp:tiny", context_window=1536, answer_tokens=64, prefix_cache=cache)
    before = reading("How much disk space?", small_corpus, backend).prefixes.get("chain_of_agents")
    assert before and all(p.cached_tokens == 0 for p in before)

    seen: list[tuple[int, int, str]] = []
    report = warm(small_corpus, backend, progress=lambda done, total, what: seen.append((done, total, what)))
    segments = [p for p in report.parts if p.part.startswith("segment")]
    stored = [p for p in segments if p.status == "stored"]
    assert len(stored) >= 3 and all(p.bytes > 0 and p.tokens >= 256 for p in stored)
    assert all(p.status == "too short to keep" for p in segments if p not in stored)  # a short tail
    assert report.prefilled >= sum(p.tokens for p in stored) > 0
    assert cache.stats().entries == sum(p.status == "stored" for p in report.parts)
    assert seen[-1][0] == seen[-1][1] == len(report.parts) - (report.parts[0].status == "does not fit")

    again = warm(small_corpus, backend)
    assert all(p.status in ("already stored", "does not fit", "too short to keep") for p in again.parts)
    assert again.prefilled == 0 and sum(p.status == "already stored" for p in again.parts) == len(stored)

    after = reading("How much disk space?", small_corpus, backend).prefixes.get("chain_of_agents")
    assert after is not None
    assert [p.cached_tokens > 0 for p in after] == [p in stored for p in segments]

    fresh = load_backend("llamacpp:tiny", context_window=1536, answer_tokens=64, prefix_cache=cache)
    answer = Answerer(small_corpus, fresh, options=AskOptions(strategy="coa", verify=False)).ask(
        "How much disk space is needed?"
    )
    workers = [c for c in answer.trace.calls if c.role.startswith("worker")]
    assert len(workers) == len(segments)
    for call, part in zip(workers, segments, strict=True):
        assert ("loaded from the cache" in call.note) == (part in stored), (call.note, part)
        assert (call.cached_tokens >= part.tokens > 0) == (
            part in stored
        ) and call.estimated_seconds is not None


def test_warm_refuses_a_backend_that_keeps_no_prefix_states(small_corpus: Corpus) -> None:
    _, backend = scripted(["x"])
    with pytest.raises(LongqaError, match="keeps no prefix states"):
        warm(small_corpus, backend)
