"""Hostile Word files, web pages and e-books, each ingested beside good files.

External entities naming a local file (XXE), entity expansion ("billion laughs"), zip bombs with
honest and with lying sizes, packages of 100,000 entries, e-books whose manifest points outside
the archive, HTML nested 100,000 levels deep, and single elements of 11 and 50 MB. Each bad file
ends failed or skipped with a one-line reason that says why, or ingested without what it
smuggled in; the good files beside it are ingested and searchable; the secret file's word and the
expansion's word reach neither the index folder nor the report. Each bad file is first read alone
in a forked child under an address-space limit and a deadline, so that a bomb that gets through
fails the test with its time and memory instead of taking the machine down.
"""

from __future__ import annotations

import io
import json
import os
import resource
import select
import signal
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import docx
import pytest

from ingest.chunking import ChunkSettings
from ingest.errors import LoadError
from ingest.pipeline import load_document
from ingest.walk import DEFAULT_MAX_BYTES
from retrieval.indexer import ingest
from retrieval.store import Index

SECRET = "quokkasecret"  # in a file beside the corpus that hostile files point at
LAUGH = "quokkalaugh"  # what an entity expansion would multiply
MB = 1024 * 1024
SECONDS = 20.0  # a hostile file read alone must be done within this
PEAK = 400 * MB  # and raise the reader's peak resident memory by less than this
HEADROOM = 2048 * MB  # address space the reading child may add before its allocations fail
GOOD = {"good/readme.md": "quokkaalpha", "good/guide.docx": "quokkadocx", "good/page.html": "quokkaweb"}


@dataclass(frozen=True)
class Bad:
    """What must become of one hostile file."""

    status: str  # "skipped" or "failed" with ``reason``; "ingested" without what it smuggled in
    reason: str = ""  # words the one-line reason must contain
    marker: str = ""  # a word of an ingested file's text that search must find
    note: str = ""  # words one of an ingested file's notes must contain


Case = Callable[[Path], dict[str, tuple[bytes, Bad]]]
"""Hostile files, which may point at the secret file (the argument), by the path the report shows:
their bytes and what must become of them."""


# ----------------------------------------------------------------- zip packages, written by hand
@dataclass(frozen=True)
class Member:
    name: str
    deflated: bytes  # raw deflate data
    crc: int
    size: int  # what it truly inflates to


def member(name: str, data: bytes) -> Member:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Member(name, packer.compress(data) + packer.flush(), zlib.crc32(data), len(data))


def bomb(name: str, head: bytes, megabytes: int, tail: bytes) -> Member:
    """``head``, ``megabytes`` MB of one letter, ``tail``, made without deflating it all: a fully
    flushed piece ends byte-aligned and the next starts afresh, so copies of one concatenate."""
    fill = b"a" * MB

    def piece(data: bytes) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush(zlib.Z_FULL_FLUSH)

    crc = zlib.crc32(head)
    for _ in range(megabytes):
        crc = zlib.crc32(fill, crc)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    deflated = piece(head) + piece(fill) * megabytes + piece(tail) + end
    return Member(name, deflated, zlib.crc32(tail, crc), len(head) + megabytes * MB + len(tail))


def package(members: list[Member], declared: dict[str, int] | None = None) -> bytes:
    """A zip of deflated members; ``declared`` gives a member the (false) size its headers say."""
    out, listing = io.BytesIO(), io.BytesIO()
    for m in members:
        name, offset = m.name.encode(), out.tell()
        fields = (8, 0, 33, m.crc, len(m.deflated), (declared or {}).get(m.name, m.size), len(name))
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, *fields, 0) + name + m.deflated)
        listing.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, *fields, 0, 0, 0, 0, 0, offset))
        listing.write(name)
    start, count, size = out.tell(), len(members), listing.tell()
    if count > 0xFFFF:  # the count no longer fits the end record: a ZIP64 end record holds it
        end64 = start + size
        listing.write(struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, start))
        listing.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, end64, 1))
    shown = min(count, 0xFFFF)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, shown, shown, size, start, 0)
    return out.getvalue() + listing.getvalue() + end


def many(prefix: str) -> list[Member]:
    """100,000 empty members."""
    return [Member(f"{prefix}{n}.txt", b"\x03\x00", 0, 0) for n in range(100_000)]


# ----------------------------------------------------------------- Word files, pages and books
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
WORD_HEAD = f'<?xml version="1.0" encoding="UTF-8"?>{{doctype}}<w:document {W}><w:body><w:p><w:r><w:t>'
WORD_TAIL = "</w:t></w:r></w:p></w:body></w:document>"


