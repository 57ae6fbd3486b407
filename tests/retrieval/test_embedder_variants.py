"""The OpenVINO embedder against torch's on real text, its cached export, and indexes built by
another embedder variant.

The OpenVINO export is made once per test session into the session's cache folder (about 10-20 s
on 2 cores); the vectors are compared with sentence-transformers' own (torch, fp32).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.errors import LongqaError
from ingest.chunking import ChunkSettings
from ingest.pipeline import chunk_document, load_document
from retrieval import openvino_export
from retrieval.embeddings import OpenVinoEmbedder, SentenceEmbedder, load_embedder
from retrieval.indexer import embedding_text, ingest
from retrieval.manifest import MANIFEST, IndexConfig, IndexMismatchError, same_vectors
from retrieval.search import HybridSearcher
from retrieval.store import Index
from tests.conftest import EXAMPLES, HashEmbedder
from tests.retrieval.test_quality import QUESTIONS, recall_at

# Measured 2026-11-30 on the 559 chunks of examples/, against torch fp32: OpenVINO f32 cosine min
# 0.9999999, bf16 0.99988 (mean 0.99998); int8 variants reach only 0.98-0.99, which these catch.
COSINE_FLOOR = {"f32": 0.99999, "bf16": 0.999}


def real_texts() -> list[str]:
    """Chunks of a real PDF and of real code as the indexer embeds them, and the test questions."""
    texts = []
    for rel in ("fasta_guide.pdf", "simplejson/simplejson/decoder.py"):
        document = load_document(EXAMPLES / rel, rel)
        chunks = chunk_document(document, ChunkSettings())[:40]
        texts += [embedding_text(c.span.path, c.section, c.text) for c in chunks]
    return texts + [q["question"] for q in QUESTIONS] + ["x", "über naïve café — 日本語"]


@pytest.fixture(scope="module")
def openvino_embedder() -> OpenVinoEmbedder:
    """The default backend: OpenVINO in f32."""
    embedder = load_embedder()
    assert isinstance(embedder, OpenVinoEmbedder) and embedder.variant == "openvino-f32"
    return embedder


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["f32", "bf16"])
def test_openvino_vectors_match_torch_on_real_text(precision: str, real_embedder) -> None:
    embedder = OpenVinoEmbedder(precision=precision)
    if embedder.precision != precision:
        pytest.skip(f"this CPU has no native {precision}")
    texts = real_texts()
    ours, theirs = embedder.embed(texts), real_embedder.embed(texts)
    assert ours.shape == theirs.shape == (len(texts), 384) and ours.dtype == np.float32
    cosines = (ours * theirs).sum(axis=1)
    print(f"{embedder.variant} vs torch: cosine min {cosines.min():.7f}, mean {cosines.mean():.7f}")
    assert cosines.min() >= COSINE_FLOOR[precision]
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-3)
    # a text alone gets the vector it gets among others (batches sorted by length, padded)
    assert (embedder.embed(texts[3:4])[0] @ ours[3]) >= COSINE_FLOOR[precision]


@pytest.mark.slow
def test_exported_tokenizer_gives_sentence_transformers_tokens(openvino_embedder) -> None:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    texts = real_texts()
    model = SentenceTransformer(openvino_embedder._path, device="cpu")
    prepare = getattr(model, "preprocess", None) or model.tokenize
    theirs = prepare(texts)
    export = openvino_export.exported(openvino_embedder._path)
    encoded = Tokenizer.from_file(str(export.tokenizer)).encode_batch(texts)
    assert np.array_equal(np.array([e.ids for e in encoded]), theirs["input_ids"].numpy())
    assert np.array_equal(np.array([e.attention_mask for e in encoded]), theirs["attention_mask"].numpy())
    assert max(len(e.ids) for e in encoded) == model.max_seq_length  # the long chunks are truncated


@pytest.mark.slow
def test_recall_at_5_is_not_lower_than_torch(
    openvino_embedder, real_embedder, examples_index: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "index"
    report = ingest([EXAMPLES], folder, openvino_embedder, ChunkSettings())
    assert report.count("failed") == 0
    assert json.loads((folder / MANIFEST).read_text())["embedder_variant"] == openvino_embedder.variant
    for mode in ("hybrid", "dense"):
        with Index.open(examples_index) as index:
            torch_recall, torch_missed = recall_at(HybridSearcher(index, real_embedder), mode)
        with Index.open(folder) as index:
            ours, missed = recall_at(HybridSearcher(index, openvino_embedder), mode)
        print(f"recall@5 {mode}: torch {torch_recall:.2f} ({torch_missed}), openvino {ours:.2f} ({missed})")
        assert ours >= torch_recall


@pytest.mark.slow
def test_export_is_cached_and_a_damaged_one_is_rebuilt(
    openvino_embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = openvino_embedder._path
    export = openvino_export.exported(path)
    weights = export.folder / openvino_export.WEIGHTS
    size = weights.stat().st_size

    def no_export(*_: object) -> None:
        raise AssertionError("a verified export must be loaded, not made again")

    with monkeypatch.context() as patch:
        patch.setattr(openvino_export, "_export", no_export)
        assert openvino_export.exported(path) == export

    with weights.open("r+b") as handle:  # truncated, as by a full disk or a killed copy
        handle.truncate(size // 2)
    assert openvino_export.verified(export.folder) is None
    assert openvino_export.exported(path) == export
    assert weights.stat().st_size == size

    (export.folder / openvino_export.RECORD).write_text("{not json")
    rebuilt = OpenVinoEmbedder()
    vectors = rebuilt.embed(["How do I set the gap penalties?"])
    assert openvino_export.verified(export.folder) is not None
    assert np.allclose(vectors, openvino_embedder.embed(["How do I set the gap penalties?"]), atol=1e-5)


def test_an_export_folder_without_its_files_is_not_verified(tmp_path: Path) -> None:
    assert openvino_export.verified(tmp_path / "missing") is None
    (tmp_path / openvino_export.RECORD).write_text(json.dumps({"format": openvino_export.EXPORT_FORMAT}))
    assert openvino_export.verified(tmp_path) is None


class VariantEmbedder(HashEmbedder):
    """The hash embedder, naming a variant."""

    def __init__(self, variant: str) -> None:
        super().__init__()
        self.variant = variant


def _expect(variant: str | None) -> IndexConfig:
    return IndexConfig(HashEmbedder.name, HashEmbedder.dimension, 384, 32, embedder_variant=variant)


def test_float_variants_share_an_index(corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ix"
    ingest([corpus], folder, VariantEmbedder("torch-fp32"), ChunkSettings())
    for variant in ("openvino-bf16", "openvino-f32", None):
        with Index.open(folder, expect=_expect(variant)) as index:
            assert index.config.embedder_variant == "torch-fp32"
    report = ingest([corpus], folder, VariantEmbedder("openvino-bf16"), ChunkSettings())
    assert report.count("failed") == 0 and report.count("unchanged") > 0  # nothing re-embedded
    assert same_vectors("openvino-bf16", "torch-fp32") and not same_vectors("onnx-int8", "torch-fp32")


def test_an_index_of_another_variant_is_refused_with_a_message(corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ix"
    ingest([corpus], folder, VariantEmbedder("onnx-int8"), ChunkSettings())
    with pytest.raises(
        IndexMismatchError, match=r"embedder variant onnx-int8, whose vectors differ"
    ) as error:
        Index.open(folder, expect=_expect("openvino-bf16"))
    assert "\n" not in str(error.value)
    with pytest.raises(IndexMismatchError):
        ingest([corpus], folder, VariantEmbedder("torch-fp32"), ChunkSettings())
    with Index.open(folder, expect=_expect("onnx-int8")) as index:
        assert index.config.embedder_variant == "onnx-int8"


def test_an_index_from_before_variants_counts_as_torch(corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ix"
    ingest([corpus], folder, HashEmbedder(), ChunkSettings())
    manifest = json.loads((folder / MANIFEST).read_text())
    del manifest["embedder_variant"]
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with Index.open(folder, expect=_expect("openvino-bf16")) as index:
        assert index.config.embedder_variant == "torch-fp32"
    with pytest.raises(IndexMismatchError, match="torch-fp32"):
        Index.open(folder, expect=_expect("onnx-int8"))


def test_embedder_backend_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.settings import load_settings

    monkeypatch.chdir(tmp_path)  # no longqa.toml
    monkeypatch.delenv("LONGQA_CONFIG", raising=False)
    monkeypatch.delenv("LONGQA_EMBEDDER_BACKEND", raising=False)
    assert load_settings().embedder_backend == "openvino"
    assert load_settings(embedder_backend="torch").embedder_backend == "torch"
    one_line = (
        "^setting embedder_backend = 'onnx': not an embedder backend; use openvino, openvino-bf16, torch$"
    )
    with pytest.raises(LongqaError, match=one_line):
        load_settings(embedder_backend="onnx")
    with pytest.raises(LongqaError, match="unknown embedder backend"):
        load_embedder(backend="onnx")
    assert isinstance(load_embedder(backend="torch"), SentenceEmbedder)
    assert load_embedder(backend="openvino-bf16").variant in ("openvino-bf16", "openvino-f32")


def test_a_model_that_is_not_a_folder_fails_at_once_without_the_hub() -> None:
    with pytest.raises(LongqaError, match=r"embedding model folder not found: BAAI/bge-small-en-v1\.5"):
        OpenVinoEmbedder("BAAI/bge-small-en-v1.5")
