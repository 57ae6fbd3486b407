"""The index: incremental re-ingest, removal, interruption, manifest refusal, one document's failure
staying its own, in both stores (``ix``: a folder, then a Milvus Lite file); and the folder
store's own files: IVF, derived files, paths that are not an index."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.errors import LongqaError
from ingest.chunking import ChunkSettings
from ingest.document import Document, make_chunk
from retrieval import indexer as indexer_module
from retrieval import store as store_module
from retrieval import vectors
from retrieval.indexer import embedding_text, ingest
from retrieval.manifest import IndexConfig, IndexMismatchError, StoreError
from retrieval.rows import DocumentInfo, KnownFile
from retrieval.search import HybridSearcher
from retrieval.store import Index
from retrieval.stores import open_index
from retrieval.writer import DocumentNotStored, NewDocument
from tests.conftest import ROOT, HashEmbedder
from tests.retrieval.conftest import index_at

SETTINGS = ChunkSettings(tokens=200, overlap=20)


def run(corpus: Path, folder: Path, embedder: HashEmbedder, **kwargs):
    return ingest([corpus], folder, embedder, kwargs.pop("chunking", SETTINGS), **kwargs)


def snapshot(folder: Path) -> tuple[int, list[tuple[str, str, int]], list[str]]:
    with open_index(folder) as index:
        docs = [(d.path, d.doc_id, d.chunks) for d in index.documents()]
        searcher = HybridSearcher(index, HashEmbedder())
        hits = [h.chunk.chunk_id for h in searcher.search("FASTA sequence error", k=5)]
        return index.generation, docs, hits


def test_first_ingest_reports_every_file(corpus: Path, ix: Path, hash_embedder: HashEmbedder) -> None:
    report = run(corpus, ix, hash_embedder)
    assert report.count("ingested") == 5 and report.count("failed") == 0
    assert report.chunks_embedded == len(hash_embedder.embedded)
    assert report.pages_read == 37
    assert set(report.seconds) >= {"parse", "chunk", "embed", "write"}
    assert report.seconds["chunk"] > 0 and report.seconds["embed"] > 0


def test_unchanged_files_are_not_embedded_again(corpus: Path, ix: Path) -> None:
    run(corpus, ix, HashEmbedder())
    again = HashEmbedder()
    report = run(corpus, ix, again)
    assert report.count("unchanged") == 5 and report.count("ingested") == 0
    assert again.embedded == []


def test_changing_one_file_reembeds_exactly_its_chunks(corpus: Path, ix: Path) -> None:
    run(corpus, ix, HashEmbedder())
    notes = corpus / "notes.md"
    notes.write_text(notes.read_text() + "\n## Added\n\nA new paragraph about sequence alignment.\n")
    second = HashEmbedder()
    report = run(corpus, ix, second)
    changed = [f for f in report.files if f.status == "ingested"]
    assert [f.path for f in changed] == ["notes.md"]
    with open_index(ix) as index:
        notes_info = next(d for d in index.documents() if d.path == "notes.md")
        assert len(second.embedded) == notes_info.chunks == changed[0].chunks
        chunk_texts = {c.text for c in index.all_chunks() if c.span.path == "notes.md"}
    assert any("A new paragraph" in t for t in chunk_texts)
    assert all(any(text.endswith(c) for c in chunk_texts) for text in second.embedded)


def test_deleted_files_lose_their_chunks(corpus: Path, ix: Path) -> None:
    run(corpus, ix, HashEmbedder())
    (corpus / "code" / "errors.go").unlink()
    report = run(corpus, ix, HashEmbedder())
    assert [f.path for f in report.files if f.status == "removed"] == ["code/errors.go"]
    with open_index(ix) as index:
        assert "code/errors.go" not in {d.path for d in index.documents()}
        assert all(c.span.path != "code/errors.go" for c in index.all_chunks())
        assert index.dense_search(HashEmbedder().embed(["x"])[0], 1000)
        ids = {rowid for rowid, _ in index.dense_search(HashEmbedder().embed(["x"])[0], 10_000)}
        assert set(index.chunks(sorted(ids))) == ids  # FAISS holds no removed rows


def test_corrupt_file_is_reported_and_the_rest_ingested(corpus: Path, ix: Path) -> None:
    (corpus / "broken.pdf").write_bytes((corpus / "fasta_guide.pdf").read_bytes()[:5000])
    report = run(corpus, ix, HashEmbedder())
    broken = next(f for f in report.files if f.path == "broken.pdf")
    assert broken.status == "failed" and "damaged or truncated" in broken.reason
    assert report.count("ingested") == 5 and report.usable


def test_error_during_ingest_leaves_previous_index_intact(corpus: Path, ix: Path) -> None:
    run(corpus, ix, HashEmbedder())
    before = snapshot(ix)
    (corpus / "notes.md").write_text("# Replaced\n\nEntirely new text.\n")
    (corpus / "code" / "codec.py").unlink()

    class Failing(HashEmbedder):
        def embed(self, texts):
            raise RuntimeError("embedding died")

    with pytest.raises(RuntimeError):
        run(corpus, ix, Failing())
    assert snapshot(ix) == before


def test_failure_after_commit_keeps_the_data_and_warns(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(corpus, tmp_path / "ix", HashEmbedder())
    previous_faiss = (tmp_path / "ix" / "faiss.index").read_bytes()
    (corpus / "code" / "codec.py").unlink()

    def crash(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module.vectors, "save", crash)
    report = run(corpus, tmp_path / "ix", HashEmbedder())
    monkeypatch.undo()
    assert [f.path for f in report.files if f.status == "removed"] == ["code/codec.py"]
    assert report.warnings == [
        "the index is saved; its search files could not be written (No space left on device): "
        "they will be rebuilt from the database on next use"
    ]
    assert report.to_dict()["warnings"] == report.warnings
    assert (tmp_path / "ix" / "faiss.index").read_bytes() == previous_faiss
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    generation, docs, _hits = snapshot(tmp_path / "ix")
    assert manifest["generation"] == generation - 1  # derived files lag behind the database
    assert "code/codec.py" not in {d[0] for d in docs}
    with Index.open(tmp_path / "ix") as index:
        searchable = {r for r, _ in index.dense_search(HashEmbedder().embed(["q"])[0], 10_000)}
        assert set(index.chunks(sorted(searchable))) == searchable
        assert len(searchable) == index.stats()["chunks"]


def test_killed_ingest_leaves_previous_index_readable(corpus: Path, ix: Path) -> None:
    folder = ix
    run(corpus, folder, HashEmbedder())
    before = snapshot(folder)
    for i in range(30):
        (corpus / f"extra{i}.md").write_text(f"# Extra {i}\n\n" + "more words here\n" * 50)
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from tests.conftest import HashEmbedder
        from retrieval.indexer import embedding_text, ingest
        from ingest.chunking import ChunkSettings

        class Slow(HashEmbedder):
            def embed(self, texts):
                print("embedding", flush=True)
                time.sleep(0.5)
                return super().embed(texts)

        ingest([Path({str(corpus)!r})], Path({str(folder)!r}), Slow(), ChunkSettings(200, 20))
    """)
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "embedding"
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert snapshot(folder) == before


