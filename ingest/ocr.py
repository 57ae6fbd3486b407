"""OCR of PDF pages: Tesseract reads the rendered page; its words become the page's text, and
their boxes what a citation of that text highlights.

Tesseract (tesserocr's wheel bundles the library) reads with the English model of Debian's
``tesseract-ocr`` (``make install`` installs it), in a process of its own that is stopped when a
page passes its time cap. Nothing is downloaded at run time. Measured on pages of the sample
manuals (300 dpi): about 3 s a page on one core, 97% of the words right; RapidOCR was 7 times
slower with 70%. A page Tesseract cannot read is that page's problem: ``OcrFailed`` names the
reason, and the caller notes it and reads the other pages. A page is never rendered when its
images would decode more pixels than a cap (a decompression bomb), nor at more pixels than a cap.
This module never decides which pages need OCR (ingest/pdf.py does).
"""

from __future__ import annotations

import functools
import importlib.util
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import unicodedata
import weakref
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal, Protocol

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

OcrMode = Literal["auto", "always", "never"]
"""auto: pages without a text layer; always: every page (the text layer is ignored); never: none."""

DPI = 300  # what Tesseract is trained for; smaller print needs it
MAX_SIDE = 12_000  # pixels; Tesseract refuses over 32767 and memory grows with the square
MAX_PAGE_PIXELS = 36_000_000  # of a rendered page (an A2 sheet at 300 dpi); larger ones get fewer dpi
MAX_IMAGE_PIXELS = 2 * (Image.MAX_IMAGE_PIXELS or 89_478_485)  # Pillow's decompression-bomb limit
MAX_OBJECTS = 200_000  # drawing objects counted on a page before it is refused
PAGE_TIMEOUT = 60.0  # seconds one page may take (20 times a dense page) before it is given up
_GRACE = 5.0  # seconds past the cap for Tesseract's own deadline: the caller stops it first
_START_TIMEOUT = 60.0  # seconds for its process to load the model (0.25 s when idle)
LANGUAGE = "eng"
INSTALL_HINT = "install Debian's tesseract-ocr (make install does)"
_MODEL_FOLDERS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tesseract/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)

Box = tuple[float, float, float, float]
"""left, top, right, bottom as fractions (0-1) of the rendered page, top-left origin."""


class OcrFailed(Exception):
    """A page OCR could not read; the message is the reason."""


class OcrUnavailable(OcrFailed):
    """No OCR engine on this machine."""


@dataclass(frozen=True)
class Word:
    """One recognised word and its box; ``line`` groups the words of a printed line and
    ``paragraph`` those of a paragraph, in reading order."""

    text: str
    box: Box
    paragraph: int
    line: int


class Engine(Protocol):
    """What reads a page image: words in reading order."""

    def read(self, image: Image.Image) -> list[Word]: ...


class Tesseract:
    """Tesseract in process (tesserocr), with the English model of the system's Tesseract; one
    page at a time (calls from several threads wait their turn)."""

    def __init__(self, language: str = LANGUAGE, timeout: float = PAGE_TIMEOUT) -> None:
        try:
            import tesserocr  # the one door: without it, ingest goes on without OCR
        except ImportError as exc:
            raise OcrUnavailable(f"no OCR engine (tesserocr is not installed): {INSTALL_HINT}") from exc
        folder = model_folder(language)
        if folder is None:
            raise OcrUnavailable(f"no OCR model for {language!r}: {INSTALL_HINT}")
        try:
            self._api = tesserocr.PyTessBaseAPI(path=folder, lang=language)
        except RuntimeError as exc:
            raise OcrUnavailable(f"Tesseract cannot start ({_one_line(exc)}): {INSTALL_HINT}") from exc
        self._level = tesserocr.RIL
        self._lock = threading.Lock()
        self.timeout = timeout

    def read(self, image: Image.Image) -> list[Word]:
        with self._lock:
            try:
                self._api.SetImage(image)
                if not self._api.Recognize(timeout=max(1, int(self.timeout * 1000))):
                    raise OcrFailed(f"Tesseract gave up on the page (over {self.timeout:g} s, or failed)")
                return _words(self._api.GetIterator(), self._level, image.size)
            except RuntimeError as exc:
                raise OcrFailed(f"Tesseract failed: {_one_line(exc)}") from exc
            finally:
                self._api.Clear()


