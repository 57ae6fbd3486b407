"""When a call is given up, and what it says while it runs.

A call fails for silence, not for slowness. A backend that reports its progress (the in-process
llama.cpp model: prompt tokens read, a slice at a time, then each token written) runs as long as
it keeps progressing, and is given up only after ``Backend.stall_timeout`` seconds without any.
A model server keeps its total deadline (``Backend.deadline``: a server that accepts a request
and never answers costs that, not an hour) and, once it has started to stream, the same
no-progress limit between two chunks. Each limit has its own one-line message, so the user knows
which to raise. While a long prompt is read, the watch turns progress into an ETA for the status
line.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from agents.models.backends import Backend
from agents.models.facts import Progress

ETA_EVERY = 10.0  # seconds between two ETA lines while a prompt is read


def who(backend: Backend) -> str:
    where = backend.description or backend.spec
    return f"model server {where}" if backend.is_server else f"model {where}"


def too_slow(backend: Backend, seconds: float, received: int = 0) -> str:
    """The one line for a call that outlived its total deadline."""
    within = f"{round(seconds, 1):g} s; raise --timeout if it is just slow"
    if received:
        return f"{who(backend)} stopped in the middle of its answer and gave no more within {within}"
    return f"{who(backend)} gave no answer within {within}"


def stalled(backend: Backend, seconds: float, writing: bool) -> str:
    """The one line for a call that went ``seconds`` without progress."""
    doing = "in the middle of its answer" if writing else "while reading the prompt"
    return (
        f"{who(backend)} made no progress for {round(seconds, 1):g} s {doing}; raise --stall-timeout "
        "if the machine is just busy"
    )


class Watch:
    """The limits of one call, moved on by everything the backend sends."""

    def __init__(
        self, backend: Backend, deadline: float, started: float, on_status: Callable[[str], None] | None
    ) -> None:
        self.backend = backend
        self.deadline = None if backend.reports_progress else deadline
        self.started = self.last = started
        self.received = 0  # chunks of the answer
        self.on_status = on_status
        self._read_from: tuple[float, int] | None = None  # (when, tokens) of the first progress
        self._said = started

    def left(self) -> tuple[float, str]:
        """Seconds until the next limit, and which it is ("total" or "stall"). One always runs: the
        total deadline of a backend that does not report progress, the stall of one that does."""
        now = time.perf_counter()
        limits = []
        if self.deadline is not None:
            limits.append((self.started + self.deadline - now, "total"))
        if self.backend.reports_progress or self.received:
            limits.append((self.last + self.backend.stall_timeout - now, "stall"))
        return min(limits)

    def expired(self, limit: str) -> str:
        if limit == "total":
            return too_slow(self.backend, self.deadline or 0.0, self.received)
        return stalled(self.backend, self.backend.stall_timeout, writing=self.received > 0)

    def chunk(self) -> None:
        self.last = time.perf_counter()
        self.received += 1

    def progress(self, seen: Progress) -> None:
        """One progress report: the stall limit starts again, and now and then an ETA is said."""
        now = self.last = time.perf_counter()
        if self._read_from is None:
            self._read_from = (now, seen.done)
            return
        since, first = self._read_from
        if self.on_status is None or now - self._said < ETA_EVERY or seen.done <= first:
            return
        # the speed model's shape (each token slower the longer the context), scaled to how fast
        # this call has read so far: a busy machine's pace, not the quiet one
        speed = self.backend.speed
        expected = speed.prefill_seconds(seen.done - first, first)
        pace = (now - since) / expected if expected > 0 else 1.0
        eta = pace * speed.prefill_seconds(seen.total - seen.done, seen.done)
        self._said = now
        self.on_status(f"reading the prompt: {seen.done:,} of {seen.total:,} tokens, about {eta:.0f} s left")
