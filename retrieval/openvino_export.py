"""A sentence-transformers model as one OpenVINO graph (token ids in, the normalised sentence vector
out) with its tokenizer, exported once from the local model folder into longqa's cache folder.

The export reads the model folder only, never the hub: sentence-transformers loads the folder,
its whole pipeline (transformer, pooling, normalisation) is traced into one graph by OpenVINO's
PyTorch converter, and the fast tokenizer is saved as sentence-transformers configures it
(truncation at the model's ``max_seq_length``, padding to the longest text). The files' sha256
are recorded beside them and checked on every load: a missing, truncated or otherwise damaged
export is exported again, never an error. The folder's name is a digest of the model folder's
files (names, sizes, times) and of the library versions, so a changed model or library gets a
fresh export. This module must never write a half-made export where a reader looks: the folder is
built beside its place and swapped in whole.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from core.cache import cache_root
from core.errors import LongqaError, reason_of
from core.files import atomic_folder, remove_stale, sha256_file

log = logging.getLogger(__name__)

EXPORT_FORMAT = 1
GRAPH, WEIGHTS, TOKENIZER, RECORD = "model.xml", "model.bin", "tokenizer.json", "export.json"
CHECKED = (GRAPH, WEIGHTS, TOKENIZER)
FOLDER_PREFIX = "openvino-"


@dataclass(frozen=True)
class Export:
    """A verified export: its folder, the graph's inputs (tokenizer fields) and text handling."""

    folder: Path
    inputs: tuple[str, ...]
    lowercase: bool

    @property
    def graph(self) -> Path:
        return self.folder / GRAPH

    @property
    def tokenizer(self) -> Path:
        return self.folder / TOKENIZER


def exports_folder() -> Path:
    return cache_root() / "embedders"


def exported(model_path: str) -> Export:
    """The verified export of the model at ``model_path``, made (or made again) when needed."""
    folder = exports_folder() / f"{FOLDER_PREFIX}{source_key(model_path)}"
    found = verified(folder)
    if found is not None:
        return found
    if folder.exists():
        log.warning("%s: the exported embedding model does not match its checksums; exporting again", folder)
    log.info("exporting the embedding model %s for OpenVINO (once)", model_path)
    remove_stale(exports_folder())  # what a killed export left behind
    try:
        _export(model_path, folder)
    except OSError as exc:  # another process may have swapped in the same export meanwhile
        if verified(folder) is None:
            raise LongqaError(
                f"{folder}: cannot write the exported embedding model ({reason_of(exc)})"
            ) from exc
    except LongqaError:
        raise
    except Exception as exc:  # a model the converter cannot trace: one line, and the way out
        raise LongqaError(
            f"{model_path}: cannot export the embedding model for OpenVINO ({type(exc).__name__}: "
            f'{reason_of(exc)}); set embedder_backend = "torch"'
        ) from exc
    found = verified(folder)
    if found is None:
        raise LongqaError(f"{folder}: the exported embedding model does not verify after export")
    _remove_older_exports(model_path, keep=folder)
    return found


def source_key(model_path: str) -> str:
    """A digest of what the export is made from: the model folder's files and the libraries."""
    root = Path(model_path)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    described: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "model": str(root.resolve()),
        "files": [[str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns] for p in files],
        "libraries": {name: _version(name) for name in ("openvino", "sentence-transformers", "transformers")},
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:24]


def verified(folder: Path) -> Export | None:
    """The export in ``folder`` if its record is readable and every file has its recorded sha256."""
    try:
        record = json.loads((folder / RECORD).read_text())
        if record["format"] != EXPORT_FORMAT:
            return None
        for name in CHECKED:
            if sha256_file(folder / name) != record["sha256"][name]:
                return None
        return Export(folder, tuple(record["inputs"]), bool(record["lowercase"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def sentence_graph(model: Any) -> tuple[Any, tuple[str, ...], tuple[Any, ...]]:
    """The sentence-transformers pipeline as a module of positional tensors (what a tracer takes),
    the names of those tensors, and a sample of them to trace with."""
    import torch

    prepare = getattr(model, "preprocess", None) or model.tokenize  # sentence-transformers 6 / 5
    sample = prepare(["An example sentence.", "A second, somewhat longer sentence to trace the model with."])
    names = tuple(k for k, v in sample.items() if isinstance(v, torch.Tensor))
    extra = {k: v for k, v in sample.items() if not isinstance(v, torch.Tensor)}  # e.g. modality

    class SentenceGraph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.model({**dict(zip(names, tensors)), **extra})["sentence_embedding"]

    return SentenceGraph().eval(), names, tuple(sample[n] for n in names)


def load_sentence_transformer(model_path: str) -> Any:
    """The model folder loaded by sentence-transformers on the CPU, quietly."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    return SentenceTransformer(model_path, device="cpu").eval()


def _export(model_path: str, folder: Path) -> None:
    """Trace the model into an OpenVINO graph and write it, its tokenizer and its record."""
    import openvino as ov
    import torch

    model = load_sentence_transformer(model_path)
    module, names, sample = sentence_graph(model)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer notes Python branches: each goes one way for any shape
        graph = ov.convert_model(module, example_input=sample)
    for port, name in zip(graph.inputs, names):
        port.get_tensor().set_names({name})
    tokenizer = fast_tokenizer(model)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with atomic_folder(folder) as tmp:
        tmp.mkdir()
        ov.save_model(graph, tmp / GRAPH, compress_to_fp16=False)
        tokenizer.save(str(tmp / TOKENIZER))
        record = {
            "format": EXPORT_FORMAT,
            "source": model_path,
            "inputs": list(names),
            "lowercase": bool(getattr(model[0], "do_lower_case", False)),
            "max_seq_length": model.max_seq_length,
            "sha256": {name: sha256_file(tmp / name) for name in CHECKED},
        }
        (tmp / RECORD).write_text(json.dumps(record, indent=2) + "\n")


def fast_tokenizer(model: Any) -> Any:
    """The model's fast tokenizer, truncating and padding as sentence-transformers does."""
    hf = model.tokenizer
    backend = getattr(hf, "backend_tokenizer", None)
    if backend is None:
        raise LongqaError(
            "the embedding model has no fast tokenizer, which the openvino backend needs; "
            'set embedder_backend = "torch"'
        )
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(backend.to_str())
    tokenizer.enable_truncation(model.max_seq_length)
    tokenizer.enable_padding(pad_id=hf.pad_token_id, pad_token=hf.pad_token)
    return tokenizer


def _remove_older_exports(model_path: str, keep: Path) -> None:
    """Drop exports of the same model folder made from older files or libraries (best effort)."""
    for folder in exports_folder().glob(f"{FOLDER_PREFIX}*"):
        if folder == keep or not folder.is_dir():
            continue
        try:
            source = json.loads((folder / RECORD).read_text()).get("source")
        except (OSError, ValueError, AttributeError):
            continue
        if source == model_path:
            shutil.rmtree(folder, ignore_errors=True)
