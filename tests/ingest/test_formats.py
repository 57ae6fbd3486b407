"""Word files, web pages and e-books: headings become sections, spans round-trip into the extracted
text, tables read as Markdown rows, navigation is left out, bad files fail alone with one line,
and a citation's source view shows the extracted text. Fixtures are made here with python-docx
and ebooklib, and written as literal HTML."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from ebooklib import epub
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.sources import TextView, show
from app.services.uploads import Limits, UploadError, check_document
from ingest.chunking import ChunkSettings
from ingest.document import Document
from ingest.errors import LoadError
from ingest.pipeline import chunk_document, load_document
from retrieval.indexer import ingest
from retrieval.store import Index
from tests.conftest import HashEmbedder
from tests.ingest.test_spans import assert_round_trip

SMALL = ChunkSettings(tokens=24, overlap=4)
LINUX = "On Linux, install the package with make install and run it as root."

PAGE = """<!DOCTYPE html>
<html><head><title>Tool manual</title><style>p { color: red }</style></head>
<body>
<header class="site"><a href="/">Project home</a> <a href="/blog">Project blog</a></header>
<nav><ul><li><a href="/a">Getting started guide</a></li><li><a href="/b">Reference index</a></li></ul></nav>
<main>
  <h1>Tool</h1>
  <p>The tool   reads long documents
     and answers questions.<br>It runs offline.</p>
  <h2>Installation</h2>
  <h3>Linux</h3>
  <p>On Linux, install the package with <code>make install</code> and run it as root.</p>
  <ol><li>Download the archive</li><li>Unpack it<ul><li>into a folder of your own</li></ul></li></ol>
  <table><thead><tr><th>Option</th><th>Default</th></tr></thead>
    <tbody><tr><td>threads</td><td><p>2</p></td></tr><tr><td>cache | size</td><td>8 GB</td></tr></tbody>
  </table>
  <h3>Windows</h3>
  <p>On Windows, run the installer and follow its steps to the end.</p>
  <pre>longqa ingest docs/
  --index ix</pre>
  <aside class="note">Related: see the sidebar article.</aside>
