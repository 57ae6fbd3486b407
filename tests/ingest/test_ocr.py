"""OCR of scanned PDFs: real manual pages rendered to images and saved as an image-only PDF (as a
scanner makes them) are read back by Tesseract; spans round-trip, the stored word boxes land on
the words where the original text PDF has them, and a page OCR cannot read is noted while the
rest is kept."""

from __future__ import annotations

import difflib
import io
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest

from app.services.sources import PageView, show
from ingest.chunking import ChunkSettings
from ingest.document import Document
from ingest.errors import LoadError
from ingest.ocr import OcrUnavailable, Tesseract, default_engine
from ingest.pdf import chunk_pdf, load_pdf, normalize_page_text, page_raw_text
from ingest.tables import char_centres, page_fraction
from retrieval.indexer import ingest
from retrieval.store import Index
from tests.conftest import EXAMPLES, HashEmbedder
from tests.ingest.test_spans import assert_round_trip
from tests.ui.documents import QUOTE

GUIDE = EXAMPLES / "fasta_guide.pdf"
MANUAL = EXAMPLES / "gutenprint-users-manual.pdf"
PAGES = [(GUIDE, 0), (MANUAL, 8)]  # a paragraph page of each manual


def _engine_missing() -> str:
    try:
        default_engine()
    except OcrUnavailable as exc:
        return str(exc)
    return ""


needs_ocr = pytest.mark.skipif(bool(_engine_missing()), reason=f"OCR engine missing: {_engine_missing()}")


def scanned(pages: list[tuple[Path, int]], dpi: int = 300) -> bytes:
    """The pages rendered to greyscale images and saved as an image-only PDF (pillow)."""
    images = []
    for path, index in pages:
        pdf = pdfium.PdfDocument(path)
        images.append(pdf[index].render(scale=dpi / 72, grayscale=True).to_pil())
        pdf.close()
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def original_text(path: Path, index: int) -> str:
    pdf = pdfium.PdfDocument(path)
    text, _ = normalize_page_text(page_raw_text(pdf, index))
    pdf.close()
    return text


def word_accuracy(reference: str, read: str) -> float:
    """Share of the reference's words found, in order, in what was read."""
    a, b = reference.split(), read.split()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(a)


@pytest.fixture(scope="module")
def scan_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scan") / "scan.pdf"
    path.write_bytes(scanned(PAGES))
    return path


@pytest.fixture(scope="module")
def scan(scan_path: Path) -> tuple[Path, Document]:
    return scan_path, load_pdf(scan_path, "scan.pdf")


@needs_ocr
def test_a_scanned_pdf_is_read_by_ocr(scan) -> None:
    _, doc = scan
    assert doc.notes == ("pages read by OCR: 1-2",)
    for page, (path, index) in enumerate(PAGES, start=1):
        assert word_accuracy(original_text(path, index), doc.page_text(page)) > 0.9
    assert QUOTE in doc.page_text(1)  # three printed lines, read word for word


