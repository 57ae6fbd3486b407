"""How often each support-judge variant (``agents.verify.support``) agrees with hand labels.

    python benchmarks/bench_judge.py --model llamacpp:default [--pairs app/evaluation/judge_pairs.jsonl]
    python benchmarks/bench_judge.py --split dev          # ask the model about the dev pairs only
    python benchmarks/bench_judge.py --rescore            # score cached answers, no model calls

The model is asked, once per pair, what every variant needs (the yes/no over the passage, the
yes/no over the lexical window, the cloze fill of the claim's blanked fact); its answers are
kept in a cache (``--cache``, by default ``.longqa/bench/judge-MODEL.jsonl``) so that a run can be
resumed and the variants rescored without the model. Each variant's threshold is fitted on the
``dev`` pairs only (the highest accuracy, ties to the higher precision); accuracy, precision and
recall with 95% Wilson intervals are reported on ``dev`` and ``held``, with the model seconds each
variant spends per pair. Results go to ``benchmarks/results/judge-MODEL.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.verify.support import NEEDS, VARIANTS, Memory, Observation, Observer, vetoes  # noqa: E402

PAIRS = ROOT / "app" / "evaluation" / "judge_pairs.jsonl"
Z = 1.959964  # 95%


def wilson(hits: int, n: int) -> list[float] | None:
    """The 95% Wilson score interval of a proportion ``hits / n``."""
    if n == 0:
        return None
    p = hits / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return [round(max(0.0, centre - half), 3), round(min(1.0, centre + half), 3)]


def metrics(said: list[bool], labels: list[bool]) -> dict[str, Any]:
    """Accuracy, precision and recall (each with its interval) of yes/no answers against labels."""
    n = len(labels)
    hits = sum(s == t for s, t in zip(said, labels))
    true_yes = sum(s and t for s, t in zip(said, labels))
    yes, positive = sum(said), sum(labels)

    def share(k: int, m: int) -> dict[str, Any]:
        return {"value": round(k / m, 3) if m else None, "k": k, "n": m, "ci95": wilson(k, m)}

    return {
        "n": n,
        "accuracy": share(hits, n),
        "precision": share(true_yes, yes),
        "recall": share(true_yes, positive),
    }


def fit_threshold(scores: list[float | None], labels: list[bool]) -> float:
    """The threshold with the highest accuracy on these pairs (ties: the higher precision, then the
    one nearest 0.5), placed halfway between the accepted score and the next one below it."""
    values = sorted({s for s in scores if s is not None})
    if not values:
        return 0.5
    candidates = [values[0] / 2 if values[0] > 0 else 1e-9]
    candidates += [(a + b) / 2 for a, b in itertools.pairwise(values)]
    candidates.append((values[-1] + 1.0) / 2 if values[-1] < 1.0 else 1.0)
    best: tuple[float, float, float] | None = None
    chosen = 0.5
    for t in candidates:
        said = [s is not None and s >= t for s in scores]
        m = metrics(said, labels)
        key = (m["accuracy"]["value"] or 0.0, m["precision"]["value"] or 0.0, -abs(t - 0.5))
        if best is None or key > best:
            best, chosen = key, t
    return round(chosen, 4)


def load(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        if row.get("split") not in ("dev", "held"):
            raise SystemExit(f"{path}: every pair needs a split of dev or held: {row['claim'][:60]}")
    return rows


def read_memory(path: Path) -> Memory:
    """The model's answers kept by earlier runs (one JSON line per answer)."""
    memory: Memory = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                e = json.loads(line)
                memory[(e["kind"], e["claim"], e["passage"], e["question"])] = (e["answer"], e["seconds"])
    return memory


