"""Ruled tables of PDF pages, read as rows: pdfplumber finds them from the lines drawn around
their cells, and each is written into the page's text as Markdown-style rows (``| a | b |``) in
place of PDFium's run-together lines, so a model can read its columns.

Only ruled tables of upright pages are found: tables without drawn lines stay as the page's text
(camelot's text-based "stream" mode took paragraphs for tables on the sample manuals). Each row
keeps its box on the page, so a citation of the table highlights the rows it cites. Tables are a
bonus: a page pdfplumber cannot read keeps PDFium's text, and so does a page whose rules cross
too often for pdfplumber to read it in good time (noted). This module never changes the text
outside a table.
"""

from __future__ import annotations

import ctypes
import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pdfplumber
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ingest.blocks import table as markdown_table

log = logging.getLogger(__name__)
logging.getLogger("pdfminer").setLevel(logging.ERROR)

Box = tuple[float, float, float, float]
"""left, top, right, bottom as fractions (0-1) of the rendered page, top-left origin."""

TABLE_BLOCK = re.compile(r"(?m)^\|.*\|\n\|(?: --- \|)+(?:\n\|.*\|)*")
"""A Markdown table as ``markdown`` writes it: a row, the separator, then rows."""

_MARGIN = 0.003  # of the page: a character on a cell's edge is still inside
_FRACTION = 1_000_000  # device size for PDF-to-fraction conversions
_RULE = 10.0  # points: a drawn line at least this long may be a table's rule
_THIN = 2.0  # points: a path thinner than this is a line, not an area
MAX_CROSSINGS = 5_000
"""Rule crossings a page may draw for its tables to be read: pdfplumber's time grows with their
square (a grid of 50 x 50 cells took 1.5 s, 100 x 100 11 s, 200 x 200 127 s); beyond, the page
keeps its text."""
_MAX_SEGMENTS = 100_000  # segments of grid-like paths walked on a page before it counts as over


@dataclass(frozen=True)
class Table:
    """One table: its area, and its rows (cells' text) with each row's area."""

    box: Box
    rows: tuple[tuple[str, ...], ...]
    row_boxes: tuple[Box, ...]


def markdown(rows: Sequence[Sequence[str]]) -> list[str]:
    """The rows (none of them blank) as Markdown table lines: the first row, the separator, the
    rest; written as every other loader writes its tables."""
    block = markdown_table(rows, header=True)
    return block.text.split("\n") if block else []


class TableFinder:
    """The ruled tables of one PDF's pages (the file is parsed by pdfplumber once, pages on demand)."""

    def __init__(self, data: bytes, password: str | None = None) -> None:
        self._data = data
        self._password = password
        self._pdf: pdfplumber.PDF | None = None
        self.too_dense: list[int] = []  # pages (1-based) whose rules cross more than MAX_CROSSINGS times

    def find(self, index: int, page: pdfium.PdfPage) -> list[Table]:
        """Tables of page ``index`` (0-based; ``page`` is PDFium's) with at least two rows and two
        columns; none where it draws too few rules for a table, or too many (noted in ``too_dense``)."""
        crossings = rule_crossings(page)
        if crossings > MAX_CROSSINGS:
            self.too_dense.append(index + 1)
        if not 0 < crossings <= MAX_CROSSINGS:
            return []
        try:
            if self._pdf is None:
                self._pdf = pdfplumber.open(io.BytesIO(self._data), password=self._password or "")
            page = self._pdf.pages[index]
            try:
                return [t for t in (_table(page, found) for found in page.find_tables()) if t]
            finally:
                page.close()
        except Exception as exc:  # noqa: BLE001 - tables are a bonus; the page keeps its text
            log.debug("tables of page %d not read: %s", index + 1, exc)
            return []

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()


def _table(page: pdfplumber.page.Page, found: pdfplumber.table.Table) -> Table | None:
    x0, top, x1, bottom = page.bbox
    width, height = (x1 - x0) or 1.0, (bottom - top) or 1.0

    def box(b: Sequence[float]) -> Box:
        return ((b[0] - x0) / width, (b[1] - top) / height, (b[2] - x0) / width, (b[3] - top) / height)

    rows = tuple(tuple(" ".join((c or "").split()) for c in row) for row in found.extract())
    kept = [(row, box(r.bbox)) for row, r in zip(rows, found.rows) if any(row)]
    if len(kept) < 2 or max(len(row) for row, _ in kept) < 2:
        return None
    return Table(box(found.bbox), tuple(r for r, _ in kept), tuple(b for _, b in kept))


