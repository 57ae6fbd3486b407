"""End to end with the real embedded model, real embeddings and real FAISS over examples/."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.evidence.corpus import Corpus
from agents.models.backends import load_backend
from agents.orchestrator import Answerer, AskOptions
from retrieval.search import HybridSearcher
from retrieval.store import Index

pytestmark = pytest.mark.slow


def test_default_model_answers_with_a_citation_that_round_trips(examples_index: Path, real_embedder) -> None:
    backend = load_backend("llamacpp:default", context_window=4096, answer_tokens=200)
    with Index.open(examples_index) as index:
        corpus = Corpus(index, HybridSearcher(index, real_embedder))
        streamed: list[str] = []
        answer = Answerer(corpus, backend, options=AskOptions(strategy="rag", k=4)).ask(
            "How much free disk space do I need to compile and install Gutenprint?", on_token=streamed.append
        )
        assert not answer.refused, answer.to_dict()
        assert answer.citations, answer.to_dict()
        assert "".join(streamed).strip() == answer.text
        for citation in answer.citations:
            document = corpus.document(citation.span.path)
            assert document.text[citation.span.char_start : citation.span.char_end] == citation.quote
            assert citation.support is not None and 0.0 <= citation.support <= 1.0
        assert any(
            c.span.path == "gutenprint-users-manual.pdf" and c.span.page == 9 for c in answer.citations
        )
        assert "50" in answer.text
        roles = [c.role for c in answer.trace.calls]
        assert roles[:2] == ["retrieve", "reason"] and "judge" in roles
        assert all(c.prompt_tokens + 200 <= 4096 for c in answer.trace.calls)
