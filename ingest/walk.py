"""The folder walk: which files of a corpus get read, and why the others do not.

Honours every ``.gitignore`` and ``.longqaignore`` (same syntax, read by longqa alone) on the way
down (deeper files win, negations work), never enters
``.git``, virtual environments, ``node_modules`` or caches, does not follow links to folders,
does not follow links to files outside the folder, and refuses binaries by their bytes (PDF,
Word and EPUB files are binary packages their loaders read, and check, themselves). Every
file or folder left out is reported with its reason. The path a file is cited by (``rel``) is
always valid one-line text, even for names whose bytes are not UTF-8; ``Found.path`` keeps the
real name for reading.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from ingest.formats import binary_suffixes, marked
from ingest.textfile import looks_binary

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
IGNORE_FILES = (".gitignore", ".longqaignore")  # same syntax; the second is for longqa alone

_PRUNED_DIRS = {
    ".git": "version-control metadata",
    ".hg": "version-control metadata",
    ".svn": "version-control metadata",
    "node_modules": "installed JavaScript packages",
    "__pycache__": "Python bytecode cache",
    ".mypy_cache": "tool cache",
    ".pytest_cache": "tool cache",
    ".ruff_cache": "tool cache",
    ".tox": "test environments",
    ".nox": "test environments",
    ".eggs": "installed Python packages",
    "site-packages": "installed Python packages",
    ".longqa": "longqa index",
}
_BINARY_SUFFIXES = {
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".bmp",
    ".ico",
    ".webp",
    ".tif",
    ".tiff",
    ".svgz",
    ".zip",
    ".gz",
    ".tgz",
    ".bz2",
    ".xz",
    ".zst",
    ".7z",
    ".rar",
    ".tar",
    ".whl",
    ".egg",
    ".jar",
    ".so",
    ".dylib",
    ".dll",
    ".exe",
    ".o",
    ".a",
    ".lib",
    ".obj",
    ".pyc",
    ".pyo",
    ".class",
    ".wasm",
    ".bin",
    ".dat",
    ".db",
    ".sqlite",
    ".npy",
    ".npz",
    ".pkl",
    ".pt",
    ".onnx",
    ".gguf",
    ".mp3",
    ".mp4",
    ".wav",
    ".ogg",
    ".avi",
    ".mov",
    ".woff",
    ".woff2",
    ".ttf",
    ".otf",
    ".eot",
    ".xlsx",
    ".pptx",
    ".odt",
    ".ods",
}


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def shown(name: str) -> str:
    """A file name or path as citations and reports show it: valid UTF-8 text on one line.

    Bytes that are not UTF-8 (which ``os.walk`` hands back as surrogate escapes) read as
    ``\\xNN``, and control characters (a newline in a name) as their escapes.
    """
    try:
        text = os.fsencode(name).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # lone surrogates that no file name's bytes produce
        text = name.encode("utf-8", "backslashreplace").decode("utf-8")
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@dataclass(frozen=True)
class Found:
    """A file to read: where it is and the path citations will show."""

    path: Path
    rel: str
    root: Path
    size: int


@dataclass(frozen=True)
class Skipped:
    """A file or folder left out, with the reason a user reads."""

    rel: str
    reason: str


def _is_virtualenv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file() or (path / "conda-meta").is_dir()


class _Ignores:
    """The stack of .gitignore files above a folder; the deepest match decides."""

    def __init__(self) -> None:
        self.specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []

    def push(self, folder_rel: str, gitignore: Path) -> None:
        try:
            lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        self.specs.append((folder_rel, pathspec.GitIgnoreSpec.from_lines(lines)))

    def pop_outside(self, folder_rel: str) -> None:
        while self.specs and not _inside(folder_rel, self.specs[-1][0]):
            self.specs.pop()

    def ignored(self, rel: str, is_dir: bool) -> bool:
        verdict = False
        for base, spec in self.specs:
            if not _inside(rel, base):
                continue
            local = rel[len(base) + 1 :] if base else rel
            result = spec.check_file(local + ("/" if is_dir else ""))
            if result.include is not None:
                verdict = result.include
        return verdict


def _inside(rel: str, base: str) -> bool:
    return base == "" or rel == base or rel.startswith(base + "/")


def _check_file(
    path: Path, rel: str, root: Path, max_bytes: int, inside: Path | None = None
) -> Found | Skipped:
    """Whether to read one file; ``inside`` (a resolved folder) is where its links may point."""
    try:
        stat = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Skipped(rel, "symbolic link loop")
        if path.is_symlink():
            return Skipped(rel, "broken symbolic link")
        return Skipped(rel, f"cannot read: {exc.strerror or exc}")
    if inside is not None and path.is_symlink() and not Path(os.path.realpath(path)).is_relative_to(inside):
        return Skipped(rel, "symbolic link to a file outside the folder (not followed)")
    if not path.is_file():
        return Skipped(rel, "not a regular file")
    if stat.st_size > max_bytes:
        return Skipped(
            rel,
            f"larger than the {max_bytes / 1024 / 1024:g} MB size cap ({stat.st_size / 1024 / 1024:.1f} MB)",
        )
    if stat.st_size == 0:
        return Skipped(rel, "empty file")
    suffix = path.suffix.lower()
    if suffix in _BINARY_SUFFIXES:
        return Skipped(rel, f"binary file type ({suffix})")
    try:
        with path.open("rb") as handle:
            head = handle.read(8192)
    except OSError as exc:
        return Skipped(rel, f"cannot read: {exc.strerror or exc}")
    if suffix not in binary_suffixes() and marked(head) is None and looks_binary(head):
        return Skipped(rel, "binary content")
    return Found(path, rel, root, stat.st_size)


def walk(roots: list[Path], max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Found | Skipped]:
    """Every file under ``roots`` to read, and every one left out, in a stable order.

    Paths are shown relative to their root folder (a file given directly shows its name and is
    read as given, even through a link); with several roots each path is prefixed with its
    root's name so that they stay distinct.
    """
    for root in roots:
        prefix = f"{shown(root.name)}/" if len(roots) > 1 and root.is_dir() else ""
        if not root.exists() and not root.is_symlink():
            yield Skipped(shown(str(root)), "no such file or folder")
        elif not root.is_dir():
            yield _check_file(root, shown(root.name), root.parent, max_bytes)
        else:
            for item in _walk_folder(root, max_bytes):
                if prefix:
                    item = (
                        Found(item.path, prefix + item.rel, item.root, item.size)
                        if isinstance(item, Found)
                        else Skipped(prefix + item.rel, item.reason)
                    )
                yield item


def _walk_folder(root: Path, max_bytes: int) -> Iterator[Found | Skipped]:
    ignores = _Ignores()
    inside = Path(os.path.realpath(root))
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(folder)
        folder_rel = shown(here.relative_to(root).as_posix())
        folder_rel = "" if folder_rel == "." else folder_rel
        ignores.pop_outside(folder_rel)
        for name in IGNORE_FILES:
            if name in filenames:
                ignores.push(folder_rel, here / name)
        kept: list[str] = []
        for name in sorted(dirnames):
            rel = f"{folder_rel}/{shown(name)}" if folder_rel else shown(name)
            path = here / name
            if path.is_symlink():
                yield Skipped(rel + "/", "symbolic link to a folder (not followed)")
            elif name in _PRUNED_DIRS:
                yield Skipped(rel + "/", _PRUNED_DIRS[name])
            elif _is_virtualenv(path):
                yield Skipped(rel + "/", "Python virtual environment")
            elif ignores.ignored(rel, is_dir=True):
                yield Skipped(rel + "/", "ignored by an ignore file")
            else:
                kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            rel = f"{folder_rel}/{shown(name)}" if folder_rel else shown(name)
            if name in IGNORE_FILES:
                continue
            if ignores.ignored(rel, is_dir=False):
                yield Skipped(rel, "ignored by an ignore file")
                continue
            yield _check_file(here / name, rel, root, max_bytes, inside)
