"""Background work for the web UI: ingesting and answering on a thread of their own.

A Streamlit page reruns its script whenever the user touches a widget, and a rerun stops the
running script; work done inside the script (a two-minute ingest, a streamed answer) would be
cut off. A ``Job`` runs the work on its own thread instead, and the page polls it: the streamed
text, the latest status line and progress, and at the end a result or a one-line error. A job
may give up when no page has looked at it for a while (its browser tab was closed), so that an
answer nobody will read does not keep the model busy. A reader that waits rather than polls (an
HTTP stream) is told of every report (``on_change``). Jobs never touch Streamlit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.errors import LongqaError

log = logging.getLogger("longqa.ui")

T = TypeVar("T")


class Stopped(BaseException):
    """Raised inside a job's work when the user stopped it (a BaseException, so that the
    layers below, which turn every ``Exception`` into a one-line error, let it through)."""


@dataclass(frozen=True)
class Progress:
    """The latest progress report: stage ('scan', 'read', 'embed'), done of total, a detail."""

    stage: str
    done: int
    total: int
    detail: str = ""


def describe_error(exc: BaseException) -> str:
    """The one line a user reads for an error; unexpected ones are logged with their traceback."""
    if isinstance(exc, LongqaError):
        return str(exc)
    log.error("unexpected error", exc_info=exc)
    lines = str(exc).splitlines()
    detail = f": {lines[0]}" if lines else ""
    return f"unexpected error: {type(exc).__name__}{detail} (details in the server log)"


class Job(Generic[T]):
    """One piece of work on a daemon thread, reporting as it goes."""

    def __init__(
        self,
        work: Callable[[Job[T]], T],
        label: str = "",
        abandon_after: float | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.label = label
        self._on_change = on_change  # called (on the job's thread) after every report and at the end
        self.started = time.perf_counter()
        self.abandon_after = abandon_after  # stop when no page has looked for this long (seconds)
        self._seen = self.started
        self.finished: float | None = None
        self.result: T | None = None
        self.error: str | None = None
        self.exception: BaseException | None = None  # what ``error`` describes
        self.stopped = False
        self.first_token_seconds: float | None = None
        self._pieces: list[str] = []
        self._statuses: list[str] = []
        self._progress: Progress | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(work,), name=f"longqa-{label}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ the work's side
    def token(self, text: str) -> None:
        """A piece of streamed text."""
        self._check()
        with self._lock:
            if self.first_token_seconds is None and text.strip():
                self.first_token_seconds = time.perf_counter() - self.started
            self._pieces.append(text)
        self._changed()

    def status(self, text: str) -> None:
        """A status line ('choosing how to read', 'loading the model …')."""
        self._check()
        with self._lock:
            self._statuses.append(text)
        self._changed()

    def progress(self, stage: str, done: int, total: int, detail: str = "") -> None:
        """A progress report, in the shape of the indexer's progress callback."""
        self._check()
        with self._lock:
            self._progress = Progress(stage, done, total, detail)
        self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def _check(self) -> None:
        if self.abandon_after is not None and time.perf_counter() - self._seen > self.abandon_after:
            self._stop.set()  # its browser tab was closed: nobody will read the rest
        if self._stop.is_set():
            raise Stopped

    def _run(self, work: Callable[[Job[T]], T]) -> None:
        try:
            self.result = work(self)
        except Stopped:
            self.stopped = True
        except BaseException as exc:  # noqa: BLE001 - the thread's last line: the page shows one line
            self.error, self.exception = describe_error(exc), exc
        finally:
            self.finished = time.perf_counter()
            self._done.set()
            self._changed()

    # ------------------------------------------------------------ the page's side
    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the job to end; True once it has."""
        return self._done.wait(seconds)

    def stop(self) -> None:
        """Ask the work to stop at its next token, status or progress report."""
        self._stop.set()

    def touch(self) -> None:
        """A page is still watching (see ``abandon_after``)."""
        self._seen = time.perf_counter()

    @property
    def text(self) -> str:
        """The text streamed so far."""
        with self._lock:
            return "".join(self._pieces)

    def pieces(self, start: int = 0) -> list[str]:
        """The streamed pieces from the ``start``-th on, as they came (a token each)."""
        with self._lock:
            return self._pieces[start:]

    @property
    def last_status(self) -> str:
        with self._lock:
            return self._statuses[-1] if self._statuses else ""

    @property
    def statuses(self) -> list[str]:
        with self._lock:
            return list(self._statuses)

    @property
    def last_progress(self) -> Progress | None:
        with self._lock:
            return self._progress

    @property
    def seconds(self) -> float:
        return (self.finished or time.perf_counter()) - self.started
