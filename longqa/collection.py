"""``longqa.Collection``: one collection of documents, opened by its folder, added to, searched
and asked. Each method is one call of ``app.services`` (no logic of its own here)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from agents.answer import Answer
from app.services import assistant
from app.services import collections as services
from app.settings import Settings, load_settings, override
from retrieval.indexer import IngestReport
from retrieval.rows import DocumentInfo
from retrieval.search import Hit

PathLike = str | os.PathLike[str]


class Collection:
    """A collection: an index folder (``longqa ingest --index DIR``; made by the first ``add``), or
    one of the web UI's and ``longqa serve``'s (``.longqa/collections/NAME``)."""

    def __init__(self, collection: services.Collection, settings: Settings) -> None:
        self._collection = collection
        self.settings = settings

    @classmethod
    def open(cls, path: PathLike, settings: Settings | None = None) -> Collection:
        """The collection at ``path``, with ``settings`` (default: ``load_settings()``)."""
        return cls(services.at(Path(path)), settings or load_settings())

    @property
    def name(self) -> str:
        return self._collection.name

    @property
    def index(self) -> Path:
        """Its index folder."""
        return self._collection.index

    def __repr__(self) -> str:
        return f"Collection({str(self.index)!r})"

    def add(
        self,
        paths: PathLike | Iterable[PathLike],
        progress: Callable[[str, int, int, str], None] | None = None,
    ) -> IngestReport:
        """Ingest files and folders, where they are (``longqa ingest``): what happened to each."""
        chosen = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
        return services.ingest(
            self.settings, self._collection, [Path(p).expanduser() for p in chosen], progress
        )

    def documents(self) -> list[DocumentInfo]:
        """The documents it holds."""
        return services.summary(self._collection).documents

    def search(self, query: str, k: int | None = None, mode: str = "hybrid") -> list[Hit]:
        """The spans that best match ``query`` (``longqa search``): hybrid, dense or lexical."""
        return assistant.search(self.settings, self._collection, query, k=k, mode=mode)

    def ask(
        self,
        question: str,
        *,
        strategy: str | None = None,
        prefer: str | None = None,
        verify: bool | None = None,
        strict: bool | None = None,
        on_token: Callable[[str], None] | None = None,
        on_status: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer with citations of exact spans (``longqa ask``); ``on_token`` receives the answer
        as it is written, ``on_status`` what is being done."""
        settings = override(self.settings, strategy=strategy, prefer=prefer, verify=verify, strict=strict)
        return assistant.ask(settings, self._collection, question, on_token=on_token, on_status=on_status)
