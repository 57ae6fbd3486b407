"""Multi-hop retrieval: when retrieve_reason's facts do not answer, it writes follow-up searches
from them, reads what they find, and reasons again, as many rounds as the budget allows."""

from __future__ import annotations

from langchain_core.messages import BaseMessage

from agents.answer import Trace
from agents.evidence.corpus import Corpus
from agents.models.calls import Caller
from agents.models.speeds import Speed
from agents.orchestrator import Answerer, AskOptions
from agents.prompts import REFUSAL
from agents.reading.router import HOPS, follow_ups
from agents.reading.strategies import STRATEGIES, Context
from agents.reading.strategies.retrieve_reason import follow_up_queries
from tests.agents.fakes import is_judge, scripted

DISK = "You need at least 50 MB of free disk space to compile and install the package."
MEMORY = "For ordinary printing, 64 MB of memory is enough."
# its first hit (k=1) is the disk-space chunk: the memory fact is the second hop
QUESTION = (
    "How much memory is enough to print after you compile and install the package with 50 MB of free "
    "disk space?"
)
DISK_QUESTION = "How much free disk space do you need to compile and install the package?"


def _marker(prompt: str, words: str) -> int:
    block = next(b for b in prompt.split("[S")[1:] if words in b)
    return int(block.split("]", 1)[0])


def two_hops(queries: str = "memory for ordinary printing"):
    """A model that copies what it is shown, answers only from the memory fact, and asks for it."""

    def reply(messages: list[BaseMessage]) -> str:
        prompt = str(messages[-1].content)
        if is_judge(messages):
            return "yes"
        if "Copy, word for word" in prompt:
            shown = prompt.split("</documents>")[0]
            if "64 MB" in shown:
                return f'[S{_marker(shown, "64 MB")}] "{MEMORY}"'
            return f'[S{_marker(shown, "50 MB")}] "{DISK}"' if "50 MB" in shown else "NONE"
        if "These facts do not answer" in prompt:
            return f"1. {queries}\n- {QUESTION}"
        facts = prompt.split("<documents>")[1]
        if "64 MB" in facts:
            return f"Printing needs 64 MB of memory [S{_marker(facts, '64 MB')}]."
        return REFUSAL

    return reply


def _context(corpus: Corpus, backend, hops: int, streamed: list[str]) -> Context:
    return Context(corpus, Caller(backend, Trace()), on_token=streamed.append, k=1, hops=hops)


def test_a_follow_up_search_finds_the_second_hop_and_only_the_answer_streams(small_corpus: Corpus) -> None:
    chat, backend = scripted(reply=two_hops())
    streamed: list[str] = []
    context = _context(small_corpus, backend, 1, streamed)
    assert "50 MB" in small_corpus.search(QUESTION, k=1)[0].chunk.text  # the first hop misses memory
    draft = STRATEGIES["retrieve_reason"].answer(QUESTION, context)
    roles = [c.role for c in context.caller.trace.calls]
    assert roles == ["retrieve", "reason", "follow-up 1", "retrieve (follow-up 1)", "reason"]
    assert not draft.refused and "".join(streamed) == draft.text  # the refusal before was held back
    (event,) = [e for e in context.caller.trace.events if e.startswith("follow-up 1")]
    assert event.startswith("follow-up 1: searched for “memory for ordinary printing”")
    follow_up = chat.texts()[2]
    assert "These facts do not answer" in follow_up
    assert DISK in follow_up and f"Question: {QUESTION}" in follow_up  # written from the facts so far
    final = chat.texts()[-1]
    assert DISK in final and MEMORY in final  # the reason step reads both hops' facts
    assert set(draft.facts) == {_marker(final, "50 MB"), _marker(final, "64 MB")}


def test_without_hops_the_refusal_stands_and_nothing_more_is_asked(small_corpus: Corpus) -> None:
    _chat, backend = scripted(reply=two_hops())
    streamed: list[str] = []
    context = _context(small_corpus, backend, 0, streamed)
    draft = STRATEGIES["retrieve_reason"].answer(QUESTION, context)
    assert draft.refused and "".join(streamed) == REFUSAL
    assert [c.role for c in context.caller.trace.calls] == ["retrieve", "reason"]


def test_a_follow_up_that_finds_nothing_new_stops(small_corpus: Corpus) -> None:
    def reply(messages: list[BaseMessage]) -> str:
        prompt = str(messages[-1].content)
        if "Copy, word for word" in prompt:
            return f'[S{_marker(prompt, "50 MB")}] "{DISK}"'
        return "compile and install the package" if "These facts do not answer" in prompt else REFUSAL

    _chat, backend = scripted(reply=reply)
    context = _context(small_corpus, backend, 2, [])
    context.k = 4  # every chunk shown at once: a follow-up finds nothing new
    draft = STRATEGIES["retrieve_reason"].answer(DISK_QUESTION, context)
    assert draft.refused
    assert [c.role for c in context.caller.trace.calls] == ["retrieve", "reason", "follow-up 1"]
    (event,) = [e for e in context.caller.trace.events if e.startswith("follow-up")]
    assert event == "follow-up 1: searched for “compile and install the package”: 0 new chunk(s)"


def test_follow_up_queries_are_lines_without_numbering_or_the_question() -> None:
    text = '1. "memory for printing"\n- GCC version\n\n* memory for printing\nWhat is it?\n' + "x" * 200
    assert follow_up_queries(text, "What is it?", 2) == ["memory for printing", "GCC version"]
    assert follow_up_queries("NONE", "q", 2) == [] and follow_up_queries("", "q", 2) == []


def test_the_budget_decides_how_many_rounds(small_corpus: Corpus) -> None:
    _chat, backend = scripted(["x"])
    backend.prior = Speed(prefill=5000, decode=80)
    assert follow_ups(QUESTION, small_corpus, backend, "balanced") == HOPS
    backend.prior = Speed(prefill=20, decode=2)
    assert follow_ups(QUESTION, small_corpus, backend, "cost") == 0
    assert follow_ups(QUESTION, small_corpus, backend, "quality") == HOPS


def test_the_answerer_lets_retrieve_reason_follow_up_within_the_budget(small_corpus: Corpus) -> None:
    _chat, backend = scripted(reply=two_hops())
    backend.prior = Speed(prefill=5000, decode=80)
    options = AskOptions(strategy="rag", k=1, verify=False)
    answer = Answerer(small_corpus, backend, options=options).ask(QUESTION)
    assert not answer.refused and "64 MB" in answer.text
