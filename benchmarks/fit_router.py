"""Router rules weighed on a finished evaluation, from its measured rows alone: for each rule set,
which strategy's row would have answered each question, and how many were then right, per
question type. Rules are chosen on the *tune* split with this; the *test* split is then run once.

    python benchmarks/fit_router.py --eval DIR --dataset FILE [--out FILE.json]

``DIR`` is a ``longqa eval --out`` folder with rows of ``auto`` (the rules as they stood when it
ran: its trace says which strategy it chose) and of each strategy alone. A rule set maps a
question (its words, what ``auto`` chose) to a strategy's row; ``fallback`` rules take another
row after a refusal, kept only where the judge found every citing sentence of that row entailed
by its citations (what the orchestrator's grounding check asks of an escalated answer).
Seconds are the rows' own: a fallback costs both rows.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.evaluation.dataset import EvalItem, load_dataset  # noqa: E402
from app.evaluation.runner import RESULTS, read_results  # noqa: E402
from app.evaluation.scoring import QuestionResult  # noqa: E402

ITEMS = re.compile(
    r"\b(how many|number of|count (?:of|the)|(?:list|enumerate|name) (?:all|every|each|the)|"
    r"which (?:\w+ ){0,4}(?:all|every)|what are (?:all )?the (?:\w+ ){0,2}\w+s)\b",
    re.IGNORECASE,
)  # agents/reading/router.py's _ITEMS

Rows = dict[str, QuestionResult]  # one question's rows by strategy
Choice = Callable[[EvalItem, Rows], str]  # which row answers


def chosen_by_auto(_: EvalItem, rows: Rows) -> str:
    decision = str(rows["auto"].trace.get("decision") or "auto")
    return decision if decision in rows else "auto"


def grounded(result: QuestionResult) -> bool:
    """Every citing sentence entailed by its citations, and at least one (the judge's verdicts)."""
    if result.failed or result.refused or result.citation is None:
        return False
    citing = [s for s in result.citation.sentences if s.citations]
    return bool(citing) and all(s.entailed for s in citing)


def rules() -> dict[str, tuple[Choice, str | None]]:
    """Each rule set: how it chooses, and the row it falls back to after a retrieve_reason refusal."""

    def today(item: EvalItem, rows: Rows) -> str:
        return "auto"

    def lookups_baseline(item: EvalItem, rows: Rows) -> str:
        chosen = chosen_by_auto(item, rows)
        return "baseline" if chosen == "retrieve_reason" else "auto"

    def items_collect(item: EvalItem, rows: Rows) -> str:
        return "collect" if ITEMS.search(item.question) and "collect" in rows else "auto"

    def items_collect_lookups_baseline(item: EvalItem, rows: Rows) -> str:
        return (
            items_collect(item, rows) if items_collect(item, rows) != "auto" else lookups_baseline(item, rows)
        )

    def full_when_read(item: EvalItem, rows: Rows) -> str:
        return "full_context" if "full_context" in rows and not rows["full_context"].failed else "auto"

    def items_collect_else_full(item: EvalItem, rows: Rows) -> str:
        return (
            items_collect(item, rows) if items_collect(item, rows) != "auto" else full_when_read(item, rows)
        )

    return {
        "today's rules (auto as measured)": (today, None),
        "today's, a refusal falls back to baseline": (today, "baseline"),
        "lookups from baseline": (lookups_baseline, None),
        "items to collect": (items_collect, None),
        "items to collect, a refusal falls back to baseline": (items_collect, "baseline"),
        "items to collect, lookups from baseline": (items_collect_lookups_baseline, None),
        "full_context where it fits": (full_when_read, None),
        "items to collect, else full_context where it fits": (items_collect_else_full, None),
    }


def replay(item: EvalItem, rows: Rows, choose: Choice, fallback: str | None) -> tuple[bool, float, str]:
    name = choose(item, rows)
    result = rows[name]
    seconds = result.cost.seconds
    refused_rr = result.refused and (
        name == "retrieve_reason" or chosen_by_auto(item, rows) == "retrieve_reason"
    )
    if fallback and refused_rr and fallback in rows and grounded(rows[fallback]):
        seconds += rows[fallback].cost.seconds
        return bool(rows[fallback].right), seconds, f"{name}→{fallback}"
    return bool(result.right), seconds, name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval", type=Path, required=True)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = read_results(args.eval / RESULTS)
    strategies = sorted({s for s, _ in results})
    items = [i for i in load_dataset(args.dataset) if all((s, i.id) in results for s in strategies)]
    table: dict[str, Any] = {"questions": len(items), "strategies": strategies, "rules": {}}
    types = sorted({i.type or "-" for i in items})
    every: dict[str, tuple[Choice, str | None]] = dict(rules())
    for strategy in strategies:
        if strategy != "auto":
            every[f"{strategy} alone"] = (lambda item, rows, s=strategy: s, None)
    for name, (choose, fallback) in every.items():
        right: Counter[str] = Counter()
        seconds = 0.0
        used: Counter[str] = Counter()
        for item in items:
            rows = {s: results[(s, item.id)] for s in strategies}
            ok, spent, how = replay(item, rows, choose, fallback)
            right[item.type or "-"] += ok
            seconds += spent
            used[how] += 1
        table["rules"][name] = {
            "right": sum(right.values()),
            "by_type": {t: right[t] for t in types},
            "mean_seconds": round(seconds / max(len(items), 1), 1),
            "rows_used": dict(used),
        }
    counts = Counter(i.type or "-" for i in items)
    print(f"{len(items)} questions with every row ({', '.join(f'{t} {counts[t]}' for t in types)})")
    print(f"| rules | right | {' | '.join(types)} | s/question |")
    print("|---|---|" + "---|" * len(types) + "---|")
    for name, row in table["rules"].items():
        cells = " | ".join(str(row["by_type"][t]) for t in types)
        print(f"| {name} | {row['right']} | {cells} | {row['mean_seconds']} |")
    if args.out:
        args.out.write_text(json.dumps(table, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
