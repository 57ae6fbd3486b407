"""PDF loading: text per page with pypdfium2; outline, metadata and encryption with pypdf;
ruled tables as rows (ingest/tables.py); pages without a text layer read by OCR (ingest/ocr.py).

pypdfium2 keeps word spaces and gives character boxes; pypdf reads the outline and tells
encryption apart from damage. A PDF that cannot be read raises ``LoadError`` with one line saying
why; a page without a text layer that OCR cannot read (or that OCR is not asked to read) is
noted, and the rest of the document is kept. Text that is not PDFium's (OCR's words, tables'
rows) keeps its boxes on the page (``Document.boxes``) for highlighting.
"""

from __future__ import annotations

import difflib
import io
import itertools
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from core.files import sha256_bytes
from ingest.chunking import ChunkSettings, split_region
from ingest.document import PAGE_SEPARATOR, Chunk, Document, TextBox, make_chunk
from ingest.errors import LoadError
from ingest.lines import line_starts
from ingest.ocr import PAGE_TIMEOUT, Box, Engine, OcrMode, OcrUnavailable, default_engine, read_page
from ingest.tables import MAX_CROSSINGS, TABLE_BLOCK, TableFinder, char_centres, splice

log = logging.getLogger(__name__)
logging.getLogger("pypdf").setLevel(logging.ERROR)  # damage is reported once, by us

_SOFT_HYPHEN = "\ufffe"  # how pdfium marks a hyphen that breaks a word across lines
_LIGATURES = {chr(c) for c in range(0xFB00, 0xFB07)}

PageProgress = Callable[[int, int, str], None]
"""progress(pages done, pages OCR reads in this file, file): before each page and once at the end."""


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


def _has(page: pdfium.PdfPage, kind: int) -> bool:
    return any(True for _ in page.get_objects(filter=[kind], max_depth=2))


def source_map(page_text: str, raw: str) -> list[int]:
    """Per character of an indexed page's text, its index in ``raw`` (PDFium's text of the page),
    or -1 for text that is not PDFium's (table rows, OCR): lines are matched in order."""
    text, source = normalize_page_text(raw)
    if text == page_text:
        return source
    mine, theirs = page_text.split("\n"), text.split("\n")
    my_starts, their_starts = line_starts(page_text), line_starts(text)
    result = [-1] * len(page_text)
    for a, b, size in difflib.SequenceMatcher(None, mine, theirs, autojunk=False).get_matching_blocks():
        for k in range(size):
            at, to = my_starts[a + k], their_starts[b + k]
            result[at : at + len(mine[a + k])] = source[to : to + len(mine[a + k])]
    return result


@dataclass
class _Page:
    """One page's text and the boxes of its text that is not PDFium's."""

    text: str = ""
    boxes: list[tuple[int, int, Box]] = field(default_factory=list)


def _page_text(page: pdfium.PdfPage, index: int, tables: TableFinder | None) -> _Page:
    """The page's text layer, its ruled tables written as rows."""
    try:
        textpage = page.get_textpage()
    except pdfium.PdfiumError:
        return _Page()
    try:
        raw = textpage.get_text_range()
        text, source = normalize_page_text(raw)
        found = tables.find(index, page) if tables and text.strip() else []
        if not found:
            return _Page(text)
        return _Page(*splice(text, char_centres(page, textpage, raw, source), found))
    except pdfium.PdfiumError:
        return _Page()
    finally:
        textpage.close()


def _text_layer(
    pdf: pdfium.PdfDocument, tables: TableFinder | None, ocr: OcrMode
) -> tuple[list[_Page], list[int]]:
    """Every page's own text, and the 0-based pages for OCR (without text but with images; all
    of them with ``ocr="always"``)."""
    pages: list[_Page] = []
    scanned: list[int] = []
    for index in range(len(pdf)):
        page = pdf[index]
        try:
            pages.append(_page_text(page, index, tables))
            if ocr == "always" or (not pages[-1].text.strip() and _has(page, pdfium_c.FPDF_PAGEOBJ_IMAGE)):
                scanned.append(index)
        finally:
            page.close()
    return pages, scanned


