"""The Python API end to end: a collection opened by its folder, documents added, searched and
asked with a scripted model (real embeddings), and the same folder opened as the web UI's."""

from __future__ import annotations

from pathlib import Path

import pytest

import longqa
from app.services.collections import Collections
from tests.agents.fakes import registered
from tests.ui.documents import QUESTION, first_pages
from tests.ui.replies import reply


@pytest.fixture
def settings(tmp_path: Path) -> longqa.Settings:
    spec = registered(reply=lambda messages: reply(str(messages[-1].content)))[1]
    return longqa.Settings(model=spec, prefix_cache_gb=0, collections=tmp_path / "collections")


def test_open_add_search_and_ask(tmp_path: Path, settings: longqa.Settings) -> None:
    pdf = first_pages(tmp_path / "docs" / "fasta_intro.pdf")
    papers = longqa.Collection.open(tmp_path / "index", settings)
    with pytest.raises(longqa.LongqaError, match="is empty: add documents to it first"):
        papers.ask(QUESTION)
    report = papers.add(tmp_path / "docs")
    assert isinstance(report, longqa.IngestReport) and report.count("ingested") == 1
    assert [d.path for d in papers.documents()] == [pdf.name]

    hits = papers.search("protein databases", k=2)
    assert len(hits) == 2 and all(isinstance(h, longqa.Hit) for h in hits)
    assert hits[0].chunk.span.path == pdf.name

    tokens: list[str] = []
    answer = papers.ask(QUESTION, strategy="rag", on_token=tokens.append)
    assert isinstance(answer, longqa.Answer) and answer.strategy == "retrieve_reason"
    assert tokens and "[S" in answer.text
    citation = answer.citations[0]
    assert isinstance(citation, longqa.Citation) and isinstance(citation.span, longqa.Span)
    assert citation.span.path == pdf.name and citation.supported

    with pytest.raises(longqa.LongqaError, match="unknown strategy 'fast'"):
        papers.ask(QUESTION, strategy="fast")


def test_a_collection_of_the_web_ui_opens_by_its_folder(tmp_path: Path, settings: longqa.Settings) -> None:
    made = Collections(settings.collections).create("papers")
    first_pages(made.files / "fasta_intro.pdf")
    opened = longqa.Collection.open(made.folder, settings)
    assert opened.name == "papers" and opened.index == made.index
    assert opened.add(made.files).count("ingested") == 1
    assert [h.chunk.span.path for h in opened.search("FASTA", k=1)] == ["fasta_intro.pdf"]
