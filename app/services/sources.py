"""A citation's source, ready to show: the PDF page with the cited text highlighted, or the file's
lines with numbers and the cited range marked.

For a PDF the page is rendered from the original file (pypdfium2) and the highlight is drawn over
the character boxes of the cited characters: ``normalize_page_text`` maps every character of the
indexed page text back to PDFium's character index, so the boxes are exactly the cited ones. Text
that is not PDFium's (a page read by OCR, a table written as rows) is highlighted by the boxes
stored with it in the index: the OCR'd words, the table's rows. When
the original file is gone or has changed since it was ingested, the page's extracted text is shown
instead, with the span marked. Code and text are shown from the index's copy of the file, whose
line numbers are the file's; Word files, web pages and e-books from the text read from them, under
their format's note (``ingest.formats``). This module never touches Streamlit.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageDraw

from app import wiring
from app.settings import Settings, load_settings
from core.errors import LongqaError
from core.files import sha256_bytes
from ingest.document import Document, Span, TextBox
from ingest.formats import format_of
from ingest.lines import line_of, line_starts
from ingest.pdf import normalize_page_text, page_raw_text, source_map

HIGHLIGHT_FILL = (255, 214, 0, 96)  # translucent yellow over the text
HIGHLIGHT_EDGE = (230, 150, 0, 255)
CONTEXT_LINES = 8  # lines shown above and below cited code
WHOLE_FILE_LINES = 5000  # the most lines "show the whole file" shows

Rect = tuple[float, float, float, float]  # left, top, right, bottom


@dataclass(frozen=True)
class PageView:
    """A rendered PDF page and the highlight rectangles drawn on it (image pixels)."""

    path: str
    page: int
    pages: int
    image: Image.Image
    boxes: list[Rect]
    scale: float


@dataclass(frozen=True)
class Line:
    """One numbered line; ``marks`` are the cited character ranges within it."""

    number: int
    text: str
    cited: bool
    marks: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class TextView:
    """Numbered lines of a file (or of a PDF page's extracted text) with the cited lines marked."""

    path: str
    language: str | None
    lines: list[Line]
    total_lines: int
    page: int | None = None
    note: str = ""


SourceView = PageView | TextView


# ----------------------------------------------------------------- PDF pages
def char_boxes(textpage: pdfium.PdfTextPage, indexes: Sequence[int], text: str) -> list[Rect]:
    """PDFium's (loose) boxes, in PDF points, of the characters at ``indexes``; blanks skipped.

    ``text`` is PDFium's page text, to tell the blanks (whose boxes are empty or made up).
    Boxes come back as (left, top, right, bottom) with top > bottom, as PDF space has it.
    """
    boxes: list[Rect] = []
    for i in indexes:
        if i >= len(text) or text[i].isspace() or text[i] == "\ufffe":
            continue
        left, bottom, right, top = textpage.get_charbox(i, loose=True)
        if right > left and top > bottom:
            boxes.append((left, top, right, bottom))
    return boxes


def line_rects(boxes: list[Rect]) -> list[Rect]:
    """Character boxes merged into one rectangle per run of characters on the same line."""
    rects: list[list[float]] = []
    for left, top, right, bottom in boxes:
        if rects:
            r = rects[-1]
            middle = (top + bottom) / 2
            height = max(r[1] - r[3], top - bottom)
            same_line = r[3] <= middle <= r[1] and left >= r[0] - 1 and left - r[2] < 3 * height
            if same_line:
                r[0], r[1], r[2], r[3] = min(r[0], left), max(r[1], top), max(r[2], right), min(r[3], bottom)
                continue
        rects.append([left, top, right, bottom])
    return [(r[0], r[1], r[2], r[3]) for r in rects]


def _to_pixels(page: pdfium.PdfPage, size: tuple[int, int], rect: Rect) -> Rect:
    """A rectangle in PDF points → image pixels, through PDFium's own page-to-device transform."""
    corners = []
    for x, y in ((rect[0], rect[1]), (rect[2], rect[3])):
        dx, dy = ctypes.c_int(), ctypes.c_int()
        pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, size[0], size[1], 0, x, y, dx, dy)
        corners.append((dx.value, dy.value))
    (x0, y0), (x1, y1) = corners
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def render_page(
    data: bytes,
    page_number: int,
    ranges: Sequence[tuple[int, int]],
    path: str = "",
    scale: float = 2.0,
    page_text: str | None = None,
    text_boxes: Sequence[TextBox] = (),
) -> PageView:
    """Page ``page_number`` (1-based) rendered, with the characters of ``ranges`` highlighted.

    ``ranges`` are offsets into the page's text as the index holds it, ``page_text`` (PDFium's
    normalised text when not given). Text that is not PDFium's (OCR'd words, table rows) is
    highlighted by its ``text_boxes``; the rest by PDFium's character boxes.
    """
    pdf = pdfium.PdfDocument(data)
    try:
        page = pdf[page_number - 1]
        textpage = page.get_textpage()
        try:
            raw = page_raw_text(pdf, page_number - 1)
            source = normalize_page_text(raw)[1] if page_text is None else source_map(page_text, raw)
            indexes = [
                source[i]
                for start, end in ranges
                for i in range(max(start, 0), min(end, len(source)))
                if source[i] >= 0
            ]
            rects = line_rects(char_boxes(textpage, indexes, raw))
            image = page.render(scale=scale).to_pil().convert("RGB")
            boxes = [_to_pixels(page, image.size, r) for r in rects]
            boxes += _stored_boxes(text_boxes, ranges, image.size)
        finally:
            textpage.close()
            page.close()
        pages = len(pdf)
    finally:
        pdf.close()
    return PageView(path, page_number, pages, _draw(image, boxes, scale), boxes, scale)


