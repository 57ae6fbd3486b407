"""The quality half of ``bench_ingest.py``: recall@5 of both pipelines, and their PDF page text.

Recall@K on ``tests/retrieval/questions.jsonl`` (read as data, as the evaluation reads it) over
LangChain's FAISS store and longqa's indexes, and how PyPDFLoader's page text differs from
longqa's. See ``bench_ingest.py`` for the rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.evaluation.dataset import GoldEvidence
from app.evaluation.metrics import CitedSpan, evidence_hit
from ingest.pdf import load_pdf
from retrieval.embeddings import Embedder
from retrieval.search import HybridSearcher
from retrieval.store import Index

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS_FILE = ROOT / "tests" / "retrieval" / "questions.jsonl"

K = 5

Question = dict[str, Any]


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


def recall_rows(store: Any, indexes: dict[str, Path], embedder: Embedder) -> list[dict[str, Any]]:
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
