"""Source code and text files: their bytes decoded as they are, in the language their name says.

Decoding (binary refusal, encoding, line endings) is ``ingest/textfile.py``'s, so line numbers
are the file's own. A text file's headings (Markdown, reStructuredText) become its sections;
code is not parsed here (``ingest/code.py`` cuts it by definitions when it is chunked).
"""

from __future__ import annotations

from pathlib import Path

from core.files import sha256_bytes
from ingest.document import Document
from ingest.errors import LoadError
from ingest.loader import Reading
from ingest.text import sections
from ingest.textfile import decode


def load_code(path: Path, rel: str, data: bytes, reading: Reading) -> Document:
    """A source file as it is, in the language its name says."""
    return _decoded(path, rel, data, "code", reading.language, headings=False)


def load_text(path: Path, rel: str, data: bytes, reading: Reading) -> Document:
    """A text file as it is, its headings as sections (``reading.language``: its flavour)."""
    return _decoded(path, rel, data, "text", reading.language, headings=True)


def _decoded(path: Path, rel: str, data: bytes, kind: str, language: str | None, headings: bool) -> Document:
    text, _encoding = decode(data, rel)
    if not text.strip():
        raise LoadError(rel, "no text (file is blank)")
    return Document(
        doc_id=sha256_bytes(data),
        path=rel,
        kind=kind,
        text=text,
        language=language,
        mtime=path.stat().st_mtime if path.exists() else 0.0,
        sections=tuple(sections(text, language)) if headings else (),
    )
