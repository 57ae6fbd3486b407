"""The CLI end to end in a subprocess: ingest report, exit status, search output, errors."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from agents.answer import Answer, Trace
from agents.models.fake import FakeChat, register
from app import wiring
from app.cli import run
from ingest.chunking import ChunkSettings
from retrieval.indexer import ingest
from tests.agents.fakes import registered
from tests.conftest import ROOT, HashEmbedder


def longqa(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd or ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", **(env or {})},
    )


@pytest.mark.slow
def test_ingest_json_report_then_search_prints_spans(corpus: Path, tmp_path: Path) -> None:
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    result = longqa("ingest", str(corpus), "--index", str(tmp_path / "ix"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["ingested"] == 5 and report["summary"]["failed"] == 1
    failed = next(f for f in report["files"] if f["status"] == "failed")
    assert failed["path"] == "broken.pdf" and "damaged or truncated" in failed["reason"]

    result = longqa("search", "WithMessagef annotates an error", "--index", str(tmp_path / "ix"), "-k", "3")
    assert result.returncode == 0, result.stderr
    assert "code/errors.go:" in result.stdout
    result = longqa("search", "default gap penalties for protein", "--index", str(tmp_path / "ix"), "--json")
    hits = json.loads(result.stdout)
    assert len(hits) == 5  # the search_k setting's default
    ranked = longqa(
        "search", "default gap penalties", "--index", str(tmp_path / "ix"), "--json",
        env={"LONGQA_SEARCH_K": "2"},
    )  # fmt: skip
    assert len(json.loads(ranked.stdout)) == 2  # the setting, from the environment
    assert hits and all(h["label"].startswith(("fasta_guide.pdf p.", "code/", "notes.md")) for h in hits)
    pdf_hit = next(h for h in hits if h["span"]["page"])
    span = pdf_hit["span"]
    assert pdf_hit["label"] == f"fasta_guide.pdf p.{span['page']} l.{span['line_start']}-{span['line_end']}"


def test_ingest_of_nothing_usable_fails(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "bad.pdf").write_bytes(b"not a pdf at all")
    result = longqa("ingest", str(tmp_path / "docs"), "--index", str(tmp_path / "ix"))
    assert result.returncode == 1
    assert "bad.pdf" in result.stdout and "not a PDF file" in result.stdout


def test_search_without_index_is_one_line_error(tmp_path: Path) -> None:
    result = longqa("search", "anything", "--index", str(tmp_path / "none"))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: no index at")
    assert "Traceback" not in result.stderr


# ------------------------------------------------- in process, with the hash embedder and fakes
class _FakeAnswerer:
    """Stands where wiring.answerer's Answerer stands: answers every question the same way."""

    def __init__(self, answer: Callable[[str], Answer]) -> None:
        self.answer = answer
        self.backend = type("Backend", (), {"concurrency": 1})()

    def ask(self, question: str, on_token: object = None, on_status: object = None) -> Answer:
        return self.answer(question)


