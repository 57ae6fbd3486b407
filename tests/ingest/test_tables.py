"""Ruled tables in text PDFs are read as Markdown rows, one chunk per table, on their page, and a
citation of a table highlights the table: on a table drawn by matplotlib and on the real tables
of the Gutenprint manual (its language codes, its hue angles)."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest
from matplotlib import rc_context
from matplotlib.figure import Figure

from app.services.sources import PageView, render_page, show
from ingest.chunking import ChunkSettings
from ingest.document import Chunk, Document
from ingest.pdf import chunk_pdf, load_pdf, normalize_page_text, page_raw_text
from ingest.tables import char_centres
from retrieval.indexer import ingest
from retrieval.store import DATABASE, Index
from tests.conftest import EXAMPLES, HashEmbedder
from tests.ingest.test_spans import assert_round_trip

MANUAL = EXAMPLES / "gutenprint-users-manual.pdf"
GUIDE = EXAMPLES / "fasta_guide.pdf"
OPTIONS = [
    ["Option", "Default", "Meaning"],
    ["-E", "10.0", "expectation threshold"],
    ["-b", "50", "best scores shown"],
    ["-s", "BL50", "scoring matrix"],
    ["-f", "-10", "gap open penalty"],
]
HUES = [
    "|  | Ink Type |  |",
    "| --- | --- | --- |",
    "| Angle | RGB | CMY |",
    "| 0 | Red | Cyan |",
    "| 1 | Yellow | Blue |",
    "| 2 | Green | Magenta |",
    "| 3 | Cyan | Red |",
    "| 4 | Blue | Yellow |",
    "| 5 | Magenta | Green |",
    "| 6 | Red | Cyan |",
]


def table_pdf(path: Path, ruled: bool = True) -> Path:
    """A letter page: a heading, a sentence, a table of options (matplotlib), a sentence."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with rc_context({"pdf.fonttype": 42}):  # TrueType text, as most PDFs have
        figure = Figure(figsize=(8.5, 11))
        figure.text(0.1, 0.9, "Search options", fontsize=16)
        figure.text(0.1, 0.86, "The programs accept the following options on the command line.")
        axes = figure.add_axes((0.1, 0.6, 0.8, 0.22))
        axes.axis("off")
        table = axes.table(
            cellText=OPTIONS[1:],
            colLabels=OPTIONS[0],
            loc="center",
            cellLoc="left",
            edges="closed" if ruled else "open",
        )
        table.set_fontsize(11)
        table.scale(1, 1.6)
        figure.text(0.1, 0.55, "Options may be given in any order after the query file name.")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="pdf")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture(scope="module")
def manual() -> Document:
    return load_pdf(MANUAL, "gutenprint-users-manual.pdf")


def table_chunks(chunks: list[Chunk]) -> list[Chunk]:
    return [c for c in chunks if c.text.startswith("| ")]


def test_a_ruled_table_is_one_chunk_of_rows_on_its_page(tmp_path: Path) -> None:
    doc = load_pdf(table_pdf(tmp_path / "options.pdf"), "options.pdf")
    chunks = chunk_pdf(doc, ChunkSettings())
    assert_round_trip(doc, chunks)
    [table] = table_chunks(chunks)
    assert table.span.page == 1
    assert table.text.split("\n") == [
        "| Option | Default | Meaning |",
        "| --- | --- | --- |",
        "| -E | 10.0 | expectation threshold |",
        "| -b | 50 | best scores shown |",
        "| -s | BL50 | scoring matrix |",
        "| -f | -10 | gap open penalty |",
    ]
    rest = " ".join(c.text for c in chunks if c is not table)
    assert "following options on the command line." in rest and "after the query file name." in rest
    assert "BL50" not in rest  # the table's words are not also left run together


def test_a_table_without_rules_stays_text(tmp_path: Path) -> None:
    doc = load_pdf(table_pdf(tmp_path / "plain.pdf", ruled=False), "plain.pdf")
    assert "|" not in doc.text and not doc.boxes
    assert "BL50" in doc.text and "gap open penalty" in doc.text


def test_a_table_longer_than_a_chunk_is_cut_between_rows(tmp_path: Path) -> None:
    doc = load_pdf(table_pdf(tmp_path / "options.pdf"), "options.pdf")
    chunks = chunk_pdf(doc, ChunkSettings(tokens=24, overlap=4))
    assert_round_trip(doc, chunks)
    rows = table_chunks(chunks)
    assert len(rows) > 1
    assert all(line.startswith("| ") and line.endswith(" |") for c in rows for line in c.text.split("\n"))