@needs_ocr
@pytest.mark.parametrize("budget", [64, 384])
def test_spans_of_ocr_text_round_trip(scan, budget: int) -> None:
    _, doc = scan
    chunks = chunk_pdf(doc, ChunkSettings(tokens=budget, overlap=budget // 8))
    assert_round_trip(doc, chunks)
    assert {chunk.span.page for chunk in chunks} == {1, 2}


def _word_boxes(path: Path, index: int) -> dict[str, tuple[float, float, float, float]]:
    """Box (fractions of the page) of each word that occurs once on the original text page."""
    pdf = pdfium.PdfDocument(path)
    page = pdf[index]
    textpage = page.get_textpage()
    raw = textpage.get_text_range()
    found: dict[str, list[tuple[float, float, float, float]]] = {}
    position = 0
    for word in raw.split():
        start = raw.index(word, position)
        position = start + len(word)
        boxes = [textpage.get_charbox(i) for i in range(start, position)]
        left, top = page_fraction(page, min(b[0] for b in boxes), max(b[3] for b in boxes))
        right, bottom = page_fraction(page, max(b[2] for b in boxes), min(b[1] for b in boxes))
        found.setdefault(word, []).append((left, top, right, bottom))
    textpage.close()
    page.close()
    pdf.close()
    return {word: boxes[0] for word, boxes in found.items() if len(boxes) == 1 and len(word) >= 5}


@needs_ocr
@pytest.mark.parametrize("page", [1, 2])
def test_ocr_word_boxes_land_where_the_text_pdf_has_the_words(scan, page: int) -> None:
    _, doc = scan
    truth = _word_boxes(*PAGES[page - 1])
    text = doc.page_text(page)
    read = {text[b.start : b.end]: b.box for b in doc.boxes if b.page == page}
    common = [w for w in truth if w in read and text.count(w) == 1]
    assert len(common) >= 20
    close = [
        w
        for w in common
        if abs((truth[w][0] + truth[w][2]) / 2 - (read[w][0] + read[w][2]) / 2) < 0.01
        and abs((truth[w][1] + truth[w][3]) / 2 - (read[w][1] + read[w][3]) / 2) < 0.005
    ]
    assert len(close) >= 0.95 * len(common)


@needs_ocr
def test_a_citation_of_a_scanned_page_highlights_the_cited_words(scan, tmp_path: Path) -> None:
    path, _ = scan
    ingest([path.parent], tmp_path / "index", HashEmbedder(), ChunkSettings())
    with Index.open(tmp_path / "index") as index:
        document = index.document("scan.pdf")
        assert len(index.text_boxes("scan.pdf", 1)) > 100
    start = document.text.index(QUOTE)
    view = show(tmp_path / "index", [document.span(start, start + len(QUOTE))], scale=2.0)
    assert isinstance(view, PageView) and view.page == 1
    assert len(view.boxes) == 3  # one highlight per printed line of the quote
    width, height = view.image.size

    def inside(centre: tuple[float, float]) -> bool:
        x, y = centre[0] * width, centre[1] * height
        return any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in view.boxes)

    quoted = _centres(GUIDE, 0, QUOTE)
    assert len(quoted) == len(QUOTE.replace(" ", "").replace("\n", ""))
    assert all(inside(c) for c in quoted)  # every character of the quote where the text PDF has it
    assert not any(inside(c) for c in _centres(GUIDE, 0, "[20]. "))  # and not the word before it


def _centres(path: Path, index: int, quote: str) -> list[tuple[float, float]]:
    """Centres (fractions of the page) of the non-blank characters of ``quote`` in the text PDF."""
    pdf = pdfium.PdfDocument(path)
    page = pdf[index]
    textpage = page.get_textpage()
    raw = textpage.get_text_range()
    text, source = normalize_page_text(raw)
    start = text.index(quote)
    centres = char_centres(page, textpage, raw, source[start : start + len(quote)])
    textpage.close()
    page.close()
    pdf.close()
    return [c for c in centres if c is not None]


def _with_text_pages(scan_bytes: bytes) -> bytes:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(GUIDE.read_bytes()))
    for _ in range(len(writer.pages) - 2):
        writer.remove_page(2)
    writer.append(io.BytesIO(scan_bytes))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@needs_ocr
def test_a_page_ocr_cannot_read_is_noted_and_the_rest_kept(tmp_path: Path) -> None:
    # a real failure: Tesseract gives up on a page it cannot finish within its time limit
    path = tmp_path / "mixed.pdf"
    path.write_bytes(_with_text_pages(scanned(PAGES[:1])))
    doc = load_pdf(path, "mixed.pdf", engine=Tesseract(timeout=0.001))
    assert doc.pages == 3 and doc.page_text(3) == ""
    assert doc.notes == (
        "pages OCR could not read: 3 (Tesseract gave up on the page (over 0.001 s, or failed))",
    )
    assert "FASTA" in doc.page_text(1) and doc.page_text(2).strip()
    assert_round_trip(doc, chunk_pdf(doc, ChunkSettings()))


@needs_ocr
def test_ocr_progress_counts_the_pages_it_reads(tmp_path: Path) -> None:
    path = tmp_path / "mixed.pdf"
    path.write_bytes(_with_text_pages(scanned(PAGES[:1])))
    calls: list[tuple[int, int, str]] = []
    doc = load_pdf(path, "mixed.pdf", progress=lambda *call: calls.append(call))
    assert calls == [(0, 1, "mixed.pdf"), (1, 1, "mixed.pdf")]
    assert doc.notes == ("pages read by OCR: 3",)


def test_with_ocr_off_a_scanned_pdf_is_refused(scan_path: Path) -> None:
    with pytest.raises(LoadError, match=r"scan\.pdf: no text layer on any of its 2 pages .*OCR is off"):
        load_pdf(scan_path, "scan.pdf", ocr="never")


@needs_ocr
def test_ocr_always_reads_pages_that_have_a_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "first.pdf"
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(GUIDE.read_bytes()))
    for _ in range(len(writer.pages) - 1):
        writer.remove_page(1)
    writer.write(path)
    doc = load_pdf(path, "first.pdf", ocr="always")
    assert doc.notes == ("pages read by OCR: 1",) and len(doc.boxes) > 100
    assert word_accuracy(original_text(GUIDE, 0), doc.text) > 0.9


@needs_ocr
def test_a_missing_ocr_model_says_how_to_install_it() -> None:
    with pytest.raises(OcrUnavailable, match=r"no OCR model for 'xx'.*tesseract-ocr"):
        Tesseract(language="xx")