def rule_crossings(page: pdfium.PdfPage) -> int:
    """How many crossings of a horizontal and a vertical rule (lines, or the sides of rectangles)
    the page may draw: distinct positions across times distinct positions down. 0 when it draws
    fewer than three each way, as the smallest ruled table does, or is rotated: pdfplumber is
    asked only then, since it reads a page a hundred times slower than PDFium, and pages whose
    cells it reads in the wrong direction (columns as rows, text backwards) are not asked. Over
    MAX_CROSSINGS the count stops there (MAX_CROSSINGS + 1)."""
    if page.get_rotation():
        return 0
    across: set[int] = set()
    down: set[int] = set()
    segments = 0
    for path in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=2):
        left, bottom, right, top = path.get_bounds()
        width, height = right - left, top - bottom
        if width >= _RULE and height >= _RULE:
            count = pdfium_c.FPDFPath_CountSegments(path.raw)
            if count > 6:  # a grid drawn as one path: its straight segments are its rules
                segments += count
                _segment_rules(path, count, across, down)
            else:  # a rectangle
                across |= {_snap(bottom), _snap(top)}
                down |= {_snap(left), _snap(right)}
        elif width >= _RULE and height < _THIN:
            across.add(_snap((top + bottom) / 2))
        elif height >= _RULE and width < _THIN:
            down.add(_snap((left + right) / 2))
        if len(across) * len(down) > MAX_CROSSINGS or segments > _MAX_SEGMENTS:
            return MAX_CROSSINGS + 1
    return len(across) * len(down) if len(across) >= 3 and len(down) >= 3 else 0


def _segment_rules(path: pdfium.PdfObject, count: int, across: set[int], down: set[int]) -> None:
    """Add the positions of a path's horizontal and vertical straight segments."""
    matrix = path.get_matrix()
    x, y = ctypes.c_float(), ctypes.c_float()
    previous: tuple[float, float] | None = None
    for i in range(count):
        segment = pdfium_c.FPDFPath_GetPathSegment(path.raw, i)
        if not pdfium_c.FPDFPathSegment_GetPoint(segment, x, y):
            continue
        point = matrix.on_point(x.value, y.value)
        if previous and pdfium_c.FPDFPathSegment_GetType(segment) == pdfium_c.FPDF_SEGMENT_LINETO:
            dx, dy = abs(point[0] - previous[0]), abs(point[1] - previous[1])
            if dx >= _RULE and dy < _THIN:
                across.add(_snap(point[1]))
            elif dy >= _RULE and dx < _THIN:
                down.add(_snap(point[0]))
        previous = point


def _snap(position: float) -> int:
    """Rules this close together are one to pdfplumber (its snap tolerance, 3 points)."""
    return round(position / 3)


def splice(
    text: str, centres: Sequence[tuple[float, float] | None], tables: Sequence[Table]
) -> tuple[str, list[tuple[int, int, Box]]]:
    """``text`` with each table's lines replaced by its Markdown rows, and each row's offsets in
    the new text with its box.

    ``centres`` gives, per character of ``text``, its centre as a fraction of the page (None for
    characters without a box). A line belongs to a table when most of its characters lie in the
    table's area; the rows go where the table's first line was, its other lines are dropped.
    """
    lines = text.split("\n")
    owner: list[int | None] = []
    pos = 0
    for line in lines:
        owner.append(_owner(centres[pos : pos + len(line)], tables))
        pos += len(line) + 1
    out: list[str] = []
    boxes: list[tuple[int, int, Box]] = []
    written: set[int] = set()
    offset = 0
    for line, table in zip(lines, owner):
        if table is None:
            out.append(line)
            offset += len(line) + 1
            continue
        if table in written:
            continue
        written.add(table)
        rows = markdown(tables[table].rows)
        row_boxes = [tables[table].row_boxes[0], None, *tables[table].row_boxes[1:]]
        for row, row_box in zip(rows, row_boxes):
            if row_box is not None:
                boxes.append((offset, offset + len(row), row_box))
            out.append(row)
            offset += len(row) + 1
    return "\n".join(out), boxes


def _owner(centres: Sequence[tuple[float, float] | None], tables: Sequence[Table]) -> int | None:
    """The table most of a line's characters lie in, if any."""
    points = [c for c in centres if c is not None]
    for number, table in enumerate(tables):
        left, top, right, bottom = table.box
        inside = sum(
            1
            for x, y in points
            if left - _MARGIN <= x <= right + _MARGIN and top - _MARGIN <= y <= bottom + _MARGIN
        )
        if points and inside * 2 > len(points):
            return number
    return None


def char_centres(
    page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, raw: str, source: Sequence[int]
) -> list[tuple[float, float] | None]:
    """Per character (``source``: its index in PDFium's text ``raw``), its centre as fractions of
    the rendered page; None for blanks and marks, whose boxes mean nothing."""
    centres: list[tuple[float, float] | None] = []
    for i in source:
        if raw[i].isspace() or not raw[i].isprintable():
            centres.append(None)
            continue
        left, bottom, right, top = textpage.get_charbox(i)
        centres.append(page_fraction(page, (left + right) / 2, (top + bottom) / 2))
    return centres


def page_fraction(page: pdfium.PdfPage, x: float, y: float) -> tuple[float, float]:
    """A point in PDF space as fractions of the rendered page (top-left origin), through PDFium's
    own page-to-device transform (rotation and crop box included)."""
    dx, dy = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, _FRACTION, _FRACTION, 0, x, y, dx, dy)
    return dx.value / _FRACTION, dy.value / _FRACTION
