"""The format registry is the one contract for file formats: every suffix it lists is classified to
its format, each format's loader gives Documents of its own kind, and a format added with one line
to ``FORMATS`` is read, chunked, indexed, shown and offered for upload with no other module told."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from app.services.sources import TextView, show
from app.services.uploads import Limits, UploadError, check_document
from core.files import sha256_bytes
from ingest.chunking import ChunkSettings
from ingest.document import Document
from ingest.errors import LoadError
from ingest.formats import FORMATS, UNCLAIMED, Format, classify, identify
from ingest.loader import Reading
from ingest.pipeline import chunk_document, load_document, read_file
from ingest.walk import Found, walk
from retrieval.indexer import ingest
from retrieval.store import Index
from tests.conftest import EXAMPLES, FIXTURES, HashEmbedder
from tests.ingest.test_formats import PAGE, make_docx, make_epub
from tests.ingest.test_spans import assert_round_trip
from ui.adding import upload_help, upload_label


def test_every_suffix_and_name_a_format_lists_is_classified_to_it() -> None:
    for kind, fmt in FORMATS.items():
        assert fmt.suffixes, kind
        for suffix, language in fmt.suffixes.items():
            assert suffix == suffix.lower() and suffix.startswith("."), (kind, suffix)
            assert classify(Path(f"docs/a{suffix}")) == (kind, language)
            assert classify(Path(f"docs/A{suffix.upper()}")) == (kind, language)
        for name, language in fmt.names.items():
            assert classify(Path("src") / name.upper()) == (kind, language)


def test_no_suffix_or_name_is_listed_by_two_formats() -> None:
    """So that the table's order never decides what a file is."""
    suffixes = Counter(suffix for fmt in FORMATS.values() for suffix in fmt.suffixes)
    names = Counter(name for fmt in FORMATS.values() for name in fmt.names)
    assert [s for s, n in suffixes.items() if n > 1] == []
    assert [s for s, n in names.items() if n > 1] == []


def test_a_whole_name_wins_over_its_suffix_and_an_unlisted_name_is_plain_text() -> None:
    assert classify(Path("CMakeLists.txt")) == ("code", "cmake")
    assert classify(Path("notes.txt")) == ("text", "plain")
    assert classify(Path("notes.unknown")) == UNCLAIMED == ("text", "plain")
    assert classify(Path("README")) == ("text", "plain")


def test_a_pdf_is_read_as_one_whatever_its_name(tmp_path: Path) -> None:
    data = (EXAMPLES / "fasta_guide.pdf").read_bytes()
    assert identify(Path("guide.txt"), data) == ("pdf", None)
    assert identify(Path("guide.pdf"), b"not a pdf") == ("pdf", None)
    assert load_document(tmp_path / "guide.txt", "guide.txt", data, ocr="never").kind == "pdf"


def _samples(tmp_path: Path) -> dict[str, Path]:
    """One real file of every registered format."""
    page, notes = tmp_path / "page.html", tmp_path / "notes.md"
    page.write_text(PAGE, encoding="utf-8")
    notes.write_text("# Notes\n\nThe tool reads long documents.\n\n## More\n\nIt answers.\n", "utf-8")
    return {
        "pdf": EXAMPLES / "fasta_guide.pdf",
        "docx": make_docx(tmp_path / "guide.docx"),
        "html": page,
        "epub": make_epub(tmp_path / "book.epub"),
        "code": FIXTURES / "code" / "codec.py",
        "text": notes,
    }


def test_each_format_reads_files_into_documents_of_its_own_kind(tmp_path: Path) -> None:
    """The key in FORMATS is the kind its loader gives, so chunking and the source view find it."""
    samples = _samples(tmp_path)
    assert set(samples) == set(FORMATS), "add a sample of the new format to _samples"
    for kind, path in samples.items():
        document = load_document(path, path.name, ocr="never")
        assert document.kind == kind, path.name
        chunks = chunk_document(document, ChunkSettings(tokens=64, overlap=8))
        assert chunks, path.name
        assert_round_trip(document, chunks)


