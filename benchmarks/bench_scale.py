"""How longqa's index scales: synthetic collections of 10k, 100k and 1M chunks.

Each collection (``scale_corpus.py``: files on disk, real vocabulary, vectors around real
embeddings) is written through longqa's own ``Index.write`` and then measured, each step in a
process of its own so that its peak memory (``ru_maxrss``) is its own:

* ``build``: files and rows written, then FAISS, BM25 and the manifest (``write_derived``);
  wall seconds of each part, the index folder's size on disk.
* ``search``: ``Index.open`` read-only and the search files loaded (what the first question
  pays); then 200 queries (the 81 questions of ``examples/eval.jsonl`` and
  ``tests/retrieval/questions.jsonl``, the rest 3-8 words drawn from the real chunks) through
  ``HybridSearcher.search`` in each mode, with the packaged all-MiniLM-L6-v2 embedding each
  query as the product does (its own time is reported as ``embed``); recall@10 and recall@50
  of the index's dense search against exact search over the same vectors.
* ``faiss``: flat, HNSW and IVF side by side on the same vectors (``scale_faiss.py``).
* ``reingest``: ``retrieval.indexer.ingest`` of the unchanged folder, three times (the first
  after the build also meets a cold file cache), then again after 1% of the files were
  rewritten (their chunks embedded by the real model).

Resumable: each step writes ``WORK/<size>/<step>.json`` and is skipped when that file exists.
Timings on a shared 2-core machine are noisy: medians and the load average are recorded.

Usage: ``python benchmarks/bench_scale.py --sizes 10000,100000,1000000 --work DIR
[--out benchmarks/results/scale.json]``; ``--keep`` leaves the collections in ``WORK``.

``--store faiss,milvus`` measures the two index stores side by side instead (``scale_stores.py``:
the same collection in an index folder and in a Milvus Lite file; build, search, recall against
exact search, 8 concurrent searchers, re-ingest, and recall@5 of gold evidence on examples/),
into the ``stores`` part of ``--out``, whose other figures are kept.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from array import array
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np

from benchmarks import scale_corpus, scale_faiss, scale_stores
from benchmarks.scale_report import markdown, stores_table

STEPS = ("build", "search", "faiss", "reingest")
STORE_STEPS = (*scale_stores.STEPS, "quality")
N_QUERIES = 200
CHANGED_SHARE = 0.01
QUICK_ANCHORS = 64
QUESTION_FILES = ("examples/eval.jsonl", "tests/retrieval/questions.jsonl")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    """This process's resident memory now."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_mb(folder: Path) -> dict[str, float]:
    """Size on disk of each part of an index folder."""
    parts: dict[str, float] = {}
    for path in folder.rglob("*"):
        if path.is_file():
            key = path.relative_to(folder).parts[0]
            parts[key] = parts.get(key, 0.0) + path.stat().st_blocks * 512 / 2**20
    return {k: round(v, 1) for k, v in sorted(parts.items())}


def make_queries(anchors: scale_corpus.Anchors) -> list[str]:
    """The real questions, then short word runs from the real chunks, up to ``N_QUERIES``."""
    queries = []
    for name in QUESTION_FILES:
        for line in (scale_corpus.ROOT / name).read_text().splitlines():
            if line.strip():
                queries.append(json.loads(line)["question"])
    rng = np.random.default_rng(5)
    while len(queries) < N_QUERIES:
        words = anchors.words[int(rng.integers(len(anchors)))]
        start, length = int(rng.integers(max(1, len(words) - 8))), int(rng.integers(3, 9))
        queries.append(" ".join(words[start : start + length]))
    return queries[:N_QUERIES]


def embedder():
    from retrieval.embeddings import SentenceEmbedder

    model = SentenceEmbedder()
    model.embed(["warm-up"])
    return model


# ------------------------------------------------------------------------------------ steps