def test_index_built_with_another_model_is_refused(corpus: Path, ix: Path) -> None:
    run(corpus, ix, HashEmbedder())

    class Other(HashEmbedder):
        name = "test/other-model"

    with pytest.raises(IndexMismatchError, match="built with embedding model test/hash-embedder"):
        run(corpus, ix, Other())
    with pytest.raises(IndexMismatchError):
        open_index(ix, expect=IndexConfig("test/other-model", 16, 200, 20))


def test_index_of_another_format_version_is_refused(corpus: Path, tmp_path: Path) -> None:
    run(corpus, tmp_path / "ix", HashEmbedder())
    manifest_path = tmp_path / "ix" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 99
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="format version 99"):
        Index.open(tmp_path / "ix")


def test_missing_index_says_how_to_make_one(tmp_path: Path, store: str) -> None:
    with pytest.raises(StoreError, match=r"no index at .*: run `longqa ingest"):
        open_index(index_at(tmp_path, store, "nothing"))


def test_changed_chunk_settings_rechunk_everything(corpus: Path, ix: Path) -> None:
    run(corpus, ix, HashEmbedder())
    report = run(corpus, ix, HashEmbedder(), chunking=ChunkSettings(tokens=120, overlap=10))
    assert report.rechunked and report.count("ingested") == 5
    with open_index(ix) as index:
        assert index.config.chunk_tokens == 120 and index.config.chunk_overlap == 10


def test_ivf_above_the_threshold(corpus: Path, tmp_path: Path) -> None:
    run(corpus, tmp_path / "ix", HashEmbedder(), hnsw_threshold=10)
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert manifest["faiss"] == "ivf"
    with Index.open(tmp_path / "ix", hnsw_threshold=10) as index:
        assert vectors.kind(vectors.load(tmp_path / "ix" / "faiss.index")) == "ivf"
        probe = index.all_chunks()[3]
        vector = HashEmbedder().embed([embedding_text(probe.span.path, probe.section, probe.text)])[0]
        top = index.dense_search(vector, 1)
        assert index.chunks([top[0][0]])[top[0][0]].chunk_id == probe.chunk_id


