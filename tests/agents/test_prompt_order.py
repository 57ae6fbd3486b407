"""Documents first, question last: every question over the same documents sends the same prompt
prefix, byte for byte, and names it to the backend so that its KV cache can be reused."""

from __future__ import annotations

from typing import Any

import pytest

from agents.evidence.corpus import Corpus
from agents.orchestrator import Answerer, AskOptions
from tests.agents.fakes import ScriptedChat, is_judge, scripted

QUESTIONS = ("How much disk space is needed to install?", "Which printers are supported by the driver?")


def reply(messages: Any) -> str:
    prompt = str(messages[-1].content)
    if is_judge(messages):
        return "yes"
    if "Copy, word for word" in prompt:
        return "NONE"
    if "Write the new facts from part" in prompt:
        return "NONE"
    return "It needs 50 MB [S1]."


def asked(corpus: Corpus, strategy: str, window: int = 32768) -> tuple[ScriptedChat, list[dict]]:
    chat, backend = scripted(reply=reply, window=window)
    hints: list[dict] = []
    backend.prefix_options = lambda prefix, tag: hints.append({"prefix": prefix, "tag": tag}) or {}
    answerer = Answerer(corpus, backend, options=AskOptions(strategy=strategy, verify=False))
    for question in QUESTIONS:
        answerer.ask(question)
    return chat, hints


@pytest.mark.parametrize("strategy", ["full", "baseline", "rag"])
def test_the_documents_open_the_prompt_and_the_question_follows(small_corpus: Corpus, strategy: str) -> None:
    chat, _ = asked(small_corpus, strategy)
    answering = [p for p in chat.texts() if "<documents>" in p and "Facts copied" not in p]
    assert answering
    for prompt in answering:
        assert prompt.startswith("<documents>\n")
        question = next(q for q in QUESTIONS if q in prompt)
        assert prompt.index("</documents>") < prompt.index(question)
        assert prompt.count(question) == 1


def test_every_question_sends_the_same_prefix_and_names_it(small_corpus: Corpus) -> None:
    chat, hints = asked(small_corpus, "full")
    first, second = chat.texts()
    prefix = first[: first.index("</documents>") + len("</documents>\n\n")]
    assert second.startswith(prefix)  # byte for byte: a server's prefix cache reuses it too
    assert [h["prefix"] for h in hints] == [prefix, prefix]
    tag = hints[0]["tag"]
    assert tag.endswith(f"@{small_corpus.index.generation}") and str(small_corpus.index.folder.name) in tag


def test_chain_of_agents_workers_name_their_segment_as_the_prefix(big_corpus: Corpus) -> None:
    chat, hints = asked(big_corpus, "coa", window=4096)
    workers = [p for p in chat.texts() if "Write the new facts from part" in p]
    assert len(hints) == len(workers) and len(workers) >= 4
    for prompt, hint in zip(workers, hints, strict=True):
        assert prompt.startswith(hint["prefix"]) and hint["prefix"].endswith("</documents>\n\n")
    half = len(workers) // 2  # the second question's workers repeat the first's prefixes exactly
    assert [h["prefix"] for h in hints[:half]] == [h["prefix"] for h in hints[half:]]


def test_a_backend_without_prefix_states_gets_no_cache_options(small_corpus: Corpus) -> None:
    chat, backend = scripted(reply=reply)
    seen: list[dict] = []
    original = chat._stream

    def spy(messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return original(messages, stop=stop, run_manager=run_manager, **kwargs)

    object.__setattr__(chat, "_stream", spy)
    Answerer(small_corpus, backend, options=AskOptions(strategy="full", verify=False)).ask(QUESTIONS[0])
    assert seen and all("cache_prefix" not in k and "cache_tag" not in k for k in seen)
