"""The web UI's collections: named folders under one root, each holding an index and the files
uploaded into it.

```
<root>/<name>/index/   the collection's index (DESIGN.md §4)
<root>/<name>/files/   uploads, kept so that citations can show their source
```

An index opened with ``longqa ui --index DIR`` is shown as a collection too; it is never deleted
from here and takes no uploads (its files live wherever it was ingested from). This module never
deletes anything outside the root and never touches Streamlit.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from app import wiring
from app.settings import Settings, load_settings
from core.errors import LongqaError
from retrieval.indexer import IngestReport, Progress
from retrieval.manifest import MANIFEST
from retrieval.rows import DocumentInfo
from retrieval.stores import exists, is_milvus, resolved, stamp

INDEX = "index"
FILES = "files"
NAME_LIMIT = 64
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]*")

ENV_ROOT = "LONGQA_UI_COLLECTIONS"
ENV_INDEX = "LONGQA_UI_INDEX"


class CollectionError(LongqaError):
    """A collection that cannot be created, found or deleted as asked."""


class UnknownCollection(CollectionError):
    """No collection of that name."""


class CollectionExists(CollectionError):
    """A collection of that name (in any case) is there already."""


@dataclass(frozen=True)
class Collection:
    """One collection: its name, its index folder and (for the UI's own) its files folder."""

    name: str
    folder: Path
    index: Path
    files: Path | None  # None for an index opened from elsewhere
    external: bool = False

    @property
    def ingested(self) -> bool:
        """Whether its index exists yet (a new collection has none until its first ingest)."""
        return exists(self.index)

    @property
    def stamp(self) -> float:
        """When its index last changed, as its files tell (what views of it are cached by)."""
        return stamp(self.index)


@dataclass(frozen=True)
class Summary:
    """What a collection holds."""

    documents: list[DocumentInfo]
    chunks: int
    tokens: int


def check_name(name: str) -> str:
    """The name, stripped, if it makes a good folder name; else a CollectionError saying why."""
    name = " ".join(name.split())
    if not name:
        raise CollectionError("give the collection a name")
    if len(name) > NAME_LIMIT:
        raise CollectionError(f"a collection name has at most {NAME_LIMIT} characters")
    if not _NAME.fullmatch(name):
        raise CollectionError(
            f"{name!r} is not a usable name: use letters, digits, spaces, '.', '-' and '_', "
            "starting with a letter or digit"
        )
    return name


def _external_name(index: Path) -> str:
    base = index.parent.name if index.name == INDEX and index.parent.name else index.name
    try:
        return check_name(base)
    except CollectionError:
        return "opened index"


class Collections:
    """The collections under ``root``, plus an index opened from elsewhere (``external``)."""

    def __init__(self, root: Path, external: Path | None = None) -> None:
        self.root = Path(root).expanduser().resolve()
        self.external = resolved(external) if external else None

    @classmethod
    def from_environment(cls, settings: Settings | None = None) -> Collections:
        """The root and index that ``longqa ui`` passes in its environment, else the settings'."""
        root = os.environ.get(ENV_ROOT)
        external = os.environ.get(ENV_INDEX)
        base = Path(root) if root else (settings or load_settings()).collections
        return cls(base, Path(external) if external else None)

    def _own(self, folder: Path) -> Collection:
        return Collection(folder.name, folder, folder / INDEX, folder / FILES)

    def all(self) -> list[Collection]:
        """Every collection: the opened index first, then the root's, by name."""
        own = (
            sorted(
                (self._own(p) for p in self.root.iterdir() if p.is_dir() and _NAME.fullmatch(p.name)),
                key=lambda c: c.name.lower(),
            )
            if self.root.is_dir()
            else []
        )
        if self.external is None:
            return own
        if any(c.index == self.external for c in own):  # `make run`'s examples live in the root
            match = next(c for c in own if c.index == self.external)
            return [match, *(c for c in own if c is not match)]
        names = {c.name.lower() for c in own}
        name = _external_name(self.external)
        while name.lower() in names:
            name = f"{name} (opened)"
        opened = Collection(name, self.external.parent, self.external, None, external=True)
        return [opened, *own]

    def get(self, name: str) -> Collection:
        for collection in self.all():
            if collection.name == name:
                return collection
        raise UnknownCollection(f"no collection named {name!r}")

    def create(self, name: str) -> Collection:
        """A new, empty collection (its index is made by the first ingest)."""
        name = check_name(name)
        if any(c.name.lower() == name.lower() for c in self.all()):
            raise CollectionExists(f"a collection named {name!r} already exists")
        folder = self.root / name
        try:
            (folder / FILES).mkdir(parents=True)
        except OSError as exc:
            raise CollectionError(f"cannot create {folder}: {exc.strerror or exc}") from exc
        return self._own(folder)

    def delete(self, name: str) -> None:
        """Remove a collection of the root with its index and uploaded files."""
        collection = self.get(name)
        if collection.external:
            raise CollectionError(f"{name!r} is opened from {collection.index}; it is not deleted from here")
        folder = collection.folder.resolve()
        if folder.parent != self.root:  # never outside the root, whatever the name
            raise CollectionError(f"{folder} is not inside {self.root}; not deleting it")
        try:
            shutil.rmtree(folder)
        except OSError as exc:
            raise CollectionError(f"cannot delete {folder}: {exc.strerror or exc}") from exc
        wiring.forget_prefixes(collection.index)  # what the model read of it goes too

    def inside(self, path: Path) -> bool:
        """Whether ``path`` lies in longqa's own storage (the root or the opened index)."""
        resolved = path.expanduser().resolve()
        roots = [self.root] + ([self.external] if self.external else [])
        return any(resolved == r or resolved.is_relative_to(r) for r in roots)


def at(folder: Path) -> Collection:
    """The collection at ``folder``: one of the UI's (``index/`` beside ``files/``), else an index
    folder of its own (``longqa ingest --index``; new or not), which takes no uploads."""
    if is_milvus(folder):  # a Milvus index: opened from where it is, like an index folder
        index = resolved(folder)
        return Collection(_external_name(index), index.parent, index, None, external=True)
    folder = Path(folder).expanduser().resolve()
    if (folder / FILES).is_dir() or (folder / INDEX / MANIFEST).exists():
        return Collection(folder.name, folder, folder / INDEX, folder / FILES)
    return Collection(_external_name(folder), folder.parent, folder, None, external=True)


def summary(collection: Collection, settings: Settings | None = None) -> Summary:
    """Its documents, chunks and tokens (empty before the first ingest)."""
    if not collection.ingested:
        return Summary([], 0, 0)
    with wiring.open_reader(settings or load_settings(), collection.index) as index:
        stats = index.stats()
        return Summary(index.documents(), stats["chunks"], stats["tokens"])


def ingest(
    settings: Settings, collection: Collection, paths: list[Path], progress: Progress | None = None
) -> IngestReport:
    """Bring the collection's index up to date with ``paths`` (files or folders)."""
    return wiring.ingest_paths(settings, paths, collection.index, progress=progress)