def _document(path: str, text: str, duplicate: bool = False) -> NewDocument:
    """A NewDocument of two chunks; with ``duplicate`` both carry the same chunk id."""
    doc = Document(doc_id=f"id-{path}", path=path, kind="text", text=text)
    middle = len(text) // 2
    chunks = [make_chunk(doc, 0, middle, 0, 5), make_chunk(doc, middle, len(text), 1, 5)]
    if duplicate:
        chunks[1] = make_chunk(doc, 0, middle, 1, 5)
    embeddings = HashEmbedder().embed([c.text for c in chunks])
    return NewDocument(
        root="/r", source=f"/r/{path}", size=len(text), document=doc, chunks=chunks, embeddings=embeddings
    )


def test_every_field_written_reads_back_as_it_was(ix: Path) -> None:
    second_page = "Second page, where the Details are.\n"
    text = "First page, line one.\nLine two.\n\n" + second_page
    starts = (0, len(text) - len(second_page))
    doc = Document(
        doc_id="id-manual",
        path="manual.pdf",
        kind="pdf",
        text=text,
        language="en",
        pages=2,
        page_starts=starts,
        mtime=1234.5,
        title="The Manual",
        sections=((0, "Opening"), (starts[1], "Details")),
        notes=("page 2 was scanned",),
    )
    chunks = [make_chunk(doc, 0, starts[1] - 2, 0, 7, "Opening"), make_chunk(doc, starts[1], len(text), 1, 5)]
    embeddings = HashEmbedder().embed([c.text for c in chunks])
    item = NewDocument("/r", "/r/manual.pdf", 999, doc, chunks, embeddings)
    config = IndexConfig(HashEmbedder.name, HashEmbedder.dimension, 200, 20)
    with open_index(ix, expect=config, create=True) as index:
        with index.write() as writer:
            writer.add(item)
        assert index.document("manual.pdf") == doc
        assert index.all_chunks() == chunks
        by_rowid = index.chunks(list(range(1, 10)))
        assert sorted(by_rowid.values(), key=lambda c: c.ordinal) == chunks
        [info] = index.documents()
        assert info == DocumentInfo(
            row=info.row,
            root="/r",
            path="manual.pdf",
            source="/r/manual.pdf",
            doc_id="id-manual",
            kind="pdf",
            language="en",
            pages=2,
            title="The Manual",
            notes=("page 2 was scanned",),
            size=999,
            chunks=2,
            tokens=12,
        )
        assert index.known_files() == {"manual.pdf": KnownFile("/r", "id-manual", info.row)}
        assert index.stats() == {"documents": 1, "chunks": 2, "tokens": 12}
        opening = next(rowid for rowid, chunk in by_rowid.items() if chunk.section == "Opening")
        assert [rowid for rowid, _ in index.lexical_search("Opening", 2)] == [opening]  # BM25 reads sections


