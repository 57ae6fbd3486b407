"""One check shared by the tests of real model servers (llama.cpp's, vLLM's)."""

from __future__ import annotations

from agents.answer import Answer, CallRecord
from agents.evidence.corpus import Corpus
from agents.models.backends import Backend
from agents.orchestrator import Answerer, AskOptions


def ask_streaming(backend: Backend, corpus: Corpus, answer_tokens: int) -> tuple[Answer, CallRecord]:
    """Ask through ``backend`` reading the whole collection, and check what every server must do:
    the streamed text is the answer, the call's cost is recorded, every citation resolves to the
    exact span it quotes. The answer and its first call, for the caller's own checks."""
    streamed: list[str] = []
    answerer = Answerer(corpus, backend, options=AskOptions(strategy="full", verify=True))
    answer = answerer.ask("How much disk space is needed to install?", on_token=streamed.append)
    assert answer.text and "".join(streamed).strip() == answer.text
    first = answer.trace.calls[0]
    assert (
        first.role == "answer" and first.prompt_tokens > 100 and 0 < first.completion_tokens <= answer_tokens
    )
    for citation in answer.citations:  # whatever the tiny model cites resolves to a real span
        document = corpus.document(citation.span.path)
        assert document.text[citation.span.char_start : citation.span.char_end] == citation.quote
    return answer, first
