"""Hybrid search: tokenizer, fusion, the LangChain retriever adapter (both stores)."""

from __future__ import annotations

from pathlib import Path

from langchain_core.retrievers import BaseRetriever

from ingest.chunking import ChunkSettings
from retrieval.indexer import ingest
from retrieval.lexical import tokenize
from retrieval.retriever import LongqaRetriever
from retrieval.search import RRF_K, HybridSearcher
from retrieval.stores import open_index
from tests.conftest import HashEmbedder


def test_tokenizer_splits_identifiers_and_stems() -> None:
    terms = tokenize("HTTPAdapter get_parser runs the options")
    assert {"httpadapt", "http", "adapt", "get_pars", "get", "parser", "run", "option"} <= set(terms)
    assert "the" not in terms


def test_lexical_search_finds_exact_identifiers(corpus: Path, ix: Path) -> None:
    ingest([corpus], ix, HashEmbedder(), ChunkSettings(200, 20))
    with open_index(ix) as index:
        hits = HybridSearcher(index, HashEmbedder()).search("WithMessagef", k=3, mode="lexical")
        assert hits[0].chunk.section == "WithMessagef"
        assert hits[0].chunk.span.path == "code/errors.go"


def test_fusion_is_reciprocal_rank(corpus: Path, ix: Path) -> None:
    ingest([corpus], ix, HashEmbedder(), ChunkSettings(200, 20))
    with open_index(ix) as index:
        hits = HybridSearcher(index, HashEmbedder()).search("Cause of the error stack", k=10)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for hit in hits:
        expected = sum(1.0 / (RRF_K + r) for r in (hit.dense_rank, hit.lexical_rank) if r is not None)
        assert abs(hit.score - expected) < 1e-12


def test_langchain_retriever_returns_spans(corpus: Path, ix: Path) -> None:
    ingest([corpus], ix, HashEmbedder(), ChunkSettings(200, 20))
    with open_index(ix) as index:
        retriever = LongqaRetriever(searcher=HybridSearcher(index, HashEmbedder()), k=2, mode="lexical")
        assert isinstance(retriever, BaseRetriever)
        documents = retriever.invoke("forty-two answer")
    assert documents[0].metadata["span_path"] == "notes.md"
    assert documents[0].metadata["label"].startswith("notes.md:")
    assert "forty-two" in documents[0].page_content


def test_empty_query_returns_nothing(corpus: Path, ix: Path) -> None:
    ingest([corpus], ix, HashEmbedder(), ChunkSettings(200, 20))
    with open_index(ix) as index:
        assert HybridSearcher(index, HashEmbedder()).search("   ") == []