class _Kept(dict):
    """A memory that appends every new answer to its file as it comes."""

    def __init__(self, path: Path) -> None:
        super().__init__(read_memory(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        self.out = path.open("a", encoding="utf-8")

    def __setitem__(self, key: tuple[str, str, str, str], value: tuple[object, float]) -> None:
        super().__setitem__(key, value)
        kind, claim, passage, question = key
        line = {"kind": kind, "claim": claim, "passage": passage, "question": question}
        self.out.write(json.dumps({**line, "answer": value[0], "seconds": round(value[1], 2)}) + "\n")
        self.out.flush()


def observe(
    rows: list[dict[str, Any]], model: str, cache: Path, needs: tuple[str, ...], threads: int | None
) -> None:
    """Ask the model what the variants need about each pair (answers already kept are not asked again)."""
    from agents.answer import Trace
    from agents.models.backends import load_backend
    from agents.models.calls import Caller

    memory = _Kept(cache)
    dry = Observer(Caller(_Unloaded(), Trace()), memory)  # type: ignore[arg-type]
    todo = [r for r in rows if not _known(dry, r, needs)]
    if not todo:
        return
    backend = load_backend(model, context_window=4096, answer_tokens=128, threads=threads)
    observer = Observer(Caller(backend, Trace()), memory)
    started = time.perf_counter()
    for number, row in enumerate(todo, 1):
        seen = observer.observe(row["claim"], row["passage"], row.get("question"), needs)
        left = (time.perf_counter() - started) / number * (len(todo) - number)
        label = f"{row['kind']:<19} {row['supported']!s:<5}" if row["split"] == "dev" else "(held: not shown)"
        print(
            f"[{number}/{len(todo)}] {row['split']} {label} "
            f"p={_show(seen.p_passage)} p_window={_show(seen.p_window)} "
            f"cloze={_short(seen.cloze_answer)} "
            f"{sum(seen.seconds.values()):.0f} s, ~{left / 60:.0f} min left",
            flush=True,
        )


class _Unloaded:
    """Stands in for a backend while checking what is already known: any call is a miss."""

    spec = "unloaded"


class _Miss(Exception):
    pass


def _known(observer: Observer, row: dict[str, Any], needs: tuple[str, ...]) -> bool:
    """Whether every answer ``needs`` asks for about ``row`` is in the observer's memory."""

    def recall(key: tuple[str, str, str, str], _ask: Any) -> tuple[object, float]:
        if key not in observer.memory:
            raise _Miss
        return observer.memory[key]

    setattr(observer, "_recall", recall)  # noqa: B010 - a dry run: no answer may be asked
    try:
        observer.observe(row["claim"], row["passage"], row.get("question"), needs)
    except _Miss:
        return False
    return True


def observations(rows: list[dict[str, Any]], cache: Path, needs: tuple[str, ...]) -> list[Observation | None]:
    """Each pair's observation from the kept answers alone (None where some are missing)."""
    from agents.answer import Trace
    from agents.models.calls import Caller

    dry = Observer(Caller(_Unloaded(), Trace()), read_memory(cache))  # type: ignore[arg-type]
    seen: list[Observation | None] = []
    for row in rows:
        seen.append(
            dry.observe(row["claim"], row["passage"], row.get("question"), needs)
            if _known(dry, row, needs)
            else None
        )
    return seen


def _show(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _short(text: str | None, limit: int = 50) -> str:
    if text is None:
        return "-"
    flat = " ".join(text.split())
    return json.dumps(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def _seconds(variant: str, seen: Observation) -> float:
    """The model seconds a variant spends on a pair in use: calls after a veto are not made."""
    spent = seen.seconds
    names: tuple[str, ...] = ("window", "cloze")
    if variant.endswith("+cloze") and seen.cloze_ok is False:
        names = ("cloze",)  # vetoed: the yes/no is not asked
    total = sum(spent.get(n, 0.0) for n in names if n in NEEDS[variant])
    if "passage" in NEEDS[variant] and (variant == "yesno" or vetoes(seen.claim, seen.window) == []):
        total += spent.get("passage", 0.0)
    return total


def score(rows: list[dict[str, Any]], cache: Path, variants: list[str]) -> dict[str, Any]:
    """Every variant's threshold (fitted on dev) and its metrics on dev and held."""
    report: dict[str, Any] = {}
    for variant in variants:
        seen = {i: o for i, o in enumerate(observations(rows, cache, NEEDS[variant])) if o is not None}
        usable = sorted(seen)
        scores = {i: VARIANTS[variant](seen[i]) for i in usable}
        dev = [i for i in usable if rows[i]["split"] == "dev"]
        threshold = fit_threshold([scores[i] for i in dev], [rows[i]["supported"] for i in dev])
        entry: dict[str, Any] = {"threshold": threshold, "needs": list(NEEDS[variant])}
        for split in ("dev", "held"):
            chosen = [i for i in usable if rows[i]["split"] == split]
            said = [_yes(scores[i], threshold) for i in chosen]
            labels = [rows[i]["supported"] for i in chosen]
            result = metrics(said, labels)
            result["unanswered"] = sum(scores[i] is None for i in chosen)
            result["seconds_per_pair"] = (
                round(sum(_seconds(variant, seen[i]) for i in chosen) / len(chosen), 2) if chosen else None
            )
            kinds: dict[str, list[int]] = {}
            for i, s in zip(chosen, said):
                tally = kinds.setdefault(rows[i]["kind"], [0, 0])
                tally[0] += s == rows[i]["supported"]
                tally[1] += 1
            result["right_by_kind"] = {k: f"{v[0]}/{v[1]}" for k, v in sorted(kinds.items())}
            entry[split] = result
        report[variant] = entry
    return report


def _yes(score: float | None, threshold: float) -> bool:
    return score is not None and score >= threshold


def table(report: dict[str, Any]) -> str:
    """The report as a Markdown table."""

    def cell(m: dict[str, Any]) -> str:
        if m["value"] is None:
            return "n/a"
        low, high = m["ci95"]
        return f"{m['value']:.2f} [{low:.2f}–{high:.2f}]"

    lines = [
        "| variant | t | split | n | accuracy | precision | recall | s/pair |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in report.items():
        for split in ("dev", "held"):
            m = entry[split]
            lines.append(
                f"| {name} | {entry['threshold']:g} | {split} | {m['n']} | {cell(m['accuracy'])} | "
                f"{cell(m['precision'])} | {cell(m['recall'])} | {m['seconds_per_pair']} |"
            )
    return "\n".join(lines)


def _name(model: str) -> str:
    kind, _, target = model.partition(":")
    name = target if kind == "llamacpp" and "/" not in target else model
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="llamacpp:default", help="a backend spec (agents.models.backends)")
    parser.add_argument("--pairs", type=Path, default=PAIRS, help="labelled pairs (JSONL, with split)")
    parser.add_argument("--out", type=Path, default=None, help="benchmarks/results/judge-MODEL.json")
    parser.add_argument(
        "--cache", type=Path, default=None, help="kept answers: .longqa/bench/judge-MODEL.jsonl"
    )
    parser.add_argument("--split", choices=["dev", "held", "all"], default="all", help="pairs to ask about")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated")
    parser.add_argument("--limit", type=int, default=None, help="ask about the first N pairs only")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads")
    parser.add_argument("--rescore", action="store_true", help="no model calls: score the cache")
    parser.add_argument("--note", default="", help="a line kept in the result (how the run was made)")
    args = parser.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}: choose from {', '.join(VARIANTS)}")
    name = _name(args.model)
    out = args.out or ROOT / "benchmarks" / "results" / f"judge-{name}.json"
    cache = args.cache or ROOT / ".longqa" / "bench" / f"judge-{name}.jsonl"
    rows = load(args.pairs)
    asked = [r for r in rows if args.split in ("all", r["split"])][: args.limit]
    needs = tuple(sorted({n for v in variants for n in NEEDS[v]}))
    started = time.perf_counter()
    if not args.rescore:
        observe(asked, args.model, cache, needs, args.threads)
    report = score(rows, cache, variants)
    counts = Counter((r["split"], r["kind"]) for r in rows)
    result = {
        "model": args.model,
        "pairs": str(args.pairs.relative_to(ROOT) if args.pairs.is_relative_to(ROOT) else args.pairs),
        "counts": {
            split: {k: counts[(split, k)] for k in sorted({r["kind"] for r in rows})}
            for split in ("dev", "held")
        },
        "variants": report,
        "measured": time.strftime("%Y-%m-%d %H:%M"),
        "note": "thresholds fitted on dev only; seconds are model seconds per pair on this machine "
        "(shared CPU), counting only the calls a variant makes after its checks",
    }
    if args.note:
        result["run"] = args.note
    if not args.rescore:
        result["run_seconds"] = round(time.perf_counter() - started, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(report))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
