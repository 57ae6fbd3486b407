"""From a found file to its Document and Chunks: the format the registry (``ingest/formats.py``)
finds for it reads it and cuts it; this module spells out no format of its own.

``read_file`` never raises for a bad file's content: the caller gets a ``LoadError`` whose
message names the file and the reason, and carries on with the rest of the folder.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ingest.chunking import ChunkSettings
from ingest.document import Chunk, Document
from ingest.errors import LoadError
from ingest.formats import format_of, identify
from ingest.loader import Reading
from ingest.ocr import PAGE_TIMEOUT, OcrMode
from ingest.pdf import PageProgress


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
    ocr_timeout: float = PAGE_TIMEOUT,
) -> Document:
    """Read one file into a Document (``LoadError`` with the reason when it cannot be read);
    ``ocr``, ``progress`` (pages OCR reads) and ``ocr_timeout`` (seconds a page) are for PDFs."""
    try:
        data = path.read_bytes() if data is None else data
    except OSError as exc:
        raise LoadError(rel, f"cannot read: {exc.strerror or exc}") from exc
    kind, language = identify(path, data)
    return format_of(kind).load(path, rel, data, Reading(language, ocr, progress, ocr_timeout))


def chunk_document(doc: Document, settings: ChunkSettings) -> list[Chunk]:
    """Chunks with exact spans, cut the way the document's kind calls for; no span twice."""
    chunks = format_of(doc.kind).chunk(doc, settings)
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