def _stored_boxes(
    text_boxes: Sequence[TextBox], ranges: Sequence[tuple[int, int]], size: tuple[int, int]
) -> list[Rect]:
    """Pixel rectangles of the stored boxes whose text ``ranges`` touch, one per run on a line."""
    width, height = size
    hit = [b.box for b in text_boxes if any(b.start < end and start < b.end for start, end in ranges)]
    # line_rects merges PDF-space boxes (top above bottom): the rows are flipped there and back
    merged = line_rects(
        [(left * width, -top * height, right * width, -bottom * height) for left, top, right, bottom in hit]
    )
    return [(left, -top, right, -bottom) for left, top, right, bottom in merged]


def focus(view: PageView, margin: float = 0.08) -> Image.Image:
    """The band of the page around the highlight (full width), for a closer look."""
    if not view.boxes:
        return view.image
    width, height = view.image.size
    top = min(b[1] for b in view.boxes) - margin * height
    bottom = max(b[3] for b in view.boxes) + margin * height
    return view.image.crop((0, max(0, int(top)), width, min(height, int(bottom))))


def _draw(image: Image.Image, boxes: list[Rect], scale: float) -> Image.Image:
    if not boxes:
        return image
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    pad = max(1.0, scale)
    for left, top, right, bottom in boxes:
        draw.rectangle(
            (left - pad, top - pad, right + pad, bottom + pad),
            fill=HIGHLIGHT_FILL,
            outline=HIGHLIGHT_EDGE,
            width=max(1, round(scale)),
        )
    return Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")


# ----------------------------------------------------------------- lines
def text_view(
    text: str,
    ranges: Sequence[tuple[int, int]],
    path: str,
    language: str | None = None,
    whole: bool = False,
    page: int | None = None,
    note: str = "",
) -> TextView:
    """The lines of ``text`` around ``ranges`` (offsets into ``text``), numbered from 1."""
    lines = text.split("\n")
    starts = line_starts(text)
    marks: dict[int, list[tuple[int, int]]] = {}
    for start, end in ranges:
        n = line_of(starts, start)
        while n < len(lines) and starts[n] < end:
            line_start, line_end = starts[n], starts[n] + len(lines[n])
            if start < max(line_end, line_start + 1):  # not a line whose newline the range starts on
                marks.setdefault(n, []).append(
                    (max(start, line_start) - line_start, min(end, line_end) - line_start)
                )
            n += 1
    cited = sorted(marks)
    if whole or not cited:
        first, last = 0, min(len(lines), WHOLE_FILE_LINES) - 1
    else:
        first, last = max(0, cited[0] - CONTEXT_LINES), min(len(lines) - 1, cited[-1] + CONTEXT_LINES)
    shown = [
        Line(n + 1, lines[n], n in marks, tuple((a, b) for a, b in marks.get(n, []) if b > a))
        for n in range(first, last + 1)
    ]
    return TextView(path, language, shown, len(lines), page, note)


# ----------------------------------------------------------------- a citation's source
def _original(source: str, document: Document) -> tuple[bytes | None, str]:
    """The original file's bytes if it is still there and unchanged, else None and why not."""
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError:
        return None, f"The original file ({source}) is no longer there: showing the text read from it."
    if sha256_bytes(data) != document.doc_id:
        return None, "The original file has changed since it was ingested: showing the text read from it."
    return data, ""


def show(
    index_folder: Path,
    spans: Sequence[Span],
    whole: bool = False,
    scale: float = 2.0,
    settings: Settings | None = None,
) -> SourceView:
    """The source of one or more cited spans of the same file (and page), ready to display
    (``index_folder``: a folder or a ``milvus:`` spec)."""
    if not spans:
        raise LongqaError("nothing to show: the citation has no span")
    path = spans[0].path
    page = spans[0].page or 1
    with wiring.open_reader(settings or load_settings(), index_folder) as index:
        document = index.document(path)
        info = next((d for d in index.documents() if d.path == path), None)
        text_boxes = index.text_boxes(path, page) if document.kind == "pdf" else []
    ranges = [(s.char_start, s.char_end) for s in spans if s.path == path]
    if document.kind != "pdf":
        note = format_of(document.kind).note  # formats shown as the text read from them say so
        return text_view(document.text, ranges, path, document.language, whole=whole, note=note)
    base = document.page_starts[page - 1]
    on_page = [(a - base, b - base) for a, b in ranges if document.page_of(a) == page]
    data, note = _original(info.source, document) if info else (None, "The original file is unknown.")
    if data is not None:
        try:
            return render_page(data, page, on_page, path, scale, document.page_text(page), text_boxes)
        except (pdfium.PdfiumError, IndexError, ValueError) as exc:
            note = f"The page could not be rendered ({exc}): showing the text read from it."
    return text_view(document.page_text(page), on_page, path, None, whole=True, page=page, note=note)
