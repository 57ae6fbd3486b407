"""Wiring: settings in, ready parts out. The only module that knows how the parts fit together."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from agents.evidence.corpus import Corpus
from agents.models.backends import Backend, load_backend
from agents.models.prefix_cache import PrefixCache
from agents.models.speeds import SpeedBook
from agents.orchestrator import Answerer, AskOptions
from app.settings import Settings
from core.cache import cache_root
from core.errors import LongqaError
from ingest.chunking import ChunkSettings
from retrieval.embeddings import Embedder, load_embedder, variant_of
from retrieval.indexer import IngestReport, Progress, ingest
from retrieval.manifest import IndexConfig
from retrieval.search import HybridSearcher
from retrieval.stores import IndexStore, resolved
from retrieval.stores import open_index as open_store


def chunk_settings(settings: Settings) -> ChunkSettings:
    return ChunkSettings(tokens=settings.chunk_tokens, overlap=settings.chunk_overlap)


@functools.cache
def _embedder(model: str, batch: int, backend: str) -> Embedder:
    return load_embedder(model, backend, batch_size=batch)


def embedder(settings: Settings) -> Embedder:
    """The embedding model (loaded once per process)."""
    return _embedder(settings.embedding_model, settings.embedding_batch, settings.embedder_backend)


def ingest_paths(
    settings: Settings, paths: list[Path], index_folder: Path, progress: Progress | None = None
) -> IngestReport:
    """Bring the index at ``index_folder`` (a folder or a ``milvus:`` spec) up to date with ``paths``."""
    return ingest(
        paths,
        index_folder,
        embedder(settings),
        chunk_settings(settings),
        max_bytes=settings.max_file_bytes,
        hnsw_threshold=settings.hnsw_threshold,
        progress=progress,
        ocr=settings.ocr,
        ocr_timeout=settings.ocr_page_timeout,
        milvus_token=settings.milvus_token,
    )


class NothingIngested(LongqaError):
    """No file of the documents a question run needs could be ingested; ``report`` says why, file
    by file."""

    def __init__(self, docs: list[Path], report: IngestReport) -> None:
        super().__init__(f"nothing in {', '.join(str(p) for p in docs)} could be ingested")
        self.report = report


def ingest_docs(
    settings: Settings, docs: list[Path], index_folder: Path, progress: Progress | None = None
) -> IngestReport:
    """Bring the index of ``docs`` up to date before questions are asked of them (only what changed
    is read again); NothingIngested when none of their files could be read, since every answer
    would fail. The one "ingest if needed, then ask" step of ``longqa batch --docs`` and ``eval``."""
    report = ingest_paths(settings, docs, index_folder, progress=progress)
    if not report.usable:
        raise NothingIngested(docs, report)
    return report


def open_index(settings: Settings, index_folder: Path) -> IndexStore:
    """An existing index (a folder or a ``milvus:`` spec), refused if it was built with another
    embedding model."""
    model = embedder(settings)
    chunks = (settings.chunk_tokens, settings.chunk_overlap)
    expect = IndexConfig(model.name, model.dimension, *chunks, embedder_variant=variant_of(model))
    return open_store(
        index_folder, expect=expect, hnsw_threshold=settings.hnsw_threshold, token=settings.milvus_token
    )


def open_reader(settings: Settings, index_folder: Path) -> IndexStore:
    """An existing index for reading what it holds, whatever model built it (listings, sources)."""
    return open_store(index_folder, hnsw_threshold=settings.hnsw_threshold, token=settings.milvus_token)


def searcher(settings: Settings, index: IndexStore) -> HybridSearcher:
    return HybridSearcher(index, embedder(settings))


def docs_index_folder(docs: Path) -> Path:
    """Where `--docs FOLDER` is indexed when no --index is given: one folder per docs folder."""
    resolved = docs.resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:10]
    return Path(".longqa") / f"{resolved.name or 'docs'}-{digest}"


@functools.cache
def speed_book() -> SpeedBook:
    return SpeedBook(cache_root() / "speeds.json")


@functools.cache
def _backend(
    spec: str,
    window: int | None,
    answer_tokens: int,
    timeout: float,
    concurrency: int,
    api_key: str | None,
    threads: int | None,
    prefix_cache_gb: float,
    kv_cache: str,
    segment_tokens: int | None,
    stall_timeout: float,
) -> Backend:
    return load_backend(
        spec,
        speeds=speed_book(),
        context_window=window,
        answer_tokens=answer_tokens,
        timeout=timeout,
        concurrency=concurrency,
        api_key=api_key,
        threads=threads,
        prefix_cache=prefix_cache(prefix_cache_gb),
        kv_type=kv_cache,
        segment_tokens=segment_tokens,
        stall_timeout=stall_timeout,
    )


def prefix_cache(size_gb: float) -> PrefixCache | None:
    """The prefix states on disk, shared by the CLI and the UI (None when turned off)."""
    if size_gb <= 0:
        return None
    return PrefixCache(cache_root() / "prefixes", max_bytes=int(size_gb * 1024**3))


def forget_prefixes(index_folder: Path) -> int:
    """Remove the stored prefix states read from the index at ``index_folder`` (it is deleted)."""
    return PrefixCache(cache_root() / "prefixes").invalidate(str(resolved(index_folder)))


def backend(settings: Settings, spec: str | None = None) -> Backend:
    """A model backend (loaded once per process and spec)."""
    return _backend(
        spec or settings.model,
        settings.context_window,
        settings.answer_tokens,
        settings.timeout,
        settings.concurrency,
        settings.api_key,
        settings.threads,
        settings.prefix_cache_gb,
        settings.kv_cache,
        settings.segment_tokens,
        settings.stall_timeout,
    )


def ask_options(settings: Settings) -> AskOptions:
    return AskOptions(
        strategy=settings.strategy,
        prefer=settings.prefer,
        k=settings.k,
        verify=settings.verify,
        strict=settings.strict,
    )


def answerer(settings: Settings, index: IndexStore, model: Backend | None = None) -> Answerer:
    """Everything needed to answer questions over one index (with ``model``, the settings' backend
    already loaded, when given)."""
    model = model or backend(settings)
    judge = backend(settings, settings.judge) if settings.judge and settings.judge != settings.model else None
    return Answerer(Corpus(index, searcher(settings, index)), model, judge, ask_options(settings))
