"""An index folder's manifest.json (DESIGN.md §4): what the index was built with, checked on every
open, so that an index of another embedding model or format version is refused, never mixed; and
which generation of the database its search files hold. Written last, whole, after those files.

It also names the embedder variant (how the model computed its vectors). Variants whose vectors
agree closely enough to share an index are one family, so an index built by one is searched and
extended by the others without re-embedding: against torch fp32, on every chunk of examples/,
OpenVINO f32 is within 1e-6 cosine (the same rankings) and bf16 within 1e-4 (it can swap two
chunks whose scores are that close, mixed in one index or not); ``benchmarks/bench_embed.py``. Any
other variant (an int8 model's vectors are 0.98-0.99 cosine from torch's, and rank differently)
only matches itself: an index built with it is refused with a message, like one of another model.

Also the errors of an index that cannot be used as asked.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from core.errors import LongqaError, reason_of
from core.files import atomic_write

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class StoreError(LongqaError):
    """An index that cannot be used as asked (missing, incompatible, busy)."""


class IndexMismatchError(StoreError):
    """An index built with another embedding model or format version."""


class IndexBusy(StoreError):
    """An index another ingest is writing to."""


@dataclass(frozen=True)
class IndexConfig:
    """What an index is built with; recorded in the manifest and checked on every open."""

    embedding_model: str
    dimension: int
    chunk_tokens: int
    chunk_overlap: int
    tokenizer: str = "cl100k_base"
    embedder_variant: str | None = None
    """None: not said (an embedder that does not name its variant), so not checked."""


FLOAT_VARIANTS = frozenset({"torch-fp32", "openvino-f32", "openvino-bf16"})
LEGACY_VARIANT = "torch-fp32"  # what every index was built with before variants were recorded


def same_vectors(variant: str, other: str) -> bool:
    """Whether vectors of the two embedder variants may share an index (see the module's note)."""
    return variant == other or {variant, other} <= FLOAT_VARIANTS


def read_manifest(folder: Path) -> dict | None:
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise StoreError(f"{path}: unreadable manifest ({reason_of(exc)})") from exc
    except ValueError as exc:
        raise StoreError(f"{path}: unreadable manifest ({exc})") from exc
    if not isinstance(data, dict):
        raise StoreError(f"{path}: not an index manifest; re-ingest into a new folder")
    return data


def write_manifest(folder: Path, config: IndexConfig, generation: int, faiss_kind: str) -> None:
    """Record ``config`` and the generation the search files hold, replacing the file whole."""
    data = {
        "format_version": FORMAT_VERSION,
        **asdict(config),
        "generation": generation,
        "faiss": faiss_kind,
        "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    atomic_write(folder / MANIFEST, json.dumps(data, indent=2) + "\n")


def check_manifest(folder: Path | str, manifest: dict, expect: IndexConfig | None) -> IndexConfig:
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{folder}: index format version {version}, but this longqa reads version "
            f"{FORMAT_VERSION}; re-ingest into a new --index folder"
        )
    try:
        config = IndexConfig(
            embedding_model=manifest["embedding_model"],
            dimension=int(manifest["dimension"]),
            chunk_tokens=int(manifest["chunk_tokens"]),
            chunk_overlap=int(manifest["chunk_overlap"]),
            tokenizer=manifest.get("tokenizer", "cl100k_base"),
            embedder_variant=manifest.get("embedder_variant", LEGACY_VARIANT),
        )
    except (KeyError, ValueError) as exc:
        raise StoreError(f"{folder}: manifest.json lacks {exc}; re-ingest into a new folder") from exc
    if expect is not None and (
        expect.embedding_model != config.embedding_model or expect.dimension != config.dimension
    ):
        raise IndexMismatchError(
            f"{folder}: built with embedding model {config.embedding_model} ({config.dimension}-d), "
            f"not {expect.embedding_model} ({expect.dimension}-d); use that model or re-ingest "
            "into a new --index folder"
        )
    if (
        expect is not None
        and expect.embedder_variant is not None
        and config.embedder_variant is not None
        and not same_vectors(expect.embedder_variant, config.embedder_variant)
    ):
        raise IndexMismatchError(
            f"{folder}: built with embedder variant {config.embedder_variant}, whose vectors differ from "
            f"those of {expect.embedder_variant}; set embedder_backend to the one it was built with or "
            "re-ingest into a new --index folder"
        )
    return config
