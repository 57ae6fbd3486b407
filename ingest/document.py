"""The data model of DESIGN.md §3 that ingest/ owns: Document, Span and Chunk.

Plain frozen data. Offsets always point into ``Document.text``; a span round-trips:
``doc.text[span.char_start:span.char_end]`` is the chunk or quote it belongs to.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
from dataclasses import dataclass, field

from ingest.lines import line_of, line_starts

Kind = str  # the format that read the file: a key of ingest.formats.FORMATS ("pdf", "code", ...)


@dataclass(frozen=True)
class Span:
    """Where a piece of text lives: file, page (PDFs), 1-based inclusive lines, char offsets."""

    path: str
    page: int | None
    line_start: int
    line_end: int
    char_start: int
    char_end: int

    @property
    def label(self) -> str:
        """How a citation reads: ``manual.pdf p.11 l.3-9`` or ``pkg/mod.py:456-470``."""
        lines = (
            str(self.line_start) if self.line_start == self.line_end else f"{self.line_start}-{self.line_end}"
        )
        if self.page is not None:
            return f"{self.path} p.{self.page} l.{lines}"
        return f"{self.path}:{lines}"


@dataclass(frozen=True)
class TextBox:
    """Where some text of a PDF page that is not PDFium's own is drawn: a word OCR read, a table
    row written as Markdown. ``start``/``end`` are offsets into the page's text (``page_text``);
    ``box`` is left, top, right, bottom as fractions (0-1) of the rendered page."""

    page: int
    start: int
    end: int
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class Document:
    """One file's extracted text, the text every offset points into.

    For PDFs the pages are joined with ``PAGE_SEPARATOR`` and ``page_starts[i]`` is the offset
    where page ``i + 1`` begins; for other kinds ``page_starts`` is ``(0,)``.
    """

    doc_id: str
    path: str
    kind: Kind
    text: str
    language: str | None = None
    pages: int = 1
    page_starts: tuple[int, ...] = (0,)
    mtime: float = 0.0
    title: str | None = None
    sections: tuple[tuple[int, str], ...] = ()
    notes: tuple[str, ...] = field(default=())
    boxes: tuple[TextBox, ...] = ()  # PDFs: highlight boxes of OCR'd words and table rows

    def page_of(self, offset: int) -> int | None:
        """The 1-based page holding ``offset`` (None for documents without pages)."""
        if self.kind != "pdf":
            return None
        return bisect.bisect_right(self.page_starts, offset)

    def page_text(self, page: int) -> str:
        """The extracted text of one page (1-based)."""
        start = self.page_starts[page - 1]
        end = self.page_starts[page] - len(PAGE_SEPARATOR) if page < len(self.page_starts) else len(self.text)
        return self.text[start:end]

    def span(self, char_start: int, char_end: int) -> Span:
        """The span of ``text[char_start:char_end]`` with its page and line numbers."""
        if not 0 <= char_start < char_end <= len(self.text):
            raise ValueError(f"span {char_start}:{char_end} outside {self.path}")
        page = self.page_of(char_start)
        base = self.page_starts[page - 1] if page is not None else 0
        starts = self._line_starts
        first = line_of(starts, base)  # lines are counted from the page's first
        line_start = line_of(starts, char_start) - first + 1
        line_end = line_of(starts, char_end - 1) - first + 1
        return Span(self.path, page, line_start, line_end, char_start, char_end)

    @functools.cached_property
    def _line_starts(self) -> list[int]:
        """Computed once per document: line numbers by bisection, linear in the text's size."""
        return line_starts(self.text)

    def section_at(self, offset: int) -> str | None:
        """The heading (outline entry, Markdown heading) in force at ``offset``."""
        starts = [start for start, _ in self.sections]
        i = bisect.bisect_right(starts, offset) - 1
        return self.sections[i][1] if i >= 0 else None


PAGE_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of a document with its exact span."""

    chunk_id: str
    doc_id: str
    text: str
    span: Span
    n_tokens: int
    ordinal: int
    section: str | None = None

    @property
    def label(self) -> str:
        return self.span.label


def chunk_id_for(doc_id: str, span: Span) -> str:
    """Stable chunk id: a hash of the document id and the span."""
    key = f"{doc_id}|{span.path}|{span.page}|{span.char_start}|{span.char_end}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def make_chunk(
    doc: Document,
    char_start: int,
    char_end: int,
    ordinal: int,
    n_tokens: int,
    section: str | None = None,
) -> Chunk:
    """A chunk over ``doc.text[char_start:char_end]``."""
    span = doc.span(char_start, char_end)
    return Chunk(
        chunk_id=chunk_id_for(doc.doc_id, span),
        doc_id=doc.doc_id,
        text=doc.text[char_start:char_end],
        span=span,
        n_tokens=n_tokens,
        ordinal=ordinal,
        section=section,
    )
