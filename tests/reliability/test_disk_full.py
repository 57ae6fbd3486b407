"""A disk that fills up during an ingest, on a small tmpfs: after the commit the data is kept and
the report warns (the search files are rebuilt from the database); before it, the previous index
is left exactly as it was. Never a truncated file, and no temporary left behind for long.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.chunking import ChunkSettings
from retrieval import store as store_module
from retrieval import vectors
from retrieval.indexer import ingest
from retrieval.lexical import LexicalIndex
from retrieval.manifest import StoreError
from retrieval.search import HybridSearcher
from retrieval.store import Index
from tests.conftest import HashEmbedder

SETTINGS = ChunkSettings(tokens=200, overlap=20)
INDEX_FILES = {"manifest.json", "chunks.sqlite", "chunks.sqlite-wal", "chunks.sqlite-shm", "faiss.index"}
INDEX_FILES |= {"bm25", ".lock"}
WARNING = (
    "the index is saved; its search files could not be written (No space left on device): "
    "they will be rebuilt from the database on next use"
)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs, enough for the test corpus's index and little more."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    folder = tmp_path / "disk"
    folder.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or 'mount failed'}")
    yield folder
    if subprocess.run(["umount", str(folder)], capture_output=True, check=False).returncode:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk``; remove the returned file to give them back."""
    filler = disk / "filler"
    handle = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    block = b"\0" * (1 << 16)
    try:
        while True:
            os.write(handle, block)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(handle)
    return filler


def _state(folder: Path) -> tuple[int, list[tuple[str, str, int]], list[str]]:
    """Generation, documents and a search's hits, checking that search agrees with the database."""
    with Index.open(folder) as index:
        docs = [(d.path, d.doc_id, d.chunks) for d in index.documents()]
        dense = {rowid for rowid, _ in index.dense_search(HashEmbedder().embed(["q"])[0], 100_000)}
        assert len(dense) == index.stats()["chunks"] and set(index.chunks(sorted(dense))) == dense
        hits = HybridSearcher(index, HashEmbedder()).search("FASTA sequence error", k=5)
        return index.generation, docs, [h.chunk.chunk_id for h in hits]


def _leftovers(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} - INDEX_FILES


def test_disk_full_after_the_commit_keeps_the_data_and_warns(
    corpus: Path, disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = disk / "ix"
    ingest([corpus], folder, HashEmbedder(), SETTINGS)
    previous_faiss = (folder / "faiss.index").read_bytes()
    previous_manifest = (folder / "manifest.json").read_bytes()
    (corpus / "notes.md").write_text("# Replaced\n\nEntirely new text about a FASTA sequence error.\n")
    (corpus / "code" / "codec.py").unlink()

    real_save = vectors.save

    def save_on_a_full_disk(index, path):
        fill(disk)  # the commit is done: what follows has no space left
        real_save(index, path)

    monkeypatch.setattr(store_module.vectors, "save", save_on_a_full_disk)
    report = ingest([corpus], folder, HashEmbedder(), SETTINGS)
    monkeypatch.undo()

    assert report.usable and report.warnings == [WARNING]
    assert report.count("ingested") == 1 and report.count("removed") == 1 and report.count("failed") == 0
    assert (folder / "faiss.index").read_bytes() == previous_faiss  # the previous file, whole
    assert (folder / "manifest.json").read_bytes() == previous_manifest
    LexicalIndex.load(folder / "bm25")
    assert _leftovers(folder) == set()

    generation, docs, hits = _state(folder)  # rebuilt in memory from the database
    assert json.loads(previous_manifest)["generation"] == generation - 1
    assert "code/codec.py" not in {d[0] for d in docs} and len(hits) == 5
    with Index.open(folder) as index:
        assert "Entirely new text" in index.document("notes.md").text

    # what a writer killed on the full disk leaves behind goes with the next run, space permitting
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    for name in (f".faiss.index.tmp-{gone.pid}-0123abcd", f"faiss.index.tmp{gone.pid}"):
        (folder / name).write_bytes(previous_faiss[: len(previous_faiss) // 2])
    (folder / f"bm25.tmp{gone.pid}").mkdir()
    (disk / "filler").unlink()
    report = ingest([corpus], folder, HashEmbedder(), SETTINGS)
    assert report.warnings == [] and report.count("unchanged") == 4
    assert _leftovers(folder) == set()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["generation"] == generation + 1
    assert vectors.load(folder / "faiss.index").ntotal == sum(d[2] for d in docs)
    assert _state(folder)[1:] == (docs, hits)


def test_disk_full_before_the_commit_leaves_the_previous_index(corpus: Path, disk: Path) -> None:
    folder = disk / "ix"
    ingest([corpus], folder, HashEmbedder(), SETTINGS)
    before = _state(folder)
    files_before = {
        p.name: p.read_bytes() for p in folder.iterdir() if p.name in {"faiss.index", "manifest.json"}
    }
    for i in range(40):
        (corpus / f"extra{i}.md").write_text(f"# Extra {i}\n\n" + f"words of extra file {i} here\n" * 300)
    (corpus / "code" / "codec.py").unlink()

    class FillingEmbedder(HashEmbedder):
        def embed(self, texts):
            if not (disk / "filler").exists():
                fill(disk)  # inside the write transaction, before anything is committed
            return super().embed(texts)

    with pytest.raises(
        StoreError, match=r"/ix: the index could not be written \(.*full.*\); it is left as it was$"
    ):
        ingest([corpus], folder, FillingEmbedder(), SETTINGS)
    (disk / "filler").unlink()
    assert _state(folder) == before
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name in files_before} == files_before
    assert _leftovers(folder) == set()
