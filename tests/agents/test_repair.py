"""Citation repair: a sentence cited to the wrong chunk is cited again where the collection states
it; one nothing supports keeps its citation, marked unsupported, and strict mode drops it."""

from __future__ import annotations

from langchain_core.messages import BaseMessage

from agents.evidence.corpus import Corpus
from agents.orchestrator import Answerer, AskOptions
from agents.prompts import REFUSAL
from tests.agents.fakes import is_cloze, is_yes_no, scripted

DISK = "You need at least 50 MB of free disk space to compile and install the package."
MEMORY = "For ordinary printing, 64 MB of memory is enough."


def _judge_by_passage(messages: list[BaseMessage]) -> str | None:
    """A judge that reads: yes when the passage holds the claim's words, and fills blanks from it."""
    if not (is_cloze(messages) or is_yes_no(messages)):
        return None
    text = str(messages[-1].content)
    passage, rest = text.split('"""\n', 1)[1].split('\n"""', 1)
    if is_cloze(messages):
        return "50" if "50 MB" in passage else "64"
    claim = rest.split("Claim: ", 1)[1].split("\n", 1)[0]
    return "yes" if claim.rstrip(".") in " ".join(passage.split()) else "no"


def _answering(answer: str):
    def reply(messages: list[BaseMessage]) -> str:
        judged = _judge_by_passage(messages)
        return answer if judged is None else judged

    return reply


def _marker_of(prompt: str, words: str) -> int:
    """The marker of the block that holds ``words`` in a full-context prompt."""
    block = next(b for b in prompt.split("\n[S")[1:] if words in b)
    return int(block.split("]", 1)[0])


def test_a_sentence_cited_to_the_wrong_chunk_is_cited_where_it_is_stated(small_corpus: Corpus) -> None:
    markers: dict[str, int] = {}

    def reply(messages: list[BaseMessage]) -> str:
        judged = _judge_by_passage(messages)
        if judged is not None:
            return judged
        prompt = "\n" + str(messages[-1].content)
        markers["memory"] = _marker_of(prompt, "64 MB")
        return f"{DISK} [S{markers['memory']}]"  # right sentence, wrong block

    _chat, backend = scripted(reply=reply)
    answer = Answerer(small_corpus, backend, options=AskOptions(strategy="full")).ask("How much disk?")
    (citation,) = answer.citations
    assert citation.supported and citation.span.path == "install.md" and "50 MB" in citation.quote
    assert citation.marker != markers["memory"] and answer.text == f"{DISK} [S{citation.marker}]"
    (event,) = [e for e in answer.trace.events if e.startswith("citation repaired")]
    assert event == f"citation repaired: “{DISK[:59]}…” cited memory.md:3 → {citation.label}"


def test_a_sentence_nothing_supports_stays_unsupported_and_strict_drops_it(small_corpus: Corpus) -> None:
    claim = "You need a GPU with 24 GB of memory to print."

    def reply(messages: list[BaseMessage]) -> str:
        judged = _judge_by_passage(messages)
        if judged is not None:
            return judged
        prompt = "\n" + str(messages[-1].content)
        return f"{claim} [S{_marker_of(prompt, '64 MB')}] {DISK} [S{_marker_of(prompt, '50 MB')}]"

    _chat, backend = scripted(reply=reply)
    corpus_answerer = Answerer(small_corpus, backend, options=AskOptions(strategy="full"))
    answer = corpus_answerer.ask("What do I need?")
    verdicts = {c.sentence: c.supported for c in answer.citations}
    assert verdicts == {claim: False, DISK: True}
    assert any(e.startswith(f"no passage of the collection supports “{claim}”") for e in answer.trace.events)
    strict = corpus_answerer.ask("What do I need?", options=AskOptions(strategy="full", strict=True))
    assert strict.removed_sentences == [claim] and [c.sentence for c in strict.citations] == [DISK]


def test_supported_citations_are_left_alone_and_nothing_is_searched(small_corpus: Corpus) -> None:
    def reply(messages: list[BaseMessage]) -> str:
        judged = _judge_by_passage(messages)
        if judged is not None:
            return judged
        return f"{MEMORY} [S{_marker_of(chr(10) + str(messages[-1].content), '64 MB')}]"

    _chat, backend = scripted(reply=reply)
    answer = Answerer(small_corpus, backend, options=AskOptions(strategy="full")).ask("How much memory?")
    assert [c.supported for c in answer.citations] == [True]
    assert not [e for e in answer.trace.events if "repaired" in e or "no passage" in e]


def test_without_verification_nothing_is_judged_or_repaired(small_corpus: Corpus) -> None:
    _chat, backend = scripted(reply=_answering(f"{DISK} [S2]"))
    options = AskOptions(strategy="full", verify=False)
    answer = Answerer(small_corpus, backend, options=options).ask("How much disk?")
    assert all(c.support is None for c in answer.citations) and answer.text == f"{DISK} [S2]"
    assert REFUSAL not in answer.text
