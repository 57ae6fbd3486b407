"""The timed half of ``bench_ingest.py``: the corpora, and both ingest pipelines run over them.

longqa's ``retrieval.indexer.ingest`` into a fresh index, and LangChain's usual PDF pipeline
(``PyPDFLoader``, ``RecursiveCharacterTextSplitter``, ``FAISS`` over ``HuggingFaceEmbeddings``)
into a fresh store; ``bench_corpus`` runs both over one corpus and summarises the runs. See
``bench_ingest.py`` for what is measured and why; it sets the Hugging Face offline switches
before importing this module.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.chunking import ChunkSettings
from ingest.tokens import count_tokens
from retrieval.embeddings import Embedder
from retrieval.indexer import embedding_text, ingest
from retrieval.store import Index

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PDFS = ("fasta_guide.pdf", "gutenprint-users-manual.pdf")

LC_CHUNK_CHARS = 1500
LC_OVERLAP_CHARS = 120
EMBED_BATCH = 32


# ---------------------------------------------------------------------------------- records


@dataclass
class Run:
    """One ingest by one pipeline into a fresh index (longqa) or store (LangChain)."""

    pipeline: str  # "longqa_full" (the whole folder), "longqa_pdfs" (its PDFs only) or "langchain"
    corpus: str
    repeat: int
    wall_s: float
    cpu_s: float  # CPU time of this process (all threads) during the run
    load_1m: float  # the machine's 1-minute load average at the end of the run
    pages: int
    chunks: int
    # longqa: IngestReport.seconds (scan, parse, chunk, embed, write) and "other" = wall - their sum;
    # LangChain: load, split, embed, index (the FAISS build less the embedding)
    stages_s: dict[str, float]
    files_ingested: int = 0  # longqa only
    files_failed: int = 0  # longqa only


class ModelWindow:
    """How many texts the embedding model would truncate (its max_seq_length, in wordpieces)."""

    def __init__(self, model_path: str) -> None:
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        config = Path(model_path) / "sentence_bert_config.json"
        self.max_tokens = int(json.loads(config.read_text())["max_seq_length"])

    def chunk_stats(self, tokens: list[int], texts: list[str], embedded: list[str]) -> dict[str, Any]:
        """Count, mean size (cl100k tokens, characters) and how many the model truncates."""
        lengths = self.tokenizer(embedded, add_special_tokens=True, verbose=False)["input_ids"]
        return {
            "chunks": len(texts),
            "mean_tokens": statistics.fmean(tokens),
            "mean_chars": statistics.fmean(len(t) for t in texts),
            "over_model_window": sum(len(ids) > self.max_tokens for ids in lengths),
        }


# ---------------------------------------------------------------------------------- corpora


@dataclass(frozen=True)
class Corpus:
    name: str
    full: Path  # what longqa ingests in the "full" variant
    pdf_folder: Path  # only the PDFs: longqa's "pdfs" variant and LangChain's input
    has_non_pdf: bool

    def pdfs(self) -> list[Path]:
        return sorted(self.pdf_folder.glob("*.pdf"))


def build_corpora(work: Path, copies: int) -> list[Corpus]:
    """The examples corpus (plus a PDFs-only copy of it) and the large corpus of PDF copies."""
    example_pdfs, large = work / "examples-pdfs", work / "large-pdfs"
    example_pdfs.mkdir()
    large.mkdir()
    for name in PDFS:
        shutil.copy2(EXAMPLES / name, example_pdfs / name)
        for n in range(1, copies + 1):
            shutil.copy2(EXAMPLES / name, large / f"{Path(name).stem}-copy{n:02d}.pdf")
    return [
        Corpus("examples", EXAMPLES, example_pdfs, has_non_pdf=True),
        Corpus("large", large, large, has_non_pdf=False),
    ]


# ---------------------------------------------------------------------------------- pipelines


def run_longqa(
    corpus: Corpus,
    variant: str,
    repeat: int,
    embedder: Embedder,
    settings: ChunkSettings,
    index_folder: Path,
) -> Run:
    """longqa's ingest of the corpus (``variant`` "full" or "pdfs") into a fresh index."""
    shutil.rmtree(index_folder, ignore_errors=True)
    cpu, wall = time.process_time(), time.perf_counter()
    report = ingest(
        [corpus.full if variant == "full" else corpus.pdf_folder], index_folder, embedder, settings
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stages = dict(report.seconds)
    stages["other"] = wall - sum(stages.values())
    return Run(
        pipeline=f"longqa_{variant}",
        corpus=corpus.name,
        repeat=repeat,
        wall_s=wall,
        cpu_s=cpu,
        load_1m=os.getloadavg()[0],
        pages=report.pages_read,
        chunks=report.chunks_embedded,
        stages_s=stages,
        files_ingested=report.count("ingested"),
        files_failed=report.count("failed"),
    )


class LangChain:
    """LangChain's usual pipeline over one model instance, loaded (and run once) up front."""

    def __init__(self, model_path: str) -> None:
        from langchain_core.embeddings import Embeddings
        from langchain_huggingface import HuggingFaceEmbeddings

        started = time.perf_counter()
        inner = HuggingFaceEmbeddings(
            model_name=model_path,
            model_kwargs={"device": "cpu"},
            encode_kwargs={"normalize_embeddings": True, "batch_size": EMBED_BATCH},
        )
        inner.embed_documents(["warm-up"])
        self.model_load_s = time.perf_counter() - started
        self.embed_s = 0.0
        outer = self

        class TimedEmbeddings(Embeddings):
            """Delegates to the model and adds up the seconds spent embedding documents."""

            def embed_documents(self, texts: list[str]) -> list[list[float]]:
                started = time.perf_counter()
                try:
                    return inner.embed_documents(texts)
                finally:
                    outer.embed_s += time.perf_counter() - started

            def embed_query(self, text: str) -> list[float]:
                return inner.embed_query(text)

        self.embeddings = TimedEmbeddings()

    def run(self, corpus: Corpus, repeat: int) -> tuple[Run, Any, list[Any]]:
        """Load, split, embed and index the corpus's PDFs; returns the run, the store, the splits."""
        from langchain_community.document_loaders import PyPDFLoader
        from langchain_community.vectorstores import FAISS
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=LC_CHUNK_CHARS, chunk_overlap=LC_OVERLAP_CHARS)
        self.embed_s = 0.0
        cpu, started = time.process_time(), time.perf_counter()
        pages = [page for pdf in corpus.pdfs() for page in PyPDFLoader(str(pdf)).load()]
        loaded = time.perf_counter()
        splits = splitter.split_documents(pages)
        split = time.perf_counter()
        store = FAISS.from_documents(splits, self.embeddings)
        done = time.perf_counter()
        run = Run(
            pipeline="langchain",
            corpus=corpus.name,
            repeat=repeat,
            wall_s=done - started,
            cpu_s=time.process_time() - cpu,
            load_1m=os.getloadavg()[0],
            pages=len(pages),
            chunks=len(splits),
            stages_s={
                "load": loaded - started,
                "split": split - loaded,
                "embed": self.embed_s,
                "index": done - split - self.embed_s,
            },
        )
        return run, store, splits


