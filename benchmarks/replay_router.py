"""The router replayed over a finished evaluation: for each question, the strategy ``auto``
chooses *now* (``agents/reading/router.py`` as it stands), and how that strategy alone fared on the
question in the evaluation's measured rows; set against what ``auto`` measured when it ran and
against each strategy alone. A router rule can so be checked on every question of a long run
without answering again (a real rerun of ``auto`` is still the word that counts).

    python benchmarks/replay_router.py --eval DIR [--dataset DIR/questions.jsonl] [--out FILE.json]

``DIR`` is a ``longqa eval --out`` folder whose run included auto and the strategies it chooses
from; its indexes are reused as they are (nothing is ingested or answered, the model is loaded
only to count tokens). Where the router would escalate a retrieve_reason refusal to a chain of
agents (not on a small model), the replay cannot know whether the escalation's answer would
pass its grounding check, so it counts the retrieve_reason row (the refusal standing): such
questions are listed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.evidence.corpus import Corpus  # noqa: E402
from agents.reading.router import route  # noqa: E402
from app import wiring  # noqa: E402
from app.evaluation.dataset import load_dataset  # noqa: E402
from app.evaluation.runner import RESULTS, index_folder, read_results  # noqa: E402
from app.evaluation.summary import ROUTER  # noqa: E402
from app.settings import load_settings  # noqa: E402


def replay(out: Path, dataset: Path) -> dict[str, Any]:
    settings = load_settings()
    rows = read_results(out / RESULTS)
    strategies = list(dict.fromkeys(s for s, _ in rows))
    backend = wiring.backend(settings)
    questions: list[dict[str, Any]] = []
    for item in load_dataset(dataset):
        if (ROUTER, item.id) not in rows:
            continue
        with wiring.open_index(settings, index_folder(out, item.docs)) as index:
            corpus = Corpus(index, wiring.searcher(settings, index))
            decision = route(item.question, corpus, backend, settings.prefer, settings.k)
        chosen = rows.get((decision.strategy, item.id))
        measured = rows[(ROUTER, item.id)]
        questions.append(
            {
                "id": item.id,
                "type": item.type,
                "chosen": decision.strategy,
                "reason": decision.reason,
                "then_chosen": measured.trace.get("decision"),
                "right": {s: rows[(s, item.id)].right for s in strategies if (s, item.id) in rows},
                "replayed": chosen.right if chosen else None,
                # a small model's refusal stands (no escalation to replay)
                "would_escalate": bool(
                    chosen
                    and decision.strategy == "retrieve_reason"
                    and chosen.refused
                    and not backend.packaged
                ),
            }
        )
        print(f"{item.id} {item.type}: {decision.strategy} (then {questions[-1]['then_chosen']})", flush=True)
    return {"eval": str(out), "questions": questions, "summary": summary(questions, strategies)}


def summary(questions: list[dict[str, Any]], strategies: list[str]) -> dict[str, Any]:
    complete = [q for q in questions if all(s in q["right"] for s in strategies)]
    return {
        "questions": len(complete),
        "replayed_router": sum(bool(q["replayed"]) for q in complete),
        "measured": {s: sum(bool(q["right"][s]) for q in complete) for s in strategies},
        "any_alone": sum(any(q["right"][s] for s in strategies if s != ROUTER) for q in complete),
        "chosen": dict(Counter(q["chosen"] for q in complete)),
        "changed_choices": sum(q["chosen"] != q["then_chosen"] for q in complete),
        "would_escalate": [q["id"] for q in complete if q["would_escalate"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval", type=Path, required=True, help="a longqa eval --out folder")
    parser.add_argument("--dataset", type=Path, help="its questions (default: DIR/questions.jsonl)")
    parser.add_argument("--out", type=Path, help="write the replay as JSON here")
    args = parser.parse_args()
    result = replay(args.eval, args.dataset or args.eval / "questions.jsonl")
    print(json.dumps(result["summary"], indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
