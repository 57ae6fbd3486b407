"""Ingest throughput of longqa, side by side with LangChain's usual PDF pipeline, and recall@5.

What it measures
----------------
Two corpora:

* ``examples``: ``examples/`` as it is (two PDF manuals, 110 pages, plus the simplejson code).
* ``large``: the two example PDFs copied under distinct names into a temporary folder until the
  corpus holds about 1,000 pages (9 copies of each, 990 pages; ``--quick``: 3 copies, 330 pages).

For each corpus, longqa's ``retrieval.indexer.ingest`` builds a fresh index in a temporary folder
with the packaged all-MiniLM-L6-v2 run by longqa's default embedder backend (OpenVINO, bf16 where
the CPU has it; ``--backend torch`` for sentence-transformers in fp32, as LangChain runs it) and
the default chunking (384 cl100k tokens, overlap 32). Reported: wall seconds, pages/s, chunks/s
and the stages of ``IngestReport.seconds`` as longqa times them: "scan" (walking the folder, and
reading and hashing files to find unchanged ones), "parse" (``load_document``), "chunk"
(``chunk_document``), "embed" and "write". "other" is wall time minus the sum of those stages
(opening and closing the index, reading a file's bytes before parsing it); it should be small.

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

Usage: ``python benchmarks/bench_ingest.py [--quick] [--backend openvino|torch] [--out FILE.json]``.
Prints markdown tables and writes every figure as JSON (default ``benchmarks/results-ingest.json``;
not to be committed).

The corpora and the timed pipelines live in ``ingest_pipelines.py``, recall@5 and the page-text
comparison in ``ingest_quality.py``; this file holds the command line, the run and the report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root
# Before anything imports huggingface: the model is a local folder, the hub must never be asked.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from benchmarks.ingest_pipelines import (
    EMBED_BATCH,
    EXAMPLES,
    LC_CHUNK_CHARS,
    LC_OVERLAP_CHARS,
    PDFS,
    CorpusOutcome,
    LangChain,
    ModelWindow,
    bench_corpus,
    build_corpora,
    progress,
)
from benchmarks.ingest_quality import K, extraction_notes, recall_rows
from ingest.chunking import ChunkSettings
from ingest.tokens import count_tokens
from retrieval.embeddings import BACKENDS, default_model_path, load_embedder, variant_of

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results-ingest.json"

EXAMPLE_REPEATS = 3
LARGE_COPIES = 9
QUICK_COPIES = 3


# ---------------------------------------------------------------------------------- report


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
    env = results["environment"]
    window = env["model_max_seq_length"]
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
        f"### longqa ({env['longqa_embedder']}) vs LangChain (torch-fp32) on the same PDFs",
        "",
    ]
    out += _header(
        "lrrrrrrrrrr",
        *("corpus", "pages", "longqa s", "LangChain s", "longqa / LangChain", "same, in CPU s", "speed-up"),
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
                f"{1 / ratio['seconds_ratio']:.2f}x",
                *(f"{lq['pages_per_s']:.2f}", f"{lc['pages_per_s']:.2f}", *chunks),
            )
        )
    out += [
        "",
        "Seconds are wall seconds (medians); speed-up = LangChain s / longqa s; "
        '"same, in CPU s" is the ratio of this process\'s CPU seconds, which '
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
    load = results["model_load_s"]
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"large corpus of {QUICK_COPIES} copies per PDF")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file for every figure")
    parser.add_argument("--backend", choices=BACKENDS, default=BACKENDS[0], help="longqa's embedder backend")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    import sentence_transformers  # noqa: F401  (imported here so that neither model load pays for it)
    import torch

    settings = ChunkSettings()
    count_tokens("warm-up")  # builds tiktoken's tables once, outside any timing
    started = time.perf_counter()
    embedder = load_embedder(backend=args.backend, batch_size=EMBED_BATCH)
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
            "longqa_embedder": variant_of(embedder),
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
        progress(f"recall@{K}")
        results["recall"] = recall_rows(examples.store, examples.indexes, embedder)
        results["extraction"] = extraction_notes([EXAMPLES / name for name in PDFS])

    table = markdown(results)
    print(table)
    results["markdown"] = table
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=float) + "\n")
    progress(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
