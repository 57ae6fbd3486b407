"""Adding documents to a collection from the web UI (or ``longqa serve``): uploads, or a folder
on the server; and taking an uploaded one out again.

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
from app.services.uploads import Limits, Saved, UploadError, check_upload, save_upload
from app.settings import Settings
from core.errors import LongqaError
from core.files import temporary_name

Progress = Callable[[str, int, int, str], None]
Upload = tuple[str, bytes]  # (file name, content)

PROBLEMS = ("failed", "refused")
NOT_KEPT = " (the upload was not kept)"

log = logging.getLogger(__name__)


class UnknownDocument(LongqaError):
    """No uploaded document of that name in the collection."""


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


def _files_of(collection: Collection) -> Path:
    if collection.files is None:
        raise LongqaError(
            f"{collection.name!r} was opened from an index folder and takes no uploads: "
            "add a folder on the server instead"
        )
    return collection.files


def check_uploads(
    settings: Settings, collection: Collection, uploads: list[Upload], limits: Limits | None = None
) -> None:
    """Refuse the whole add, before anything is saved, when any upload would be refused
    (``uploads.check_upload``): for a caller that answers at once (``longqa serve``), where the UI
    lists a refused upload among the others' rows instead."""
    _files_of(collection)
    if not uploads:
        raise UploadError("no files in the upload")
    for name, data in uploads:
        check_upload(name, data, limits or upload_limits(settings))


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
    files = _files_of(collection)
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


def document_path(collection: Collection, path: str) -> Path:
    """The uploaded file or folder ``path`` (as the collection's documents name it) in ``files/``;
    an UnknownDocument when there is none."""
    files = _files_of(collection).resolve()
    rel = path.strip().removeprefix("files/").strip("/")
    target = files / rel
    if not rel or not target.resolve().is_relative_to(files) or target.resolve() == files:
        raise UnknownDocument(f"{path!r} is not an uploaded document of {collection.name!r}")
    if not (target.exists() or target.is_symlink()):
        raise UnknownDocument(f"no document {path!r} in the collection {collection.name!r}")
    return target


def remove_document(
    settings: Settings, collection: Collection, path: str, progress: Progress | None = None
) -> Added:
    """Take an uploaded file (or the folder a zip was unpacked into) out of the collection: its
    chunks leave the index with it. When the ingest stops with an error it is put back."""
    started = time.perf_counter()
    target = document_path(collection, path)
    assert collection.files is not None  # an opened index has no uploads (document_path)
    aside = temporary_name(collection.folder / "removed")  # beside files/: never ingested
    target.rename(aside)
    try:
        report = ingest(settings, collection, [collection.files], progress)
    except BaseException:
        aside.rename(target)
        raise
    if aside.is_dir() and not aside.is_symlink():
        shutil.rmtree(aside, ignore_errors=True)
    else:
        aside.unlink(missing_ok=True)
    rows = [Row(f.path, f.status, f.reason) for f in report.files if f.status == "removed"]
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
