"""The retrieval tests run against both stores: an index folder (FAISS + BM25 + SQLite) and a
Milvus Lite file (the real engine, embedded; ``retrieval.milvus``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import EXAMPLES

STORES = ("folder", "milvus")


def index_at(tmp_path: Path, store: str, name: str = "ix") -> Path:
    """Where a test's index lives in ``store``: a folder, or a ``milvus:`` spec (as a Path, the
    way ``--index`` and the settings hold it)."""
    return Path(f"milvus:{tmp_path / name}.db") if store == "milvus" else tmp_path / name


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def ix(tmp_path: Path, store: str) -> Path:
    """The test's index, in each store in turn."""
    return index_at(tmp_path, store)


class StoredVectors:
    """The real embedder, answering from the vectors an index folder already holds (so a second
    index of the same files gets the same vectors without embedding them again)."""

    def __init__(self, model, folder: Path) -> None:
        from retrieval.indexer import embedding_text

        self.model, self.name, self.dimension = model, model.name, model.dimension
        self.variant = getattr(model, "variant", None)
        connection = sqlite3.connect(f"file:{folder / 'chunks.sqlite'}?mode=ro", uri=True)
        rows = connection.execute(
            "SELECT d.path, c.section, c.text, c.embedding "
            "FROM chunks c JOIN documents d ON d.id = c.document"
        )
        self.vectors = {
            embedding_text(path, section, text): np.frombuffer(blob, dtype=np.float32)
            for path, section, text, blob in rows
        }
        connection.close()

    def embed(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.model.embed(missing)))
        return np.stack([self.vectors[t] for t in texts])


@pytest.fixture(scope="session")
def examples_milvus_index(
    tmp_path_factory: pytest.TempPathFactory, examples_index: Path, real_embedder
) -> Path:
    """examples/ in a Milvus Lite file, with the vectors of ``examples_index``."""
    from ingest.chunking import ChunkSettings
    from retrieval.indexer import ingest

    spec = Path(f"milvus:{tmp_path_factory.mktemp('examples-milvus') / 'examples.db'}")
    report = ingest([EXAMPLES], spec, StoredVectors(real_embedder, examples_index), ChunkSettings())
    assert report.count("failed") == 0, report.to_dict()
    return spec
