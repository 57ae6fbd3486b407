"""Multi-hop retrieval, measured: retrieve_reason with its follow-up searches (as the router
allows them within the preference's budget) against the same strategy without them, side by
side in one process, on the multi-hop questions of examples/eval.jsonl.

    python benchmarks/bench_hops.py [--types multi_hop] [--out benchmarks/results/hops.json]

Each question's documents are ingested once under .longqa/bench/hops/ (a no-op when unchanged).
Reported per variant: answers containing a gold answer, token F1 of the short answer, citations
hitting the gold evidence, refusals, questions where a follow-up search ran, and mean seconds;
and, over every model call, the router's estimate against the measured seconds. Citations are
not judged (``verify`` off), so the figures are of reading, not of the judge.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents import orchestrator  # noqa: E402
from agents.evidence.corpus import Corpus  # noqa: E402
from agents.orchestrator import Answerer, AskOptions  # noqa: E402
from app import wiring  # noqa: E402
from app.evaluation import metrics  # noqa: E402
from app.evaluation.dataset import load_dataset  # noqa: E402
from app.settings import load_settings  # noqa: E402

VARIANTS = ("follow-ups", "none")


def _folder(docs: tuple[Path, ...]) -> Path:
    key = "\n".join(sorted(str(p) for p in docs))
    return ROOT / ".longqa" / "bench" / "hops" / hashlib.sha256(key.encode()).hexdigest()[:12]


def measure(dataset: Path, types: set[str]) -> dict[str, Any]:
    settings = load_settings()
    items = [i for i in load_dataset(dataset) if i.type in types and not i.unanswerable]
    backend = wiring.backend(settings)
    planned = orchestrator.follow_ups
    rows: list[dict[str, Any]] = []
    for number, item in enumerate(items, 1):
        folder = _folder(item.docs)
        wiring.ingest_paths(settings, list(item.docs), folder)
        with wiring.open_index(settings, folder) as index:
            corpus = Corpus(index, wiring.searcher(settings, index))
            for variant in VARIANTS:
                # the only difference: how many follow-up rounds the orchestrator grants
                orchestrator.follow_ups = planned if variant == "follow-ups" else (lambda *a, **k: 0)
                answer = Answerer(corpus, backend).ask(
                    item.question, options=AskOptions(strategy="rag", verify=False)
                )
                cited = [
                    metrics.CitedSpan(c.span.path, c.span.page, c.span.line_start, c.span.line_end)
                    for c in answer.citations
                ]
                queries = [e for e in answer.trace.events if e.startswith("follow-up")]
                rows.append(
                    {
                        "id": item.id,
                        "variant": variant,
                        "contains": metrics.answer_contains(answer.text, item.answers),
                        "f1": metrics.f1(answer.short or answer.text, item.answers),
                        "evidence_hit": metrics.evidence_hit(cited, item.evidence),
                        "refused": answer.refused,
                        "followed_up": bool(queries),
                        "queries": queries,
                        "seconds": round(answer.trace.seconds, 1),
                        "calls": [
                            [c.role, c.prompt_tokens, round(c.seconds, 1), c.estimated_seconds]
                            for c in answer.trace.calls
                        ],
                        "answer": answer.text,
                    }
                )
                row = rows[-1]
                print(f"[{number}/{len(items)}] {item.id} {variant}: contains {row['contains']}, "
                      f"hit {row['evidence_hit']}, refused {row['refused']}, "
                      f"{len(queries)} follow-up event(s), {row['seconds']:.0f} s", flush=True)  # fmt: skip
    orchestrator.follow_ups = planned
    ratios = [e / s for r in rows for _, _, s, e in r["calls"] if e and s > 0.5]
    summary: dict[str, Any] = {
        "estimate_over_measured": {
            "calls": len(ratios),
            "median": round(statistics.median(ratios), 2) if ratios else None,
            "within_1.5x": sum(1 / 1.5 <= x <= 1.5 for x in ratios),
        }
    }
    for variant in VARIANTS:
        mine = [r for r in rows if r["variant"] == variant]
        hits = [r["evidence_hit"] for r in mine if r["evidence_hit"] is not None]
        summary[variant] = {
            "questions": len(mine),
            "contains": sum(r["contains"] for r in mine),
            "f1": round(statistics.fmean(r["f1"] for r in mine), 3) if mine else None,
            "evidence_hit": sum(hits),
            "with_evidence": len(hits),
            "refused": sum(r["refused"] for r in mine),
            "followed_up": sum(r["followed_up"] for r in mine),
            "seconds_mean": round(statistics.fmean(r["seconds"] for r in mine), 1) if mine else None,
        }
    return {"model": settings.model, "summary": summary, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=ROOT / "examples" / "eval.jsonl")
    parser.add_argument("--types", default="multi_hop")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "hops.json")
    args = parser.parse_args()
    result = measure(args.dataset, set(args.types.split(",")))
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    for variant, figures in result["summary"].items():
        print(f"{variant}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