def _words(found: Any, level: Any, size: tuple[int, int]) -> list[Word]:
    """The words of a recognised page (tesserocr's result iterator, its ``RIL`` levels) in
    reading order, boxes as fractions of the image."""
    width, height = size
    words: list[Word] = []
    paragraph = line = 0
    while found is not None:
        box = found.BoundingBox(level.WORD)
        if box is None:  # a page without words
            break
        if found.IsAtBeginningOf(level.PARA):
            paragraph += 1
        if found.IsAtBeginningOf(level.TEXTLINE):
            line += 1
        text = _clean(found.GetUTF8Text(level.WORD) or "")
        if text:
            left, top, right, bottom = box
            words.append(
                Word(text, (left / width, top / height, right / width, bottom / height), paragraph, line)
            )
        if not found.Next(level.WORD):
            break
    return words


def model_folder(language: str = LANGUAGE) -> str | None:
    """The folder of Tesseract's model files that holds ``language``: ``TESSDATA_PREFIX``, else
    where Debian, Fedora, Homebrew and source builds put them."""
    candidates = [os.environ.get("TESSDATA_PREFIX"), *_MODEL_FOLDERS]
    for folder in candidates:
        if folder and (Path(folder) / f"{language}.traineddata").is_file():
            return folder
    return None


class TesseractProcess:
    """Tesseract in a process of its own, stopped when a page passes ``timeout`` seconds:
    Tesseract's own deadline does not cover its layout analysis (a page of specks went on for 19 s
    under a 2 s deadline, one of 10% white dots for 175 s under 5 s). The process is started once
    and kept for the next pages; one page at a time (calls from several threads wait their turn)."""

    def __init__(self, language: str = LANGUAGE, timeout: float = PAGE_TIMEOUT) -> None:
        if importlib.util.find_spec("tesserocr") is None:
            raise OcrUnavailable(f"no OCR engine (tesserocr is not installed): {INSTALL_HINT}")
        if model_folder(language) is None:
            raise OcrUnavailable(f"no OCR model for {language!r}: {INSTALL_HINT}")
        self.language, self.timeout = language, timeout
        self._owner = os.getpid()
        self._lock = threading.Lock()
        self._worker: tuple[subprocess.Popen[bytes], Connection] | None = None
        with self._lock:
            self._start()

    def read(self, image: Image.Image) -> list[Word]:
        if self._owner != os.getpid():  # a forked copy: the process it holds is the parent's
            self._owner, self._lock, self._worker = os.getpid(), threading.Lock(), None
        with self._lock:
            process, conn = self._worker or self._start()
            try:
                conn.send((image.mode, image.size, image.tobytes()))
                if not conn.poll(self.timeout):
                    raise OcrFailed(f"Tesseract gave up on the page (over {self.timeout:g} s)")
                kind, value = conn.recv()
            except (EOFError, OSError) as exc:  # it died: out of memory, or a crash
                self._stop()
                raise OcrFailed(f"Tesseract stopped on the page (exit status {process.returncode})") from exc
            except BaseException:  # over time, or Ctrl-C: its answer must not reach the next page
                self._stop()
                raise
        if kind == "failed":
            raise OcrFailed(value)
        return list(value)

    def _start(self) -> tuple[subprocess.Popen[bytes], Connection]:
        # a new interpreter, not a fork (the embedder's threads may hold locks) nor multiprocessing's
        # spawn (it runs the caller's main script again, where it has no __main__ guard)
        conn, theirs = multiprocessing.Pipe()
        code = f"import sys; sys.path[:] = {sys.path!r}; from ingest.ocr import _serve; _serve(*sys.argv[1:])"
        process = subprocess.Popen(
            [sys.executable, "-c", code, str(theirs.fileno()), self.language, str(self.timeout + _GRACE)],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # Leptonica's complaints about odd pages would cut through bars
        )
        theirs.close()
        weakref.finalize(self, _kill, process, self._owner)  # at exit too: its page is nobody's now
        self._worker = (process, conn)
        try:
            late = ("failed", f"Tesseract's process did not start in {_START_TIMEOUT:g} s")
            kind, value = conn.recv() if conn.poll(_START_TIMEOUT) else late
        except (EOFError, OSError):
            kind, value = "failed", f"Tesseract's process ended as it started: {INSTALL_HINT}"
        except BaseException:
            self._stop()
            raise
        if kind != "ready":
            self._stop()
            raise OcrUnavailable(value)
        return self._worker

    def _stop(self) -> None:
        if self._worker is not None:
            process, conn = self._worker
            self._worker = None
            process.kill()
            process.wait()
            conn.close()


