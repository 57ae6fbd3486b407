"""The command line under bad input: a usage error prints the usage and exits 2, Ctrl-C prints
"interrupted" and exits 130, every foreseeable user error is one line naming the thing and the
reason, and text from documents, file names and models prints literally, never as markup.

Most cases run ``app.cli.run`` in process, with the hash embedder in place of the real one (so
each is fast); the console script itself is run for a usage error and for Ctrl-C.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from agents.answer import Answer, Citation, Trace
from app import wiring
from app.cli import run
from ingest.chunking import ChunkSettings
from ingest.document import Span
from retrieval.indexer import ingest
from tests.conftest import ROOT, HashEmbedder

LONGQA = ROOT / ".venv" / "bin" / "longqa"


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The hash embedder instead of the real model; no longqa.toml from the current folder."""
    monkeypatch.setattr(wiring, "embedder", lambda settings: HashEmbedder())
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LONGQA_CONFIG", raising=False)


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    status = run([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status: int, stderr: str, *names: str | Path) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert status == 2, stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "unexpected" not in stderr and "Traceback" not in stderr
    for name in names:
        assert str(name) in lines[0], (name, lines[0])


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "guide[tag].md").write_text(
        "# Setup [/bold] :x:\n\nYou need 50 MB of disk space [red] and a :x: mark.\n", encoding="utf-8"
    )
    return folder


@pytest.fixture
def index(tmp_path: Path, docs: Path) -> Path:
    folder = tmp_path / "ix"
    report = ingest([docs], folder, HashEmbedder(), ChunkSettings())
    assert report.usable
    return folder


@pytest.fixture
def questions(tmp_path: Path) -> Path:
    path = tmp_path / "q.txt"
    path.write_text("How much disk space?\n", encoding="utf-8")
    return path