def _ocr(
    pdf: pdfium.PdfDocument,
    pages: list[_Page],
    scanned: list[int],
    ocr: OcrMode,
    engine: Engine | None,
    progress: PageProgress | None,
    rel: str,
    timeout: float,
) -> tuple[list[str], str]:
    """OCR the scanned pages in place; notes on what it did, and why a page may still be textless."""
    if not scanned:
        return [], "no OCR"
    if ocr == "never":
        return [
            f"pages without a text layer (images only): {_ranges([i + 1 for i in scanned])}"
        ], "OCR is off"
    try:
        engine = engine or default_engine(timeout)
    except OcrUnavailable as exc:
        return [f"pages without a text layer (images only; {exc}): {_ranges([i + 1 for i in scanned])}"], str(
            exc
        )
    tell = progress or (lambda *_: None)
    read: list[int] = []
    failed: dict[str, list[int]] = {}
    for done, index in enumerate(scanned):
        tell(done, len(scanned), rel)
        page = pdf[index]
        try:
            text, boxes = read_page(page, engine)
        except Exception as exc:  # noqa: BLE001 - one page OCR cannot read is noted; the rest goes on
            failed.setdefault(str(exc) or type(exc).__name__, []).append(index + 1)
            continue
        finally:
            page.close()
        if text.strip():
            pages[index] = _Page(text, boxes)
            read.append(index + 1)
    tell(len(scanned), len(scanned), rel)
    notes = [f"pages read by OCR: {_ranges(read)}"] if read else []
    notes += [
        f"pages OCR could not read: {_ranges(numbers)} ({reason})" for reason, numbers in failed.items()
    ]
    blank = [
        i + 1 for i in scanned if not pages[i].text.strip() and not any(i + 1 in n for n in failed.values())
    ]
    if blank:
        notes.append(f"pages without a text layer (images only): {_ranges(blank)}")
    why = f"OCR failed: {next(iter(failed))}" if failed and not read else "OCR found no text"
    return notes, why


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


def load_pdf(
    path: Path,
    rel: str,
    data: bytes | None = None,
    ocr: OcrMode = "auto",
    progress: PageProgress | None = None,
    engine: Engine | None = None,
    ocr_timeout: float = PAGE_TIMEOUT,
) -> Document:
    """Read a PDF into a Document whose text is its pages joined in order; pages without a text
    layer are read by OCR unless ``ocr="never"`` (``engine``: Tesseract unless another is given,
    giving up on a page after ``ocr_timeout`` seconds)."""
    data = path.read_bytes() if data is None else data
    if b"%PDF-" not in data[:1024]:
        raise LoadError(rel, "not a PDF file (no %PDF- header)")
    title, outline, password = _read_with_pypdf(data, rel)
    pdf = _open_pdfium(data, rel, password)
    tables = TableFinder(data, password) if ocr != "always" else None
    try:
        n_pages = len(pdf)
        if n_pages == 0:
            raise LoadError(rel, "PDF has no pages")
        pages, scanned = _text_layer(pdf, tables, ocr)
        notes, why = _ocr(pdf, pages, scanned, ocr, engine, progress, rel, ocr_timeout)
    finally:
        if tables:
            tables.close()
        pdf.close()
    if tables and tables.too_dense:
        dense = f"pages whose tables stay text (over {MAX_CROSSINGS:,} rule crossings): "
        notes.insert(0, dense + _ranges(tables.too_dense))
    texts = [page.text for page in pages]
    if not any(t.strip() for t in texts):
        where = "its only page" if n_pages == 1 else f"any of its {n_pages} pages"
        raise LoadError(rel, f"no text layer on {where} (scanned or image-only; {why})")
    starts, pos = [], 0
    for text in texts:
        starts.append(pos)
        pos += len(text) + len(PAGE_SEPARATOR)
    return Document(
        doc_id=sha256_bytes(data),
        path=rel,
        kind="pdf",
        text=PAGE_SEPARATOR.join(texts),
        pages=n_pages,
        page_starts=tuple(starts),
        mtime=path.stat().st_mtime if path.exists() else 0.0,
        title=title,
        sections=_section_offsets(outline, texts, starts),
        notes=tuple(notes),
        boxes=tuple(TextBox(n + 1, a, b, box) for n, page in enumerate(pages) for a, b, box in page.boxes),
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
    """Chunks of a PDF: each page cut on its own, so no chunk crosses a page; a table's rows are
    a chunk of their own (several, where they pass the budget)."""
    chunks: list[Chunk] = []
    for page in range(1, doc.pages + 1):
        start = doc.page_starts[page - 1]
        end = start + len(doc.page_text(page))
        for region_start, region_end in _regions(doc.text, start, end):
            for s, e, n in split_region(doc.text, region_start, region_end, settings):
                chunks.append(make_chunk(doc, s, e, len(chunks), n, doc.section_at(s)))
    return chunks


def _regions(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``text[start:end]`` cut before and after each table."""
    cuts = [start]
    for table in TABLE_BLOCK.finditer(text, start, end):
        cuts += [table.start(), table.end()]
    cuts.append(end)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]
