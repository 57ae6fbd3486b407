"""Adding documents to a collection from the web UI: uploads, or a folder on the server.

Uploads are saved into the collection's ``files/`` folder (see ``app.services.uploads``) and that folder is
ingested, so unchanged files cost a hash and nothing more; a folder on the server is ingested
where it is. Either way the result is one row per file of this add: ingested, unchanged, skipped,
failed, removed, or refused at upload, each with its reason. An uploaded file that cannot be read
is not kept, so that it does not fail again at every later add; and when the ingest itself stops
with an error, everything this add saved is removed again, so that one bad upload never stays in
the collection to break every later add. This module never touches Streamlit.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.services.collections import Collection, Collections, ingest
from app.services.uploads import Limits, Saved, UploadError, save_upload
from app.settings import Settings
from core.errors import LongqaError

Progress = Callable[[str, int, int, str], None]
Upload = tuple[str, bytes]  # (file name, content)

PROBLEMS = ("failed", "refused")
NOT_KEPT = " (the upload was not kept)"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Row:
    """What happened to one file."""

    path: str
    status: str  # ingested, unchanged, skipped, failed, removed or refused
    reason: str = ""
    chunks: int = 0
    pages: int = 0


@dataclass(frozen=True)
class Added:
    """The outcome of one add, file by file."""

    rows: list[Row]
    seconds: float
    read_ahead: str = ""  # what reading the collection ahead of time did, when it was asked for

    def count(self, *statuses: str) -> int:
        return sum(1 for r in self.rows if r.status in statuses)

    @property
    def problems(self) -> list[Row]:
        return [r for r in self.rows if r.status in PROBLEMS]


def upload_limits(settings: Settings) -> Limits:
    """The upload caps, with the settings' per-file cap (``max_file_mb``)."""
    return Limits(file_bytes=settings.max_file_bytes)


def _reason(exc: LongqaError, name: str) -> str:
    text = str(exc)
    return text[len(name) + 2 :] if text.startswith(f"{name}: ") else text


def _under(path: str, rels: set[str]) -> bool:
    path = path.removeprefix("files/")  # how the indexer names a file another root also has
    return any(path == rel or path.startswith(rel + "/") for rel in rels)


def _note(path: str, notes: dict[str, str]) -> str:
    path = path.removeprefix("files/")
    return next((note for rel, note in notes.items() if note and _under(path, {rel})), "")


def _take_back(files: Path, saved: list[Saved]) -> None:
    """Remove what this add wrote, leaving the collection's files as they were before it."""
    for item in saved:
        if not item.new or item.path.parent != files:
            continue
        if item.path.is_dir() and not item.path.is_symlink():
            shutil.rmtree(item.path, ignore_errors=True)
        else:
            item.path.unlink(missing_ok=True)


def _stopped(exc: Exception) -> str:
    if isinstance(exc, LongqaError):
        return f"the ingest stopped: {exc}"
    return f"the ingest stopped: {type(exc).__name__}: {exc}"


def add_uploads(
    settings: Settings,
    collection: Collection,
    uploads: list[Upload],
    progress: Progress | None = None,
    limits: Limits | None = None,
) -> Added:
    """Save the uploads into the collection and ingest them."""
    started = time.perf_counter()
    if collection.files is None:
        raise LongqaError(
            f"{collection.name!r} was opened from an index folder and takes no uploads: "
            "add a folder on the server instead"
        )
    files = collection.files
    tick = progress or (lambda *_: None)
    limits = limits or upload_limits(settings)
    rows: list[Row] = []
    saved: list[Saved] = []
    for n, (name, data) in enumerate(uploads):
        tick("save", n, len(uploads), name)
        try:
            saved.append(save_upload(name, data, files, limits))
        except UploadError as exc:
            rows.append(Row(name, "refused", _reason(exc, name)))
    for item in saved:
        rows += [Row(entry, "skipped", reason) for entry, reason in item.left_out]
    if not saved:
        return Added(rows, time.perf_counter() - started)
    notes: dict[str, str] = {}  # the first upload saved at a path says what happened to it
    for item in saved:
        notes.setdefault(item.path.relative_to(files).as_posix(), item.note)
    rels = set(notes)
    new = {item.path.relative_to(files).as_posix() for item in saved if item.new}
    try:
        report = ingest(settings, collection, [files], progress)
    except BaseException as exc:
        _take_back(files, saved)
        if not isinstance(exc, Exception):
            raise
        log.warning("ingest into %r stopped; this add's uploads were removed", collection.name, exc_info=True)
        why = _stopped(exc)
        rows += [Row(rel, "failed", why + (NOT_KEPT if rel in new else "")) for rel in notes]
        return Added(rows, time.perf_counter() - started)
    for outcome in report.files:
        if _under(outcome.path, rels) or outcome.status == "removed":
            path = outcome.path.removeprefix("files/")
            said = outcome.reason or "; ".join(outcome.notes)
            reason = "; ".join(text for text in (_note(path, notes), said) if text)
            if outcome.status in ("failed", "skipped") and path in new:
                (files / path).unlink(missing_ok=True)
                reason += NOT_KEPT
            rows.append(Row(outcome.path, outcome.status, reason, outcome.chunks, outcome.pages))
    return Added(rows, time.perf_counter() - started)


def add_folder(
    settings: Settings,
    collections: Collections,
    collection: Collection,
    folder: str,
    progress: Progress | None = None,
) -> Added:
    """Ingest a folder (or a file) on the server into the collection, where it is."""
    started = time.perf_counter()
    text = folder.strip().strip("\"'")
    if not text:
        raise LongqaError("type the path of a folder on the server first")
    path = Path(text).expanduser().resolve()
    if not path.exists():
        raise LongqaError(f"{path}: no such file or folder on the server")
    if collections.inside(path):
        raise LongqaError(f"{path} is where longqa keeps its collections; choose a folder of documents")
    report = ingest(settings, collection, [path], progress)
    rows = [Row(f.path, f.status, f.reason or "; ".join(f.notes), f.chunks, f.pages) for f in report.files]
    return Added(rows, time.perf_counter() - started)
