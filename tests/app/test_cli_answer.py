"""`longqa ask` and `longqa batch` from the command line, with the tiny packaged model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.app.test_cli import longqa

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("docs")
    (root / "install.md").write_text(
        "# Installing\n\nYou need at least 50 MB of free disk space to compile and install the package.\n"
    )
    (root / "memory.md").write_text("# Memory\n\nFor ordinary printing, 64 MB of memory is enough.\n")
    return root


def test_ask_json_carries_answer_citations_and_trace(docs: Path, tmp_path: Path) -> None:
    assert longqa("ingest", str(docs), "--index", str(tmp_path / "ix")).returncode == 0
    result = longqa(
        "ask",
        "How much disk space is needed?",
        "--index",
        str(tmp_path / "ix"),
        "--model",
        "llamacpp:tiny",
        "--strategy",
        "full",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["strategy"] == "full_context" and answer["trace"]["decision"] == "full_context"
    assert answer["cost"]["calls"] >= 1 and answer["cost"]["prompt_tokens"] > 50
    for citation in answer["citations"]:
        assert citation["label"].startswith(("install.md:", "memory.md:"))


def test_ask_streams_then_lists_citations_and_trace(docs: Path, tmp_path: Path) -> None:
    longqa("ingest", str(docs), "--index", str(tmp_path / "ix"))
    result = longqa(
        "ask",
        "How much memory?",
        "--index",
        str(tmp_path / "ix"),
        "--model",
        "llamacpp:tiny",
        "--strategy",
        "full",
        "--no-verify",
        "--trace",
    )
    assert result.returncode == 0, result.stderr
    assert "How this answer was made: Read everything at once (full_context)" in result.stdout
    assert "Model calls" in result.stdout and "chosen by the user" in result.stdout


def test_ask_with_a_server_that_is_down_is_one_line(docs: Path, tmp_path: Path, unused_port: int) -> None:
    longqa("ingest", str(docs), "--index", str(tmp_path / "ix"))
    result = longqa(
        "ask",
        "How much memory?",
        "--index",
        str(tmp_path / "ix"),
        "--model",
        f"openai:http://127.0.0.1:{unused_port}/v1",
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "connection refused" in lines[0] and "Traceback" not in result.stderr


def test_batch_from_docs_then_rerun_skips_answered(docs: Path, tmp_path: Path) -> None:
    questions = tmp_path / "q.txt"
    questions.write_text("How much disk space is needed?\nHow much memory is enough?\n")
    out, table = tmp_path / "answers.jsonl", tmp_path / "answers.csv"
    args = [
        "batch",
        "--questions",
        str(questions),
        "--docs",
        str(docs),
        "--index",
        str(tmp_path / "ix"),
        "--out",
        str(out),
        "--csv",
        str(table),
        "--model",
        "llamacpp:tiny",
        "--strategy",
        "full",
        "--no-verify",
    ]
    first = longqa(*args)
    assert first.returncode == 0, first.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2 and all(r["error"] is None and r["answer"] for r in records)
    assert table.read_text().startswith("id,question,answer,")
    again = longqa(*args)
    assert "2 of 2 already answered" in again.stderr
    assert len(out.read_text().splitlines()) == 2