def step_build(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    anchors = scale_corpus.load_anchors(args.work, embedder, QUICK_ANCHORS if args.quick else None)
    from retrieval.embeddings import SentenceEmbedder

    for stale in ("docs", "index"):
        shutil.rmtree(work / stale, ignore_errors=True)
    model = SentenceEmbedder()  # not loaded: only its name and variant are recorded
    figures = scale_corpus.build_collection(
        anchors, work, args.size, args.vectors, model, args.hnsw_threshold
    )
    manifest = json.loads((work / "index" / "manifest.json").read_text())
    return {**figures, "faiss": manifest["faiss"], "disk_mb": folder_mb(work / "index")}


def _timed_searches(searcher, queries: list[str], mode: str) -> list[float]:
    for query in queries[:10]:
        searcher.search(query, k=5, mode=mode)  # warm
    seconds = []
    for query in queries:
        started = time.perf_counter()
        searcher.search(query, k=5, mode=mode)
        seconds.append(time.perf_counter() - started)
    return seconds


class Embedded:
    """The real model's vectors for the benchmark's queries, computed beforehand, so that a
    search's time is the index's own; the full search (model included) is timed apart."""

    def __init__(self, model, queries: list[str]) -> None:
        self.name, self.dimension = model.name, model.dimension
        self.vectors = dict(zip(queries, model.embed(queries)))

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts])


