"""PDF loading: text per page with pypdfium2; outline, metadata and encryption with pypdf.

pypdfium2 keeps word spaces and gives character boxes; pypdf reads the outline and tells
encryption apart from damage. A PDF that cannot be read raises ``LoadError`` with one line saying
why; pages without a text layer are noted, and the rest of the document is kept.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from core.files import sha256_bytes
from ingest.chunking import ChunkSettings, split_region
from ingest.document import PAGE_SEPARATOR, Chunk, Document, make_chunk
from ingest.errors import LoadError

log = logging.getLogger(__name__)
logging.getLogger("pypdf").setLevel(logging.ERROR)  # damage is reported once, by us

_SOFT_HYPHEN = "\ufffe"  # how pdfium marks a hyphen that breaks a word across lines
_LIGATURES = {chr(c) for c in range(0xFB00, 0xFB07)}


def normalize_page_text(raw: str) -> tuple[str, list[int]]:
    """Clean pdfium's page text; also return, per output char, the index of its source char.

    Line ends become ``\\n``; a word hyphenated across a line break is joined and the break moves
    to the end of the joined word, so line numbers still match the printed lines; ligatures are
    expanded; control characters dropped. The index map lets the UI find character boxes.
    """
    out: list[str] = []
    source: list[int] = []
    moved_break: int | None = None
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == _SOFT_HYPHEN:
            j = i + 1
            if raw.startswith("\r\n", j):
                moved_break, i = j, j + 2
            elif j < n and raw[j] in "\r\n":
                moved_break, i = j, j + 1
            else:
                i = j
            continue
        if c == "\r" or c == "\n":
            if moved_break is not None:
                out.append("\n")
                source.append(moved_break)
                moved_break = None
            out.append("\n")
            source.append(i)
            i += 2 if raw.startswith("\r\n", i) else 1
            continue
        if c == " " and moved_break is not None:
            out.append("\n")
            source.append(moved_break)
            moved_break = None
            i += 1
            continue
        if c in _LIGATURES:
            for expanded in unicodedata.normalize("NFKC", c):
                out.append(expanded)
                source.append(i)
        elif c == "\t" or not unicodedata.category(c).startswith("C"):
            out.append(c)
            source.append(i)
        i += 1
    return "".join(out), source


def page_raw_text(pdf: pdfium.PdfDocument, index: int) -> str:
    """pdfium's text of page ``index`` (0-based), as ``normalize_page_text`` expects it."""
    page = pdf[index]
    textpage = page.get_textpage()
    try:
        return textpage.get_text_range()
    finally:
        textpage.close()
        page.close()


def _has_images(page: pdfium.PdfPage) -> bool:
    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))


def _outline(reader: pypdf.PdfReader) -> list[tuple[int, str]]:
    """(0-based page, 'Parent > Child' title) for each outline entry, in outline order."""
    entries: list[tuple[int, str]] = []

    def walk(items: list, parents: tuple[str, ...]) -> None:
        last: tuple[str, ...] = parents
        for item in items:
            if isinstance(item, list):
                walk(item, last)
                continue
            title = " ".join(str(item.title or "").split())
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # noqa: BLE001 - a broken outline entry is skipped, not fatal
                continue
            last = (*parents, title)
            if page is not None and page >= 0:
                entries.append((page, " > ".join(last)))

    try:
        walk(reader.outline, ())
    except Exception as exc:  # noqa: BLE001 - outlines are a bonus; damaged ones are ignored
        log.debug("outline unreadable: %s", exc)
    return entries


def _read_with_pypdf(data: bytes, rel: str) -> tuple[str | None, list[tuple[int, str]], str | None]:
    """Title, outline and the password pdfium needs ('' for an empty user password)."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        password = None
        if reader.is_encrypted:
            if reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
                raise LoadError(rel, "encrypted PDF: a password is needed to read it")
            password = ""
        if len(reader.pages) == 0:
            raise LoadError(rel, "PDF has no pages")
        title = reader.metadata.title if reader.metadata else None
        return (str(title).strip() or None) if title else None, _outline(reader), password
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - pdfium may still read what pypdf cannot
        log.debug("%s: pypdf could not read metadata: %s", rel, exc)
        return None, [], None


def _open_pdfium(data: bytes, rel: str, password: str | None) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data, password=password)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise LoadError(rel, "encrypted PDF: a password is needed to read it") from exc
        raise LoadError(rel, "damaged or truncated PDF: PDFium cannot parse it") from exc


def load_pdf(path: Path, rel: str, data: bytes | None = None) -> Document:
    """Read a PDF into a Document whose text is its pages joined in order."""
    data = path.read_bytes() if data is None else data
    if b"%PDF-" not in data[:1024]:
        raise LoadError(rel, "not a PDF file (no %PDF- header)")
    title, outline, password = _read_with_pypdf(data, rel)
    pdf = _open_pdfium(data, rel, password)
    try:
        n_pages = len(pdf)
        if n_pages == 0:
            raise LoadError(rel, "PDF has no pages")
        texts: list[str] = []
        textless: list[int] = []
        for index in range(n_pages):
            try:
                text, _ = normalize_page_text(page_raw_text(pdf, index))
            except pdfium.PdfiumError:
                text = ""
            if not text.strip():
                page = pdf[index]
                if _has_images(page):
                    textless.append(index + 1)
                page.close()
            texts.append(text)
    finally:
        pdf.close()
    if not any(t.strip() for t in texts):
        pages = "its only page" if n_pages == 1 else f"any of its {n_pages} pages"
        raise LoadError(rel, f"no text layer on {pages} (scanned or image-only; no OCR)")
    starts, pos = [], 0
    for text in texts:
        starts.append(pos)
        pos += len(text) + len(PAGE_SEPARATOR)
    full = PAGE_SEPARATOR.join(texts)
    notes = (f"pages without a text layer (images only): {_ranges(textless)}",) if textless else ()
    return Document(
        doc_id=sha256_bytes(data),
        path=rel,
        kind="pdf",
        text=full,
        pages=n_pages,
        page_starts=tuple(starts),
        mtime=path.stat().st_mtime if path.exists() else 0.0,
        title=title,
        sections=_section_offsets(outline, texts, starts),
        notes=notes,
    )


def _section_offsets(
    outline: list[tuple[int, str]], texts: list[str], starts: list[int]
) -> tuple[tuple[int, str], ...]:
    """Place each outline entry at its heading in the page text, else at the page start."""
    sections: list[tuple[int, str]] = []
    for page, title in outline:
        if page >= len(texts):
            continue
        leaf = title.rsplit(" > ", 1)[-1]
        pattern = r"\s+".join(re.escape(word) for word in leaf.split())
        found = re.search(pattern, texts[page]) if pattern else None
        sections.append((starts[page] + (found.start() if found else 0), title))
    sections.sort(key=lambda item: item[0])
    return tuple(sections)


def _ranges(pages: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7'."""
    parts: list[tuple[int, int]] = []
    for p in pages:
        if parts and parts[-1][1] == p - 1:
            parts[-1] = (parts[-1][0], p)
        else:
            parts.append((p, p))
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in parts)


def chunk_pdf(doc: Document, settings: ChunkSettings) -> list[Chunk]:
    """Chunks of a PDF: each page cut on its own, so no chunk crosses a page."""
    chunks: list[Chunk] = []
    for page in range(1, doc.pages + 1):
        start = doc.page_starts[page - 1]
        end = start + len(doc.page_text(page))
        for s, e, n in split_region(doc.text, start, end, settings):
            chunks.append(make_chunk(doc, s, e, len(chunks), n, doc.section_at(s)))
    return chunks