def test_the_manuals_tables_are_read_as_rows(manual: Document) -> None:
    chunks = chunk_pdf(manual, ChunkSettings())
    assert_round_trip(manual, chunks)
    tables = table_chunks(chunks)
    assert [c.span.page for c in tables] == [36, 37, 58]
    assert tables[2].text.split("\n") == HUES
    rows = [line for c in tables[:2] for line in c.text.split("\n") if line != "| --- | --- |"]
    assert rows[0] == "| Language Code | Language Name |"
    codes = rows[1:]  # the table goes on over the page: its second part starts with a code
    assert len(codes) == 17  # as the eval set's question e16 counts them
    assert "| cs | Czech |" in codes and "| zh_TW | Simplified Chinese |" in codes


def test_text_around_a_table_and_pages_without_tables_are_unchanged(manual: Document) -> None:
    pdf = pdfium.PdfDocument(MANUAL)
    original = normalize_page_text(page_raw_text(pdf, 57))[0]
    pdf.close()
    before, after = original.split("Ink Type\n")[0], original.split("6 Red Cyan\n")[1]
    assert manual.page_text(58) == before + "\n".join(HUES) + "\n" + after
    guide = load_pdf(GUIDE, "fasta_guide.pdf")
    pdf = pdfium.PdfDocument(GUIDE)
    assert all(
        guide.page_text(n + 1) == normalize_page_text(page_raw_text(pdf, n))[0] for n in range(len(pdf))
    )
    pdf.close()
    assert not guide.boxes


def _centres(index: int, start: str, end: str) -> list[tuple[float, float]]:
    """Centres (fractions of the page) of the manual's characters from ``start`` to ``end``."""
    pdf = pdfium.PdfDocument(MANUAL)
    page = pdf[index]
    textpage = page.get_textpage()
    raw = textpage.get_text_range()
    text, source = normalize_page_text(raw)
    first = text.index(start)
    last = text.index(end, first) + len(end)
    centres = char_centres(page, textpage, raw, source[first:last])
    textpage.close()
    page.close()
    pdf.close()
    return [c for c in centres if c is not None]


def test_a_table_citation_highlights_the_table_and_text_keeps_its_own_highlight(manual: Document) -> None:
    text = manual.page_text(58)
    table_start = text.index(HUES[0])
    sentence = "The specific hue angles for CMY and RGB outputs are as \nfollows:"
    ranges = [
        (table_start, table_start + len("\n".join(HUES))),
        (text.index(sentence), text.index(sentence) + len(sentence)),
    ]
    boxes = [b for b in manual.boxes if b.page == 58]
    view = render_page(MANUAL.read_bytes(), 58, ranges, "manual.pdf", 2.0, text, boxes)
    width, height = view.image.size

    def inside(centre: tuple[float, float]) -> bool:
        x, y = centre[0] * width, centre[1] * height
        return any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in view.boxes)

    assert all(inside(c) for c in _centres(57, "Ink Type", "6 Red Cyan"))  # the whole table
    assert all(
        inside(c) for c in _centres(57, "The specific hue", "follows:")
    )  # the sentence, by PDFium's boxes
    assert not any(inside(c) for c in _centres(57, "Hue Adjustment Curve", "Hue Adjustment Curve"))
    assert not any(inside(c) for c in _centres(57, "Conventionally", "Conventionally"))


def test_a_table_on_a_rotated_page_stays_text(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter(clone_from=table_pdf(tmp_path / "options.pdf"))
    writer.pages[0].rotate(90)  # pdfplumber would read its columns as rows
    writer.write(tmp_path / "turned.pdf")
    doc = load_pdf(tmp_path / "turned.pdf", "turned.pdf")
    assert "|" not in doc.text and not doc.boxes and "gap open penalty" in doc.text


def test_an_index_from_before_text_boxes_still_shows_its_pages(tmp_path: Path) -> None:
    table_pdf(tmp_path / "docs" / "options.pdf")
    ingest([tmp_path / "docs"], tmp_path / "index", HashEmbedder(), ChunkSettings())
    with Index.open(tmp_path / "index") as index:
        assert len(index.text_boxes("options.pdf", 1)) == 5
        document = index.document("options.pdf")
    with sqlite3.connect(tmp_path / "index" / DATABASE) as database:
        database.execute("DROP TABLE text_boxes")  # as an index written before it existed
    start = document.text.index("Search options")
    view = show(tmp_path / "index", [document.span(start, start + len("Search options"))])
    assert isinstance(view, PageView) and len(view.boxes) == 1
