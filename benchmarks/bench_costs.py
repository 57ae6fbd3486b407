"""Cost curves: prompt tokens and seconds per question of each strategy against the collection's
size, cold and with the collection read ahead (``longqa warm``), with what was really measured
drawn over them.

    python benchmarks/bench_costs.py
    python benchmarks/bench_costs.py --sizes 1000 10000 50000 160000 --questions 3

Collections are sets of whole files of examples/ whose size is nearest each target (cl100k
tokens, as ingest counts them). For each collection and question the long part of every
strategy's prompt is counted exactly in the model's tokens (full_context's collection, each
Chain-of-Agents segment as the product cuts it, the chunks retrieval returns); the seconds are
the router's own estimates (``agents.reading.router.estimates``) on the packaged model's speeds measured on
a quiet machine by bench_prefill.py (``--speeds machine``: on what longqa's speed book has
recorded here instead). Measured points come from an evaluation run's ``results.jsonl`` (each
answer's prompt tokens and seconds; ``--eval``) and from bench_answer's results. Writes
``benchmarks/results/costs.json`` and ``costs.png``; ``--plot-only`` redraws the plot from the
JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results"
STRATEGIES = ("full_context", "retrieve_reason", "chain_of_agents", "baseline")
COLOURS = {
    "full_context": "tab:blue",
    "retrieve_reason": "tab:green",
    "chain_of_agents": "tab:red",
    "baseline": "tab:grey",
}


def file_tokens(settings, folder: Path) -> dict[str, int]:
    """Each file of examples/ and its size in cl100k tokens (from an index of all of them)."""
    from app import wiring

    wiring.ingest_paths(settings, [ROOT / "examples"], folder)
    index = wiring.open_index(settings, folder)
    sizes: dict[str, int] = {}
    for chunk in index.all_chunks():
        sizes[chunk.span.path] = sizes.get(chunk.span.path, 0) + chunk.n_tokens
    return sizes


def pick(sizes: dict[str, int], target: int) -> list[str]:
    """The set of files whose total is nearest ``target`` (fewest files on a tie)."""
    names = sorted(sizes, key=lambda name: sizes[name])
    best: tuple[float, int, tuple[str, ...]] = (float("inf"), 0, ())
    for count in range(1, len(names) + 1):
        for group in itertools.combinations(names, count):
            gap = abs(sum(sizes[n] for n in group) - target) / target
            if (gap, count) < best[:2]:
                best = (gap, count, group)
    return list(best[2])


def questions(paths: list[str], count: int) -> list[str]:
    from app.evaluation.dataset import load_dataset

    items = [i for i in load_dataset(ROOT / "examples" / "eval.jsonl") if not i.unanswerable]
    inside = [i for i in items if i.docs and set(i.docs) <= {Path(p).name for p in paths}]
    return [i.question for i in (inside + [i for i in items if i not in inside])[:count]]


def curve_point(settings, model, paths: list[str], folder: Path, count: int, bytes_per_token: int) -> dict:
    """One collection: its size, and each strategy's median prompt tokens and seconds, cold and
    read ahead (every prefix state stored: the exact prefix tokens, ``bytes_per_token`` each)."""
    from agents.evidence.corpus import Corpus
    from agents.models.prefix_cache import PrefixCache
    from agents.reading.router import estimates, reading
    from app import wiring

    class Stored(PrefixCache):
        def size(self, key: str) -> int:
            return 1  # every prefix is stored; its bytes are set from its tokens below

    wiring.ingest_paths(settings, [ROOT / "examples" / p for p in paths], folder)
    index = wiring.open_index(settings, folder)
    corpus = Corpus(index, wiring.searcher(settings, index))
    empty, stored = PrefixCache(Path(tempfile.mkdtemp(prefix="longqa-costs-"))), Stored(folder)
    rows: dict[str, dict[str, Any]] = {}
    for question in questions(paths, count):
        model.chat.prefix_cache = empty
        known = reading(question, corpus, model)  # exact prompts and segments, nothing cached
        model.chat.prefix_cache = stored
        warm = reading(question, corpus, model)  # the same, with each prefix's exact tokens cached
        warm.prefixes = {  # what loading each stored prefix costs, by its size
            name: [replace(p, cached_bytes=p.cached_tokens * bytes_per_token) for p in prefixes]
            for name, prefixes in warm.prefixes.items()
        }
        hits = corpus.search(question, k=settings.k)
        retrieved = sum(corpus.block_tokens(h.chunk, model.spec, model.count_text) for h in hits)
        for state, read in (("cold", known), ("warm", warm)):
            for name, estimate in estimates(model, known.corpus_tokens, retrieved, read).items():
                row = rows.setdefault(f"{name}/{state}", {"prompt": [], "seconds": [], "calls": []})
                row["prompt"].append(estimate.prompt_tokens)
                row["seconds"].append(estimate.seconds)
                row["calls"].append(estimate.calls)
                row["fits"] = estimate.fits
    return {
        "files": paths,
        "corpus_tokens": known.corpus_tokens,
        "segments": len(known.prefixes.get("chain_of_agents", [])),
        "strategies": {
            key: {
                "prompt_tokens": int(statistics.median(v["prompt"])),
                "seconds": round(statistics.median(v["seconds"]), 1),
                "calls": int(statistics.median(v["calls"])),
                "fits": v["fits"],
            }
            for key, v in rows.items()
        },
    }


def measured_from_eval(results: Path, dataset: Path, sizes: dict[str, int], ratio: float) -> list[dict]:
    """Each answered question of an evaluation run: the strategy that answered, the collection's
    size in the model's tokens, the prompt tokens and seconds the answer took (collections were
    read ahead, so these are warm)."""
    docs = {}
    for line in dataset.read_text().splitlines():
        if line.strip():
            item = json.loads(line)
            files = item.get("docs") or []
            docs[item["id"]] = [files] if isinstance(files, str) else files
    by_name = {Path(p).name: t for p, t in sizes.items()}
    points = []
    for line in results.read_text().splitlines():
        row = json.loads(line)
        files = docs.get(row["id"])
        if row.get("error") or not files or not row.get("cost"):
            continue
        # what read the documents in the end (an escalation's cost is both readings')
        strategy = ((row.get("trace") or {}).get("strategy") or row["strategy"]).split("→")[-1]
        points.append(
            {
                "strategy": strategy,
                "state": "warm",
                "corpus_tokens": int(sum(by_name.get(Path(f).name, 0) for f in files) * ratio),
                "prompt_tokens": row["cost"]["prompt_tokens"],
                "seconds": round(row["cost"]["seconds"], 1),
                "source": str(results.relative_to(ROOT)) if results.is_relative_to(ROOT) else results.name,
            }
        )
    return points


def measured_from_answers(sizes: dict[str, int], ratio: float) -> list[dict]:
    """bench_answer's runs: the first question cold (or after warm), the later ones warm."""
    names = {"full": "full_context", "coa": "chain_of_agents"}
    by_name = {Path(p).name: t for p, t in sizes.items()}
    points = []
    for path in sorted(RESULTS.glob("answer-*.json")):
        run = json.loads(path.read_text())
        files = run["docs"]
        whole = files == ["examples"]
        tokens = int((sum(sizes.values()) if whole else sum(by_name.get(f, 0) for f in files)) * ratio)
        for q in [*run["questions"], run.get("restart")]:
            if not q:
                continue
            cold = q["cached_tokens"] == 0
            points.append(
                {
                    "strategy": names[run["strategy"]],
                    "state": "cold" if cold else "warm",
                    "corpus_tokens": tokens,
                    "prompt_tokens": q["prompt_tokens"],
                    "seconds": q["model_seconds"],
                    "source": path.name,
                }
            )
    return points


