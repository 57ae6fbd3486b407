"""A citation's source: a real PDF page with the cited characters highlighted where PDFium puts
them, numbered lines with the cited ones marked, and the fallbacks when the original is gone."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest

from app.services.sources import PageView, TextView, line_rects, render_page, show, text_view
from ingest.chunking import ChunkSettings
from ingest.pdf import normalize_page_text, page_raw_text
from retrieval.indexer import ingest
from retrieval.store import Index
from tests.conftest import EXAMPLES, HashEmbedder
from tests.ui.documents import CODE, QUOTE, first_pages

SCALE = 2.0


@pytest.fixture(scope="module")
def page_one() -> tuple[bytes, str, int]:
    """fasta_guide.pdf's bytes, its first page's indexed text, and where QUOTE starts in it."""
    data = (EXAMPLES / "fasta_guide.pdf").read_bytes()
    pdf = pdfium.PdfDocument(data)
    text, _ = normalize_page_text(page_raw_text(pdf, 0))
    pdf.close()
    return data, text, text.index(QUOTE)


def _pdfium_boxes(data: bytes, first: str, last: str) -> tuple[list[tuple[float, ...]], tuple[float, ...]]:
    """Tight PDFium boxes (pixels) of every non-blank char from ``first`` to ``last`` on page 1,
    and the box of the character just before them."""
    pdf = pdfium.PdfDocument(data)
    page = pdf[0]
    textpage = page.get_textpage()
    raw = textpage.get_text_range()
    start = raw.index(first)
    end = raw.index(last, start) + len(last)
    height = page.get_height()

    def pixels(i: int) -> tuple[float, ...]:
        left, bottom, right, top = textpage.get_charbox(i)
        return (left * SCALE, (height - top) * SCALE, right * SCALE, (height - bottom) * SCALE)

    boxes = [pixels(i) for i in range(start, end) if not raw[i].isspace() and raw[i] != "\ufffe"]
    before = pixels(start - 3)  # the "]" of "[20]. " before the quote
    pdf.close()
    return boxes, before


def _inside(
    box: tuple[float, ...], rects: list[tuple[float, float, float, float]], slack: float = 1.0
) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return any(r[0] - slack <= cx <= r[2] + slack and r[1] - slack <= cy <= r[3] + slack for r in rects)


def test_the_highlight_covers_exactly_the_cited_characters(page_one) -> None:
    data, _, start = page_one
    view = render_page(data, 1, [(start, start + len(QUOTE))], "fasta_guide.pdf", SCALE)
    assert isinstance(view, PageView) and view.pages == 37 and view.image.size == (1224, 1584)
    assert len(view.boxes) == 3  # the quote runs over three printed lines
    chars, before = _pdfium_boxes(data, "Version 3 of the FASTA", "shuffled sequences.")
    assert len(chars) == len([c for c in QUOTE if not c.isspace()])
    assert all(_inside(c, view.boxes) for c in chars)
    assert not _inside(before, view.boxes, slack=0)
    tops = [b[1] for b in view.boxes]
    assert tops == sorted(tops) and 300 < tops[0] < 420  # where the paragraph sits, near the top


def test_the_highlight_changes_pixels_only_where_it_is_drawn(page_one) -> None:
    data, _, start = page_one
    plain = np.asarray(render_page(data, 1, [], scale=SCALE).image, dtype=np.int16)
    view = render_page(data, 1, [(start, start + len(QUOTE))], scale=SCALE)
    marked = np.asarray(view.image, dtype=np.int16)
    for left, top, right, bottom in view.boxes:
        inside = np.abs(
            marked[int(top) : int(bottom), int(left) : int(right)]
            - plain[int(top) : int(bottom), int(left) : int(right)]
        )
        assert inside.mean() > 10  # tinted yellow
        # blue drops where yellow is laid over white paper
        assert (
            marked[int(top) : int(bottom), int(left) : int(right), 2].mean()
            < plain[int(top) : int(bottom), int(left) : int(right), 2].mean() - 20
        )
    lowest = int(max(b[3] for b in view.boxes)) + 10
    assert np.array_equal(marked[lowest:], plain[lowest:])


def test_line_rects_merge_characters_per_line() -> None:
    boxes = [(10, 100, 15, 90), (16, 100, 21, 90), (22, 101, 27, 89), (10, 80, 15, 70), (16, 80, 21, 70)]
    assert line_rects(boxes) == [(10, 101, 27, 89), (10, 80, 21, 70)]


def test_text_view_numbers_lines_and_marks_the_cited_characters() -> None:
    text = "\n".join(f"line {n}" for n in range(1, 41))
    start = text.index("line 20")
    view = text_view(text, [(start + 5, text.index("line 22") + 4)], "notes.txt", "plain")
    assert isinstance(view, TextView) and view.total_lines == 40
    assert [line.number for line in view.lines] == list(range(12, 31))  # eight lines around the cited ones
    cited = [(line.number, line.marks) for line in view.lines if line.cited]
    assert cited == [(20, ((5, 7),)), (21, ((0, 7),)), (22, ((0, 4),))]
    assert len(text_view(text, [(0, 4)], "notes.txt", whole=True).lines) == 40


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Path, Path]:
    docs = tmp_path / "docs"
    first_pages(docs / "fasta_intro.pdf")
    (docs / "code").mkdir()
    shutil.copy(CODE, docs / "code" / "errors.go")
    ingest([docs], tmp_path / "index", HashEmbedder(), ChunkSettings())
    return docs, tmp_path / "index"


def _span(index_folder: Path, path: str, quote: str):
    with Index.open(index_folder) as index:
        document = index.document(path)
    start = document.text.index(quote)
    return document.span(start, start + len(quote))


def test_a_pdf_citation_shows_its_page_from_the_original_file(indexed) -> None:
    _, index_folder = indexed
    view = show(index_folder, [_span(index_folder, "fasta_intro.pdf", QUOTE)])
    assert isinstance(view, PageView) and (view.page, view.pages) == (1, 2) and len(view.boxes) == 3


@pytest.mark.parametrize("change", ["deleted", "edited"])
def test_without_its_original_a_pdf_citation_shows_the_extracted_text(indexed, change: str) -> None:
    docs, index_folder = indexed
    span = _span(index_folder, "fasta_intro.pdf", QUOTE)
    if change == "deleted":
        (docs / "fasta_intro.pdf").unlink()
    else:
        first_pages(docs / "fasta_intro.pdf", pages=1)
    view = show(index_folder, [span])
    assert isinstance(view, TextView) and view.page == 1
    assert ("no longer there" if change == "deleted" else "has changed") in view.note
    cited = [line for line in view.lines if line.cited]
    assert [line.number for line in cited] == list(range(span.line_start, span.line_end + 1))
    assert "".join(line.text[a:b] for line in cited for a, b in line.marks) == QUOTE.replace("\n", "")


def test_a_code_citation_shows_numbered_lines_with_the_cited_ones_marked(indexed) -> None:
    _, index_folder = indexed
    quote = "func WithMessagef(err error, format string, args ...interface{}) error {"
    view = show(index_folder, [_span(index_folder, "code/errors.go", quote)])
    assert isinstance(view, TextView) and view.language == "go" and not view.note
    cited = [line for line in view.lines if line.cited]
    assert [(line.number, line.marks) for line in cited] == [(229, ((0, len(quote)),))]
    assert view.lines[0].number == 221 and view.lines[-1].number == 237
    whole = show(index_folder, [_span(index_folder, "code/errors.go", quote)], whole=True)
    assert isinstance(whole, TextView) and len(whole.lines) == whole.total_lines
