"""Ingesting folders into an index: walk, read, chunk, embed, write — incrementally.

A file whose bytes hash the same as last time is not read again; a file that changed is read,
chunked and embedded afresh; a file that is gone from a folder loses its chunks. A file that
cannot be read, or that the database refuses, is reported with its reason and the rest goes on.
All changes of one run are committed together at the end (see ``Index.write``), so an interrupted
run changes nothing. A path that does not exist creates nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from core.errors import LongqaError
from core.files import sha256_file
from ingest.chunking import ChunkSettings
from ingest.errors import LoadError, SkipFile
from ingest.ocr import PAGE_TIMEOUT, OcrMode
from ingest.pipeline import Loaded, chunk_document, load_document
from ingest.walk import DEFAULT_MAX_BYTES, Found, Skipped, shown, walk
from retrieval import vectors
from retrieval.embeddings import Embedder, variant_of
from retrieval.manifest import IndexConfig
from retrieval.rows import KnownFile
from retrieval.stores import IndexStore, IndexWriter, open_index
from retrieval.writer import DocumentNotStored, NewDocument

Status = Literal["ingested", "unchanged", "skipped", "failed", "removed"]
Progress = Callable[[str, int, int, str], None]
"""progress(stage, done, total, detail): stage is 'scan', 'read', 'ocr' (one file's scanned pages)
or 'embed'."""

_EMBED_BATCH = 64


@dataclass
class FileOutcome:
    """What happened to one file."""

    path: str
    status: Status
    reason: str = ""
    chunks: int = 0
    pages: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    """The outcome of one ingest run, per file, with where the time went."""

    index: str
    files: list[FileOutcome]
    seconds: dict[str, float]
    rechunked: bool = False
    warnings: list[str] = field(default_factory=list)
    """What went wrong without failing the run (the index is saved, its search files are not)."""

    def count(self, status: Status) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def chunks_embedded(self) -> int:
        return sum(f.chunks for f in self.files if f.status == "ingested")

    @property
    def pages_read(self) -> int:
        return sum(f.pages for f in self.files if f.status == "ingested")

    @property
    def usable(self) -> bool:
        """False only when nothing at all could be ingested (the CLI's failure)."""
        return self.count("ingested") + self.count("unchanged") > 0

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "summary": {s: self.count(s) for s in ("ingested", "unchanged", "skipped", "failed", "removed")},
            "chunks_embedded": self.chunks_embedded,
            "pages_read": self.pages_read,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "rechunked": self.rechunked,
            "warnings": list(self.warnings),
            "files": [asdict(f) for f in self.files],
        }


def embedding_text(path: str, section: str | None, text: str) -> str:
    """What gets embedded: a contextual header (file and section) above the chunk's text."""
    header = f"{path} | {section}" if section else path
    return f"{header}\n{text}"


class _Run:
    """State of one ingest: timings, outcomes, and files waiting to be embedded."""

    def __init__(
        self,
        embedder: Embedder,
        writer: IndexWriter,
        progress: Progress | None,
        ocr: OcrMode = "auto",
        ocr_timeout: float = PAGE_TIMEOUT,
    ) -> None:
        self.embedder = embedder
        self.ocr, self.ocr_timeout = ocr, ocr_timeout
        self.writer = writer
        self.progress = progress or (lambda *_: None)
        self.seconds = {"scan": 0.0, "parse": 0.0, "chunk": 0.0, "embed": 0.0, "write": 0.0}
        self.pending: list[tuple[Loaded, Found, FileOutcome]] = []
        self.embedded = 0
        self.total_chunks = 0

    def add(self, loaded: Loaded, found: Found, outcome: FileOutcome) -> None:
        self.pending.append((loaded, found, outcome))
        if sum(len(p[0].chunks) for p in self.pending) >= _EMBED_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        texts = [
            embedding_text(c.span.path, c.section, c.text)
            for loaded, _, _ in self.pending
            for c in loaded.chunks
        ]
        started = time.perf_counter()
        matrix = self.embedder.embed(texts)
        self.seconds["embed"] += time.perf_counter() - started
        self.embedded += len(texts)
        self.progress("embed", self.embedded, self.total_chunks, "")
        started = time.perf_counter()
        offset = 0
        for loaded, found, outcome in self.pending:
            n = len(loaded.chunks)
            try:
                self.writer.add(
                    NewDocument(
                        root=str(found.root),
                        # a name that is not UTF-8 is stored as it is shown: SQLite keeps text only
                        source=shown(str(found.path.resolve())),
                        size=found.size,
                        document=loaded.document,
                        chunks=loaded.chunks,
                        embeddings=matrix[offset : offset + n],
                    )
                )
            except DocumentNotStored as exc:
                outcome.status, outcome.reason = "failed", exc.reason
            else:
                outcome.status = "ingested"
            offset += n
        self.seconds["write"] += time.perf_counter() - started
        self.pending.clear()


def ingest(
    roots: list[Path],
    index_folder: Path | str,
    embedder: Embedder,
    chunking: ChunkSettings,
    max_bytes: int = DEFAULT_MAX_BYTES,
    hnsw_threshold: int | None = None,
    progress: Progress | None = None,
    ocr: OcrMode = "auto",
    ocr_timeout: float = PAGE_TIMEOUT,
    milvus_token: str | None = None,
) -> IngestReport:
    """Bring the index at ``index_folder`` (a folder or a ``milvus:`` spec) up to date with
    ``roots`` (``ocr``: which PDF pages OCR reads, for the files read in this run;
    ``ocr_timeout``: the seconds it may spend on one; ``milvus_token``: a Milvus server's)."""
    if not any(Path(r).exists() for r in roots):
        raise LongqaError(f"no such file or folder: {', '.join(str(r) for r in roots) or '(none given)'}")
    model, chunks = (embedder.name, embedder.dimension), (chunking.tokens, chunking.overlap)
    config = IndexConfig(*model, *chunks, embedder_variant=variant_of(embedder))
    threshold = vectors.DEFAULT_HNSW_THRESHOLD if hnsw_threshold is None else hnsw_threshold
    index = open_index(index_folder, expect=config, create=True, hnsw_threshold=threshold, token=milvus_token)
    try:
        return _ingest(roots, index, config, embedder, chunking, max_bytes, progress, ocr, ocr_timeout)
    finally:
        index.close()


def _ingest(
    roots: list[Path],
    index: IndexStore,
    config: IndexConfig,
    embedder: Embedder,
    chunking: ChunkSettings,
    max_bytes: int,
    progress: Progress | None,
    ocr: OcrMode = "auto",
    ocr_timeout: float = PAGE_TIMEOUT,
) -> IngestReport:
    """Scan, find what changed, read and embed it, drop what is gone: one write transaction."""
    started = time.perf_counter()
    roots = [Path(r).resolve() if Path(r).exists() else Path(r) for r in roots]
    items = list(walk(roots, max_bytes))
    found = [i for i in items if isinstance(i, Found)]
    outcomes = [FileOutcome(i.rel, "skipped", i.reason) for i in items if isinstance(i, Skipped)]
    rechunk = (index.config.chunk_tokens, index.config.chunk_overlap) != (chunking.tokens, chunking.overlap)
    known = index.known_files()
    scanned = time.perf_counter() - started
    (progress or (lambda *_: None))("scan", len(found), len(found), "")

    with index.write(config) as writer:
        run = _Run(embedder, writer, progress, ocr, ocr_timeout)
        run.seconds["scan"] = scanned
        cited, todo = _changed(found, known, rechunk, outcomes, run)
        _read_and_embed(todo, known, chunking, run)
        outcomes += _remove_gone(roots, known, cited, writer)
        write_started = time.perf_counter()
    run.seconds["write"] += time.perf_counter() - write_started
    outcomes.sort(key=lambda o: o.path)
    return IngestReport(
        str(index.folder),
        outcomes,
        run.seconds,
        rechunked=rechunk and bool(known),
        warnings=list(writer.warnings),
    )


def _changed(
    found: list[Found],
    known: dict[str, KnownFile],
    rechunk: bool,
    outcomes: list[FileOutcome],
    run: _Run,
) -> tuple[set[str], list[tuple[Found, FileOutcome]]]:
    """The paths the found files are cited by, and those of them to read: new, changed, or all of
    them when the chunking changed. An unchanged file is only hashed."""
    started = time.perf_counter()
    cited: set[str] = set()
    todo: list[tuple[Found, FileOutcome]] = []
    for item in found:
        rel = _unique_path(item, known, cited)
        item = Found(item.path, rel, item.root, item.size)
        cited.add(rel)
        outcome = FileOutcome(rel, "failed")
        outcomes.append(outcome)
        previous = known.get(rel)
        if previous and not rechunk:
            try:
                unchanged = previous.doc_id == sha256_file(item.path)
            except OSError as exc:
                outcome.reason = f"cannot read: {exc.strerror or exc}"
                continue
            if unchanged:
                outcome.status = "unchanged"
                continue
        todo.append((item, outcome))
    run.seconds["scan"] += time.perf_counter() - started
    return cited, todo


def _read_and_embed(
    todo: list[tuple[Found, FileOutcome]], known: dict[str, KnownFile], chunking: ChunkSettings, run: _Run
) -> None:
    """Read, chunk and queue each file for embedding (written in batches as the queue fills)."""
    for n, (item, outcome) in enumerate(todo, 1):
        run.progress("read", n, len(todo), item.rel)
        try:
            data = item.path.read_bytes()  # read again here: changed files are never all in memory
        except OSError as exc:
            outcome.reason = f"cannot read: {exc.strerror or exc}"
            continue
        loaded = _read(item, data, chunking, outcome, run)
        if loaded is None:
            if item.rel in known:
                run.writer.remove(item.rel)  # its old chunks describe content that is gone
            continue
        run.total_chunks += len(loaded.chunks)
        run.add(loaded, item, outcome)
    run.flush()


def _remove_gone(
    roots: list[Path], known: dict[str, KnownFile], cited: set[str], writer: IndexWriter
) -> list[FileOutcome]:
    """Drop the indexed files of a scanned folder that are no longer in it."""
    scanned = {str(r) for r in roots if r.is_dir()}
    gone = [path for path, file in known.items() if file.root in scanned and path not in cited]
    for path in gone:
        writer.remove(path)
    return [FileOutcome(path, "removed", "no longer in the folder") for path in gone]


def _read(
    item: Found, data: bytes, chunking: ChunkSettings, outcome: FileOutcome, run: _Run
) -> Loaded | None:
    """Load and chunk one file, timing each step; None (and the reason) when it cannot be read."""
    stage, started = "parse", time.perf_counter()
    try:
        document = load_document(
            item.path,
            item.rel,
            data,
            run.ocr,
            lambda done, total, what: run.progress("ocr", done, total, what),
            run.ocr_timeout,
        )
        run.seconds["parse"] += time.perf_counter() - started
        stage, started = "chunk", time.perf_counter()
        chunks = chunk_document(document, chunking)
        if not chunks:
            raise LoadError(item.rel, "no text to index")
    except SkipFile as exc:
        outcome.status, outcome.reason = "skipped", exc.reason
        return None
    except LoadError as exc:
        outcome.reason = exc.reason
        return None
    except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the folder
        outcome.reason = f"unexpected error while reading: {type(exc).__name__}: {exc}"
        return None
    finally:
        run.seconds[stage] += time.perf_counter() - started
    outcome.chunks = len(chunks)
    outcome.pages = document.pages if document.kind == "pdf" else 0
    outcome.notes = list(document.notes)
    return Loaded(document, chunks)


def _unique_path(item: Found, known: dict[str, KnownFile], cited: set[str]) -> str:
    """The path a file is cited by; prefixed with its root's name if another root has it."""
    rel = item.rel
    previous = known.get(rel)
    if (previous and previous.root != str(item.root)) or rel in cited:
        rel = f"{shown(item.root.name)}/{rel}"
    return rel
