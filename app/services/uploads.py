"""Files uploaded through the web UI, saved into a collection's ``files/`` folder.

A document is saved as it came (any kind longqa reads). A zip of a codebase is unpacked into a
folder of its own, checked before a single byte is written: too large, too many entries, an
uncompressed total past the cap (a zip bomb), an entry with an absolute path, a ``..`` that would
climb out of the target folder, a symbolic link, a password or an entry named twice: the whole
zip is refused with one line naming the upload and the entry. Sizes are counted again while
unpacking, so a zip that lies about them is stopped too. A zip inside the zip is left out, not
unpacked.

Names: only the last part of an uploaded name is used, in Unicode NFC, and a name longer than
``NAME_BYTES`` of UTF-8 is shortened (suffix kept, a short hash added so that long names stay
distinct). An upload never replaces anything: when a different file or folder of that name is
already there (names compared case-insensitively, because a collection may be copied to a disk
that ignores case), the new one is saved as ``NAME (2).EXT`` (then 3, …) and says so; the same
content under that name is the same file, and nothing is written.

Everything is written through ``core.files`` (a temporary beside its target, moved into place at
the end), so a refused or failed upload leaves nothing behind, and what a killed server left is
removed at the next upload. This module never writes outside ``files/`` and never touches
Streamlit.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import lzma
import re
import shutil
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from core.errors import LongqaError
from core.files import atomic_folder, atomic_write, remove_stale
from ingest.formats import FORMATS, binary_suffixes, claimed, marked
from ingest.textfile import looks_binary

MB = 1024 * 1024
NAME_BYTES = 180  # longest saved name: leaves room for " (2)" and a temporary's affixes in 255
_SUFFIX_BYTES = 16  # a longer "suffix" is part of the name, not a file type
_JUNK = ("__MACOSX/", ".DS_Store", "Thumbs.db")  # archivers' leftovers, never documents
_COPY_BLOCK = 1 << 20
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # can disguise a name
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_LEGACY_PART = re.compile(r"^\..+\.part-[0-9a-f]{8}$")  # staging names before core.files


class UploadError(LongqaError):
    """An upload refused; the message names the file (and the zip entry) and the reason."""


class TooLarge(UploadError):
    """An upload over one of the size caps (``Limits``)."""


@dataclass(frozen=True)
class Limits:
    """Caps on what one upload may bring in."""

    file_bytes: int = 20 * MB  # one document, uploaded alone or inside a zip
    zip_bytes: int = 200 * MB  # a zip as uploaded
    unzipped_bytes: int = 500 * MB  # everything a zip unpacks to
    entries: int = 20_000  # files and folders in one zip


@dataclass
class Saved:
    """Where an upload went: the file or folder under ``files/``, and the entries left out."""

    name: str  # the upload's name
    path: Path  # the saved file, or the folder a zip was unpacked into
    files: int = 1
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (entry, reason)
    new: bool = True  # False: the same content was already there, under ``path``; nothing written
    note: str = ""  # for its rows: saved under another name, or already there under another name


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n / 1024:.0f} KB"


# ----------------------------------------------------------------- names
def _suffix(name: str) -> str:
    suffix = PurePosixPath(name).suffix
    return suffix if len(suffix.encode()) <= _SUFFIX_BYTES else ""


def _shorten(name: str, suffix: str) -> str:
    """``name`` cut to ``NAME_BYTES`` of UTF-8 (on a character boundary), keeping ``suffix``."""
    encoded = name.encode()
    if len(encoded) <= NAME_BYTES:
        return name
    digest = hashlib.sha256(encoded).hexdigest()[:8]
    stem = name[: len(name) - len(suffix)] if suffix else name
    room = NAME_BYTES - len(suffix.encode()) - len(digest) - 1
    head = stem.encode()[:room].decode("utf-8", "ignore").rstrip(" .")
    return f"{head}-{digest}{suffix}"


def safe_filename(name: str) -> str:
    """The last part of an uploaded file's name (NFC, shortened if long), refused when unusable."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1].strip())
    if base in ("", ".", "..") or base.startswith("."):
        raise UploadError(f"{name!r}: not a usable file name")
    if any(unicodedata.category(c) == "Cc" or c in _BIDI for c in base):
        raise UploadError(f"{name!r}: not a usable file name (it holds control characters)")
    return _shorten(base, _suffix(base))