def word_file(
    body: bytes | Member, extra: list[Member] | None = None, declared: dict[str, int] | None = None
) -> bytes:
    """python-docx's own package with ``body`` as its ``word/document.xml``."""
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    with zipfile.ZipFile(buffer) as source:
        parts = {name: member(name, source.read(name)) for name in source.namelist()}
    parts["word/document.xml"] = body if isinstance(body, Member) else member("word/document.xml", body)
    return package([*parts.values(), *(extra or [])], declared)


def word_body(text: str, doctype: str = "") -> bytes:
    return (WORD_HEAD.format(doctype=doctype) + text + WORD_TAIL).encode()


CONTAINER = (
    '<?xml version="1.0"?>{doctype}<container version="1.0" '
    'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
    '<rootfile full-path="{opf}" media-type="application/oebps-package+xml"/></rootfiles></container>'
)
OPF = (
    '<?xml version="1.0"?>{doctype}<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
    'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
    '<dc:identifier id="id">hostile</dc:identifier><dc:title>A hostile book {title}</dc:title>'
    "<dc:language>en</dc:language></metadata><manifest>{items}</manifest><spine>{refs}</spine></package>"
)
PAGE = (
    '{doctype}<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Hostile</title></head>'
    "<body>{body}</body></html>"
)


def page(body: str, doctype: str = "") -> bytes:
    return PAGE.format(doctype=doctype, body=body).encode()


@dataclass(frozen=True)
class Book:
    """An EPUB: its chapters in spine order (then ``hrefs``, listed in the manifest, held or not)."""

    chapters: dict[str, bytes | Member] = field(default_factory=lambda: {"one.xhtml": chapter("quokkabook")})
    hrefs: tuple[str, ...] = ()
    container_doctype: str = ""
    opf_doctype: str = ""
    title: str = ""
    opf: str = "OEBPS/content.opf"  # where the container says the package file is
    extra: list[Member] = field(default_factory=list)
    declared: dict[str, int] | None = None

    def zipped(self) -> bytes:
        names = [*self.chapters, *self.hrefs]
        kind = "application/xhtml+xml"
        items = "".join(
            f'<item id="c{n}" href="{name}" media-type="{kind}"/>' for n, name in enumerate(names)
        )
        refs = "".join(f'<itemref idref="c{n}"/>' for n in range(len(names)))
        opf = OPF.format(doctype=self.opf_doctype, title=self.title, items=items, refs=refs)
        container = CONTAINER.format(doctype=self.container_doctype, opf=self.opf)
        members = [
            member("mimetype", b"application/epub+zip"),
            member("META-INF/container.xml", container.encode()),
            member("OEBPS/content.opf", opf.encode()),
        ]
        for name, text in self.chapters.items():
            members.append(text if isinstance(text, Member) else member(f"OEBPS/{name}", text))
        return package([*members, *self.extra], self.declared)


def chapter(text: str, doctype: str = "") -> bytes:
    return page(f"<h1>One</h1><p>{text}</p>", '<?xml version="1.0" encoding="utf-8"?>' + doctype)


def external(secret: Path, root: str = "html") -> str:
    return f'<!DOCTYPE {root} [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'


def laughs(root: str = "html") -> str:
    """Ten levels of ten references each: a billion copies of LAUGH, if expanded."""
    levels = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    return f'<!DOCTYPE {root} [<!ENTITY l0 "{LAUGH} ">{levels}]>'


# ----------------------------------------------------------------- the cases
ENTITIES = Bad("failed", "entities")  # an e-book's package files declaring entities
CROWD = Bad("failed", "entries")  # a zip of too many entries


def xxe(secret: Path) -> dict[str, tuple[bytes, Bad]]:
    """An external entity naming the secret file, in a Word part, pages, a chapter, package files."""
    word, page_doctype = word_body("quokkaword &x;", external(secret, "w:document")), external(secret)
    chapter_one = chapter("quokkabook &x;", external(secret))
    return {
        "xxe.docx": (word_file(word), Bad("failed", "DTD")),
        "xxe.xhtml": (page("<p>quokkaxhtml &x;</p>", page_doctype), Bad("ingested", marker="quokkaxhtml")),
        "xxe.html": (page("<p>quokkahtml &x;</p>", page_doctype), Bad("ingested", marker="quokkahtml")),
        "chapter.epub": (Book({"one.xhtml": chapter_one}).zipped(), Bad("ingested", marker="quokkabook")),
        "container.epub": (Book(container_doctype=external(secret, "container")).zipped(), ENTITIES),
        "opf.epub": (Book(opf_doctype=external(secret, "package"), title="&x;").zipped(), ENTITIES),
    }