def test_unreadable_search_files_are_rebuilt_and_left_alone(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "ix"
    run(corpus, folder, HashEmbedder())
    before = snapshot(folder)
    (folder / "faiss.index").write_bytes(b"not a FAISS index")
    with caplog.at_level(logging.WARNING):
        assert snapshot(folder) == before
    assert "derived index files unreadable" in caplog.text
    assert (folder / "faiss.index").read_bytes() == b"not a FAISS index"  # a reader never writes


def test_a_document_the_database_refuses_fails_alone(ix: Path) -> None:
    config = IndexConfig(HashEmbedder.name, HashEmbedder.dimension, 200, 20)
    with open_index(ix, expect=config, create=True) as index:
        with index.write() as writer:
            writer.add(_document("a.md", "first good document text"))
            writer.add(_document("bad.md", "old text of the bad one here"))
        with index.write() as writer:
            with pytest.raises(DocumentNotStored, match=r"^bad\.md: could not be stored: two of its chunks"):
                writer.add(_document("bad.md", "new text of the bad one here", duplicate=True))
            writer.add(_document("b.md", "second good document text"))
        docs = {d.path: d.chunks for d in index.documents()}
        assert docs == {"a.md": 2, "b.md": 2}  # bad.md's older version went with it
        assert index.stats()["chunks"] == 4
        assert {c.span.path for c in index.all_chunks()} == {"a.md", "b.md"}


def test_duplicate_chunks_fail_only_their_file(
    corpus: Path, ix: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = indexer_module.chunk_document

    def duplicating(document, settings):
        chunks = real(document, settings)
        return chunks + chunks[:1] if document.path == "code/codec.py" else chunks

    monkeypatch.setattr(indexer_module, "chunk_document", duplicating)
    report = run(corpus, ix, HashEmbedder())
    codec = next(f for f in report.files if f.path == "code/codec.py")
    assert codec.status == "failed"
    assert codec.reason.startswith("could not be stored: two of its chunks have the same id")
    assert report.count("ingested") == 4 and report.usable and report.warnings == []
    with open_index(ix) as index:
        paths = {d.path for d in index.documents()}
        assert paths == {"fasta_guide.pdf", "notes.md", "code/errors.go", "code/yocto_queue.js"}
        assert len(index.dense_search(HashEmbedder().embed(["q"])[0], 10_000)) == index.stats()["chunks"]


def test_mistyped_path_creates_nothing(tmp_path: Path, store: str) -> None:
    with pytest.raises(LongqaError, match=r"^no such file or folder: .*/no-such-folder$"):
        ingest([tmp_path / "no-such-folder"], index_at(tmp_path, store), HashEmbedder(), SETTINGS)
    assert list(tmp_path.iterdir()) == []


def test_index_path_that_is_a_file_is_refused(corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "ix").write_text("not a folder")
    with pytest.raises(StoreError, match=r"/ix: is a file, not an index folder$"):
        run(corpus, tmp_path / "ix", HashEmbedder())
    with pytest.raises(StoreError, match=r"/ix: is a file, not an index folder$"):
        Index.open(tmp_path / "ix")


def test_database_that_is_not_sqlite_is_refused(corpus: Path, tmp_path: Path) -> None:
    run(corpus, tmp_path / "ix", HashEmbedder())
    (tmp_path / "ix" / "chunks.sqlite").write_bytes(b"garbage, not SQLite " * 100)
    for opening in (
        lambda: Index.open(tmp_path / "ix"),
        lambda: run(corpus, tmp_path / "ix", HashEmbedder()),
    ):
        with pytest.raises(StoreError, match=r"/ix/chunks\.sqlite: file is not a database$"):
            opening()


def test_database_that_cannot_be_read_is_refused(corpus: Path, tmp_path: Path) -> None:
    run(corpus, tmp_path / "ix", HashEmbedder())
    (tmp_path / "ix" / "chunks.sqlite").unlink()
    (tmp_path / "ix" / "chunks.sqlite").mkdir()
    with pytest.raises(StoreError, match=r"/ix/chunks\.sqlite: cannot be read \(Is a directory\)$"):
        Index.open(tmp_path / "ix")


def test_unreadable_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ix").mkdir()
    (tmp_path / "ix" / "manifest.json").write_text("[1, 2]")
    with pytest.raises(StoreError, match=r"manifest\.json: not an index manifest"):
        Index.open(tmp_path / "ix")


def test_an_index_opened_for_reading_refuses_to_write(corpus: Path, ix: Path) -> None:
    run(corpus, ix, HashEmbedder())
    with (
        open_index(ix) as index,
        pytest.raises(StoreError, match="opened for reading only"),
        index.write(),
    ):
        pass


def test_writes_are_fully_synchronous(tmp_path: Path) -> None:
    config = IndexConfig(HashEmbedder.name, HashEmbedder.dimension, 200, 20)
    with Index.open(tmp_path / "ix", expect=config, create=True) as index, index.write() as writer:
        assert writer._db.execute("PRAGMA synchronous").fetchone()["synchronous"] == 2  # FULL


def test_stale_temporaries_are_removed_by_the_next_write(corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ix"
    run(corpus, folder, HashEmbedder())
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead, alive = gone.pid, os.getpid()
    for name in (
        f"faiss.index.tmp{dead}",
        f"manifest.json.tmp{dead}",
        f".faiss.index.tmp-{dead}-0123abcd",
        f"faiss.index.tmp{alive}",
    ):
        (folder / name).write_bytes(b"partial")
    for name in (f"bm25.tmp{dead}", "bm25.old", f".bm25.tmp-{dead}-89abcdef"):
        (folder / name).mkdir()
        (folder / name / "ids.json").write_text("[")
    run(corpus, folder, HashEmbedder())
    assert sorted(
        p.name for p in folder.iterdir() if p.name not in {"chunks.sqlite-wal", "chunks.sqlite-shm"}
    ) == sorted([".lock", "bm25", "chunks.sqlite", "faiss.index", "manifest.json", f"faiss.index.tmp{alive}"])
