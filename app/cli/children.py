"""A long-running child process (the UI's Streamlit server; a future ``longqa serve``) that never
outlives the command that started it.

SIGTERM and SIGINT sent to the command are passed on to the child, which is then given a grace
period to stop and killed after it. A command killed outright (SIGKILL) cannot pass anything on:
on Linux the child is asked to stop then too, by the kernel (``PR_SET_PDEATHSIG``). The exit
status follows the shell's convention: 128 + the signal that stopped the command (130 for Ctrl-C,
143 for SIGTERM), else the child's own. This module must never return while the child runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from types import FrameType
from typing import Any

GRACE_SECONDS = 10.0
FORWARDED = (signal.SIGTERM, signal.SIGINT)
_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 0.2  # how often the wait looks for a signal that came (a wait is not interrupted)


def _stop_with_parent() -> None:
    """In the child, before it runs: the kernel sends it SIGTERM when its parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def run_child(
    command: Sequence[str], env: Mapping[str, str] | None = None, grace: float = GRACE_SECONDS
) -> int:
    """Run ``command`` until it ends, passing SIGTERM and SIGINT on to it (each waited for at most
    ``grace`` seconds, then the child is killed); the exit status, by the shell's convention."""
    received: list[int] = []
    children: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signum)

    previous: dict[int, Any] = {}
    try:
        for signum in FORWARDED:
            # a signal the caller ignores stays ignored (a background job's Ctrl-C is not its own)
            if signal.getsignal(signum) is not signal.SIG_IGN:
                previous[signum] = signal.signal(signum, forward)
        child = subprocess.Popen(
            list(command),
            env=dict(env) if env is not None else None,
            preexec_fn=_stop_with_parent if sys.platform == "linux" else None,
        )
        children.append(child)
        if received:  # it came while the child was being started
            child.send_signal(received[0])
        status = _wait(child, received, grace)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for child in children:
            if child.poll() is None:  # an error of our own: the child goes with us
                child.kill()
                child.wait()
    if received:
        return 128 + received[0]
    return 128 - status if status < 0 else status


def _wait(child: subprocess.Popen[bytes], received: list[int], grace: float) -> int:
    """The child's status; once a signal came, at most ``grace`` seconds more, then it is killed."""
    deadline: float | None = None
    while True:
        if received and deadline is None:
            deadline = time.monotonic() + grace
        left = _POLL_SECONDS if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            return child.wait(timeout=left)
        except subprocess.TimeoutExpired:
            if deadline is not None and time.monotonic() >= deadline:
                child.kill()
                return child.wait()
