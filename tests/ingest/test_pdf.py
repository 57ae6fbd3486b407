"""PDF loading on the real manuals and on damaged, encrypted, empty and image-only PDFs."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest
from PIL import Image

from ingest.chunking import ChunkSettings
from ingest.errors import LoadError
from ingest.pdf import chunk_pdf, load_pdf, normalize_page_text
from tests.conftest import EXAMPLES

GUIDE = EXAMPLES / "fasta_guide.pdf"
MANUAL = EXAMPLES / "gutenprint-users-manual.pdf"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def image_only_pdf() -> bytes:
    pdf = pdfium.PdfDocument.new()
    page = pdf.new_page(200, 200)
    image = pdfium.PdfImage.new(pdf)
    image.set_bitmap(pdfium.PdfBitmap.from_pil(Image.new("RGB", (40, 40), (200, 30, 30))))
    image.set_matrix(pdfium.PdfMatrix().scale(40, 40))
    page.insert_obj(image)
    page.gen_content()
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def test_real_manual_reads_every_page_with_its_outline() -> None:
    doc = load_pdf(MANUAL, "gutenprint-users-manual.pdf")
    assert doc.kind == "pdf" and doc.pages == 73
    assert "at least 64 MB" in " ".join(doc.page_text(9).split())
    assert any("escputil" in title for _, title in doc.sections)
    assert doc.section_at(doc.page_starts[30]) is not None


def test_soft_hyphens_are_joined_and_keep_line_count() -> None:
    raw = "The data\ufffe\r\ndriven design\r\nnext line\r\n"
    text, source = normalize_page_text(raw)
    assert text == "The datadriven\ndesign\nnext line\n"
    assert text.count("\n") == raw.count("\r\n")
    for out_char, raw_index in zip(text, source):
        if out_char not in "\n":
            assert raw[raw_index] == out_char


def test_real_guide_has_no_soft_hyphen_marks_left() -> None:
    doc = load_pdf(GUIDE, "fasta_guide.pdf")
    assert "\ufffe" not in doc.text and "\r" not in doc.text
    assert doc.pages == 37


def test_chunks_never_cross_pages() -> None:
    doc = load_pdf(GUIDE, "fasta_guide.pdf")
    for chunk in chunk_pdf(doc, ChunkSettings(tokens=200, overlap=20)):
        page_start = doc.page_starts[chunk.span.page - 1]
        assert page_start <= chunk.span.char_start
        assert chunk.span.char_end <= page_start + len(doc.page_text(chunk.span.page))
        assert doc.text[chunk.span.char_start : chunk.span.char_end] == chunk.text


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_truncated_pdf_is_refused_with_a_reason(tmp_path: Path, fraction: float) -> None:
    data = GUIDE.read_bytes()
    path = write(tmp_path, "cut.pdf", data[: int(len(data) * fraction)])
    with pytest.raises(LoadError, match=r"cut\.pdf: damaged or truncated PDF"):
        load_pdf(path, "cut.pdf")


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(GUIDE.read_bytes()))
    writer.encrypt(user_password="secret", owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    path = write(tmp_path, "locked.pdf", buffer.getvalue())
    with pytest.raises(LoadError, match=r"locked\.pdf: encrypted PDF: a password is needed"):
        load_pdf(path, "locked.pdf")


def test_pdf_with_empty_user_password_is_read(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(GUIDE.read_bytes()))
    writer.encrypt(user_password="", owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    doc = load_pdf(write(tmp_path, "open.pdf", buffer.getvalue()), "open.pdf")
    assert doc.pages == 37 and "FASTA" in doc.text


def test_pdf_without_pages_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    pypdf.PdfWriter().write(buffer)
    with pytest.raises(LoadError, match=r"empty\.pdf: PDF has no pages"):
        load_pdf(write(tmp_path, "empty.pdf", buffer.getvalue()), "empty.pdf")


def test_image_only_pdf_is_refused_as_needing_ocr(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"scan\.pdf: no text layer on its only page"):
        load_pdf(write(tmp_path, "scan.pdf", image_only_pdf()), "scan.pdf")


def test_image_only_pages_are_noted_and_the_rest_kept(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(GUIDE.read_bytes()))
    writer.append(io.BytesIO(image_only_pdf()))
    buffer = io.BytesIO()
    writer.write(buffer)
    doc = load_pdf(write(tmp_path, "mixed.pdf", buffer.getvalue()), "mixed.pdf")
    assert doc.pages == 38
    assert doc.notes == ("pages without a text layer (images only): 38",)


def test_file_named_pdf_that_is_not_one(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="not a PDF file"):
        load_pdf(write(tmp_path, "fake.pdf", b"just some text"), "fake.pdf")
