"""Spans round-trip: ``doc.text[char_start:char_end] == chunk.text`` and line numbers agree,
over generated documents (hypothesis) and the real sample corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.files import sha256_bytes
from ingest.chunking import ChunkSettings
from ingest.document import Chunk, Document
from ingest.pipeline import chunk_document, load_document
from ingest.text import sections
from tests.conftest import EXAMPLES, FIXTURES


def assert_round_trip(doc: Document, chunks: list[Chunk]) -> None:
    assert chunks
    for chunk in chunks:
        span = chunk.span
        assert doc.text[span.char_start : span.char_end] == chunk.text
        assert chunk.text.strip() == chunk.text and chunk.text
        base = doc.page_starts[span.page - 1] if span.page else 0
        assert span.line_start == doc.text.count("\n", base, span.char_start) + 1
        assert span.line_end == span.line_start + chunk.text.count("\n")
        if doc.kind == "pdf":
            page_lines = doc.page_text(span.page).split("\n")
            first_line = page_lines[span.line_start - 1]
            assert chunk.text.split("\n")[0] in first_line


lines = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\r"),
    max_size=120,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(lines, min_size=1, max_size=60).map("\n".join),
    kind=st.sampled_from(["text", "code"]),
    budget=st.integers(min_value=16, max_value=200),
)
def test_generated_documents_round_trip(body: str, kind: str, budget: int) -> None:
    if not body.strip():
        return
    language = "markdown" if kind == "text" else "python"
    doc = Document(
        doc_id=sha256_bytes(body.encode()),
        path=f"gen.{'md' if kind == 'text' else 'py'}",
        kind=kind,  # type: ignore[arg-type]
        text=body,
        language=language,
        sections=tuple(sections(body, "markdown")) if kind == "text" else (),
    )
    assert_round_trip(doc, chunk_document(doc, ChunkSettings(tokens=budget, overlap=budget // 4)))


@settings(max_examples=40, deadline=None)
@given(
    source=st.lists(
        st.sampled_from(
            [
                "def f(x):\n    return x\n",
                "class A:\n    def m(self):\n        pass\n",
                "import os\n",
                "# comment\n",
                "\n",
                "x = [\n    1,\n    2,\n]\n",
                "async def g():\n    await h()\n",
                "@decorator\ndef d():\n    '''doc'''\n",
            ]
        ),
        min_size=1,
        max_size=40,
    ).map("".join)
)
def test_generated_python_round_trips(source: str) -> None:
    if not source.strip():
        return
    doc = Document(doc_id="x", path="m.py", kind="code", text=source, language="python")
    assert_round_trip(doc, chunk_document(doc, ChunkSettings(tokens=24, overlap=4)))


REAL = sorted(p for p in EXAMPLES.rglob("*") if p.suffix in {".pdf", ".py", ".c", ".h", ".rst"})
REAL += sorted(p for p in (FIXTURES / "code").iterdir() if p.suffix != ".md")


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
@pytest.mark.parametrize("budget", [64, 384])
def test_real_documents_round_trip(path: Path, budget: int) -> None:
    doc = load_document(path, path.name)
    assert_round_trip(doc, chunk_document(doc, ChunkSettings(tokens=budget, overlap=budget // 8)))
