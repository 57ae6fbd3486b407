"""The retrieval tests run against both stores: an index folder (FAISS + BM25 + SQLite) and a
Milvus Lite file (the real engine, embedded; ``retrieval.milvus``)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
