"""kill -9 at random moments of a real ingest: every kill leaves exactly the previous index or the
new one, searchable, never a mixture; the next clean run succeeds and leaves no temporary files.

The corpus alternates between two versions (files changed, removed and added), so a kill before
the commit must leave the old state and a kill after it the new one. The killed ingest runs in a
subprocess with a deterministic embedder; small sleeps in embedding and in writing FAISS widen
the stages so that seeded random kills land before, during and after the commit.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from ingest.chunking import ChunkSettings
from retrieval.indexer import ingest
from retrieval.search import HybridSearcher
from retrieval.store import Index
from tests.conftest import EXAMPLES, FIXTURES, ROOT, HashEmbedder

SETTINGS = ChunkSettings(tokens=200, overlap=20)
KILLS = 20
MAX_RUNS = 60
BUDGET_SECONDS = 50.0
INDEX_FILES = {"manifest.json", "chunks.sqlite", "chunks.sqlite-wal", "chunks.sqlite-shm", "faiss.index"}
INDEX_FILES |= {"bm25", ".lock"}

SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from ingest.chunking import ChunkSettings
    from retrieval import store
    from retrieval.indexer import ingest
    from tests.conftest import HashEmbedder

    class Slow(HashEmbedder):
        def embed(self, texts):
            time.sleep(0.02)
            return super().embed(texts)

    save = store.vectors.save

    def slow_save(index, path):
        time.sleep(0.05)  # a wider window after the commit, where the derived files are written
        save(index, path)

    store.vectors.save = slow_save
    print("ready", flush=True)
    report = ingest([Path(sys.argv[1])], Path(sys.argv[2]), Slow(), ChunkSettings(200, 20))
    print("done", report.count("failed"), flush=True)
""")

State = list[tuple[str, str, int]]


def _versions(tmp_path: Path) -> dict[str, Path]:
    """Two versions of a corpus of real files: ``old`` and ``new`` (4 changed, 2 gone, 2 added)."""
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(FIXTURES / "code", old / "code")
    shutil.copytree(EXAMPLES / "simplejson", old / "simplejson")
    shutil.copytree(old, new)
    files = sorted(p for p in new.rglob("*") if p.is_file() and p.suffix in {".py", ".js", ".go", ".rs"})
    for path in files[:4]:
        path.write_bytes(path.read_bytes() + b"\n# changed in the new version: decoding errors explained\n")
    for path in files[-2:]:
        path.unlink()
    (new / "added").mkdir()
    for i in range(2):
        (new / "added" / f"notes{i}.md").write_text(
            f"# Added notes {i}\n\n" + "How a JSON decoder reports an error at a position.\n" * 40
        )
    return {"old": old, "new": new}


def _use(corpus: Path, version: Path) -> None:
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.copytree(version, corpus)


def _state(folder: Path) -> State:
    """The index's (path, doc_id, chunks), after checking that its search agrees with its database."""
    with Index.open(folder) as index:
        state = sorted((d.path, d.doc_id, d.chunks) for d in index.documents())
        chunks = index.stats()["chunks"]
        dense = {rowid for rowid, _ in index.dense_search(HashEmbedder().embed(["q"])[0], 100_000)}
        assert len(dense) == chunks and set(index.chunks(sorted(dense))) == dense
        lexical = {rowid for rowid, _ in index.lexical_search("json decoder error position", 100_000)}
        assert lexical and lexical <= dense
        hits = HybridSearcher(index, HashEmbedder()).search("JSON decoder error", k=5)
        assert hits and {h.chunk.span.path for h in hits} <= {path for path, _, _ in state}
    return state


def _ingest_in_subprocess(corpus: Path, folder: Path, delay: float | None) -> tuple[bool, float]:
    """Run an ingest; kill it ``delay`` seconds after it starts (None: let it finish).

    Returns whether it was killed and how long it ran."""
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(corpus), str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    started = time.monotonic()
    killed = False
    if delay is not None:
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            killed = True
    output = process.stdout.read()
    process.wait()
    process.stdout.close()
    if not killed:
        assert process.returncode == 0 and output.strip() == "done 0", output
    return killed, time.monotonic() - started


def test_kill_9_at_random_moments_leaves_old_or_new_never_a_mix(tmp_path: Path) -> None:
    versions = _versions(tmp_path)
    expected = {}
    for name, version in versions.items():
        report = ingest([version], tmp_path / f"reference-{name}", HashEmbedder(), SETTINGS)
        assert report.count("failed") == 0
        expected[name] = _state(tmp_path / f"reference-{name}")
    assert expected["old"] != expected["new"]
    corpus, folder = tmp_path / "corpus", tmp_path / "index"
    _use(corpus, versions["old"])
    ingest([corpus], folder, HashEmbedder(), SETTINGS)
    assert _state(folder) == expected["old"]

    _use(corpus, versions["new"])
    killed, duration = _ingest_in_subprocess(corpus, folder, None)
    assert _state(folder) == expected["new"]
    current = "new"

    rng = random.Random(20240917)
    kills, kept, took = 0, 0, 0
    started = time.monotonic()
    for _ in range(MAX_RUNS):
        if kills >= KILLS and kept and took:
            break
        if time.monotonic() - started > BUDGET_SECONDS and kills >= KILLS:
            break
        target = "old" if current == "new" else "new"
        _use(corpus, versions[target])
        killed, ran = _ingest_in_subprocess(corpus, folder, rng.uniform(0.0, 1.25 * duration))
        state = _state(folder)
        assert state in (expected[current], expected[target]), f"a mixture after a kill at {ran:.2f}s"
        if killed:
            kills += 1
            kept += state == expected[current]
            took += state == expected[target]
        else:
            assert state == expected[target]
            duration = max(duration, ran)
        current = "old" if state == expected["old"] else "new"

    assert kills >= KILLS
    assert kept and took, f"kills before the commit: {kept}, after it: {took}"
    _use(corpus, versions["new"])
    report = ingest([corpus], folder, HashEmbedder(), SETTINGS)
    assert report.count("failed") == 0 and report.warnings == []
    assert _state(folder) == expected["new"]
    assert {p.name for p in folder.iterdir()} <= INDEX_FILES