def _key(name: str) -> str:
    """What two names share when a disk that ignores case and normalisation sees them as one."""
    return unicodedata.normalize("NFC", name).casefold()


def _candidates(name: str, suffix: str) -> Iterator[str]:
    yield name
    stem = name[: len(name) - len(suffix)] if suffix else name
    for n in itertools.count(2):
        yield f"{stem} ({n}){suffix}"


def _place(files: Path, name: str, suffix: str, same: Callable[[Path], bool]) -> Saved:
    """Where an upload named ``name`` goes: the first name (``name``, ``name (2)``, …) that is free
    or already holds the same content. Only ``path``, ``new`` and ``note`` are meaningful."""
    taken = {_key(p.name): p for p in files.iterdir() if not p.name.startswith(".")}
    for candidate in _candidates(name, suffix):
        existing = taken.get(_key(candidate))
        if existing is None:
            if candidate == name:
                return Saved(name, files / name)
            first = taken[_key(name)]
            kind = "folder" if first.is_dir() else "file"
            named = "of that name" if first.name == name else f"named {first.name!r}"
            note = f"saved as {candidate}: a different {kind} {named} is already in this collection"
            return Saved(name, files / candidate, note=note)
        if same(existing):
            note = "" if existing.name == name else f"already in this collection as {existing.name}"
            return Saved(name, existing, new=False, note=note)
    raise AssertionError("unreachable: the candidate names never run out")


def _clear_stale(files: Path) -> None:
    """Remove what a killed upload left in ``files`` (upload names never start with a dot)."""
    remove_stale(files)
    for path in files.iterdir():
        if _LEGACY_PART.match(path.name):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


# ----------------------------------------------------------------- documents
def check_document(name: str, data: bytes, limits: Limits) -> None:
    """Refuse a document that is empty, too large, or of a kind longqa cannot read."""
    if not data:
        raise UploadError(f"{name}: the file is empty")
    if len(data) > limits.file_bytes:
        raise TooLarge(
            f"{name}: {_size(len(data))} is over the {_size(limits.file_bytes)} limit for one document"
        )
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in binary_suffixes() or marked(data) is not None:
        return  # a damaged PDF, Word file or e-book is reported by the ingest, with the reason
    if looks_binary(data):
        if claimed(Path(PurePosixPath(name).name)):
            raise UploadError(f"{name}: binary content where text was expected")
        what = f"{suffix} files are binary" if suffix else "binary content"
        raise UploadError(f"{name}: unsupported file type ({what}): upload {_readable()}")


def _readable() -> str:
    """What can be uploaded, in the formats' own words: "PDFs, Word files, …, or a .zip of a codebase"."""
    return ", ".join(fmt.label for fmt in FORMATS.values()) + ", or a .zip of a codebase"


def _same_file(path: Path, data: bytes) -> bool:
    return (
        path.is_file()
        and not path.is_symlink()
        and path.stat().st_size == len(data)
        and path.read_bytes() == data
    )


def save_upload(name: str, data: bytes, files: Path, limits: Limits | None = None) -> Saved:
    """Save one uploaded file into ``files``: a document as it is, a ``.zip`` unpacked."""
    limits = limits or Limits()
    filename = safe_filename(name)
    if filename.lower().endswith(".zip"):
        return extract_zip(filename, data, files, limits)
    check_document(filename, data, limits)
    try:
        files.mkdir(parents=True, exist_ok=True)
        _clear_stale(files)
        placed = _place(files, filename, _suffix(filename), lambda path: _same_file(path, data))
        if placed.new:
            atomic_write(placed.path, data)
    except OSError as exc:
        raise UploadError(f"{filename}: cannot save it: {exc.strerror or exc}") from exc
    return placed


