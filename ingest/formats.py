"""The file formats longqa reads, each written once: which file names are it, how it is read into a
Document, how that is cut into chunks, and how the UI speaks of it.

``FORMATS`` is the one table, by kind (the ``Document.kind`` its loader gives): the dispatch of
``ingest/pipeline.py``, the source view of ``app/services/sources.py`` and the upload widget of
``ui/adding.py`` read it instead of lists of their own. Which language a code or text file is in
comes from the tables of ``ingest/languages.py``, which the code and text formats point to. A
name no format claims is read as plain text (the folder walk's content sniffing weeds out
binaries). This module reads no file; the table is its only state.

To add a file format: write its loader in ``ingest/<name>.py`` (the shape is in
``ingest/loader.py``) and add one line to ``FORMATS``. The folder walk (``ingest/walk.py``) and
uploads (``app/services/uploads.py``) ask this table too: which suffixes are binary formats whose
bytes only their loaders judge, which bytes mark a format whatever the name, which names are
claimed at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ingest.code import chunk_code
from ingest.document import Document
from ingest.epub import load_epub
from ingest.languages import CODE_FILENAMES, GRAMMAR_LANGUAGES, OTHER_CODE, TEXT_SUFFIXES
from ingest.loader import Chunker, Loader, Reading
from ingest.pdf import chunk_pdf, load_pdf
from ingest.plaintext import load_code, load_text
from ingest.text import chunk_text
from ingest.webpage import load_html
from ingest.word import load_docx


@dataclass(frozen=True)
class Format:
    """One kind of file longqa reads: the names that are it, its loader and chunker, and what the UI
    calls it."""

    suffixes: Mapping[str, str | None]  # lower-case suffix → the language it means (None: none)
    load: Loader
    label: str  # what the upload widget's label calls these files: "Word files"
    upload: str  # what its help calls them: "Word documents (.docx)"
    chunk: Chunker = chunk_text  # prose unless the format says otherwise
    names: Mapping[str, str] = field(default_factory=dict)  # whole lower-case names → language
    magic: bytes = b""  # leading bytes that make a file this format whatever its name
    binary: bool = False  # a package its loader checks: its bytes are never sniffed as text
    note: str = ""  # said over its text when a citation's source is shown


def _pdf(path: Path, rel: str, data: bytes, reading: Reading) -> Document:
    return load_pdf(path, rel, data, reading.ocr, reading.progress, ocr_timeout=reading.ocr_timeout)


def _whole(load: Callable[[Path, str, bytes], Document]) -> Loader:
    """A loader for a format that needs nothing but the file (no language, no OCR)."""

    def loader(path: Path, rel: str, data: bytes, reading: Reading) -> Document:
        return load(path, rel, data)

    return loader


_MARKED = "headings marked with #, tables as rows"

FORMATS: dict[str, Format] = {
    "pdf": Format({".pdf": None}, _pdf, "PDFs", "PDFs", chunk=chunk_pdf, magic=b"%PDF-", binary=True),
    "docx": Format(
        {".docx": None},
        _whole(load_docx),
        "Word files",
        "Word documents (.docx)",
        binary=True,
        note=f"The text read from this Word document ({_MARKED}).",
    ),
    "html": Format(
        {".html": None, ".htm": None, ".xhtml": None},
        _whole(load_html),
        "web pages",
        "web pages (.html)",
        note=f"The text read from this web page's main content ({_MARKED}).",
    ),
    "epub": Format(
        {".epub": None},
        _whole(load_epub),
        "e-books",
        "e-books (.epub)",
        binary=True,
        note=f"The text read from this e-book's chapters ({_MARKED}).",
    ),
    "code": Format(
        GRAMMAR_LANGUAGES | OTHER_CODE,
        load_code,
        "source files",
        "source code (Python, JavaScript, TypeScript, Go, Rust, Java, C, C++ and many more)",
        chunk=chunk_code,
        names=CODE_FILENAMES,
    ),
    "text": Format(TEXT_SUFFIXES, load_text, "text files", "Markdown, reStructuredText and text"),
}
UNCLAIMED = ("text", "plain")  # (kind, language) of a name no format claims


def classify(path: Path) -> tuple[str, str | None]:
    """(kind, language) for a path by its name: a whole name a format claims (``Makefile``), else
    its suffix; a name no format claims is plain text."""
    name, suffix = path.name.lower(), path.suffix.lower()
    for kind, fmt in FORMATS.items():
        if name in fmt.names:
            return kind, fmt.names[name]
    for kind, fmt in FORMATS.items():
        if suffix in fmt.suffixes:
            return kind, fmt.suffixes[suffix]
    return UNCLAIMED


def claimed(path: Path) -> bool:
    """Whether some format claims the name (its suffix, or the whole name such as ``Makefile``)."""
    name, suffix = path.name.lower(), path.suffix.lower()
    return any(name in fmt.names or suffix in fmt.suffixes for fmt in FORMATS.values())


def marked(data: bytes) -> str | None:
    """The kind whose first bytes ``data`` starts with (``%PDF-``: a PDF whatever its name)."""
    return next((kind for kind, fmt in FORMATS.items() if fmt.magic and data.startswith(fmt.magic)), None)


def identify(path: Path, data: bytes) -> tuple[str, str | None]:
    """(kind, language) of a file: the format its first bytes mark, else the one its name says."""
    kind = marked(data)
    return (kind, None) if kind is not None else classify(path)


def format_of(kind: str) -> Format:
    """The format of a Document's kind; a kind no format has is read as text."""
    return FORMATS.get(kind) or FORMATS[UNCLAIMED[0]]


def binary_suffixes() -> set[str]:
    """The suffixes of binary formats, whose bytes only their loaders judge."""
    return {suffix for fmt in FORMATS.values() if fmt.binary for suffix in fmt.suffixes}
