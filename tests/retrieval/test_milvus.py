"""The Milvus store's own behaviour: specs, a server reached over the network (Milvus Lite's
engine serving gRPC on a port, the way a Milvus server does), its generations when a write is
interrupted before or after its commit, documents longer than a Milvus text field, and every
failure as one line. What both stores share is tested in test_index.py and test_search.py."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.chunking import ChunkSettings
from retrieval.indexer import ingest
from retrieval.manifest import IndexMismatchError, StoreError
from retrieval.milvus import client as milvus_client
from retrieval.milvus import records, writing
from retrieval.milvus.location import parse
from retrieval.search import HybridSearcher
from retrieval.stores import open_index
from tests.conftest import ROOT, HashEmbedder

SETTINGS = ChunkSettings(tokens=200, overlap=20)


def lite(tmp_path: Path, name: str = "ix") -> str:
    return f"milvus:{tmp_path / name}.db"


def test_specs_name_a_lite_file_or_a_server_collection(tmp_path: Path) -> None:
    file = parse(f"milvus:{tmp_path}/a.db")
    assert file.lite and file.uri == str(tmp_path / "a.db") and file.spec == f"milvus:{tmp_path}/a.db"
    server = parse(Path("milvus://db.example:19531/manuals?secure=true&db=team&timeout=5"))  # as a Path
    assert not server.lite and server.uri == "https://db.example:19531" and server.name == "manuals"
    assert server.db_name == "team" and server.timeout == 5.0 and dict(server.options) == {"secure": True}
    assert server.spec == "milvus://db.example:19531/manuals?secure=true&db=team&timeout=5"
    assert parse("milvus://localhost/docs").uri == "http://localhost:19530"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("milvus://host:19530/", "names no collection"),
        ("milvus://host:19530/my-docs", "'my-docs' is not a Milvus collection name"),
        ("milvus://host:port/docs", "'host:port' is not HOST:PORT"),
        ("milvus://host/docs?tls=1", "unknown option 'tls'; the options are db, secure,"),
        ("milvus://host/docs?secure=maybe", "secure is true or false, not 'maybe'"),
        ("milvus://host/docs?timeout=soon", "timeout is a number of seconds, not 'soon'"),
        ("milvus:./a name with spaces.db", "Milvus Lite needs a file name of at most 36 letters"),
    ],
)
def test_a_bad_spec_is_one_line_naming_it(spec: str, message: str) -> None:
    with pytest.raises(StoreError, match=r"^milvus:.*: ") as raised:
        parse(spec)
    assert message in str(raised.value) and "\n" not in str(raised.value)


@pytest.fixture
def server(tmp_path: Path, unused_port: int) -> Iterator[str]:
    """Milvus's engine serving gRPC on a port (Milvus Lite's server mode), as a spec's address."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")  # milvus-lite 2.5's
        from milvus_lite.server import Server

    engine = Server(str(tmp_path / "server.db"), address=f"127.0.0.1:{unused_port}")
    assert engine.init() and engine.start()
    yield f"127.0.0.1:{unused_port}"
    engine.stop()


def test_a_server_collection_is_ingested_searched_and_kept_apart(
    corpus: Path, server: str, unused_port: int
) -> None:
    docs, other = f"milvus://{server}/docs", f"milvus://{server}/other"
    assert ingest([corpus], docs, HashEmbedder(), SETTINGS).count("ingested") == 5
    ingest([corpus / "code"], other, HashEmbedder(), SETTINGS)
    with open_index(docs) as index, open_index(other) as second:
        hits = HybridSearcher(index, HashEmbedder()).search("WithMessagef", k=3, mode="lexical")
        assert hits[0].chunk.span.path == "code/errors.go"
        assert len(index.documents()) == 5 and {d.path for d in second.documents()} == {
            "codec.py",
            "errors.go",
            "yocto_queue.js",
        }

    class Other(HashEmbedder):
        name = "test/other-model"

    with pytest.raises(IndexMismatchError, match=f"^{docs}: built with embedding model test/hash-embedder"):
        ingest([corpus], docs, Other(), SETTINGS)


def test_a_server_that_is_down_is_one_line(unused_port: int) -> None:
    spec = f"milvus://127.0.0.1:{unused_port}/docs"
    with pytest.raises(StoreError) as raised:
        open_index(spec)
    assert (
        str(raised.value)
        == f"{spec}: cannot reach the Milvus server at 127.0.0.1:{unused_port} (is it running?)"
    )


def test_without_pymilvus_one_line_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pymilvus", None)
    with pytest.raises(
        StoreError, match=r"needs pymilvus and milvus-lite, not installed: pip install 'longqa\[milvus\]'$"
    ):
        open_index(lite(tmp_path), create=True)


