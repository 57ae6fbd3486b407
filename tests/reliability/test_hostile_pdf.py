"""Hostile PDFs, each ingested beside good files: an image-only page whose image is a decompression
bomb, a ruled table of ten thousand cells, a page of specks that holds Tesseract past its own
deadline, and a scan of 300 pages whose OCR shows its progress and stops at Ctrl-C.

The bad page is noted in one line (or the file fails with one), the rest of the file and the
good files beside it are indexed and searchable, in bounded time and memory; nothing raises. Each
file is first read alone in a forked child under an address-space limit and a deadline
(``read_alone``), so a bomb that gets through fails the test instead of the machine. The PDFs are
written here operator by operator (small on disk, made in milliseconds); OCR is the real Tesseract.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest.chunking import ChunkSettings
from ingest.ocr import MAX_IMAGE_PIXELS
from ingest.pdf import load_pdf
from ingest.tables import MAX_CROSSINGS
from retrieval.indexer import ingest
from retrieval.store import Index
from tests.conftest import ROOT
from tests.ingest.test_ocr import needs_ocr
from tests.reliability.test_hostile_formats import GOOD, PEAK, Bad, good_files, read_alone

MB = 1024 * 1024
FAST = 5.0  # seconds a hostile PDF read alone may take (before the caps: 11 s, 19 s)
LETTER = (612, 792)
Case = Callable[[], dict[str, tuple[bytes, Bad]]]
"""Hostile files by the path the report shows: their bytes and what must become of them."""


# ----------------------------------------------------------------- PDFs, written by hand
def stream(header: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (header, len(data), data)


def pdf(pages: list[tuple[bytes, tuple[int, int]]], images: tuple[bytes, ...] = ()) -> bytes:
    """A PDF of ``pages`` (content stream, size in points) writing in Helvetica (``/F1``) and able
    to draw ``images`` (image XObjects ``/Im0``, ``/Im1``, …)."""
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", font, *images]
    drawn = b" ".join(b"/Im%d %d 0 R" % (n, 4 + n) for n in range(len(images)))
    kids = []
    for content, (width, height) in pages:
        kids.append(b"%d 0 R" % (len(objects) + 1))
        resources = b"<< /Font << /F1 3 0 R >> /XObject << %s >> >>" % drawn
        box = b"[0 0 %d %d]" % (width, height)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources %s /Contents %d 0 R >>"
            % (box, resources, len(objects) + 2)
        )
        objects.append(stream(b"", content))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table, xref = b"".join(b"%010d 00000 n \n" % offset for offset in offsets), len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n%s" % (len(objects) + 1, table)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def words(text: str) -> tuple[bytes, tuple[int, int]]:
    """A letter page with one line of text."""
    return b"BT /F1 12 Tf 72 700 Td (%s) Tj ET" % text.encode(), LETTER


def white_image(side: int) -> bytes:
    """A 1-bit image of ``side`` x ``side`` white pixels, Flate-compressed (60,000: 440 KB on disk,
    450 MB decoded)."""
    packer = zlib.compressobj(9)
    block = b"\xff" * (side // 8 * 1000)
    data = b"".join(packer.compress(block) for _ in range(side // 1000)) + packer.flush()
    header = b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray " % (side, side)
    return stream(header + b"/BitsPerComponent 1 /Filter /FlateDecode", data)


def grid(cells: int, pitch: int = 14) -> tuple[bytes, tuple[int, int]]:
    """A page of ``cells`` x ``cells`` ruled cells, each holding its name (``r3c7``)."""
    side, ops = cells * pitch, [b"0.3 w"]
    for i in range(cells + 1):
        ops.append(b"20 %d m %d %d l S" % (20 + i * pitch, 20 + side, 20 + i * pitch))
        ops.append(b"%d 20 m %d %d l S" % (20 + i * pitch, 20 + i * pitch, 20 + side))
    ops.append(b"BT /F1 4 Tf")
    for r in range(cells):
        for c in range(cells):
            at = (21 + c * pitch, 24 + side - (r + 1) * pitch)
            ops.append(b"1 0 0 1 %d %d Tm (r%dc%d) Tj" % (*at, r, c))
    ops.append(b"ET")
    return b"\n".join(ops), (side + 40, side + 40)


def scanned(images: list[Image.Image]) -> bytes:
    """Image-only pages at 300 dpi, as a scanner writes them (Pillow)."""
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", resolution=300, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def printed(text: str) -> Image.Image:
    """A strip of paper (3 x 0.5 inches at 300 dpi) with one printed line."""
    image = Image.new("L", (900, 150), 255)
    ImageDraw.Draw(image).text((30, 50), text, fill=0, font=ImageFont.load_default(size=36))
    return image


def specks() -> Image.Image:
    """A letter page at 300 dpi, black with one pixel in ten white: Tesseract's layout analysis,
    which its deadline does not cover, spends about 20 s on it."""
    noise = np.random.default_rng(1).random((3300, 2550)) > 0.9
    return Image.fromarray(noise.astype(np.uint8) * 255, "L").convert("1")


# ----------------------------------------------------------------- beside good files
def bomb_page() -> dict[str, tuple[bytes, Bad]]:
    data = pdf(
        [words("The bomb's first page says quokkabomb."), (b"q 612 0 0 792 0 0 cm /Im0 Do Q", LETTER)],
        (white_image(60_000),),
    )
    note = (
        f"pages OCR could not read: 2 (images of 3,600,000,000 pixels, over the cap of {MAX_IMAGE_PIXELS:,}"
    )
    return {"bomb.pdf": (data, Bad("ingested", marker="quokkabomb", note=note))}


def dense_table() -> dict[str, tuple[bytes, Bad]]:
    data = pdf([words("The grid's first page says quokkagrid."), grid(100)])
    note = f"pages whose tables stay text (over {MAX_CROSSINGS:,} rule crossings): 2"
    return {"grid.pdf": (data, Bad("ingested", marker="r99c99", note=note))}


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "case", [pytest.param(bomb_page, marks=needs_ocr), dense_table], ids=lambda c: c.__name__
)
def test_a_hostile_page_is_noted_in_one_line_and_the_rest_is_kept(
    case: Case, tmp_path: Path, hash_embedder
) -> None:
    root = tmp_path / "corpus"
    good_files(root)
    expected = {}
    for rel, (data, bad) in case().items():
        (root / rel).write_bytes(data)
        expected[rel] = bad
        outcome, seconds, grew = read_alone(root / rel, rel)
        assert outcome.startswith("read"), f"{rel}: {outcome}"
        assert seconds < FAST, f"{rel}: read in {seconds:.1f} s"
        assert grew < PEAK, f"{rel}: reading it raised peak memory by {grew / MB:.0f} MB"
    folder = tmp_path / "index"

    report = ingest([root], folder, hash_embedder, ChunkSettings())

    outcomes = {f.path: f for f in report.files}
    assert set(outcomes) == set(GOOD) | set(expected), sorted(outcomes)
    assert all(outcomes[rel].status == "ingested" for rel in GOOD), report.to_dict()
    for rel, bad in expected.items():
        outcome = outcomes[rel]
        assert outcome.status == bad.status and outcome.pages == 2, outcome
        assert any(note.startswith(bad.note) for note in outcome.notes), outcome.notes
        assert not any("\n" in note for note in outcome.notes), outcome.notes
    with Index.open(folder) as index:
        for marker in [*GOOD.values(), *(b.marker for b in expected.values())]:
            hits = index.chunks([row for row, _ in index.lexical_search(marker, 5)])
            assert any(marker in c.text for c in hits.values()), marker


def test_a_table_under_the_cap_is_still_read_as_rows(tmp_path: Path) -> None:
    path = tmp_path / "small.pdf"
    path.write_bytes(pdf([grid(20)]))
    doc = load_pdf(path, "small.pdf")
    rows = [line for line in doc.text.splitlines() if line.startswith("| ")]
    assert doc.notes == () and len(rows) == 21  # 20 rows and the separator
    assert rows[-1].startswith("| r19c0 | r19c1 |") and rows[-1].endswith("| r19c19 |")


# ----------------------------------------------------------------- a page over the OCR time cap
@needs_ocr
@pytest.mark.timeout(120)
def test_a_page_over_the_ocr_time_cap_is_given_up_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "specks.pdf"
    path.write_bytes(
        scanned([printed("Before the specks: quokkafirst"), specks(), printed("After: quokkalast")])
    )
    started = time.monotonic()

    doc = load_pdf(path, "specks.pdf", ocr_timeout=2.0)

    seconds = time.monotonic() - started
    assert seconds < 12, f"read in {seconds:.1f} s with a 2 s cap a page"
    assert doc.notes == (
        "pages read by OCR: 1, 3",
        "pages OCR could not read: 2 (Tesseract gave up on the page (over 2 s))",
    )
    assert "quokkafirst" in doc.page_text(1) and "quokkalast" in doc.page_text(3)


# ----------------------------------------------------------------- Ctrl-C during a long OCR
CLI = textwrap.dedent("""
    import sys
    from app import wiring
    from tests.conftest import HashEmbedder

    wiring.embedder = lambda settings: HashEmbedder()  # loading the model would be most of the test
    from app.cli.main import main

    main()
