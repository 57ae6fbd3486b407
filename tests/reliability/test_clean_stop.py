"""A clean stop: `longqa ui` sent SIGTERM or SIGINT (the parent alone, as a service manager or
`kill` does, not its whole process group) stops its Streamlit server and waits for it, so no
server outlives it, and exits as convention says (143, 130).

The real console script is started in a session of its own, so that every process it starts is
found by its process group and nothing is left behind whatever the outcome.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.cli.children import run_child
from ingest.chunking import ChunkSettings
from retrieval.indexer import ingest
from tests.conftest import ROOT, HashEmbedder
from tests.reliability.test_cli_errors import LONGQA

pytestmark = pytest.mark.slow

STOPPED_WITHIN = 15.0  # seconds from the signal to the parent gone and the port closed


@pytest.fixture
def index(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text("# Guide\n\nYou need 50 MB of free disk space.\n", encoding="utf-8")
    ingest([docs], tmp_path / "ix", HashEmbedder(), ChunkSettings())
    return tmp_path / "ix"


def group_members(group: int) -> list[int]:
    """The live (not zombie) processes of process group ``group``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp, ...
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def serves(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
            return response.read() == b"ok"
    except OSError:
        return False


def refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        try:
            sock.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
        return False


def soon(condition: Callable[[], bool], since: float) -> bool:
    """Whether ``condition`` holds within STOPPED_WITHIN seconds of ``since``."""
    while not condition():
        if time.monotonic() - since > STOPPED_WITHIN:
            return False
        time.sleep(0.2)
    return True


@pytest.fixture
def ui(tmp_path: Path, index: Path, unused_port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`longqa ui --index` serving on a free port; afterwards its whole session is killed."""
    log = (tmp_path / "ui.log").open("wb")
    command = [str(LONGQA), "ui", "--index", str(index), "--port", str(unused_port)]
    process = subprocess.Popen(
        [*command, "--collections", str(tmp_path / "collections")],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: what it starts is found by the group
        # a suite started in the background inherits SIGINT ignored: give it a terminal's Ctrl-C
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while not serves(unused_port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"longqa ui did not start:\n{(tmp_path / 'ui.log').read_text()}")
            time.sleep(0.3)
        assert len(group_members(process.pid)) >= 2, "the server runs in a child process"
        yield process
    finally:
        for pid in group_members(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait()
        log.close()


@pytest.mark.parametrize(
    ("sig", "status"),
    [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGKILL, -signal.SIGKILL)],  # -9: Popen's way
    ids=["SIGTERM", "SIGINT", "SIGKILL"],
)
def test_a_signal_to_longqa_ui_stops_its_server_with_it(
    ui: subprocess.Popen[bytes], unused_port: int, sig: signal.Signals, status: int, tmp_path: Path
) -> None:
    os.kill(ui.pid, sig)  # the parent alone, not its process group
    started = time.monotonic()
    try:
        code = ui.wait(timeout=STOPPED_WITHIN)
    except subprocess.TimeoutExpired:
        pytest.fail(f"longqa ui still running {STOPPED_WITHIN:.0f} s after {sig.name}")
    closed = soon(lambda: refused(unused_port), started)
    gone = soon(lambda: not group_members(ui.pid), started)
    log = (tmp_path / "ui.log").read_text()
    assert closed, f"the port still serves after longqa ui exited on {sig.name}:\n{log}"
    assert gone, f"processes of longqa ui outlived it on {sig.name}: {group_members(ui.pid)}"
    assert code == status, log
    assert "Traceback" not in log


STUBBORN = textwrap.dedent("""
    import signal, sys, time
    from app.cli.children import run_child
    child = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); "
    child += "time.sleep(60)"
    sys.exit(run_child([sys.executable, "-c", child], None, grace=float(sys.argv[1])))
""")


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", STUBBORN, "1.0"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == b"up\n"
        os.kill(process.pid, signal.SIGTERM)
        started = time.monotonic()
        assert process.wait(timeout=10) == 143
        assert 0.9 < time.monotonic() - started < 5, "killed after the grace period, not before"
        assert group_members(process.pid) == []
    finally:
        for pid in group_members(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait()


@pytest.mark.parametrize(
    ("code", "status"),
    [("raise SystemExit(3)", 3), ("import os; os.kill(os.getpid(), 15)", 143)],
    ids=["exit 3", "killed by SIGTERM"],
)
def test_without_a_signal_the_status_is_the_childs(code: str, status: int) -> None:
    assert run_child([sys.executable, "-c", code]) == status