def billion_laughs(secret: Path) -> dict[str, tuple[bytes, Bad]]:
    chapter_one = chapter("quokkalolbook &l9;", laughs())
    return {
        "laughs.docx": (word_file(word_body("quokkaword &l9;", laughs("w:document"))), Bad("failed", "DTD")),
        "laughs.xhtml": (page("<p>quokkalol &l9;</p>", laughs()), Bad("ingested", marker="quokkalol")),
        "laughs.epub": (Book({"one.xhtml": chapter_one}).zipped(), Bad("ingested", marker="quokkalolbook")),
        "laughs-opf.epub": (Book(opf_doctype=laughs("package"), title="&l9;").zipped(), ENTITIES),
    }


def zip_bombs(secret: Path) -> dict[str, tuple[bytes, Bad]]:
    """300 MB in one member, its size told honestly or as 4 kB; 100,000 entries."""
    body = bomb("word/document.xml", WORD_HEAD.format(doctype="").encode(), 300, WORD_TAIL.encode())
    inside = bomb("OEBPS/one.xhtml", b"<html><body><p>", 300, b"</p></body></html>")
    lying = {body.name: 4096, inside.name: 4096}
    return {
        "bomb.docx": (word_file(body), Bad("failed", "zip bomb")),
        "liar.docx": (word_file(body, declared=lying), Bad("failed", "header")),
        "crowd.docx": (word_file(word_body("quokkaword"), extra=many("word/media/")), CROWD),
        "bomb.epub": (Book({"one.xhtml": inside}).zipped(), Bad("failed", "zip bomb")),
        "liar.epub": (Book({"one.xhtml": inside}, declared=lying).zipped(), Bad("failed", "header")),
        "crowd.epub": (Book(extra=many("x/")).zipped(), CROWD),
    }


def book_pointing_outside(secret: Path) -> dict[str, tuple[bytes, Bad]]:
    """Manifest entries naming files outside the archive, a URL, a missing member; a container
    naming the secret file as the package file."""
    hrefs = (
        "../../etc/passwd",
        "/etc/passwd",
        "../" * 30 + secret.as_posix().lstrip("/"),
        secret.as_posix(),
        secret.as_uri(),
        "https://example.invalid/chapter.xhtml",
        "missing.xhtml",
    )
    away = Book({"one.xhtml": chapter("The book keeps quokkaaway.")}, hrefs).zipped()
    return {
        "away.epub": (away, Bad("ingested", marker="quokkaaway", note="could not be read")),
        "lost.epub": (Book(opf=secret.as_posix()).zipped(), Bad("failed", "damaged EPUB")),
    }


def deep_html(secret: Path) -> dict[str, tuple[bytes, Bad]]:
    deep = "<div>" * 100_000 + "The deepest words." + "</div>" * 100_000
    shallow = f"<p>The deep page begins with quokkadeep.</p>{deep}<p>After.</p>"
    book = Book({"one.xhtml": chapter("quokkashallow"), "two.xhtml": page(deep)}).zipped()
    return {
        "deep.html": (page(shallow), Bad("failed", "nested")),
        "deep.epub": (book, Bad("ingested", marker="quokkashallow", note="two.xhtml")),
    }