# ----------------------------------------------------------------- zips
Entry = tuple[zipfile.ZipInfo, tuple[str, ...]]  # an entry and its path parts


def _entry_parts(zip_name: str, info: zipfile.ZipInfo) -> tuple[str, ...]:
    """The entry's path parts, or an UploadError for a path that could escape the target."""
    raw = info.filename
    name = raw.replace("\\", "/")
    if any(ord(c) < 32 for c in name):
        raise UploadError(f"{zip_name}: entry {raw!r} has control characters in its name; refused")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UploadError(f"{zip_name}: entry {raw!r} has an absolute path; refused")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise UploadError(f"{zip_name}: entry {raw!r} would be written outside its folder ('..'); refused")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UploadError(f"{zip_name}: entry {raw!r} is a symbolic link; refused")
    if info.flag_bits & 0x1:
        raise UploadError(f"{zip_name}: entry {raw!r} is password-protected; refused")
    return parts


def _is_junk(info: zipfile.ZipInfo) -> bool:
    name = info.filename.replace("\\", "/")
    return name.startswith(_JUNK[0]) or name.rsplit("/", 1)[-1] in _JUNK[1:]


def _plan(zip_name: str, archive: zipfile.ZipFile, limits: Limits) -> list[Entry]:
    """Check every entry before anything is written; the files to unpack with their parts."""
    infos = archive.infolist()
    if len(infos) > limits.entries:
        raise TooLarge(f"{zip_name}: {len(infos):,} entries, over the limit of {limits.entries:,}; refused")
    declared = sum(i.file_size for i in infos)
    if declared > limits.unzipped_bytes:
        raise TooLarge(
            f"{zip_name}: unpacks to {_size(declared)}, over the {_size(limits.unzipped_bytes)} limit "
            "(refused as a possible zip bomb)"
        )
    plan = []
    for info in infos:
        parts = _entry_parts(zip_name, info)
        if not parts or info.is_dir() or _is_junk(info):
            continue
        plan.append((info, tuple(_shorten(p, _suffix(p)) for p in parts)))
    if not plan:
        raise UploadError(f"{zip_name}: the zip holds no files")
    seen: dict[tuple[str, ...], str] = {}
    for info, parts in plan:
        if parts in seen:
            raise UploadError(
                f"{zip_name}: entries {seen[parts]!r} and {info.filename!r} are the same file; refused"
            )
        seen[parts] = info.filename
    return plan


def _folder_name(zip_name: str, plan: list[Entry]) -> tuple[str, int]:
    """The folder a zip unpacks into, and how many leading parts of each entry to drop.

    A zip whose entries all sit in one top folder (``project-main/...``) unpacks into that
    folder's name; any other into a folder named after the zip.
    """
    tops = {parts[0] for _, parts in plan}
    if len(tops) == 1 and all(len(parts) > 1 for _, parts in plan):
        try:
            return safe_filename(next(iter(tops))), 1
        except UploadError:
            pass  # a hidden or unusable top folder: named after the zip instead
    stem = zip_name[: -len(".zip")] if zip_name.lower().endswith(".zip") else zip_name
    return safe_filename(stem) if stem.strip() else "upload", 0


def _sort_out(plan: list[Entry], drop: int, limits: Limits) -> tuple[list[Entry], list[tuple[str, str]]]:
    """The entries to unpack (parts below the folder), and those left out with the reason."""
    kept: list[Entry] = []
    left_out: list[tuple[str, str]] = []
    for info, parts in plan:
        rel = "/".join(parts[drop:])
        if info.file_size > limits.file_bytes:
            left_out.append((rel, f"larger than the {_size(limits.file_bytes)} limit for one file"))
        elif rel.lower().endswith(".zip"):
            left_out.append((rel, "a zip inside a zip is not unpacked: upload it on its own"))
        elif info.compress_type not in _METHODS:
            left_out.append((rel, f"compressed with a method longqa cannot unpack ({info.compress_type})"))
        else:
            kept.append((info, parts[drop:]))
    return kept, left_out


