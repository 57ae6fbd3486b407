"""How often citation repair (``agents.verify.repair``) changes the citations of full-context and
chain-of-agents answers, and their gold-evidence hit before and after.

    python benchmarks/bench_repair.py .longqa/eval-report --dataset examples/eval.jsonl \
        [--model llamacpp:default] [--out benchmarks/results/repair.json]

Reads the answers an evaluation gave (its ``results.jsonl``: the evaluation answers with
verification off, so its citations are the strategies' own) and, for every full_context and
chain_of_agents answer that cites, judges each citation with the default support judge, repairs
as the product does, and scores whether any citation overlaps the gold evidence, before and after.
The only model calls are the judge's (short prompts over a few sentences).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.answer import Citation, Trace
from agents.evidence.blocks import Evidence
from agents.evidence.corpus import Corpus
from agents.models.calls import Caller
from agents.verify.repair import judged, repair
from agents.verify.support import support_judge
from app import wiring
from app.evaluation.dataset import EvalItem, load_dataset
from app.evaluation.metrics import CitedSpan, evidence_hit
from app.evaluation.runner import index_folder
from app.settings import Settings
from ingest.document import Span

STRATEGIES = ("full_context", "chain_of_agents")


def _citations(row: dict[str, Any], evidence: Evidence, corpus: Corpus) -> list[Citation] | None:
    """The answer's citations as the product made them, their chunks numbered as in the answer;
    None when a cited chunk is no longer in the index."""
    by_id = {c.chunk_id: c for c in corpus.chunks()}
    out = []
    for c in row["citations"]:
        chunk = by_id.get(c["chunk_id"])
        if chunk is None:
            return None
        evidence.pin(c["marker"], chunk)
        out.append(Citation(c["marker"], c["chunk_id"], Span(**c["span"]), c["quote"], None, c["sentence"]))
    return out


def _hit(citations: list[Citation], item: EvalItem) -> float | None:
    spans = [CitedSpan(c.span.path, c.span.page, c.span.line_start, c.span.line_end) for c in citations]
    return evidence_hit(spans, item.evidence)


def measure(report: Path, dataset: Path, model: str) -> dict[str, Any]:
    settings = Settings(model=model)
    items = {item.id: item for item in load_dataset(dataset)}
    rows = [json.loads(line) for line in (report / "results.jsonl").read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r["strategy"] in STRATEGIES and r.get("citations") and not r.get("refused")]
    backend = wiring.backend(settings)
    counts: dict[str, Counter[str]] = {name: Counter() for name in STRATEGIES}
    cases: list[dict[str, Any]] = []
    for number, row in enumerate(rows, 1):
        item = items.get(row["id"])
        if item is None:
            continue
        with wiring.open_index(settings, index_folder(report, item.docs)) as index:
            corpus = Corpus(index, wiring.searcher(settings, index))
            evidence = Evidence()
            citations = _citations(row, evidence, corpus)
            if citations is None:
                continue
            trace = Trace()
            judge = support_judge(Caller(backend, trace))
            checked = judged(row["question"], citations, evidence, judge)
            fixed = repair(row["question"], row["answer"], evidence, checked, corpus, judge, trace)
        before, after = _hit(citations, item), _hit(fixed.citations, item)
        tally = counts[row["strategy"]]
        tally["answers"] += 1
        tally["citations"] += len(citations)
        tally["unsupported"] += sum(c.supported is False for c in checked)
        tally["sentences repaired"] += fixed.repaired
        tally["sentences left unsupported"] += fixed.unsupported
        tally["answers repaired"] += fixed.repaired > 0
        if before is not None and after is not None:
            tally["with gold evidence"] += 1
            tally["hit before"] += int(before)
            tally["hit after"] += int(after)
        cases.append(
            {
                "id": row["id"],
                "strategy": row["strategy"],
                "hit_before": before,
                "hit_after": after,
                "events": [e for e in trace.events if "repaired" in e or "no passage" in e],
                "seconds": round(trace.seconds, 1),
            }
        )
        print(f"[{number}/{len(rows)}] {row['id']} {row['strategy']}: {before} → {after}, "
              f"{fixed.repaired} repaired, {trace.seconds:.0f} s", flush=True)  # fmt: skip
    return {"model": backend.spec, "report": str(report), "counts": counts, "cases": cases}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="an evaluation's --out folder (results.jsonl, indexes/)")
    parser.add_argument("--dataset", type=Path, default=Path("examples/eval.jsonl"))
    parser.add_argument("--model", default="llamacpp:default", help="the judge's backend spec")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/repair.json"))
    args = parser.parse_args()
    result = measure(args.report, args.dataset, args.model)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for name, tally in result["counts"].items():
        print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in tally.items()))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