def huge_element(secret: Path) -> dict[str, tuple[bytes, Bad]]:
    """One paragraph of 50 MB: past the folder walk's size cap."""
    return {"huge.html": (page("<p>" + "word " * (50 * MB // 5) + "</p>"), Bad("skipped", "size cap"))}


CASES = [xxe, billion_laughs, zip_bombs, book_pointing_outside, deep_html, huge_element]


# ----------------------------------------------------------------- reading one file alone
def _status(key: str) -> int:
    """A size from /proc/self/status ("VmRSS:   1700 kB"), in bytes."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields[key].split()[0]) * 1024


def read_alone(path: Path, rel: str) -> tuple[str, float, int]:
    """Load one file in a forked child under an address-space limit: what became of it, the seconds
    it took, and by how much it raised the child's peak resident memory."""
    reader, writer = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running any of pytest's teardown
        try:
            os.close(reader)
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            resource.setrlimit(resource.RLIMIT_AS, (_status("VmSize") + HEADROOM, hard))
            Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from here
            base = _status("VmRSS")
            try:
                text = load_document(path, rel).text
                outcome = f"read {len(text):,} characters, ending {text[-40:]!r}"
            except LoadError as exc:
                outcome = f"refused: {exc.reason}"
            except BaseException as exc:  # noqa: BLE001 - told to the parent, which fails the test
                outcome = f"raised {type(exc).__name__}: {exc}"[:300]
            os.write(writer, json.dumps([outcome, _status("VmHWM") - base]).encode())
        finally:
            os._exit(0)
    os.close(writer)
    try:
        if not select.select([reader], [], [], SECONDS)[0]:
            os.kill(pid, signal.SIGKILL)
            pytest.fail(f"{rel}: still being read after {SECONDS:g} s")
        data = b"".join(iter(lambda: os.read(reader, 65536), b""))
    finally:
        os.close(reader)
        os.waitpid(pid, 0)
    if not data:
        pytest.fail(f"{rel}: the process reading it died")
    outcome, grew = json.loads(data)
    return outcome, time.monotonic() - started, grew


def good_files(root: Path) -> None:
    (root / "good").mkdir(parents=True)
    (root / "good/readme.md").write_text("# Good notes\n\nThe lighthouse keeper is called quokkaalpha.\n")
    guide = docx.Document()
    guide.add_paragraph("A good Word file beside them holds quokkadocx.")
    guide.save(str(root / "good/guide.docx"))
    (root / "good/page.html").write_bytes(page("<p>A good page beside them holds quokkaweb.</p>"))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_hostile_documents_are_refused_in_one_line_or_read_without_what_they_smuggle(
    case: Case, tmp_path: Path, hash_embedder
) -> None:
    root, secret = tmp_path / "corpus", tmp_path / "secret.txt"  # the secret lies outside the corpus
    secret.write_text(f"the password is {SECRET}\n")
    good_files(root)
    expected = {}
    for rel, (data, bad) in case(secret).items():
        (root / rel).write_bytes(data)
        expected[rel] = bad
    for rel in (rel for rel in expected if (root / rel).stat().st_size <= DEFAULT_MAX_BYTES):
        outcome, seconds, grew = read_alone(root / rel, rel)
        assert not outcome.startswith("raised") and SECRET not in outcome, f"{rel}: {outcome}"
        assert seconds < SECONDS, f"{rel}: read in {seconds:.1f} s"
        assert grew < PEAK, f"{rel}: reading it raised peak memory by {grew / MB:.0f} MB ({outcome})"
    folder = tmp_path / "index"

    report = ingest([root], folder, hash_embedder, ChunkSettings())

    shown = json.dumps(report.to_dict(), ensure_ascii=False)
    assert SECRET not in shown and LAUGH not in shown
    outcomes = {f.path: f for f in report.files}
    assert set(outcomes) == set(GOOD) | set(expected), sorted(outcomes)
    for outcome in report.files:
        assert "\n" not in outcome.reason and not any("\n" in n for n in outcome.notes), outcome
        assert "unexpected" not in outcome.reason.lower(), outcome
    for rel in GOOD:
        assert outcomes[rel].status == "ingested", outcomes[rel]
    for rel, bad in expected.items():
        outcome = outcomes[rel]
        assert outcome.status == bad.status, outcome
        assert bad.reason in outcome.reason, outcome
        assert not bad.note or any(bad.note in note for note in outcome.notes), outcome
    with Index.open(folder) as index:
        for marker in [*GOOD.values(), *(b.marker for b in expected.values() if b.marker)]:
            hits = index.chunks([row for row, _ in index.lexical_search(marker, 5)])
            assert any(marker in c.text for c in hits.values()), marker
        for chunk in index.all_chunks():
            assert SECRET not in chunk.text and LAUGH not in chunk.text, chunk.span
        for document in index.documents():
            assert SECRET not in f"{document.title} {document.notes}", document
    for stored in folder.rglob("*"):  # the database, its search tables, the vectors, everything
        if stored.is_file():
            data = stored.read_bytes()
            assert SECRET.encode() not in data and LAUGH.encode() not in data, stored


@pytest.mark.timeout(60)
def test_one_text_past_libxml2s_10_mb_limit_is_read_whole(tmp_path: Path) -> None:
    """Without its huge-document option libxml2 drops such a text and reads the page as empty."""
    path = tmp_path / "long.html"
    path.write_bytes(page("<p>quokkastart " + "word " * (11 * MB // 5) + "quokkaend</p>"))
    outcome, seconds, grew = read_alone(path, "long.html")
    assert outcome.startswith("read") and outcome.endswith("quokkaend'"), outcome
    assert seconds < SECONDS and grew < PEAK, (seconds, grew / MB)