def _kill(process: subprocess.Popen[bytes], owner: int) -> None:
    if os.getpid() == owner:  # not from a forked copy, whose exit must leave the parent's be
        process.kill()


def _serve(fd: str, language: str, timeout: str) -> None:
    """The OCR process: pages in, words (or the reason it failed) out, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's; it stops this process
    conn = Connection(int(fd))
    try:
        engine = Tesseract(language, float(timeout))
    except OcrFailed as exc:
        conn.send(("failed", str(exc)))
        return
    conn.send(("ready", ""))
    while True:
        try:
            mode, size, pixels = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("words", engine.read(Image.frombytes(mode, size, pixels))))
        except OcrFailed as exc:
            conn.send(("failed", str(exc)))


@functools.cache
def default_engine(timeout: float = PAGE_TIMEOUT) -> Engine:
    """Tesseract in its own process, each page cut off at ``timeout`` seconds; made once per
    process and cap (``OcrUnavailable`` where it is not installed)."""
    return TesseractProcess(timeout=timeout)


def render(page: pdfium.PdfPage, dpi: int = DPI) -> Image.Image:
    """The page as a greyscale image at ``dpi``, at fewer where its longer side would pass
    MAX_SIDE or its pixels MAX_PAGE_PIXELS; refused (``OcrFailed``) when its images would decode
    more than MAX_IMAGE_PIXELS."""
    _check_images(page)
    width, height = max(page.get_width(), 1), max(page.get_height(), 1)
    scale = min(dpi / 72, MAX_SIDE / max(width, height), math.sqrt(MAX_PAGE_PIXELS / (width * height)))
    return page.render(scale=scale, grayscale=True).to_pil()


def _check_images(page: pdfium.PdfPage) -> None:
    """Refuse a page whose images declare more pixels than rendering should decode: a few hundred
    kilobytes of Flate can declare billions (rendering one of 46,000 x 46,000 took 20 s and 2.4 GB)."""
    pixels = 0
    for count, found in enumerate(page.get_objects(), 1):
        if count > MAX_OBJECTS:
            raise OcrFailed(f"the page draws more than {MAX_OBJECTS:,} objects")
        if found.type == pdfium_c.FPDF_PAGEOBJ_IMAGE and isinstance(found, pdfium.PdfImage):
            width, height = found.get_px_size()
            pixels += width * height
    if pixels > MAX_IMAGE_PIXELS:
        raise OcrFailed(
            f"images of {pixels:,} pixels, over the cap of {MAX_IMAGE_PIXELS:,}: a decompression bomb"
        )


def page_text(words: list[Word]) -> tuple[str, list[tuple[int, int, Box]]]:
    """The page's text (words by spaces, lines by newlines, paragraphs by a blank line) and each
    word's offsets in it with its box."""
    parts: list[str] = []
    boxes: list[tuple[int, int, Box]] = []
    pos = 0
    previous: Word | None = None
    for word in words:
        if previous is not None:
            if word.paragraph != previous.paragraph:
                gap = "\n\n"
            else:
                gap = "\n" if word.line != previous.line else " "
            parts.append(gap)
            pos += len(gap)
        parts.append(word.text)
        boxes.append((pos, pos + len(word.text), word.box))
        pos += len(word.text)
        previous = word
    return "".join(parts), boxes


def read_page(page: pdfium.PdfPage, engine: Engine, dpi: int = DPI) -> tuple[str, list[tuple[int, int, Box]]]:
    """OCR one page: its text and word boxes (``OcrFailed`` with the reason when it cannot)."""
    try:
        image = render(page, dpi)
    except (pdfium.PdfiumError, MemoryError, ValueError) as exc:
        raise OcrFailed(f"the page could not be rendered for OCR ({_one_line(exc)})") from exc
    return page_text(engine.read(image))


def _clean(text: str) -> str:
    """A word without control characters or inner whitespace, ligatures expanded."""
    text = unicodedata.normalize("NFKC", text) if any(0xFB00 <= ord(c) <= 0xFB06 for c in text) else text
    return "".join(c for c in text if not c.isspace() and not unicodedata.category(c).startswith("C"))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