</main>
<footer><p>Copyright 2025 Example Corporation. All rights reserved.</p></footer>
<script>var tracking = "analytics";</script>
</body></html>
"""


def make_docx(path: Path, with_text: bool = True) -> Path:
    document = docx.Document()
    if with_text:
        document.core_properties.title = "Tool guide"
        document.add_heading("Tool guide", 0)
        document.add_paragraph("The tool reads long documents and answers questions about them.")
        document.add_heading("Installation", 1)
        document.add_heading("Linux", 2)
        document.add_paragraph(LINUX)
        document.add_paragraph("Download the archive", style="List Bullet")
        table = document.add_table(rows=3, cols=2)
        for r, row in enumerate([("Option", "Default"), ("threads", "2"), ("cache", "8 GB")]):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
        document.add_heading("Windows", 2)
        document.add_paragraph("On Windows, run the installer and follow its steps to the end.")
    document.save(str(path))
    return path


def make_epub(path: Path) -> Path:
    """A book whose files are stored in the opposite order of its spine, with a nav document."""
    book = epub.EpubBook()
    book.set_identifier("longqa-test-book")
    book.set_title("A small book")
    book.set_language("en")
    one = epub.EpubHtml(title="Beginnings", file_name="one.xhtml", lang="en")
    one.content = "<h1>Beginnings</h1><p>The first chapter tells where the story begins.</p>"
    two = epub.EpubHtml(title="Endings", file_name="two.xhtml", lang="en")
    two.content = (
        "<h1>Endings</h1><h2>The harbour</h2><p>The second chapter ends at the harbour at dawn.</p>"
        "<table><tr><th>Ship</th><th>Crew</th></tr><tr><td>Albatross</td><td>12</td></tr></table>"
    )
    book.add_item(two)
    book.add_item(one)
    book.toc = [one, two]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", one, two]
    epub.write_epub(str(path), book)
    return path


def loaded(path: Path) -> tuple[Document, list]:
    document = load_document(path, path.name)
    chunks = chunk_document(document, SMALL)
    assert_round_trip(document, chunks)
    return document, chunks


def _section_of(chunks: list, quote: str) -> str | None:
    return next(c.section for c in chunks if quote in c.text)


# ----------------------------------------------------------------- Word
def test_a_word_document_reads_as_sections_with_round_tripping_spans(tmp_path: Path) -> None:
    document, chunks = loaded(make_docx(tmp_path / "guide.docx"))
    assert document.kind == "docx" and document.title == "Tool guide"
    assert [title for _, title in document.sections] == [
        "Tool guide",
        "Installation",
        "Installation > Linux",
        "Installation > Windows",
    ]
    assert _section_of(chunks, LINUX) == "Installation > Linux"
    assert _section_of(chunks, "run the installer") == "Installation > Windows"
    assert "## Linux\n\n" + LINUX + "\n\n- Download the archive" in document.text
    assert "| Option | Default |\n| --- | --- |\n| threads | 2 |\n| cache | 8 GB |" in document.text


# ----------------------------------------------------------------- HTML
def test_a_web_page_keeps_its_main_content_without_navigation(tmp_path: Path) -> None:
    (tmp_path / "manual.html").write_text(PAGE, encoding="utf-8")
    document, chunks = loaded(tmp_path / "manual.html")
    assert document.kind == "html" and document.title == "Tool manual"
    for left_out in ("Project home", "Getting started", "Copyright", "analytics", "color: red", "sidebar"):
        assert left_out not in document.text
    assert "The tool reads long documents and answers questions.\nIt runs offline." in document.text
    assert [title for _, title in document.sections] == [
        "Tool",
        "Tool > Installation",
        "Tool > Installation > Linux",
        "Tool > Installation > Windows",
    ]
    assert _section_of(chunks, "run the installer") == "Tool > Installation > Windows"
    assert "1. Download the archive\n\n2. Unpack it\n\n  - into a folder of your own" in document.text
    assert "| Option | Default |\n| --- | --- |\n| threads | 2 |\n| cache \\| size | 8 GB |" in document.text
    assert "longqa ingest docs/\n  --index ix" in document.text  # preformatted lines kept


def test_a_page_that_marks_no_main_content_loses_its_menu(tmp_path: Path) -> None:
    menu = "".join(f'<li><a href="p{n}.html">Menu entry number {n} of the site</a></li>' for n in range(8))
    paragraphs = "".join(
        f"<p>Paragraph {n} of the answer explains how the library applies stylesheets to input.</p>"
        for n in range(4)
    )
    page = (
        f'<html><body><table><tr><td width="200"><ul>{menu}</ul></td>'
        f"<td><h2>Frequently asked questions</h2>{paragraphs}</td></tr></table></body></html>"
    )
    (tmp_path / "faq.htm").write_text(page, encoding="utf-8")
    document, _ = loaded(tmp_path / "faq.htm")
    assert "Menu entry" not in document.text
    assert document.text.startswith("## Frequently asked questions\n\nParagraph 0 of the answer")
    assert document.sections == ((0, "Frequently asked questions"),)


def test_a_page_in_a_declared_legacy_encoding_reads_right(tmp_path: Path) -> None:
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Caf\xe9 cr\xe8me, na\xefve.</p>'
    (tmp_path / "old.html").write_bytes(page.encode("latin-1"))
    document, _ = loaded(tmp_path / "old.html")
    assert document.text == "Café crème, naïve."


words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.tuples(st.integers(0, 3), words), min_size=1, max_size=25))
def test_generated_pages_round_trip(parts: list[tuple[int, str]]) -> None:
    from html import escape

    body = "".join(f"<h{n}>{escape(t)}</h{n}>" if n else f"<p>{escape(t)}</p>" for n, t in parts)
    data = f"<html><body><main>{body}</main></body></html>".encode()
    try:
        document = load_document(Path("gen.html"), "gen.html", data)
    except LoadError:
        assert not any(t.strip() for _, t in parts)
        return
    assert_round_trip(document, chunk_document(document, SMALL))
    for offset, _path in document.sections:
        assert document.text.startswith("#", offset)


# ----------------------------------------------------------------- EPUB
def test_an_ebook_reads_its_chapters_in_spine_order(tmp_path: Path) -> None:
    document, chunks = loaded(make_epub(tmp_path / "book.epub"))
    assert document.kind == "epub" and document.title == "A small book"
    text = document.text
    assert text.index("where the story begins") < text.index("ends at the harbour")
    assert [title for _, title in document.sections] == ["Beginnings", "Endings", "Endings > The harbour"]
    assert _section_of(chunks, "ends at the harbour") == "Endings > The harbour"
    assert "| Ship | Crew |\n| --- | --- |\n| Albatross | 12 |" in text
    assert text.count("Beginnings") == 1  # the book's own table of contents is navigation


def _rewritten(book: Path, target: Path, package: Callable[[bytes], bytes]) -> Path:
    """A copy of ``book`` whose package file (OPF) is rewritten by ``package``."""
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(target, "w") as out:
        for name in source.namelist():
            data = source.read(name)
            out.writestr(name, package(data) if name.endswith(".opf") else data)
    return target


def _without_spine(book: Path, target: Path) -> Path:
    return _rewritten(book, target, lambda opf: re.sub(rb"<spine.*?</spine>", b"", opf, flags=re.S))


def test_a_book_listing_parts_of_chapters_and_missing_files_is_read_once(tmp_path: Path) -> None:
    """Books in the wild list ``chapter.xhtml#part`` as files of their own, or files they lack."""

    def odd_package(opf: bytes) -> bytes:
        items = (
            b'<item href="one.xhtml#part" id="part" media-type="application/xhtml+xml"/>'
            b'<item href="gone.xhtml" id="gone" media-type="application/xhtml+xml"/></manifest>'
        )
        opf = opf.replace(b"</manifest>", items)
        return re.sub(
            rb'(<itemref idref="chapter_1"/>)', rb'\1<itemref idref="part"/><itemref idref="gone"/>', opf
        )

    book = _rewritten(make_epub(tmp_path / "book.epub"), tmp_path / "odd.epub", odd_package)
    assert b'idref="part"' in zipfile.ZipFile(book).read("EPUB/content.opf")
    document, _ = loaded(book)
    assert document.text.count("where the story begins") == 1
    assert document.text.index("where the story begins") < document.text.index("ends at the harbour")
    assert document.notes == ("chapters that could not be read: gone.xhtml",)


