"""Prefill once, ask many: the time of each question over the same documents, cold and with the
prefix cache, also after a process restart; tokens prefilled against tokens loaded; and the
router's estimate against the measured seconds of every answer.

    S=examples/simplejson/simplejson
    python benchmarks/bench_answer.py --strategy full --docs $S/encoder.py $S/__init__.py $S/decoder.py
    python benchmarks/bench_answer.py --strategy coa --docs examples --questions 2 [--warm]

Questions come from examples/eval.jsonl (those whose docs are the ones given, else any). The run
uses its own prefix cache folder (``--cache``, emptied first unless ``--keep``), the embedded
default model, and writes ``benchmarks/results/answer-STRATEGY-DOCS.json``. A question is asked
again in a fresh process (the restart) through the same script (``--restart``). Run it with
nothing else busy; it takes minutes (full) to an hour or more (a chain of agents, cold).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _questions(docs: list[Path], count: int) -> list[str]:
    from app.evaluation.dataset import load_dataset

    items = load_dataset(ROOT / "examples" / "eval.jsonl")
    wanted = [i for i in items if set(i.docs) <= set(docs) and not i.unanswerable]
    wanted += [i for i in items if i not in wanted and not i.unanswerable]
    return [i.question for i in wanted[:count]]


def _answerer(docs: list[Path], strategy: str, cache: Path):
    from agents.evidence.corpus import Corpus
    from agents.models.prefix_cache import PrefixCache
    from agents.orchestrator import Answerer, AskOptions
    from app import wiring
    from app.settings import load_settings

    settings = load_settings()
    folder = ROOT / ".longqa" / "bench" / "-".join(d.stem for d in docs)
    wiring.ingest_paths(settings, docs, folder)
    index = wiring.open_index(settings, folder)
    model = wiring.backend(settings)
    model.chat.prefix_cache = PrefixCache(cache)  # the benchmark's own, not the user's
    corpus = Corpus(index, wiring.searcher(settings, index))
    return Answerer(corpus, model, options=AskOptions(strategy=strategy, verify=False)), corpus, model


def _ask(answerer, corpus, model, question: str, strategy: str) -> dict:
    from agents.reading.router import estimates, reading

    known = reading(question, corpus, model)
    expected = estimates(model, known.corpus_tokens, 0, known)
    name = {"full": "full_context", "coa": "chain_of_agents"}[strategy]
    started = time.perf_counter()
    answer = answerer.ask(question)
    seconds = time.perf_counter() - started
    calls = answer.trace.calls
    return {
        "question": question,
        "seconds": round(seconds, 1),
        "first_token_seconds": round(calls[-1].first_token_seconds or 0.0, 1),  # the answering call's
        "model_seconds": round(answer.trace.seconds, 1),
        "estimate": round(expected[name].seconds, 1),
        "prompt_tokens": sum(c.prompt_tokens for c in calls),
        "cached_tokens": sum(c.cached_tokens for c in calls),
        "calls": [
            {
                "role": c.role,
                "prompt": c.prompt_tokens,
                "cached": c.cached_tokens,
                "seconds": round(c.seconds, 1),
                "estimated": c.estimated_seconds,
                "note": c.note,
            }
            for c in calls
        ],
        "answer": answer.text,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", choices=["full", "coa"], default="full")
    parser.add_argument("--docs", type=Path, nargs="+", required=True)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=ROOT / ".longqa" / "bench" / "cache")
    parser.add_argument("--keep", action="store_true", help="keep the prefix cache (a warm start)")
    parser.add_argument("--warm", action="store_true", help="run `longqa warm` before the first question")
    parser.add_argument("--restart", help=argparse.SUPPRESS)  # one question, in this fresh process
    args = parser.parse_args()
    docs = [d.resolve() for d in args.docs]
    prefixes = args.cache / "prefixes"
    if args.restart:
        answerer, corpus, model = _answerer(docs, args.strategy, prefixes)
        print(json.dumps(_ask(answerer, corpus, model, args.restart, args.strategy)))
        return
    if not args.keep:
        shutil.rmtree(prefixes, ignore_errors=True)
    questions = _questions(docs, args.questions)
    answerer, corpus, model = _answerer(docs, args.strategy, prefixes)
    result: dict = {"strategy": args.strategy, "docs": [d.name for d in docs], "questions": []}
    if args.warm:
        from agents.reading.warm import warm

        began = time.perf_counter()
        report = warm(
            corpus,
            model,
            progress=lambda done, total, what: print(
                json.dumps(
                    {"warm": f"{done}/{total}", "part": what, "at": round(time.perf_counter() - began)}
                ),
                flush=True,
            ),
        )
        result["warm"] = {
            "prefilled": report.prefilled,
            "bytes": report.stored_bytes,
            "seconds": report.seconds,
        }
        print(json.dumps(result["warm"]), flush=True)
    for question in questions:
        row = _ask(answerer, corpus, model, question, args.strategy)
        result["questions"].append(row)
        print(json.dumps({k: v for k, v in row.items() if k not in ("calls", "answer")}), flush=True)
    again = questions[1 % len(questions)]
    command = [sys.executable, __file__, "--strategy", args.strategy, "--docs", *map(str, docs)]
    command += ["--cache", str(args.cache), "--restart", again]
    restart = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    result["restart"] = json.loads(restart.stdout.strip().splitlines()[-1])
    print(
        json.dumps({k: v for k, v in result["restart"].items() if k not in ("calls", "answer")}), flush=True
    )
    first = result["questions"][0]["seconds"]
    later = [q["seconds"] for q in result["questions"][1:]]
    result["summary"] = {
        "first_seconds": first,
        "later_median_seconds": sorted(later)[len(later) // 2] if later else None,
        "later_share_of_first": round(max(later) / first, 3) if later else None,
        "first_token_seconds": [q["first_token_seconds"] for q in result["questions"]],
        "restart_first_token_seconds": result["restart"]["first_token_seconds"],
        "restart_seconds": result["restart"]["seconds"],
        "restart_share_of_first": round(result["restart"]["seconds"] / first, 3),
        "estimate_over_measured": [
            round(q["estimate"] / max(q["model_seconds"], 0.1), 2)
            for q in [*result["questions"], result["restart"]]
        ],
        "prefix_cache": _cache_size(prefixes),
    }
    out = ROOT / "benchmarks" / "results" / f"answer-{args.strategy}-{'-'.join(d.stem for d in docs)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["summary"]))
    print(f"wrote {out}")


def _cache_size(folder: Path) -> dict:
    states = list(folder.glob("*.state"))
    return {"entries": len(states), "bytes": sum(p.stat().st_size for p in states)}


if __name__ == "__main__":
    main()
