"""Decoding settings of the embedded model, measured on examples/eval.jsonl: llama.cpp's repeat
penalty (1.0, its default, against 1.1) on the questions whose answers are lists or numbers.

    python benchmarks/bench_decoding.py .longqa/eval-report --dataset examples/eval.jsonl \
        [--penalties 1.0,1.1] [--types aggregate,lookup,code] [--out benchmarks/results/decoding.json]

Each question is asked once per penalty, side by side in one process, over the index an
evaluation already built for its documents (``longqa eval --out DIR``): full_context where the
document fits the window, else retrieve_reason. Reported per penalty: answers containing a gold
answer, mean token F1, citations hitting the gold evidence, answers cut for repeating themselves,
and mean completion tokens.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.evidence.corpus import Corpus
from agents.orchestrator import Answerer, AskOptions
from app import wiring
from app.evaluation import metrics
from app.evaluation.dataset import load_dataset
from app.evaluation.runner import index_folder
from app.settings import load_settings


def _ask(answerer: Answerer, question: str, strategy: str) -> dict[str, Any]:
    answer = answerer.ask(question, options=AskOptions(strategy=strategy, verify=False))
    return {
        "answer": answer.text,
        "short": answer.short,
        "spans": [c.span for c in answer.citations],
        "cut": any("repeated itself" in e for e in answer.trace.events),
        "completion_tokens": answer.trace.completion_tokens,
        "seconds": answer.trace.seconds,
    }


def measure(report: Path, dataset: Path, penalties: list[float], types: set[str]) -> dict[str, Any]:
    settings = load_settings()
    items = [i for i in load_dataset(dataset) if i.type in types and not i.unanswerable]
    items = [i for i in items if (index_folder(report, i.docs) / "manifest.json").exists()]
    backend = wiring.backend(settings)  # with the prefix cache: a document is read once
    rows: list[dict[str, Any]] = []
    for number, item in enumerate(items, 1):
        with wiring.open_index(settings, index_folder(report, item.docs)) as index:
            corpus = Corpus(index, wiring.searcher(settings, index))
            for penalty in penalties:
                backend.chat.repeat_penalty = penalty  # type: ignore[attr-defined]
                answerer = Answerer(corpus, backend)
                size = corpus.estimate_tokens(backend.spec, backend.count_text)
                fits = size < backend.context_window - 1024
                strategy = "full_context" if fits else "retrieve_reason"
                got = _ask(answerer, item.question, strategy)
                spans = got.pop("spans")
                cited = [metrics.CitedSpan(s.path, s.page, s.line_start, s.line_end) for s in spans]
                rows.append(
                    {
                        "id": item.id,
                        "type": item.type,
                        "penalty": penalty,
                        "strategy": strategy,
                        "contains": metrics.answer_contains(got["answer"], item.answers),
                        "f1": metrics.f1(got["short"] or got["answer"], item.answers),
                        "evidence_hit": metrics.evidence_hit(cited, item.evidence),
                        **got,
                    }
                )
                print(f"[{number}/{len(items)}] {item.id} penalty {penalty}: contains "
                      f"{rows[-1]['contains']}, {got['completion_tokens']} tokens, "
                      f"{got['seconds']:.0f} s{' (cut)' if got['cut'] else ''}", flush=True)  # fmt: skip
    summary = {}
    for penalty in penalties:
        mine = [r for r in rows if r["penalty"] == penalty]
        hits = [r["evidence_hit"] for r in mine if r["evidence_hit"] is not None]
        summary[str(penalty)] = {
            "answers": len(mine),
            "contains": round(statistics.fmean(r["contains"] for r in mine), 3) if mine else None,
            "f1": round(statistics.fmean(r["f1"] for r in mine), 3) if mine else None,
            "evidence_hit": round(statistics.fmean(hits), 3) if hits else None,
            "cut_for_repeating": sum(r["cut"] for r in mine),
            "completion_tokens_mean": round(statistics.fmean(r["completion_tokens"] for r in mine), 1)
            if mine
            else None,
        }
    return {"model": settings.model, "summary": summary, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="an evaluation's --out folder (its indexes/)")
    parser.add_argument("--dataset", type=Path, default=Path("examples/eval.jsonl"))
    parser.add_argument("--penalties", default="1.0,1.1")
    parser.add_argument("--types", default="aggregate,lookup,code,multi_hop")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/decoding.json"))
    args = parser.parse_args()
    penalties = [float(p) for p in args.penalties.split(",")]
    result = measure(args.report, args.dataset, penalties, set(args.types.split(",")))
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    for penalty, figures in result["summary"].items():
        print(f"repeat penalty {penalty}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