# ----------------------------------------------------------------- bad files, through the real ingest
def test_bad_documents_fail_alone_with_one_line_each(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    make_docx(docs / "guide.docx")
    make_epub(tmp_path / "book.epub").rename(docs / "book.epub")
    (docs / "manual.html").write_text(PAGE, encoding="utf-8")
    (docs / "corrupt.docx").write_bytes((docs / "guide.docx").read_bytes()[:3000])
    (docs / "old.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))  # a .doc, renamed
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("readme.txt", "a zip, but no Word document inside")
    (docs / "notword.docx").write_bytes(zipped.getvalue())
    make_docx(docs / "empty.docx", with_text=False)
    _without_spine(docs / "book.epub", docs / "nospine.epub")
    (docs / "truncated.epub").write_bytes((docs / "book.epub").read_bytes()[:700])
    (docs / "garbage.html").write_bytes(bytes(range(256)) * 16)
    (docs / "blank.html").write_text("<html><body><nav>Only a menu</nav></body></html>", encoding="utf-8")

    report = ingest([docs], tmp_path / "index", HashEmbedder(), ChunkSettings())
    outcome = {f.path: f for f in report.files}
    ingested = {p for p, f in outcome.items() if f.status == "ingested"}
    assert ingested == {"guide.docx", "book.epub", "manual.html"}
    expected = {
        "corrupt.docx": "damaged Word file",
        "notword.docx": "damaged Word file",
        "old.docx": "not a Word .docx file",
        "empty.docx": "no text (the document is empty)",
        "nospine.epub": "damaged EPUB",
        "truncated.epub": "damaged EPUB",
        "garbage.html": "binary content",
        "blank.html": "no text",
    }
    for path, reason in expected.items():
        assert outcome[path].status in ("failed", "skipped"), path
        assert reason in outcome[path].reason and "\n" not in outcome[path].reason, outcome[path].reason


def test_a_docx_citation_opens_the_extracted_text_with_the_cited_lines_marked(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    make_docx(docs / "guide.docx")
    ingest([docs], tmp_path / "index", HashEmbedder(), ChunkSettings())
    with Index.open(tmp_path / "index") as index:
        document = index.document("guide.docx")
    start = document.text.index(LINUX)
    span = document.span(start, start + len(LINUX))
    assert span.label == f"guide.docx:{span.line_start}"
    assert document.section_at(start) == "Installation > Linux"

    view = show(tmp_path / "index", [span])
    assert isinstance(view, TextView) and "Word document" in view.note
    cited = [line for line in view.lines if line.cited]
    assert [line.number for line in cited] == [span.line_start]
    assert [line.text[a:b] for line in cited for a, b in line.marks] == [LINUX]
    assert any(line.text == "## Linux" for line in view.lines)


# ----------------------------------------------------------------- uploads
def test_uploads_accept_word_files_and_ebooks_and_refuse_a_binary_web_page(tmp_path: Path) -> None:
    check_document("guide.docx", make_docx(tmp_path / "guide.docx").read_bytes(), Limits())
    check_document("book.epub", make_epub(tmp_path / "book.epub").read_bytes(), Limits())
    check_document("page.html", PAGE.encode(), Limits())
    with pytest.raises(UploadError, match=r"^page\.html: binary content where text was expected$"):
        check_document("page.html", bytes(range(256)) * 4, Limits())
