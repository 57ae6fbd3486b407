"""E-books (.epub): the chapters in reading order (the spine), each read as a web page.

ebooklib reads the package; each chapter's XHTML goes through the web-page walk of
``ingest/webpage.py`` whole (a chapter is all content, its header too; its ``<nav>``, such as
the book's own table of contents, is left out). A book that cannot be opened or has no reading
order raises ``LoadError`` with one line; a chapter that cannot be read is noted, the rest kept.
``ingest/package.py`` refuses a zip bomb, or package files (container, OPF, NCX) that declare
XML entities, before ebooklib opens the book (its parser would not resolve them either; a
chapter's are ignored by the HTML parser). Only the archive's own members are read: a manifest
entry naming a path outside it, or a URL, is a chapter that could not be read.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import lxml.etree
from ebooklib import epub

from core.files import sha256_bytes
from ingest import blocks, package, webpage
from ingest.blocks import Block
from ingest.document import Document
from ingest.errors import LoadError

_CHAPTER_TYPES = {"application/xhtml+xml", "text/html"}
_PACKAGE = package.Rules(  # a chapter's entities need no rule: the HTML parser ignores them
    "EPUB",
    b"<!ENTITY",
    "XML entities (<!ENTITY>), which a book's package needs none of",
    (".opf", ".ncx", ".xml"),
)


class _Reader(epub.EpubReader):
    """ebooklib's reader, except that a file the package lists but does not hold reads as empty
    (books in the wild list ``chapter.xhtml#part`` as files of their own) and is remembered."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), {"ignore_ncx": True})
        self.missing: list[str] = []

    def read_file(self, name: str) -> bytes:
        try:
            return super().read_file(name)
        except KeyError:
            self.missing.append(name)
            return b""


def _open(data: bytes, rel: str) -> tuple[epub.EpubBook, list[str]]:
    """The book and the files it lists but does not hold."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        if data.startswith(b"PK"):
            raise LoadError(rel, "damaged EPUB: its zip package is truncated or corrupt")
        raise LoadError(rel, "not an EPUB file (not a zip package)")
    package.check(data, rel, _PACKAGE)
    reader = _Reader(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ebooklib's deprecation notices are not the reader's
            book = reader.load()
            reader.process()
        return book, reader.missing
    except epub.EpubException as exc:
        raise LoadError(rel, f"damaged EPUB: {exc.msg}") from exc
    except (TypeError, AttributeError, IndexError, KeyError, lxml.etree.LxmlError, ValueError) as exc:
        lacking = f"it lacks {reader.missing[0]}" if reader.missing else "its package file is incomplete"
        raise LoadError(rel, f"damaged EPUB: {lacking} (no spine, manifest or metadata)") from exc
    except (zipfile.BadZipFile, EOFError) as exc:
        raise LoadError(rel, f"damaged EPUB: {exc}") from exc


def _chapters(book: epub.EpubBook, rel: str, missing: set[str]) -> tuple[list[Block | None], list[str]]:
    """The blocks of every chapter in spine order, and the chapters that could not be read.

    A spine entry naming a part of a file already read (``chapter.xhtml#part``) adds nothing."""
    found: list[Block | None] = []
    unreadable: list[str] = []
    seen: set[str] = set()
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.media_type not in _CHAPTER_TYPES:
            continue
        name = item.get_name()
        if name.split("#")[0] in seen:
            continue
        seen.add(name.split("#")[0])
        if any(m == name or m.endswith(f"/{name}") for m in missing):
            unreadable.append(name)
            continue
        content = item.content or b""  # as stored: get_content() re-renders it, through libxml2's limits
        if not content.strip():
            continue
        try:
            root = webpage.parse(content, f"{rel}: {name}")
            body = root.find("body")
            found.extend(webpage.page_blocks(body if body is not None else root, whole=True))
        except (LoadError, KeyError, RecursionError):
            unreadable.append(name)
    return found, unreadable


def load_epub(path: Path, rel: str, data: bytes) -> Document:
    """Read an e-book's chapters, in reading order, into a Document."""
    book, missing = _open(data, rel)
    if not book.spine:
        raise LoadError(rel, "damaged EPUB: no reading order (its spine is empty)")
    found, unreadable = _chapters(book, rel, set(missing))
    text, sections = blocks.layout(found)
    if not text.strip():
        raise LoadError(rel, "no text (the book's chapters are empty)")
    titles = book.get_metadata("DC", "title")
    title = str(titles[0][0]).strip() if titles and titles[0][0] else None
    notes = (f"chapters that could not be read: {', '.join(unreadable)}",) if unreadable else ()
    return Document(
        doc_id=sha256_bytes(data),
        path=rel,
        kind="epub",
        text=text,
        mtime=path.stat().st_mtime if path.exists() else 0.0,
        title=title or None,
        sections=sections,
        notes=notes,
    )
