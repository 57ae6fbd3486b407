"""From a found file to its Document and Chunks: the one dispatch over kinds.

``read_file`` never raises for a bad file's content: the caller gets a ``LoadError`` whose
message names the file and the reason, and carries on with the rest of the folder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from core.files import sha256_bytes
from ingest.chunking import ChunkSettings
from ingest.code import chunk_code
from ingest.document import Chunk, Document
from ingest.epub import load_epub
from ingest.errors import LoadError
from ingest.languages import classify
from ingest.ocr import OcrMode
from ingest.pdf import PageProgress, chunk_pdf, load_pdf
from ingest.text import chunk_text, sections
from ingest.textfile import decode
from ingest.webpage import load_html
from ingest.word import load_docx

# Loaders of documents whose text is extracted from a structure (headings, paragraphs, tables).
_EXTRACTED: dict[str, Callable[[Path, str, bytes], Document]] = {
    "docx": load_docx,
    "html": load_html,
    "epub": load_epub,
}


@dataclass(frozen=True)
class Loaded:
    """A read and chunked file."""

    document: Document
    chunks: list[Chunk]


def load_document(
    path: Path,
    rel: str,
    data: bytes | None = None,
    ocr: OcrMode = "auto",
    progress: PageProgress | None = None,
) -> Document:
    """Read one file into a Document (``LoadError`` with the reason when it cannot be read);
    ``ocr`` and ``progress`` (pages OCR reads) are for PDFs."""
    try:
        data = path.read_bytes() if data is None else data
    except OSError as exc:
        raise LoadError(rel, f"cannot read: {exc.strerror or exc}") from exc
    kind, language = classify(path)
    if kind == "pdf" or data.startswith(b"%PDF-"):
        return load_pdf(path, rel, data, ocr, progress)
    if kind in _EXTRACTED:
        return _EXTRACTED[kind](path, rel, data)
    text, _encoding = decode(data, rel)
    if not text.strip():
        raise LoadError(rel, "no text (file is blank)")
    mtime = path.stat().st_mtime if path.exists() else 0.0
    flavour = language if kind == "text" else None
    return Document(
        doc_id=sha256_bytes(data),
        path=rel,
        kind="code" if kind == "code" else "text",
        text=text,
        language=language,
        mtime=mtime,
        sections=tuple(sections(text, flavour)) if kind == "text" else (),
    )


def chunk_document(doc: Document, settings: ChunkSettings) -> list[Chunk]:
    """Chunks with exact spans, cut the way the document's kind calls for; no span twice."""
    if doc.kind == "pdf":
        chunks = chunk_pdf(doc, settings)
    elif doc.kind == "code":
        chunks = chunk_code(doc, settings)
    else:
        chunks = chunk_text(doc, settings)
    return distinct_spans(chunks)


def distinct_spans(chunks: list[Chunk]) -> list[Chunk]:
    """The chunks without repeats of a span (the first is kept), numbered 0, 1, 2, … again.

    A chunk's id is a hash of its document and span, so a repeated span would be a repeated id
    that the index refuses: this is the last guard, whatever a chunker returns.
    """
    seen: set[tuple[int | None, int, int]] = set()
    kept: list[Chunk] = []
    for chunk in chunks:
        key = (chunk.span.page, chunk.span.char_start, chunk.span.char_end)
        if key in seen:
            continue
        seen.add(key)
        kept.append(chunk if chunk.ordinal == len(kept) else replace(chunk, ordinal=len(kept)))
    return kept


def read_file(path: Path, rel: str, settings: ChunkSettings, data: bytes | None = None) -> Loaded:
    """Load and chunk one file."""
    document = load_document(path, rel, data)
    chunks = chunk_document(document, settings)
    if not chunks:
        raise LoadError(rel, "no text to index")
    return Loaded(document, chunks)