""")


def longqa(*args: str | Path, cwd: Path) -> subprocess.Popen[str]:
    """``longqa ARGS``: the command line as a user runs it, with the test embedder."""
    return subprocess.Popen(
        [sys.executable, "-c", CLI, *map(str, args)],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a suite started in the background (``pytest &``) inherits SIGINT ignored, and Python
        # then never raises KeyboardInterrupt: give the CLI the Ctrl-C a terminal would
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def working_in(folder: Path) -> list[int]:
    """The processes whose working folder is ``folder`` (the CLI's children start there too)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.readlink(entry / "cwd") == str(folder):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to look at
            continue
    return found


@needs_ocr
@pytest.mark.timeout(180)
def test_ctrl_c_in_the_ocr_of_a_300_page_scan_exits_130_and_keeps_the_previous_index(tmp_path: Path) -> None:
    root, folder = tmp_path / "corpus", tmp_path / "index"
    good_files(root)
    first = longqa("ingest", root, "--index", folder, cwd=tmp_path)
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    pages = [printed(f"Scanned page {n} names quokkascan{n}") for n in range(1, 301)]
    (root / "scan.pdf").write_bytes(scanned(pages))

    run = longqa("ingest", root, "--index", folder, cwd=tmp_path)
    try:
        assert run.stderr is not None
        seen = []
        for line in run.stderr:  # off a terminal, a line as each file's OCR starts
            seen.append(line)
            if line.startswith("OCR pages"):
                break
        assert seen and seen[-1].strip() == "OCR pages 0/300 scan.pdf", seen
        time.sleep(1.0)  # a few pages in
        run.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        _, rest = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()

    assert run.returncode == 130, rest
    assert time.monotonic() - interrupted < 10  # one page's OCR at most, not the other 290
    assert rest.strip().splitlines()[-1] == "interrupted" and "Traceback" not in rest, rest
    assert not working_in(tmp_path), "Tesseract's process outlived the ingest"
    with Index.open(folder) as index:
        assert {d.path for d in index.documents()} == set(GOOD)
        hits = index.chunks([row for row, _ in index.lexical_search("quokkaalpha", 5)])
        assert any("quokkaalpha" in c.text for c in hits.values())