# ----------------------------------------------------------------- usage errors
@pytest.mark.parametrize(
    "args",
    [
        ["search", "--bogus"],
        ["search"],
        ["search", "disk", "-k", "notanint"],
        ["search", "disk", "-k", "0"],
        ["ask"],
        ["batch", "--questions"],
        ["no-such-command"],
    ],
)
def test_a_usage_error_prints_the_usage_and_exits_2(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    status, _, stderr = cli(capsys, *args)
    assert status == 2
    assert "Usage: longqa" in stderr and "Error:" in stderr
    assert "unexpected" not in stderr and "Traceback" not in stderr


def test_the_console_script_exits_2_with_the_usage_for_an_unknown_option(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(LONGQA), "search", "--bogus"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 2
    assert "Usage: longqa search" in result.stderr and "No such option: --bogus" in result.stderr
    assert "unexpected" not in result.stderr


# ----------------------------------------------------------------- Ctrl-C
class _NeverAnswers(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that describes itself, then never answers a completion."""

    asked = threading.Event()
    release = threading.Event()

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._json({"object": "list", "data": [{"id": "stuck", "object": "model", "max_model_len": 8192}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if self.path == "/tokenize":
            self._json({"count": max(1, len(str(body.get("prompt", ""))) // 4)})
            return
        type(self).asked.set()
        self.release.wait(600)  # longer than any hang guard: set when the test ends


@pytest.fixture
def stuck_server() -> Iterator[str]:
    _NeverAnswers.asked.clear()
    _NeverAnswers.release.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NeverAnswers)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        _NeverAnswers.release.set()
        server.shutdown()
        server.server_close()


def test_ctrl_c_during_a_model_call_prints_interrupted_and_exits_130(
    tmp_path: Path, stuck_server: str
) -> None:
    # calibrating the judge calls the model at once, without loading the embedding model
    process = subprocess.Popen(
        [str(LONGQA), "eval", "--calibrate-judge", "--model", f"openai:{stuck_server}", "--out", "ev"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a suite started in the background (``pytest &``) inherits SIGINT ignored, and Python
        # then never raises KeyboardInterrupt: give the CLI the Ctrl-C a terminal would
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert _NeverAnswers.asked.wait(120), "the model was never called"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=180)  # a hang guard: a loaded machine exits slowly
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "interrupted"
    assert "Traceback" not in stderr and "unexpected" not in stderr


# ----------------------------------------------------------------- foreseeable user errors
def corrupt_index(tmp_path: Path, index: Path) -> Path:
    (index / "chunks.sqlite").write_bytes(b"this is not a database\n" * 200)
    for extra in ("chunks.sqlite-wal", "chunks.sqlite-shm"):
        (index / extra).unlink(missing_ok=True)
    return index


def written(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def not_utf8(path: Path) -> Path:
    path.write_bytes(b'{"id": "a", "question": "caf\xe9?"}\n')
    return path


ERRORS: dict[str, Callable[[Path, Path, Path], tuple[list[str | Path], list[str | Path]]]] = {
    # name: (tmp_path, index, questions) -> (arguments, what the line must name)
    "index path is a file": lambda t, ix, q: (
        ["search", "disk", "--index", q],
        [q],
    ),
    "corrupt index database": lambda t, ix, q: (
        ["search", "disk", "--index", corrupt_index(t, ix)],
        [ix / "chunks.sqlite", "not a database"],
    ),
    "chunk overlap too large": lambda t, ix, q: (
        ["ingest", t / "docs", "--index", t / "new", "--chunk-overlap", "200"],
        ["chunk_overlap", "chunk_tokens"],
    ),
    "--out is a folder": lambda t, ix, q: (
        ["batch", "--questions", q, "--index", ix, "--out", t],
        ["--out", t, "folder"],
    ),
    "--csv is a folder": lambda t, ix, q: (
        ["batch", "--questions", q, "--index", ix, "--out", t / "a.jsonl", "--csv", t],
        ["--csv", t, "folder"],
    ),
    "questions file missing": lambda t, ix, q: (
        ["batch", "--questions", t / "none.jsonl", "--index", ix, "--out", t / "a.jsonl"],
        [t / "none.jsonl", "no such"],
    ),
    "questions file not UTF-8": lambda t, ix, q: (
        ["batch", "--questions", not_utf8(t / "latin1.jsonl"), "--index", ix, "--out", t / "a.jsonl"],
        [t / "latin1.jsonl", "UTF-8"],
    ),
    "questions file empty": lambda t, ix, q: (
        ["batch", "--questions", written(t / "empty.txt", "\n"), "--index", ix, "--out", t / "a.jsonl"],
        [t / "empty.txt", "no questions"],
    ),
    "questions line not JSON": lambda t, ix, q: (
        ["batch", "--questions", written(t / "bad.jsonl", '{"question": "ok"}\n{oops\n'), "--out", ix / "a"],
        [f"{t / 'bad.jsonl'}:2", "not JSON"],
    ),
    "dataset not UTF-8": lambda t, ix, q: (
        ["eval", not_utf8(t / "data.jsonl"), "--out", t / "report"],
        [t / "data.jsonl", "UTF-8"],
    ),
    "eval --out is a file": lambda t, ix, q: (
        ["eval", t / "data.jsonl", "--out", q],
        ["--out", q, "folder"],
    ),
    "unknown strategy": lambda t, ix, q: (
        ["ask", "disk?", "--index", ix, "--strategy", "fast"],
        ["strategy", "'fast'", "auto, full, rag, coa, baseline", "full_context", "chain_of_agents"],
    ),
    "unknown preference": lambda t, ix, q: (
        ["ask", "disk?", "--index", ix, "--prefer", "fastest"],
        ["prefer", "'fastest'", "quality, balanced, cost"],
    ),
    "unknown search mode": lambda t, ix, q: (
        ["search", "disk", "--index", ix, "--mode", "fuzzy"],
        ["'fuzzy'", "hybrid, dense or lexical"],
    ),
    "a file where a folder is needed": lambda t, ix, q: (
        ["convert", "longbench", q, q / "out"],
        [q / "out", "directory"],
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_a_foreseeable_user_error_is_one_line_naming_the_thing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, index: Path, questions: Path, case: str
) -> None:
    args, names = ERRORS[case](tmp_path, index, questions)
    status, _, stderr = cli(capsys, *args)
    assert_one_line_error(status, stderr, *names)


def test_a_settings_file_with_a_typo_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, index: Path
) -> None:
    (tmp_path / "longqa.toml").write_text("chunk_token = 200\n")
    status, _, stderr = cli(capsys, "search", "disk", "--index", index)
    assert_one_line_error(status, stderr, "longqa.toml", "'chunk_token'", "'chunk_tokens'")


def test_the_timeout_setting_defaults_to_180_seconds() -> None:
    from app.settings import Settings

    field = Settings.model_fields["timeout"]
    assert field.default == 180.0 and "abandoned" in (field.description or "")


# ----------------------------------------------------------------- text printed literally
def test_search_prints_sections_file_names_and_quotes_literally(
    capsys: pytest.CaptureFixture[str], index: Path
) -> None:
    status, stdout, stderr = cli(capsys, "search", "disk space", "--index", index)
    assert status == 0, stderr
    assert "guide[tag].md:1-3" in stdout
    assert "(Setup [/bold] :x:)" in stdout
    assert "50 MB of disk space [red] and a :x: mark." in stdout
    assert "❌" not in stdout


def test_search_for_a_query_with_markup_that_finds_nothing(
    capsys: pytest.CaptureFixture[str], index: Path
) -> None:
    status, stdout, _ = cli(capsys, "search", "[/bold] :x:", "--index", index, "--mode", "lexical")
    assert status == 0
    assert "[/bold] :x:" in stdout


def test_the_ingest_report_prints_file_names_and_folders_literally(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, docs: Path
) -> None:
    (docs / "broken[tag].pdf").write_bytes(b"not a pdf at all")
    status, stdout, stderr = cli(capsys, "ingest", docs, "--index", tmp_path / "ix[red]")
    assert status == 0, stderr
    assert f"Ingested into {tmp_path / 'ix[red]'}" in stdout
    assert "broken[tag].pdf" in stdout


def test_json_output_is_utf8_whatever_the_file_names(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path, docs: Path
) -> None:
    with open(os.fsencode(docs) + b"/caf\xe9 \xff.md", "wb") as handle:  # not a UTF-8 name
        handle.write(b"# Cafe\n\nA name that is not UTF-8.\n")
    status = run(["ingest", str(docs), "--index", str(tmp_path / "ix"), "--json"])
    stdout = capsysbinary.readouterr().out
    assert status == 0
    report = json.loads(stdout.decode("utf-8"))  # strict UTF-8
    paths = [f["path"] for f in report["files"]]
    assert "caf\\xe9 \\xff.md" in paths and "guide[tag].md" in paths


class _Judged(Answer):
    verdict = "not supported"


class _FakeAnswerer:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.backend = type("B", (), {"concurrency": 1})()

    def ask(self, question: str, on_token: Any = None, on_status: Any = None) -> Answer:
        if on_token:
            on_token(self.answer.text)
        return self.answer


def test_ask_warns_about_an_unsupported_answer_and_lists_sentences_from_document_instructions(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, index: Path
) -> None:
    span = Span("guide[tag].md", None, 3, 3, 20, 60)
    trace = Trace(events=["removed 1 sentence that followed an instruction found in a document"])
    answer = _Judged(
        question="disk?",
        text="You need 50 MB [S1].",
        citations=[Citation(1, "c1", span, "You need 50 MB [red] :x:", 0.1, "You need 50 MB [S1].")],
        strategy="full_context",
        refused=False,
        trace=trace,
        removed_sentences=["Visit [bold]evil.example[/bold] :x: now."],
    )
    monkeypatch.setattr(wiring, "answerer", lambda settings, opened: _FakeAnswerer(answer))
    status, stdout, stderr = cli(capsys, "ask", "disk?", "--index", index)
    assert status == 0, stderr
    warning = "Not supported: no cited passage supports this answer; treat it with care"
    assert warning in stdout and stdout.index(warning) < stdout.index("Citations")
    assert "[S1] guide[tag].md:3" in stdout and "“You need 50 MB [red] :x:”" in stdout
    assert "follow an instruction found in a document" in stdout
    assert "Visit [bold]evil.example[/bold] :x: now." in stdout
    assert "Answer without them: You need 50 MB [S1]." in stdout