def test_a_binary_format_added_in_one_line_is_walked_and_uploaded_not_sniffed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk and uploads ask the registry which bytes only a loader judges: binary content under a
    binary format's suffix, or starting with a format's magic bytes, is neither skipped nor refused."""
    blob = Format({".blob": None}, load_tiny, "blobs", "blobs (.blob)", binary=True)
    marked_fmt = Format({".mark": None}, load_tiny, "marked", "marked files", magic=b"MARK1")
    binary = bytes(range(256)) * 8
    (tmp_path / "a.blob").write_bytes(binary)
    (tmp_path / "b.any").write_bytes(b"MARK1" + binary)
    (tmp_path / "c.zzz").write_bytes(binary)
    limits = Limits()
    with pytest.raises(UploadError, match=r"^a\.blob: unsupported file type \(\.blob files are binary\)"):
        check_document("a.blob", binary, limits)
    assert {f.rel for f in walk([tmp_path]) if isinstance(f, Found)} == set()
    monkeypatch.setitem(FORMATS, "blob", blob)
    monkeypatch.setitem(FORMATS, "mark", marked_fmt)
    found = {f.rel for f in walk([tmp_path]) if isinstance(f, Found)}
    assert found == {"a.blob", "b.any"}  # c.zzz: binary content no format claims
    check_document("a.blob", binary, limits)
    check_document("b.any", b"MARK1" + binary, limits)
    with pytest.raises(UploadError, match=r"upload PDFs, .*blobs, marked, or a \.zip of a codebase$"):
        check_document("c.zzz", binary, limits)


def test_the_upload_widget_offers_every_format_as_it_describes_itself() -> None:
    label, help_text = upload_label(), upload_help(Limits())
    for fmt in FORMATS.values():
        assert fmt.label in label and fmt.upload in help_text
    assert label.endswith(" or a .zip of a codebase") and "20 MB a document" in help_text


# ----------------------------------------------------------------- a format added in one line
TINY_NOTE = "The text read from this tiny note (its > marks left out)."


def load_tiny(path: Path, rel: str, data: bytes, reading: Reading) -> Document:
    """A made-up format: lines quoted with '> ', read without the marks."""
    lines = data.decode("utf-8").splitlines()
    if not lines or not all(line.startswith("> ") for line in lines):
        raise LoadError(rel, "not a tiny note (every line starts with '> ')")
    text = "\n".join(line[2:] for line in lines)
    return Document(doc_id=sha256_bytes(data), path=rel, kind="tiny", text=text, language=reading.language)


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> Format:
    """The one line a new format takes, and nothing else."""
    fmt = Format({".tiny": None}, load_tiny, "tiny notes", "tiny notes (.tiny)", note=TINY_NOTE)
    monkeypatch.setitem(FORMATS, "tiny", fmt)
    return fmt


def test_a_format_added_in_one_line_is_read_indexed_shown_and_offered(tmp_path: Path, tiny: Format) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    note = docs / "plan.tiny"
    note.write_text("> The plan is to ship on Friday.\n> Then we rest.\n", encoding="utf-8")
    (docs / "broken.tiny").write_text("no marks here\n", encoding="utf-8")

    assert classify(note) == ("tiny", None)
    document = load_document(note, "plan.tiny")
    assert (document.kind, document.text) == ("tiny", "The plan is to ship on Friday.\nThen we rest.")
    assert [c.text for c in read_file(note, "plan.tiny", ChunkSettings()).chunks] == [document.text]
    with pytest.raises(LoadError, match=r"^broken\.tiny: not a tiny note"):
        load_document(docs / "broken.tiny", "broken.tiny")

    report = ingest([docs], tmp_path / "index", HashEmbedder(), ChunkSettings())
    assert {f.path: f.status for f in report.files} == {"plan.tiny": "ingested", "broken.tiny": "failed"}
    with Index.open(tmp_path / "index") as index:
        stored = index.document("plan.tiny")
    assert stored.kind == "tiny"
    start = stored.text.index("Then")
    view = show(tmp_path / "index", [stored.span(start, len(stored.text))])
    assert isinstance(view, TextView) and view.note == TINY_NOTE
    assert [line.number for line in view.lines if line.cited] == [2]

    assert "tiny notes" in upload_label() and "tiny notes (.tiny)" in upload_help(Limits())
