"""The loader contract, written once: what a format's loader is given and what it returns.

A loader is any function ``load(path, rel, data, reading) -> Document``: ``path`` is the file
(its name, its modification time), ``rel`` the path it is cited by, ``data`` its bytes and
``reading`` this read's options. For content it cannot read it raises ``LoadError`` (``SkipFile``
for a file deliberately left out) whose one line names the file and the reason; never another
exception. A chunker cuts the Document into Chunks with exact spans. ``ingest/formats.py`` pairs
each format's loader and chunker; this module holds no format of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.chunking import ChunkSettings
from ingest.document import Chunk, Document
from ingest.ocr import PAGE_TIMEOUT, OcrMode
from ingest.pdf import PageProgress


@dataclass(frozen=True)
class Reading:
    """One read's options: the language the file's name says, and for PDFs how to OCR pages."""

    language: str | None = None
    ocr: OcrMode = "auto"
    progress: PageProgress | None = None  # told of each page OCR reads
    ocr_timeout: float = PAGE_TIMEOUT  # seconds OCR may spend on one page


Loader = Callable[[Path, str, bytes, Reading], Document]
Chunker = Callable[[Document, ChunkSettings], list[Chunk]]