class _Partly(Answer):
    verdict = "partly supported"


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An index built with the hash embedder, which the CLI then opens with it too."""
    monkeypatch.setattr(wiring, "embedder", lambda settings: HashEmbedder())
    monkeypatch.chdir(tmp_path)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "install.md").write_text("# Installing\n\nYou need at least 50 MB of free disk space.\n")
    ingest([docs], tmp_path / "ix", HashEmbedder(), ChunkSettings())
    return tmp_path / "ix"


def test_batch_without_a_terminal_prints_a_line_per_question_and_names_bad_lines(
    hashed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def answer(question: str) -> Answer:
        return _Partly(question, "50 MB.", [], "full_context", question.startswith("Price"), Trace())

    monkeypatch.setattr(wiring, "answerer", lambda settings, opened: _FakeAnswerer(answer))
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "disk", "question": "Disk?"}\n{"id": "price", "question": "Price?"}\n')
    out, table = tmp_path / "answers.jsonl", tmp_path / "answers.csv"
    out.write_text('{"note": "written by another tool"}\n')
    args = ["--questions", questions, "--index", hashed, "--out", out, "--csv", table]
    status = run(["batch", *map(str, args)])
    stderr = capsys.readouterr().err
    assert status == 0, stderr
    lines = stderr.splitlines()
    assert f"warning: {out}:1: a record without an 'id'; left in place and ignored" in lines
    assert any(re.fullmatch(r"disk · full_context · \d+\.\d s · ok", line) for line in lines), lines
    assert any(re.fullmatch(r"price · full_context · \d+\.\d s · refused", line) for line in lines), lines
    assert out.read_text().startswith('{"note": "written by another tool"}\n')
    records = [json.loads(line) for line in out.read_text().splitlines()[1:]]
    assert [r["verdict"] for r in records] == ["partly supported", "partly supported"]
    rows = list(csv.DictReader(table.open()))
    assert [(r["id"], r["verdict"]) for r in rows] == [
        ("disk", "partly supported"),
        ("price", "partly supported"),
    ]


def test_batch_docs_are_ingested_first_and_a_folder_nothing_of_which_can_be_read_is_refused(
    hashed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def answer(question: str) -> Answer:
        return Answer(question, "50 MB.", [], "full_context", False, Trace())

    monkeypatch.setattr(wiring, "answerer", lambda settings, opened: _FakeAnswerer(answer))
    questions = tmp_path / "q.txt"
    questions.write_text("Disk?\n")
    out = tmp_path / "answers.jsonl"
    docs = tmp_path / "docs"
    status = run(["batch", "--questions", str(questions), "--docs", str(docs), "--out", str(out)])
    stderr = capsys.readouterr().err
    assert status == 0, stderr
    folder = wiring.docs_index_folder(docs)
    assert f"index {folder}: 1 ingested, 0 unchanged, 0 skipped or failed" in stderr.splitlines()
    assert (folder / "manifest.json").exists() and len(out.read_text().splitlines()) == 1

    status = run(
        ["batch", "--questions", str(questions), "--docs", str(tmp_path / "none"), "--out", str(out)]
    )
    assert (
        status == 2
        and capsys.readouterr().err.strip() == f"error: --docs {tmp_path / 'none'}: no such folder"
    )

    unreadable = tmp_path / "unreadable"
    unreadable.mkdir()
    (unreadable / "bad.pdf").write_bytes(b"not a pdf at all")
    status = run(["batch", "--questions", str(questions), "--docs", str(unreadable), "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 2
    assert "bad.pdf" in captured.out and "not a PDF file" in captured.out  # the per-file report
    assert captured.err.strip() == f"error: nothing in {unreadable} could be ingested"
    assert len(out.read_text().splitlines()) == 1  # nothing asked


def test_eval_without_a_terminal_prints_a_line_per_finished_pair(
    hashed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.eval.test_runner import dataset, reply

    _, spec = registered(reply=reply)
    (tmp_path / "eval").mkdir()
    data = dataset(tmp_path / "eval")
    status = run(
        ["eval", str(data), "--out", str(tmp_path / "report"), "--strategies", "full", "--model", spec]
    )
    stderr = capsys.readouterr().err
    assert status == 0, stderr
    done = [line for line in stderr.splitlines() if line.startswith("[")]
    assert len(done) == 3, stderr
    assert re.fullmatch(r"\[1/3\] disk · full_context · \d+\.\d s · correct", done[0])
    assert re.fullmatch(r"\[2/3\] memory · full_context · \d+\.\d s · correct", done[1])
    assert re.fullmatch(r"\[3/3\] price · full_context · \d+\.\d s · refused \(right\)", done[2])


def test_ui_restricts_streamlit_to_the_loopback_address(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.cli import ui as ui_command

    started: list[list[str]] = []
    monkeypatch.setattr(ui_command, "run_child", lambda command, env: started.append(command) or 0)
    assert run(["ui", "--port", "8600"]) == 0
    options = dict(zip(started[0][5::2], started[0][6::2], strict=False))
    assert options["--server.address"] == "127.0.0.1" and options["--server.port"] == "8600"
    assert options["--server.enableXsrfProtection"] == "true" and options["--server.enableCORS"] == "true"
    given = list(zip(started[0][5::2], started[0][6::2], strict=False))
    assert sorted(v for k, v in given if k == "--server.allowedHosts") == ["127.0.0.1", "localhost"]
    assert sorted(v for k, v in given if k == "--server.corsAllowedOrigins") == [
        "http://127.0.0.1:8600",
        "http://localhost:8600",
    ]


def test_the_ingest_report_prints_its_warnings_literally(capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli.console import print_ingest_report
    from retrieval.indexer import FileOutcome, IngestReport

    report = IngestReport("ix[red]", [FileOutcome("a[tag].md", "failed", "bad :x: [/bold]")], {})
    report.warnings = ["notes[tag].md: :x: looks like [bold]markup[/bold]"]  # type: ignore[attr-defined]
    print_ingest_report(report)
    stdout = capsys.readouterr().out
    assert "Ingested into ix[red]" in stdout and "a[tag].md" in stdout and "bad :x: [/bold]" in stdout
    assert "warning: notes[tag].md: :x: looks like [bold]markup[/bold]" in stdout


@pytest.mark.parametrize(
    ("option", "value", "valid"),
    [
        ("--prefer", "fastest", ["quality", "balanced", "cost"]),
        ("--strategy", "fast", ["auto", "full", "rag", "coa", "baseline", "full_context", "chain_of_agents"]),
    ],
)
def test_an_unknown_choice_is_one_line_naming_the_valid_values(
    hashed: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, valid: list[str]
) -> None:
    status = run(["ask", "Disk?", "--index", str(hashed), option, value])
    stderr = capsys.readouterr().err
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert status == 2 and len(lines) == 1, stderr
    assert lines[0].startswith(f"error: setting {option.removeprefix('--')}: unknown "), lines[0]
    assert f"{value!r}: use " in lines[0] and all(name in lines[0] for name in valid), lines[0]


def test_calibrate_judge_on_your_own_pairs_checks_them_before_any_model_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_model() -> FakeChat:
        raise AssertionError("a model was loaded")

    register("never-loaded", no_model)
    pairs = tmp_path / "mine.jsonl"
    pairs.write_text('{"claim": "c", "passage": "p", "supported": true}\n{"claim": "c"}\n')
    calibrate = ["eval", "--calibrate-judge", "--pairs", str(pairs), "--model", "fake:never-loaded"]
    assert run([*calibrate, "--out", str(tmp_path / "ev")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {pairs}:2: not a calibration pair: missing 'passage'"
    assert run(["eval", "--pairs", str(pairs)]) == 2
    assert capsys.readouterr().err.strip() == "error: --pairs goes with --calibrate-judge"


def test_calibrate_judge_on_your_own_pairs_scores_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, spec = registered(reply=lambda m: "yes")
    pairs = tmp_path / "mine.jsonl"
    pairs.write_text(
        '{"claim": "It needs 50 MB.", "passage": "Installing needs 50 MB of disk.", "supported": true}\n'
        '{"claim": "It needs 80 MB.", "passage": "Installing needs 50 MB of disk.", "supported": false}\n'
    )
    assert (
        run(
            [
                "eval",
                "--calibrate-judge",
                "--pairs",
                str(pairs),
                "--out",
                str(tmp_path / "ev"),
                "--model",
                spec,
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == (
        f"judge {spec} (window+focus+cloze, yes from P 0.5): accuracy 1.00 [0.34–1.00] on 2 "
        "hand-labelled pairs (mine.jsonl); "
        "precision 1.00 [0.21–1.00], recall 1.00 [0.21–1.00], 0 unanswered, threshold 0.5"
    )


@pytest.mark.parametrize(
    "command",
    [
        ["ask", "q"],
        ["batch", "--questions", "q.txt", "--index", "ix", "--out", "a.jsonl"],
        ["warm"],
        ["eval", "--calibrate-judge"],
    ],
)
def test_every_model_command_takes_the_timeout_the_stall_message_names(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[float] = []
    monkeypatch.chdir(tmp_path)
    (tmp_path / "q.txt").write_text("How much disk space?\n")

    def no_index(settings, folder):  # the settings are made; stop before anything is opened
        seen.append(settings.timeout)
        raise wiring.LongqaError("stopped here")

    monkeypatch.setattr(wiring, "open_index", no_index)
    monkeypatch.setattr(wiring, "backend", lambda settings, spec=None: no_index(settings, None))
    run([*command, "--timeout", "900"])
    assert seen == [900.0]
    assert run([*command, "--timeout", "0"]) == 2
    assert "--timeout" in capsys.readouterr().err