def _same_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> bool:
    """Whether ``path`` holds what the entry unpacks to (read no further than the file's size)."""
    if path.is_symlink() or not path.is_file() or path.stat().st_size != info.file_size:
        return False
    with archive.open(info) as source, path.open("rb") as disk:
        while True:
            block = source.read(_COPY_BLOCK)
            if block != disk.read(len(block)):
                return False
            if not block:
                return disk.read(1) == b""


def _same_folder(archive: zipfile.ZipFile, entries: list[Entry], folder: Path) -> bool:
    """Whether ``folder`` holds exactly the files the zip unpacks to, byte for byte."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    have = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if not p.is_dir()}
    want = {"/".join(parts): info for info, parts in entries}
    return have.keys() == want.keys() and all(_same_entry(archive, i, have[r]) for r, i in want.items())


def _copy_entry(
    zip_name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int
) -> int:
    """Unpack one entry, counting the bytes really written (headers can lie)."""
    written = 0
    limit = min(info.file_size, budget)
    with archive.open(info) as source, target.open("wb") as out:
        while block := source.read(_COPY_BLOCK):
            written += len(block)
            if written > limit:
                if written > budget:
                    raise TooLarge(
                        f"{zip_name}: unpacks to more than its limit while extracting {info.filename!r} "
                        "(refused as a possible zip bomb)"
                    )
                raise UploadError(
                    f"{zip_name}: entry {info.filename!r} holds more bytes than its header says; refused"
                )
            out.write(block)
    return written


def _open_zip(name: str, data: bytes, limits: Limits) -> zipfile.ZipFile:
    if len(data) > limits.zip_bytes:
        raise TooLarge(f"{name}: {_size(len(data))} is over the {_size(limits.zip_bytes)} limit for a zip")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
        raise UploadError(f"{name}: not a valid zip file ({exc})") from exc


def check_upload(name: str, data: bytes, limits: Limits | None = None) -> None:
    """Every check ``save_upload`` makes before it writes, writing nothing: the UploadError (a
    TooLarge for a cap) it would refuse the upload with. Sizes a zip lies about show only later."""
    limits = limits or Limits()
    filename = safe_filename(name)
    if not filename.lower().endswith(".zip"):
        return check_document(filename, data, limits)
    with _open_zip(filename, data, limits) as archive:
        _folder_name(filename, _plan(filename, archive, limits))


def extract_zip(name: str, data: bytes, files: Path, limits: Limits | None = None) -> Saved:
    """Unpack an uploaded zip into a folder of its own in ``files`` (``NAME (2)`` beside a
    different folder of that name; nothing written when the same one is already there)."""
    limits = limits or Limits()
    with _open_zip(name, data, limits) as archive:
        plan = _plan(name, archive, limits)
        folder, drop = _folder_name(name, plan)
        entries, left_out = _sort_out(plan, drop, limits)
        entry = ""
        try:
            files.mkdir(parents=True, exist_ok=True)
            _clear_stale(files)
            saved = _place(files, folder, "", lambda path: _same_folder(archive, entries, path))
            saved.name, saved.files = name, len(entries)
            saved.left_out = [(f"{saved.path.name}/{rel}", why) for rel, why in left_out]
            if not saved.new:
                return saved
            with atomic_folder(saved.path) as staging:
                staging.mkdir()
                budget = limits.unzipped_bytes
                for info, parts in entries:
                    entry = info.filename
                    target = staging.joinpath(*parts)
                    if not target.resolve().is_relative_to(staging.resolve()):
                        raise UploadError(f"{name}: entry {entry!r} would be written outside its folder")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    budget -= _copy_entry(name, archive, info, target, budget)
        except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError) as exc:
            raise UploadError(f"{name}: damaged zip file ({exc})") from exc
        except OSError as exc:
            at = f" at entry {entry!r}" if entry else ""
            raise UploadError(f"{name}: cannot unpack it{at}: {exc.strerror or exc}") from exc
    return saved