# ---------------------------------------------------------------------------------- summary


def _median(values: Iterable[float]) -> float:
    return statistics.median(values)


def summarise(runs: list[Run]) -> dict[str, Any]:
    """Medians over the runs of one pipeline on one corpus."""
    return {
        "runs": len(runs),
        "pages": runs[0].pages,
        "chunks": runs[0].chunks,
        "wall_s": _median(r.wall_s for r in runs),
        "pages_per_s": _median(r.pages / r.wall_s for r in runs),
        "chunks_per_s": _median(r.chunks / r.wall_s for r in runs),
        "stages_s": {k: _median(r.stages_s[k] for r in runs) for k in runs[0].stages_s},
        "cpu_s": _median(r.cpu_s for r in runs),
        "cpu_per_wall": _median(r.cpu_s / r.wall_s for r in runs),
        "max_load_1m": max(r.load_1m for r in runs),
        "all_wall_s": [round(r.wall_s, 3) for r in runs],
    }


# ---------------------------------------------------------------------------------- one corpus


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class CorpusOutcome:
    """One corpus benchmarked: its summary, every run, and the last indexes built (for recall)."""

    summary: dict[str, Any]
    runs: list[Run]
    indexes: dict[str, Path]  # longqa index folder per variant
    store: Any  # the last LangChain FAISS store


def bench_corpus(
    corpus: Corpus,
    work: Path,
    repeats: int,
    embedder: Embedder,
    langchain: LangChain,
    settings: ChunkSettings,
    window: ModelWindow,
) -> CorpusOutcome:
    """Both pipelines over one corpus, ``repeats`` rounds, alternating which goes first."""
    variants = ["full", "pdfs"] if corpus.has_non_pdf else ["pdfs"]
    indexes = {v: work / f"index-{corpus.name}-{v}" for v in variants}
    runs: dict[str, list[Run]] = {key: [] for key in [*(f"longqa_{v}" for v in variants), "langchain"]}
    store: Any = None
    lc_chunks: list[Any] = []
    for repeat in range(repeats):
        for pipeline in ("longqa", "langchain")[:: 1 if repeat % 2 == 0 else -1]:
            step = f"run {repeat + 1}/{repeats}"
            if pipeline == "longqa":
                for v in variants:
                    progress(f"{corpus.name}: longqa ({v}) {step}")
                    run = run_longqa(corpus, v, repeat, embedder, settings, indexes[v])
                    runs[run.pipeline].append(run)
                    progress(f"  {run.wall_s:.1f} s, {run.pages} pages, {run.chunks} chunks")
            else:
                progress(f"{corpus.name}: LangChain {step}")
                store = None  # let the previous store go before building the next
                run, store, lc_chunks = langchain.run(corpus, repeat)
                runs["langchain"].append(run)
                progress(f"  {run.wall_s:.1f} s, {run.pages} pages, {run.chunks} chunks")

    summary: dict[str, Any] = {key: summarise(rs) for key, rs in runs.items()}
    with Index.open(indexes["pdfs"]) as index:
        ours = index.all_chunks()
    theirs = [d.page_content for d in lc_chunks]
    summary["chunk_stats"] = {
        "longqa_pdfs": window.chunk_stats(
            [c.n_tokens for c in ours],
            [c.text for c in ours],
            [embedding_text(c.span.path, c.section, c.text) for c in ours],
        ),
        "langchain": window.chunk_stats([count_tokens(t) for t in theirs], theirs, theirs),
    }
    lq, lc = summary["longqa_pdfs"], summary["langchain"]
    summary["comparison"] = {
        "seconds_ratio": lq["wall_s"] / lc["wall_s"],
        "cpu_seconds_ratio": lq["cpu_s"] / lc["cpu_s"],
        "longqa_pages_per_s": lq["pages_per_s"],
        "langchain_pages_per_s": lc["pages_per_s"],
    }
    return CorpusOutcome(summary, [r for rs in runs.values() for r in rs], indexes, store)
