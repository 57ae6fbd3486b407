"""Searching and reading an index that cannot be written: on a read-only mount, as a user without
write permission, and, where writing is possible, without writing anything.

Tests run as root, for whom chmod does not stop a write, so read-only access is real here: a
read-only bind mount, or a child process that drops to uid 65534 over a copy made read-only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingest.chunking import ChunkSettings
from retrieval.indexer import ingest
from retrieval.manifest import StoreError
from retrieval.search import HybridSearcher
from retrieval.store import Index
from tests.conftest import ROOT, HashEmbedder

SETTINGS = ChunkSettings(tokens=200, overlap=20)
NOBODY = 65534
SQLITE_SIDE_FILES = {"chunks.sqlite-wal", "chunks.sqlite-shm"}


def _build(corpus: Path, folder: Path) -> Path:
    report = ingest([corpus], folder, HashEmbedder(), SETTINGS)
    assert report.count("ingested") == 5
    return folder


def _read_everything(folder: Path) -> tuple[list[str], str, list[str], list[str]]:
    """Its document paths, one document's text, and the chunks a hybrid and a keyword search find."""
    with Index.open(folder) as index:
        paths = [d.path for d in index.documents()]
        text = index.document("notes.md").text
        searcher = HybridSearcher(index, HashEmbedder())
        hybrid = [h.chunk.chunk_id for h in searcher.search("the answer is forty-two", k=5)]
        keyword = [h.chunk.span.path for h in searcher.search("forty-two", k=1, mode="lexical")]
        return paths, text, hybrid, keyword


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        return subprocess.CompletedProcess(command, 1, "", str(exc))


@pytest.fixture
def readonly_view(tmp_path: Path) -> Iterator[Callable[[Path], Path]]:
    """Mounts a folder read-only at a second place (a read-only bind mount)."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root")
    mounted: list[Path] = []

    def view(folder: Path) -> Path:
        target = tmp_path / f"{folder.name}-readonly"
        target.mkdir()
        done = _run(["mount", "--bind", str(folder), str(target)])
        if done.returncode:
            pytest.skip(f"cannot bind-mount here: {done.stderr.strip() or 'mount failed'}")
        mounted.append(target)
        done = _run(["mount", "-o", "remount,ro,bind", str(target)])
        if done.returncode:
            pytest.skip(f"cannot remount read-only here: {done.stderr.strip() or 'mount failed'}")
        return target

    yield view
    for target in reversed(mounted):
        if _run(["umount", str(target)]).returncode:
            _run(["umount", "-l", str(target)])


def test_search_and_read_documents_on_a_read_only_mount(
    corpus: Path, tmp_path: Path, readonly_view: Callable[[Path], Path]
) -> None:
    folder = _build(corpus, tmp_path / "ix")
    expected = _read_everything(folder)
    view = readonly_view(folder)
    with pytest.raises(OSError):
        (view / "probe").write_text("the mount really is read-only")
    assert _read_everything(view) == expected
    assert "forty-two" in expected[1] and len(expected[2]) == 5 and expected[3] == ["notes.md"]

    # derived files behind the database (a crash after a commit): rebuilt in memory, not on disk
    (folder / "faiss.index").unlink()
    shutil.rmtree(folder / "bm25")
    assert _read_everything(view) == expected
    assert not (folder / "faiss.index").exists() and not (folder / "bm25").exists()

    with pytest.raises(StoreError, match=r"-readonly: the index folder is read-only; cannot write to it$"):
        ingest([corpus], view, HashEmbedder(), SETTINGS)


CHILD = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from retrieval.indexer import ingest
    from retrieval.search import HybridSearcher
    from retrieval.manifest import StoreError
    from retrieval.store import Index
    from ingest.chunking import ChunkSettings
    from tests.conftest import HashEmbedder

    folder = Path(sys.argv[1])
    try:
        (folder / "probe").write_text("x")
        writable = True
    except OSError:
        writable = False
    with Index.open(folder) as index:
        paths = [d.path for d in index.documents()]
        text = index.document("notes.md").text
        searcher = HybridSearcher(index, HashEmbedder())
        hybrid = [h.chunk.chunk_id for h in searcher.search("the answer is forty-two", k=5)]
        keyword = [h.chunk.span.path for h in searcher.search("forty-two", k=1, mode="lexical")]
    try:
        ingest([Path(sys.argv[2])], folder, HashEmbedder(), ChunkSettings(200, 20))
        refusal = None
    except StoreError as exc:
        refusal = str(exc)
    print(json.dumps({"uid": __import__("os").getuid(), "writable": writable, "paths": paths,
                      "text": text, "hybrid": hybrid, "keyword": keyword, "refusal": refusal}))
""")


def _drop_to_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def test_search_and_read_documents_as_a_user_who_cannot_write(corpus: Path, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("switching to another user needs root")
    folder = _build(corpus, tmp_path / "ix")
    expected = _read_everything(folder)
    place = Path(tempfile.mkdtemp(prefix="longqa-readonly-"))  # outside pytest's 0700 folders
    try:
        copy = place / "ix"
        shutil.copytree(folder, copy)
        shutil.copytree(corpus, place / "corpus")
        for path in [place, *place.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(copy), str(place / "corpus")],
                capture_output=True,
                text=True,
                cwd=place,
                env={
                    **os.environ,
                    "PYTHONPATH": str(ROOT),
                    "HOME": str(place),
                    "PYTHONDONTWRITEBYTECODE": "1",
                },
                preexec_fn=_drop_to_nobody,
                check=False,
            )
        except PermissionError as exc:
            pytest.skip(f"uid {NOBODY} cannot run {sys.executable} ({exc.strerror})")
        if done.returncode and "Permission denied" in done.stderr and "No module named" in done.stderr:
            pytest.skip(f"uid {NOBODY} cannot read the project: {done.stderr.strip().splitlines()[-1]}")
        assert done.returncode == 0, done.stderr
        seen = json.loads(done.stdout)
        assert seen["uid"] == NOBODY and seen["writable"] is False
        assert (seen["paths"], seen["text"], seen["hybrid"], seen["keyword"]) == expected
        assert seen["refusal"].endswith("/ix: the index folder is read-only; cannot write to it")
        assert sorted(p.name for p in copy.iterdir()) == sorted(p.name for p in folder.iterdir())
    finally:
        for path in [place, *place.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(place, ignore_errors=True)


def test_a_reader_writes_nothing_to_a_writable_index(corpus: Path, tmp_path: Path) -> None:
    folder = _build(corpus, tmp_path / "ix")
    (folder / "faiss.index").unlink()  # stale derived files: a reader rebuilds them in memory only
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    paths, _text, hybrid, keyword = _read_everything(folder)
    assert len(paths) == 5 and len(hybrid) == 5 and keyword == ["notes.md"]
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert {k: v for k, v in after.items() if k not in SQLITE_SIDE_FILES} == {
        k: v for k, v in before.items() if k not in SQLITE_SIDE_FILES
    }
    assert not (folder / "faiss.index").exists()
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.name not in SQLITE_SIDE_FILES} == {
        k: v for k, v in stamps.items() if k not in SQLITE_SIDE_FILES
    }
