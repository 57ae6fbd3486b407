"""Ingest throughput of longqa, side by side with LangChain's usual PDF pipeline, and recall@5.

What it measures
----------------
Two corpora:

* ``examples``: ``examples/`` as it is (two PDF manuals, 110 pages, plus the simplejson code).
* ``large``: the two example PDFs copied under distinct names into a temporary folder until the
  corpus holds about 1,000 pages (9 copies of each, 990 pages; ``--quick``: 3 copies, 330 pages).

For each corpus, longqa's ``retrieval.indexer.ingest`` builds a fresh index in a temporary folder
with the packaged all-MiniLM-L6-v2 (``SentenceEmbedder``) and the default chunking (384 cl100k
tokens, overlap 32). Reported: wall seconds, pages/s, chunks/s and the stages of
``IngestReport.seconds`` as longqa times them: "scan" (walking the folder, and reading and hashing
files to find unchanged ones), "parse" (``load_document``), "chunk" (``chunk_document``), "embed"
and "write". "other" is wall time minus the sum of those stages (opening and closing the index,
reading a file's bytes before parsing it); it should be small.

In the same process, on the same PDFs only, LangChain's common pipeline:
``PyPDFLoader`` per PDF, ``RecursiveCharacterTextSplitter(chunk_size=1500, chunk_overlap=120)``
(characters; about longqa's 384 and 32 cl100k tokens at ~3.9 characters a token), and
``FAISS.from_documents`` with ``HuggingFaceEmbeddings`` over the same local model folder
(``retrieval.embeddings.default_model_path()``), normalised, batch 32 like longqa. Timed: load,
split, embed, and the FAISS build (the embedder is wrapped to time its own calls). For a fair
comparison longqa also ingests a folder holding only that corpus's PDFs.

Both models are loaded (and run once) before any timing; model load time is reported apart.
The examples corpus is run 3 times, alternating which pipeline goes first, and medians are
reported; the large corpus is run once per pipeline (longqa first). Timings on a 2-core machine
are noisy: read ratios, not the third digit. Each run also records this process's CPU seconds
and the load average at its end: CPU/wall near 2 means the run had both cores, near 1 that another
job shared the machine; the CPU-second ratio is less disturbed by such a job than the wall ratio.

Also reported: mean chunk size in cl100k tokens for both pipelines and the share of chunks whose
embedded text exceeds the model's ``max_seq_length`` (256 wordpieces; sentence-transformers
truncates silently), and how PyPDFLoader's page text differs from longqa's (empty pages, word
counts, words left hyphen-split at line ends).

Recall@5 on the questions of ``tests/retrieval/questions.jsonl`` whose evidence is a PDF page,
over the example PDFs: for LangChain a retrieved document counts when its ``metadata['source']``
file name matches and ``metadata['page'] + 1`` (PyPDFLoader counts from 0) is the evidence page;
for longqa, the evaluation's evidence-hit rule (``app.evaluation.metrics.evidence_hit`` over the
hits' spans, as ``tests/retrieval/test_quality.py`` counts) on an index of the PDFs only (hybrid,
and dense-only, which is what LangChain's FAISS store does). Also longqa's hybrid recall@5 over
all questions on the full ``examples/`` index.

Usage: ``python benchmarks/bench_ingest.py [--quick] [--out FILE.json]``. Prints markdown tables
and writes every figure as JSON (default ``benchmarks/results-ingest.json``; not to be committed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root
# Before anything imports huggingface: the model is a local folder, the hub must never be asked.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from app.evaluation.dataset import GoldEvidence
from app.evaluation.metrics import CitedSpan, evidence_hit
from ingest.chunking import ChunkSettings
from ingest.pdf import load_pdf
from ingest.tokens import count_tokens
from retrieval.embeddings import SentenceEmbedder, default_model_path
from retrieval.indexer import embedding_text, ingest
from retrieval.search import HybridSearcher
from retrieval.store import Index

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PDFS = ("fasta_guide.pdf", "gutenprint-users-manual.pdf")
QUESTIONS_FILE = ROOT / "tests" / "retrieval" / "questions.jsonl"
DEFAULT_OUT = ROOT / "benchmarks" / "results-ingest.json"

LC_CHUNK_CHARS = 1500
LC_OVERLAP_CHARS = 120
EMBED_BATCH = 32
K = 5
EXAMPLE_REPEATS = 3
LARGE_COPIES = 9
QUICK_COPIES = 3

Question = dict[str, Any]


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
    embedder: SentenceEmbedder,
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


# ---------------------------------------------------------------------------------- recall


def load_questions() -> list[Question]:
    return [json.loads(line) for line in QUESTIONS_FILE.read_text().splitlines() if line.strip()]


def gold_evidence(question: Question) -> list[GoldEvidence]:
    return [
        GoldEvidence(e["file"], e.get("page"), tuple(e["lines"]) if "lines" in e else None)
        for e in question["evidence"]
    ]


def is_pdf_question(question: Question) -> bool:
    return any("page" in e and e["file"].endswith(".pdf") for e in question["evidence"])


def langchain_hit(metadata: dict[str, Any], evidence: list[dict[str, Any]]) -> bool:
    name, page = Path(str(metadata.get("source", ""))).name, metadata.get("page")
    return any(
        "page" in e and Path(e["file"]).name == name and page is not None and int(page) + 1 == e["page"]
        for e in evidence
    )


def recall(questions: list[Question], finds: Callable[[Question], bool]) -> dict[str, Any]:
    """Recall@K: ``finds(question)`` tells whether the top K results hold its evidence."""
    missed = [q["id"] for q in questions if not finds(q)]
    found = len(questions) - len(missed)
    return {"recall": found / len(questions), "found": found, "questions": len(questions), "missed": missed}


def recall_rows(store: Any, indexes: dict[str, Path], embedder: SentenceEmbedder) -> list[dict[str, Any]]:
    """Recall@K of LangChain's store and longqa's indexes of the examples corpus."""
    questions = load_questions()
    pdf_questions = [q for q in questions if is_pdf_question(q)]

    def lc_finds(q: Question) -> bool:
        return any(
            langchain_hit(d.metadata, q["evidence"]) for d in store.similarity_search(q["question"], k=K)
        )

    def longqa(folder: Path, label: str, mode: str, asked: list[Question]) -> dict[str, Any]:
        with Index.open(folder) as index:
            searcher = HybridSearcher(index, embedder)

            def finds(q: Question) -> bool:
                hits = searcher.search(q["question"], k=K, mode=mode)
                return evidence_hit([CitedSpan.of(h.chunk.span) for h in hits], gold_evidence(q)) == 1.0

            result = recall(asked, finds)
        return {"pipeline": f"longqa {mode}", "index": label, "result": result}

    return [
        {
            "pipeline": "LangChain (FAISS, dense)",
            "index": "example PDFs",
            "result": recall(pdf_questions, lc_finds),
        },
        longqa(indexes["pdfs"], "example PDFs", "hybrid", pdf_questions),
        longqa(indexes["pdfs"], "example PDFs", "dense", pdf_questions),
        longqa(indexes["full"], "all of examples/", "hybrid", questions),
    ]


# ---------------------------------------------------------------------------------- extraction


def extraction_notes(pdfs: list[Path]) -> list[dict[str, Any]]:
    """How PyPDFLoader's page text differs from longqa's (pypdfium2) on the same pages."""
    from langchain_community.document_loaders import PyPDFLoader

    broken = re.compile(r"[a-z]-\n[a-z]")  # a word split by a hyphen at a line end
    notes = []
    for pdf in pdfs:
        theirs = [d.page_content for d in PyPDFLoader(str(pdf)).load()]
        doc = load_pdf(pdf, pdf.name)
        ours = [doc.page_text(p) for p in range(1, doc.pages + 1)]
        notes.append(
            {
                "file": pdf.name,
                "pages": [len(theirs), len(ours)],  # [pypdf, longqa], as in every pair below
                "empty_pages": [[n for n, t in enumerate(ts, 1) if not t.strip()] for ts in (theirs, ours)],
                "hyphen_split_words": [sum(len(broken.findall(t)) for t in ts) for ts in (theirs, ours)],
                "chars": [sum(map(len, ts)) for ts in (theirs, ours)],
                "pages_word_count_differs_over_5pct": [
                    n
                    for n, (a, b) in enumerate(zip(theirs, ours), 1)
                    if abs(len(a.split()) - len(b.split())) > 0.05 * max(len(b.split()), 1)
                ],
            }
        )
    return notes


# ---------------------------------------------------------------------------------- report


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


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _header(align: str, *names: str) -> list[str]:
    """A table header; ``align`` has one letter a column: l (left) or r (right)."""
    return [_row(*names), _row(*("---" if a == "l" else "--:" for a in align))]


def _s(seconds: float) -> str:
    return f"{seconds:.1f}" if abs(seconds) >= 1 else f"{seconds:.2f}"


def _pair(values: list[Any], fmt: str = "") -> str:
    return " / ".join(format(v, fmt) for v in values)


PIPELINES = {
    "longqa_full": ("longqa (all files)", ("scan", "parse", "chunk", "embed", "write", "other")),
    "longqa_pdfs": ("longqa (PDFs only)", ("scan", "parse", "chunk", "embed", "write", "other")),
    "langchain": ("LangChain (PDFs)", ("", "load", "split", "embed", "index", "")),
}


def markdown(results: dict[str, Any]) -> str:
    """The tables printed to stdout."""
    corpora: dict[str, Any] = results["corpora"]
    window = results["environment"]["model_max_seq_length"]
    out = [f"### Ingest throughput (medians of {EXAMPLE_REPEATS} runs on examples, 1 run on large)", ""]
    out += _header(
        "llrrrrrrrrrrrrr",
        *("corpus", "pipeline", "runs", "pages", "chunks", "total s", "pages/s", "chunks/s"),
        *("scan s", "parse s", "chunk s", "embed s", "write/index s", "other s", "CPU/wall"),
    )
    for name, corpus in corpora.items():
        for key, (label, stages) in PIPELINES.items():
            if key in corpus:
                s = corpus[key]
                out.append(
                    _row(
                        *(name, label, s["runs"], s["pages"], s["chunks"], f"{s['wall_s']:.1f}"),
                        *(f"{s['pages_per_s']:.2f}", f"{s['chunks_per_s']:.2f}"),
                        *(_s(s["stages_s"][k]) if k else "-" for k in stages),
                        f"{s['cpu_per_wall']:.2f}",
                    )
                )
    out += [
        "",
        "longqa: the stages as IngestReport.seconds reports them (scan = walking the folder and reading "
        "and hashing files to find unchanged ones, parse = load_document, chunk = chunk_document); "
        '"other" = wall time minus those stages (opening/closing the index, reading files before '
        "parsing). LangChain: parse = PyPDFLoader, chunk = RecursiveCharacterTextSplitter, "
        "write/index = FAISS build (embedding excluded). CPU/wall: this process's CPU seconds (all "
        "threads) per wall second, median; about 2 means both cores were ours, near 1 or below means "
        "the run shared the machine.",
        "",
        "### longqa vs LangChain on the same PDFs",
        "",
    ]
    out += _header(
        "lrrrrrrrrr",
        *("corpus", "pages", "longqa s", "LangChain s", "longqa / LangChain", "same, in CPU s"),
        *("longqa pages/s", "LangChain pages/s"),
        f"longqa chunks (mean tokens; over {window} wordpieces)",
        f"LangChain chunks (mean tokens; over {window} wordpieces)",
    )
    for name, corpus in corpora.items():
        lq, lc, ratio = corpus["longqa_pdfs"], corpus["langchain"], corpus["comparison"]
        chunks = [
            f"{c['chunks']} ({c['mean_tokens']:.0f}; {c['over_model_window'] / c['chunks']:.0%})"
            for c in (corpus["chunk_stats"]["longqa_pdfs"], corpus["chunk_stats"]["langchain"])
        ]
        out.append(
            _row(
                *(name, lq["pages"], f"{lq['wall_s']:.1f}", f"{lc['wall_s']:.1f}"),
                *(f"{ratio['seconds_ratio']:.2f}", f"{ratio['cpu_seconds_ratio']:.2f}"),
                *(f"{lq['pages_per_s']:.2f}", f"{lc['pages_per_s']:.2f}", *chunks),
            )
        )
    out += [
        "",
        'Seconds are wall seconds; "same, in CPU s" is the ratio of this process\'s CPU seconds, which '
        "another job on the machine disturbs less than wall time. Chunks: count (mean cl100k tokens; "
        "share of chunks whose embedded text - for longqa with its path/section header - exceeds the "
        f"model's max_seq_length of {window} wordpieces, so that "
        "sentence-transformers silently drops its tail from the dense embedding).",
        "",
        f"### Recall@{K} (tests/retrieval/questions.jsonl)",
        "",
    ]
    out += _header("llrrl", "pipeline", "index", "questions", f"recall@{K}", "missed")
    for row in results["recall"]:
        r = row["result"]
        share = f"{r['recall']:.2f} ({r['found']}/{r['questions']})"
        out.append(_row(row["pipeline"], row["index"], r["questions"], share, ", ".join(r["missed"]) or "-"))
    out += ["", "### Page text of the example PDFs: PyPDFLoader (pypdf) vs longqa (pypdfium2)", ""]
    out += _header(
        "lrrlrr",
        *("file", "pages", "empty pages (pypdf / longqa)", "pages whose word count differs > 5%"),
        *("words hyphen-split at a line end (pypdf / longqa)", "characters (pypdf / longqa)"),
    )
    for e in results["extraction"]:
        out.append(
            _row(
                *(e["file"], _pair(e["pages"]), _pair([len(p) for p in e["empty_pages"]])),
                ", ".join(map(str, e["pages_word_count_differs_over_5pct"])) or "-",
                *(_pair(e["hyphen_split_words"]), _pair(e["chars"], ",")),
            )
        )
    env, load = results["environment"], results["model_load_s"]
    busiest = max(r["load_1m"] for r in results["runs"])
    out += [
        "",
        f"Machine: {env['cpus']} CPUs, torch threads {env['torch_threads']}, Python {env['python']}; "
        f"highest 1-minute load average seen at the end of a run: {busiest:.2f}. Model load, once, not in "
        f"the figures above (libraries imported beforehand): longqa {load['longqa']:.1f} s, "
        f"LangChain {load['langchain']:.1f} s. Order: {results['order_note']}",
    ]
    return "\n".join(out)


# ---------------------------------------------------------------------------------- main


def _progress(message: str) -> None:
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
    embedder: SentenceEmbedder,
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
                    _progress(f"{corpus.name}: longqa ({v}) {step}")
                    run = run_longqa(corpus, v, repeat, embedder, settings, indexes[v])
                    runs[run.pipeline].append(run)
                    _progress(f"  {run.wall_s:.1f} s, {run.pages} pages, {run.chunks} chunks")
            else:
                _progress(f"{corpus.name}: LangChain {step}")
                store = None  # let the previous store go before building the next
                run, store, lc_chunks = langchain.run(corpus, repeat)
                runs["langchain"].append(run)
                _progress(f"  {run.wall_s:.1f} s, {run.pages} pages, {run.chunks} chunks")

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"large corpus of {QUICK_COPIES} copies per PDF")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file for every figure")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    import sentence_transformers  # noqa: F401  (imported here so that neither model load pays for it)
    import torch

    settings = ChunkSettings()
    count_tokens("warm-up")  # builds tiktoken's tables once, outside any timing
    started = time.perf_counter()
    embedder = SentenceEmbedder(batch_size=EMBED_BATCH)
    embedder.embed(["warm-up"])
    longqa_load = time.perf_counter() - started
    langchain = LangChain(default_model_path())
    window = ModelWindow(default_model_path())
    copies = QUICK_COPIES if args.quick else LARGE_COPIES

    results: dict[str, Any] = {
        "quick": args.quick,
        "environment": {
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "model": default_model_path(),
            "model_max_seq_length": window.max_tokens,
        },
        "settings": {
            "longqa_chunk_tokens": settings.tokens,
            "longqa_chunk_overlap_tokens": settings.overlap,
            "langchain_chunk_chars": LC_CHUNK_CHARS,
            "langchain_overlap_chars": LC_OVERLAP_CHARS,
            "embed_batch": EMBED_BATCH,
            "k": K,
            "example_repeats": EXAMPLE_REPEATS,
            "large_copies_per_pdf": copies,
        },
        "model_load_s": {"longqa": longqa_load, "langchain": langchain.model_load_s},
        "order_note": (
            f"examples: {EXAMPLE_REPEATS} rounds alternating (round 1 longqa first, round 2 LangChain first, "
            "...); large: one run each, longqa first."
        ),
        "corpora": {},
        "runs": [],
    }

    with tempfile.TemporaryDirectory(prefix="longqa-bench-") as tmp:
        examples: CorpusOutcome | None = None
        for corpus in build_corpora(Path(tmp), copies):
            repeats = EXAMPLE_REPEATS if corpus.name == "examples" else 1
            outcome = bench_corpus(corpus, Path(tmp), repeats, embedder, langchain, settings, window)
            results["corpora"][corpus.name] = outcome.summary
            results["runs"].extend(asdict(r) for r in outcome.runs)
            if corpus.name == "examples":
                examples = outcome  # recall uses the examples only; the large store is let go
        assert examples is not None
        _progress(f"recall@{K}")
        results["recall"] = recall_rows(examples.store, examples.indexes, embedder)
        results["extraction"] = extraction_notes([EXAMPLES / name for name in PDFS])

    table = markdown(results)
    print(table)
    results["markdown"] = table
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=float) + "\n")
    _progress(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
