"""``longqa serve`` as a user runs it: one process (uvicorn in it, no children), stopped by SIGTERM
or Ctrl-C with the shell's exit status; refusing, in one line, to listen off loopback without a
token, or on a port already taken."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.cli.main import run
from tests.conftest import ROOT


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(n) for n in (task / "children").read_text().split()}
    return found


def started(tmp_path: Path, port: int, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "app.cli",
        "serve",
        "--collections",
        str(tmp_path / "c"),
        "--port",
        str(port),
    ]
    process = subprocess.Popen(
        [*command, *extra],
        # Ctrl-C as a terminal delivers it: a suite started in the background of a shell (CI, nohup)
        # has SIGINT ignored, and an ignored disposition is inherited
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process


def wait_until_up(url: str, process: subprocess.Popen, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail("longqa serve did not answer within 60 s")


@pytest.fixture
def serving(tmp_path: Path, unused_port: int) -> Iterator[tuple[subprocess.Popen, str]]:
    process = started(tmp_path, unused_port, "--model", "fake:cite")
    try:
        yield process, f"http://127.0.0.1:{unused_port}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize(("stop", "status"), [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, 130)])
def test_a_signal_stops_the_one_process_with_the_shells_status(
    serving: tuple[subprocess.Popen, str], stop: signal.Signals, status: int
) -> None:
    process, url = serving
    wait_until_up(url + "/collections", process)
    assert children(process.pid) == set()  # uvicorn serves in this process: nothing to outlive it
    assert httpx.post(url + "/collections", json={"name": "papers"}).status_code == 201
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == status, stderr  # SIGTERM: re-raised, so the shell sees 143
    assert "longqa API on http://127.0.0.1:" in stderr and "Traceback" not in stderr
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/collections", timeout=2)


def test_a_token_file_lets_it_listen_on_another_address(tmp_path: Path, unused_port: int) -> None:
    token = tmp_path / "token"
    token.write_text("from-a-file\n")
    process = started(tmp_path, unused_port, "--host", "127.0.0.2", "--token-file", str(token))
    try:
        url = f"http://127.0.0.2:{unused_port}/collections"
        wait_until_up(url, process, headers={"Authorization": "Bearer from-a-file"})
        assert httpx.get(url).status_code == 401
    finally:
        process.terminate()
        process.wait(20)


def test_off_loopback_without_a_token_it_refuses_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LONGQA_API_TOKEN", raising=False)
    assert run(["serve", "--host", "127.0.0.2", "--collections", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: listening on 127.0.0.2 needs an API token: set LONGQA_API_TOKEN or give --token-file "
        "FILE (or listen on 127.0.0.1)"
    )
    (tmp_path / "empty").write_text("\n")
    assert run(["serve", "--host", "0.0.0.0", "--token-file", str(tmp_path / "empty")]) == 2
    assert capsys.readouterr().err.strip().endswith("empty: the token file is empty")


def test_a_port_in_use_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert run(["serve", "--port", str(port), "--collections", str(tmp_path)]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