def plot(result: dict, path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4.4))
    FigureCanvasAgg(figure)
    tokens_axis, seconds_axis = figure.subplots(1, 2)
    points = result["curves"]
    xs = [p["corpus_tokens"] for p in points]
    for name in STRATEGIES:
        for state, style in (("cold", "-"), ("warm", "--")):
            if state == "warm" and name not in ("full_context", "chain_of_agents"):
                continue
            cells = [(p["corpus_tokens"], p["strategies"][f"{name}/{state}"]) for p in points]
            cells = [(x, c) for x, c in cells if c["fits"]]
            if not cells:
                continue
            label = f"{name} ({state})" if name in ("full_context", "chain_of_agents") else name
            kwargs = {"color": COLOURS[name], "linestyle": style, "marker": "o", "markersize": 3}
            x = [x for x, _ in cells]
            if state == "cold":
                tokens_axis.plot(x, [c["prompt_tokens"] for _, c in cells], label=name, **kwargs)
            seconds_axis.plot(x, [c["seconds"] for _, c in cells], label=label, **kwargs)
    for point in result["measured"]:
        marker = "o" if point["state"] == "cold" else "x"
        colour = COLOURS.get(point["strategy"], "black")
        dot = {"marker": marker, "color": colour, "s": 14, "alpha": 0.5}
        tokens_axis.scatter(point["corpus_tokens"], point["prompt_tokens"], **dot)
        seconds_axis.scatter(point["corpus_tokens"], max(point["seconds"], 0.1), **dot)
    room = result["window_room"]
    for axis in (tokens_axis, seconds_axis):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("collection size (model tokens)")
        axis.axvline(room, color="black", linewidth=0.8, linestyle=":")
        axis.grid(True, which="major", alpha=0.3)
        axis.set_xlim(min(xs) * 0.7, max(xs) * 1.4)
    tokens_axis.text(room, tokens_axis.get_ylim()[1], " window", va="top", fontsize=8)
    seconds_axis.axhline(result["budget_seconds"], color="black", linewidth=0.8, linestyle="-.")
    budget = result["budget_seconds"]
    seconds_axis.text(max(xs), budget, "balanced budget", va="bottom", ha="right", fontsize=8)
    tokens_axis.set_ylabel("prompt tokens per question")
    seconds_axis.set_ylabel("seconds per question (this machine)")
    tokens_axis.set_title("tokens read: lines estimate, dots measured", fontsize=9)
    seconds_axis.set_title("seconds: solid cold, dashed read ahead; o cold, x warm measured", fontsize=9)
    seconds_axis.legend(fontsize=7, loc="upper left", framealpha=0.9)
    figure.suptitle(f"cost per question against collection size ({result['model']})", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000, 25000, 50000, 160000])
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument(
        "--eval",
        type=Path,
        nargs=2,
        metavar=("RESULTS", "DATASET"),
        default=[
            ROOT / ".longqa" / "eval-run" / "results.jsonl",
            RESULTS / "eval-examples" / "questions.jsonl",
        ],
    )
    parser.add_argument("--work", type=Path, default=ROOT / ".longqa" / "bench" / "costs")
    parser.add_argument("--speeds", choices=["quiet", "machine"], default="quiet")
    parser.add_argument("--plot-only", action="store_true")
    args = parser.parse_args()
    out = RESULTS / "costs.json"
    if args.plot_only:
        print(f"wrote {plot(json.loads(out.read_text()), RESULTS / 'costs.png')}")
        return

    from agents.models.speeds import SpeedBook
    from agents.reading.router import PREFERENCES
    from app import wiring
    from app.settings import load_settings

    settings = load_settings()
    model = wiring.backend(settings)
    if args.speeds == "quiet":
        model.speeds = SpeedBook(None)  # the backend's prior: bench_prefill on a quiet machine
    sizes = file_tokens(settings, args.work / "all")
    all_tokens = sum(sizes.values())
    state = json.loads((RESULTS / f"prefill-default-{settings.kv_cache}.json").read_text())["state"]
    curves = []
    for target in args.sizes:
        paths = pick(sizes, min(target, all_tokens))
        folder = args.work / str(target)
        point = curve_point(settings, model, paths, folder, args.questions, state["bytes_per_token"])
        point["target"] = target
        curves.append(point)
        brief = {k: (v["prompt_tokens"], v["seconds"]) for k, v in point["strategies"].items()}
        print(json.dumps({"target": target, "tokens": point["corpus_tokens"], **brief}), flush=True)
    ratio = curves[-1]["corpus_tokens"] / max(sum(sizes[p] for p in curves[-1]["files"]), 1)
    measured = measured_from_answers(sizes, ratio)
    results, dataset = args.eval
    if results.is_file():
        measured += measured_from_eval(results, dataset, sizes, ratio)
    speed = model.speed
    result = {
        "model": model.description or model.spec,
        "window_room": model.context_window - model.answer_tokens,
        "budget_seconds": PREFERENCES["balanced"]["latency"],
        "speed": {
            "prefill": round(speed.prefill, 1),
            "decode": round(speed.decode, 1),
            "slowdown": round(speed.slowdown, 3),
            "source": args.speeds,
        },
        "state_bytes_per_token": state["bytes_per_token"],
        "curves": curves,
        "measured": measured,
    }
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out} and {plot(result, RESULTS / 'costs.png')}")


if __name__ == "__main__":
    main()