def stored_vectors(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Every chunk's rowid and embedding as the index's database holds them (exact search's
    ground truth, also after a re-ingest changed some)."""
    connection = sqlite3.connect(f"file:{folder / 'chunks.sqlite'}?mode=ro", uri=True)
    rowids, embeddings = array("q"), bytearray()
    for rowid, embedding in connection.execute("SELECT id, embedding FROM chunks ORDER BY id"):
        rowids.append(rowid)
        embeddings += embedding
    connection.close()
    matrix = np.frombuffer(embeddings, dtype=np.float32).reshape(len(rowids), -1)
    return np.frombuffer(rowids, dtype=np.int64), matrix


def step_search(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from retrieval.search import HybridSearcher
    from retrieval.store import Index

    queries = json.loads((args.work / "queries.json").read_text())
    model = embedder()
    embedded = Embedded(model, queries)
    before = rss_mb()
    started = time.perf_counter()
    index = Index.open(work / "index", hnsw_threshold=args.hnsw_threshold)
    opened = time.perf_counter() - started
    index.lexical_search("warm", 1)  # loads FAISS and BM25, as the first question does
    loaded = time.perf_counter() - started
    index_rss = rss_mb() - before
    searcher = HybridSearcher(index, embedded)
    timings = {mode: _timed_searches(searcher, queries, mode) for mode in ("hybrid", "dense", "lexical")}
    timings["hybrid_with_model"] = _timed_searches(HybridSearcher(index, model), queries, "hybrid")
    embed_s = []
    for query in queries:
        started = time.perf_counter()
        model.embed([query])
        embed_s.append(time.perf_counter() - started)
    searched_rss = rss_mb() - before
    query_vectors = embedded.embed(queries)
    np.save(work / "query-vectors.npy", query_vectors)
    found = [[rowid for rowid, _ in index.dense_search(v, scale_faiss.DEPTH)] for v in query_vectors]
    index.close()
    rowids, matrix = stored_vectors(work / "index")
    exact = rowids[scale_faiss.exact_top(matrix, query_vectors)]
    return {
        "open_s": opened,
        "open_and_load_s": loaded,
        "index_rss_mb": index_rss,
        "index_rss_after_searches_mb": searched_rss,
        **{mode: scale_faiss.percentiles(s) for mode, s in timings.items()},
        "embed": scale_faiss.percentiles(embed_s),
        "recall@10": scale_faiss.recall(found, exact, 10),
        "recall@50": scale_faiss.recall(found, exact, scale_faiss.DEPTH),
    }


def step_faiss(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    matrix = np.ascontiguousarray(np.load(work / "vectors.npy", mmap_mode="r"))
    queries = np.load(work / "query-vectors.npy")
    exact = scale_faiss.exact_top(matrix, queries)
    return {"variants": scale_faiss.sweep(matrix, queries, exact, log, args.quick)}


def step_reingest(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from ingest.chunking import ChunkSettings
    from retrieval.indexer import ingest

    model = embedder()
    anchors = scale_corpus.load_anchors(args.work, lambda: model, QUICK_ANCHORS if args.quick else None)
    root, folder = work / "docs", work / "index"
    figures: dict[str, Any] = {}
    for name in ("unchanged", "unchanged_again", "unchanged_third", "changed_1pct"):
        if name == "changed_1pct":
            figures["files_changed"] = scale_corpus.change_files(anchors, work, CHANGED_SHARE)
        started, cpu = time.perf_counter(), time.process_time()
        report = ingest([root], folder, model, ChunkSettings(), hnsw_threshold=args.hnsw_threshold)
        figures[name] = {
            "wall_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu,
            "stages_s": {k: round(v, 3) for k, v in report.seconds.items()},
            "summary": report.to_dict()["summary"],
            "chunks_embedded": report.chunks_embedded,
        }
        log(f"reingest {name}: {figures[name]['wall_s']:.1f} s {figures[name]['summary']}")
    return figures


def store_step(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One step of ``--store`` (``scale_stores``) for the one store named."""
    step, store = args.step.removeprefix("store-"), args.store
    if step == "quality":
        return scale_stores.step_quality(work, embedder())
    if step == "build":
        return scale_stores.step_build(work, args, store, embedder)
    if step == "reingest":
        return scale_stores.step_reingest(work, args, store)
    queries = json.loads((args.work / "queries.json").read_text())
    model = embedder()
    embedded = Embedded(model, queries)
    if step == "search":
        return scale_stores.step_search(work, args, store, model, embedded)
    return scale_stores.step_throughput(work, args, store, embedded)


def run_step(args: argparse.Namespace) -> int:
    work = args.work / str(args.size)
    work.mkdir(parents=True, exist_ok=True)
    step = {"build": step_build, "search": step_search, "faiss": step_faiss, "reingest": step_reingest}
    started, cpu = time.perf_counter(), time.process_time()
    figures = store_step(work, args) if args.step.startswith("store-") else step[args.step](work, args)
    figures.update(
        wall_s=time.perf_counter() - started,
        cpu_s=time.process_time() - cpu,
        peak_rss_mb=peak_rss_mb(),
        load_1m=os.getloadavg()[0],
    )
    name = args.step.removeprefix("store-")
    if args.step.startswith("store-") and name != "quality":
        name = f"{args.store}-{name}"
    (work / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def run_stores(args: argparse.Namespace, command: str, n_queries: int, anchors: int) -> int:
    """``--store``: each size into each store, step by step, then examples/'s quality once."""
    stores = args.store.split(",")
    unknown = sorted(set(stores) - set(scale_stores.STORES))
    if unknown:
        raise SystemExit(f"--store: unknown store {unknown[0]!r}; the stores are faiss and milvus")

    def child(step: str, store: str, size: int) -> bool:
        child_command = [sys.executable, __file__, "--step", f"store-{step}", "--store", store]
        child_command += ["--size", str(size), "--work", str(args.work), "--vectors", args.vectors]
        child_command += ["--hnsw-threshold", str(args.hnsw_threshold), *["--quick"] * args.quick]
        return subprocess.run(child_command, check=False).returncode == 0

    for size in [int(s) for s in args.sizes.split(",")]:
        work = args.work / str(size)
        for store in stores:
            for step in scale_stores.STEPS:
                if scale_stores.result_file(work, store, step).exists():
                    log(f"{size} {store}: {step} done before, kept")
                    continue
                log(f"{size} {store}: {step}")
                if not child(step, store, size):
                    log(f"{size} {store}: {step} failed; its later steps are skipped")
                    break
        if not args.keep:
            shutil.rmtree(work / "docs", ignore_errors=True)
            shutil.rmtree(work / "index", ignore_errors=True)
            for made in [*work.glob("*milvus.db*"), work / "vectors.npy"]:
                made.unlink(missing_ok=True)
    quality = args.work / "0" / "quality.json"
    if not quality.exists():
        log("examples/: quality in both stores")
        child("quality", "faiss", 0)
    results = json.loads(args.out.read_text()) if args.out and args.out.exists() else {}
    results["stores"] = {
        "command": command,
        "queries": n_queries,
        "anchors": anchors,
        "sizes": scale_stores.load(args.work),
        "quality": json.loads(quality.read_text()) if quality.exists() else {},
        "notes": results.get("stores", {}).get("notes", []),
    }
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        if "sizes" in results:
            args.out.with_suffix(".md").write_text(markdown(results) + "\n")
    print("\n".join(stores_table(results["stores"])))
    return 0


# ------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="chunks per collection")
    parser.add_argument("--work", type=Path, required=True, help="folder for the collections (big)")
    parser.add_argument("--out", type=Path, help="JSON of every figure (and a .md table beside it)")
    parser.add_argument("--vectors", choices=("anchored", "random"), default="anchored")
    parser.add_argument("--steps", default=",".join(STEPS), help="which steps to run")
    parser.add_argument("--hnsw-threshold", type=int, default=None, help="override the index-type switch")
    parser.add_argument("--keep", action="store_true", help="keep each collection after its steps")
    parser.add_argument(
        "--quick", action="store_true", help="20 queries, 64 anchors, one setting per index type"
    )
    parser.add_argument(
        "--store", default="faiss", help="faiss (the sweep above), or faiss,milvus side by side"
    )
    parser.add_argument(
        "--step", choices=[*STEPS, *(f"store-{s}" for s in STORE_STEPS)], help=argparse.SUPPRESS
    )
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.work = args.work.resolve()
    if args.hnsw_threshold is None:
        from retrieval import vectors

        args.hnsw_threshold = vectors.DEFAULT_HNSW_THRESHOLD
    if args.step:
        return run_step(args)

    args.work.mkdir(parents=True, exist_ok=True)
    anchors = scale_corpus.load_anchors(args.work, embedder, QUICK_ANCHORS if args.quick else None)
    queries = make_queries(anchors)[: 20 if args.quick else N_QUERIES]
    (args.work / "queries.json").write_text(json.dumps(queries, indent=1))
    given = list(argv if argv is not None else sys.argv[1:])
    for i, arg in enumerate(given):  # the command as recorded names no folder of this machine
        if arg == "--work" and i + 1 < len(given):
            given[i + 1] = "WORK"
        elif arg.startswith("--work="):
            given[i] = "--work=WORK"
    command = " ".join(["python", "benchmarks/bench_scale.py", *given])
    if args.store != "faiss":
        return run_stores(args, command, len(queries), len(anchors))
    results: dict[str, Any] = {"command": command, "sizes": {}}
    for size in [int(s) for s in args.sizes.split(",")]:
        work = args.work / str(size)
        for step in args.steps.split(","):
            if (work / f"{step}.json").exists():
                log(f"{size}: {step} done before, kept")
                continue
            log(f"{size}: {step}")
            command = [
                sys.executable,
                __file__,
                "--step",
                step,
                "--size",
                str(size),
                "--work",
                str(args.work),
            ]
            command += ["--vectors", args.vectors, "--hnsw-threshold", str(args.hnsw_threshold)]
            command += ["--quick"] * args.quick
            if subprocess.run(command, check=False).returncode:
                log(f"{size}: {step} failed; the later steps of this size are skipped")
                break
        results["sizes"][str(size)] = {
            step: json.loads((work / f"{step}.json").read_text())
            for step in STEPS
            if (work / f"{step}.json").exists()
        }
        if not args.keep and len(results["sizes"][str(size)]) == len(STEPS):
            shutil.rmtree(work / "docs", ignore_errors=True)
            shutil.rmtree(work / "index", ignore_errors=True)
            (work / "vectors.npy").unlink(missing_ok=True)
    results["anchors"] = len(anchors)
    results["queries"] = len(queries)
    results["vectors"] = args.vectors
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        args.out.with_suffix(".md").write_text(markdown(results) + "\n")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
