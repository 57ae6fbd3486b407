"""`longqa ingest`, `search` and `ask` on a Milvus Lite index, in process: the hash embedder stands
in for the model's, a scripted chat model answers; the index is a real Milvus Lite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import wiring
from app.cli import run
from tests.agents.fakes import registered
from tests.conftest import HashEmbedder
from tests.eval.test_runner import reply


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(wiring, "embedder", lambda settings: HashEmbedder())
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "docs"
    root.mkdir()
    (root / "install.md").write_text("# Installing\n\nYou need at least 50 MB of free disk space.\n")
    (root / "memory.md").write_text("# Memory\n\nFor ordinary printing, 64 MB of memory is enough.\n")
    return root


def test_ingest_search_and_ask_on_a_milvus_lite_index(
    docs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = "milvus:./collection.db"  # relative, as a user types it
    assert run(["ingest", str(docs), "--index", spec, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["ingested"] == 2 and report["index"] == f"milvus:{tmp_path / 'collection.db'}"

    assert run(["search", "free disk space", "--index", spec, "--json", "-k", "1"]) == 0
    [hit] = json.loads(capsys.readouterr().out)
    assert hit["label"] == "install.md:1-3" and hit["lexical_rank"] == 1

    _, model = registered(reply=reply)
    status = run(
        ["ask", "How much disk space?", "--index", spec, "--model", model, "--strategy", "baseline", "--json"]
    )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    answer = json.loads(captured.out)
    assert (
        "50 MB" in answer["text"] and answer["citations"][0]["label"] == "install.md:3"
    )  # narrowed to its sentence

    (docs / "memory.md").unlink()
    assert run(["ingest", str(docs), "--index", spec, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"] == {
        "ingested": 0,
        "unchanged": 1,
        "skipped": 0,
        "failed": 0,
        "removed": 1,
    }


def test_a_milvus_server_that_is_down_is_one_line(
    docs: Path, unused_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = f"milvus://127.0.0.1:{unused_port}/docs"
    assert run(["search", "disk", "--index", spec]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines == [
        f"error: {spec}: cannot reach the Milvus server at 127.0.0.1:{unused_port} (is it running?)"
    ]
