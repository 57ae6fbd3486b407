"""collect: items copied passage by passage, checked against their passage, counted in code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.evidence.corpus import Corpus
from agents.orchestrator import Answerer, AskOptions
from agents.reading.router import route
from agents.reading.strategies.collect import Item, find, key, noun, parse_items, reduce, written
from ingest.chunking import ChunkSettings
from retrieval.indexer import ingest
from retrieval.search import HybridSearcher
from retrieval.store import Index
from tests.agents.fakes import scripted
from tests.agents.test_router import CPU, GPU, backend_with
from tests.conftest import HashEmbedder


@pytest.fixture
def inks(tmp_path: Path) -> Iterator[Corpus]:
    """Three short files; the colours are named in two sections of one and again in another."""
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a_inks.md").write_text(
        "# Inks\n\nThe printer supports the colours cyan, magenta and yellow.\n\n"
        "## Photo models\n\nPhoto models add black, for deeper shadows.\n"
    )
    (root / "b_notes.md").write_text("# Notes\n\nCyan ink dries fastest of all.\n")
    (root / "c_paper.md").write_text("# Paper\n\nUse plain paper of 80 g/m2 or heavier.\n")
    folder = tmp_path / "ix"
    embedder = HashEmbedder()
    ingest([root], folder, embedder, ChunkSettings(tokens=64, overlap=8))
    with Index.open(folder) as index:
        yield Corpus(index, HybridSearcher(index, embedder))


def items_from(prompt: str) -> str:
    """What a careful reader copies from the passage in ``prompt``; "turquoise" is an invention."""
    passage = prompt.split("<documents>")[1].split("</documents>")[0]
    if "cyan, magenta" in passage:
        return "- cyan\n- magenta\n- yellow\n- turquoise"
    if "add black" in passage:
        return "1. black"
    if "Cyan ink" in passage:
        return '"Cyan"'
    return "NONE"


def ask(corpus: Corpus, question: str, reply=items_from):
    chat, backend = scripted(reply=lambda messages: reply(str(messages[-1].content)))
    answer = Answerer(corpus, backend, options=AskOptions(strategy="collect", verify=False)).ask(question)
    return chat, answer


def test_every_passage_is_read_and_the_items_counted_and_listed_in_code(inks: Corpus) -> None:
    chat, answer = ask(inks, "How many colours does the printer support?")
    prompts = chat.texts()
    assert all(p.index("</documents>") < p.index("Question:") for p in prompts)  # passage first
    assert len(prompts) == 4  # the collection is small: every passage (a section each) is read
    assert answer.strategy == "collect" and not answer.refused
    assert answer.text.splitlines()[0] == "4 colours:"
    assert answer.short == "4"  # counted in code, no model call
    assert [c.quote for c in answer.citations] == ["cyan", "magenta", "yellow", "black"]
    assert all(c.span.path == "a_inks.md" for c in answer.citations)  # cyan: its first place
    document = inks.document("a_inks.md")
    for citation in answer.citations:
        assert document.text[citation.span.char_start : citation.span.char_end] == citation.quote
    events = "\n".join(answer.trace.events)
    assert "the whole collection (4 passages)" in events
    assert "1 not in the passage, dropped: turquoise" in events
    assert "c_paper.md" in events and "nothing" in events
    assert "5 item(s) found, 4 once each after merging duplicates" in events


def test_a_list_question_gets_the_list_as_its_short_answer(inks: Corpus) -> None:
    _, answer = ask(inks, "List the colours the printer supports.")
    assert answer.short == "cyan, magenta, yellow, black"


def test_nothing_found_is_a_refusal(inks: Corpus) -> None:
    _, answer = ask(inks, "How many fonts are there?", reply=lambda prompt: "NONE")
    assert answer.refused and not answer.citations


def test_reduce_merges_the_same_name_and_keeps_document_order() -> None:
    found = [
        Item("yellow", 1, (40, 46), ("a.md", 40)),
        Item("Cyan", 3, (0, 4), ("b.md", 0)),
        Item("cyan", 1, (20, 24), ("a.md", 20)),
        Item("`cyan()`", 2, (5, 11), ("a.md", 90)),
    ]
    merged = reduce(found)
    assert [(i.text, i.marker) for i in merged] == [("cyan", 1), ("yellow", 1)]
    text, short = written("How many colours are there?", merged)
    assert text == "2 colours:\n- cyan [S1]\n- yellow [S1]"
    assert short == "2"


def test_the_items_of_a_reply_and_where_they_are() -> None:
    assert parse_items('- skipkeys\n2. ensure_ascii\n[S3] "indent"\nNONE\n`sort_keys`.\n- skipkeys') == [
        "skipkeys",
        "ensure_ascii",
        "indent",
        "sort_keys",
    ]
    assert parse_items("This passage is about paper and names no colour at all, " * 3) == []
    assert find("ensure_ascii", "skipkeys, ensure_ascii=True") == (10, 22)
    assert find("red", "a tired printer") is None  # whole words only
    assert find("Black  Ink", "add black ink") == (4, 13)
    assert key("`Cyan()` ") == key("cyan")


@pytest.mark.parametrize(
    ("question", "what"),
    [
        ("How many keyword parameters does JSONEncoder.__init__ accept?", "keyword parameters"),
        ("What is the number of storage classes in SQLite?", "storage classes"),
        ("List the exception classes defined in exc.py.", "exception classes"),
        ("Which colours are there?", "items"),
    ],
)
def test_what_is_counted_is_named_in_the_questions_words(question: str, what: str) -> None:
    assert noun(question) == what


@pytest.mark.parametrize("speed", [CPU, GPU])
def test_the_router_sends_questions_about_many_items_to_collect(inks: Corpus, speed) -> None:
    decision = route("How many colours does the printer support?", inks, backend_with(speed))
    assert decision.strategy == "collect"
    assert "asks about many items (its wording 'How many')" in decision.reason
    assert decision.estimates["collect"].calls == 4  # one call per passage in scope
    lookup = route("What paper weight should be used?", inks, backend_with(speed))
    assert lookup.strategy != "collect"