def test_a_lite_file_another_process_holds_is_refused_in_one_line(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = lite(tmp_path)
    ingest([corpus / "notes.md"], spec, HashEmbedder(), SETTINGS)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from retrieval.stores import open_index
            index = open_index({spec!r})
            print("open", flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        monkeypatch.setattr(milvus_client, "LITE_HANDOVER", 0.5)
        with pytest.raises(StoreError, match="another process has this Milvus Lite file open"):
            open_index(spec)
    finally:
        holder.kill()
        holder.wait()
    with open_index(spec) as index:  # given back when that process ends
        assert [d.path for d in index.documents()] == ["notes.md"]


def test_a_folder_where_the_lite_file_goes_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ix.db").mkdir()
    with pytest.raises(StoreError, match=r"ix\.db: is a folder, not a Milvus Lite file$"):
        open_index(lite(tmp_path))


def _rows(index, where: str) -> int:
    return len(index.client.query(index.location.name, filter=where, output_fields=["id"], limit=16384))


def test_rows_of_an_uncommitted_generation_stay_unseen_and_go_with_the_next_write(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = lite(tmp_path)
    ingest([corpus], spec, HashEmbedder(), SETTINGS)
    (corpus / "notes.md").write_text("# Replaced\n\nEntirely new text about alignment.\n")

    def interrupted(*_args: object) -> bool:
        raise KeyboardInterrupt  # after the rows, before the state: as a kill would leave them

    monkeypatch.setattr(writing, "_commit", interrupted)
    monkeypatch.setattr(writing, "_discard", lambda *_args: None)  # a killed process discards nothing
    with pytest.raises(KeyboardInterrupt):
        ingest([corpus], spec, HashEmbedder(), SETTINGS)
    monkeypatch.undo()
    with open_index(spec, writable=True) as index:
        assert _rows(index, f"gen > {index.generation}") > 0  # there, but not seen
        assert "Entirely new" not in index.document("notes.md").text
        assert all("Entirely new" not in c.text for c in index.all_chunks())
        with index.write() as writer:
            writer.remove("code/codec.py")
        assert _rows(index, f"gen > {index.generation}") == 0


def test_a_cleanup_that_fails_after_the_commit_warns_and_hides_the_replaced_rows(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = lite(tmp_path)
    ingest([corpus], spec, HashEmbedder(), SETTINGS)
    (corpus / "notes.md").write_text("# Replaced\n\nEntirely new text about alignment.\n")
    committed = []
    real_commit, real_delete = writing._commit, writing._delete
    monkeypatch.setattr(writing, "_commit", lambda *a: committed.append(True) or real_commit(*a))

    def delete(index, name: str, where: str) -> None:
        if committed:
            raise StoreError(f"{spec}: cannot remove rows (the server went away)")
        real_delete(index, name, where)

    monkeypatch.setattr(writing, "_delete", delete)
    report = ingest([corpus], spec, HashEmbedder(), SETTINGS)
    monkeypatch.undo()
    assert report.warnings == [
        "the index is saved; the rows it replaced could not be removed yet (cannot remove rows "
        "(the server went away)): the next ingest removes them"
    ]
    with open_index(spec) as index:
        assert index.state().dead  # the replaced version is still there, named as removed
        notes = [c for c in index.all_chunks() if c.span.path == "notes.md"]
        assert notes and all("Entirely new" in c.text or "Replaced" in c.text for c in notes)
        assert len(index.dense_search(HashEmbedder().embed(["q"])[0], 10_000)) == index.stats()["chunks"]
    assert ingest([corpus], spec, HashEmbedder(), SETTINGS).count("unchanged") == 5
    with open_index(spec) as index:
        assert not index.state().dead and _rows(index, "id >= 0") == index.stats()["chunks"]


def test_a_document_longer_than_a_milvus_text_field_reads_back_whole(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    text = "".join(f"Ligne {n}: façade, naïve, 東京, déjà vu — {n * 7}\n" for n in range(6000))
    assert len(text.encode()) > 3 * records.PIECE_BYTES
    (docs / "long.md").write_text(text)
    spec = lite(tmp_path)
    ingest([docs], spec, HashEmbedder(), SETTINGS)
    with open_index(spec) as index:
        assert index.document("long.md").text == text
        assert "".join(c.text for c in index.all_chunks()[:1]) in text


def test_an_index_of_another_format_version_is_refused(tmp_path: Path) -> None:
    spec = lite(tmp_path)
    ingest([ROOT / "examples" / "simplejson" / "README.rst"], spec, HashEmbedder(), SETTINGS)
    with open_index(spec) as index:
        state = index.state()
        newer = records.State(
            state.generation, state.revision + 1, state.next_id, {**state.settings, "format_version": 99}
        )
        index.client.insert(index.location.documents, records.state_rows(newer))
    with pytest.raises(IndexMismatchError, match=r"index format version 99, but this longqa reads version 1"):
        open_index(spec)
