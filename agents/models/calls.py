"""One model call, done right: the window checked, the answer streamed, the cost recorded.

Every call any strategy makes goes through ``Caller.call``: it refuses a prompt that would not
leave the answer budget free in the window (strategies fit their prompts first; this is the
last guard), streams tokens to a callback, records tokens and seconds in the trace, feeds the
speed book, and turns a failing server into one line that names it.

A call never waits without limit: the model's stream is read on a worker thread while the
calling thread waits for its pieces, at most until the call's deadline (``Backend.deadline``:
the backend's timeout, or three times the call's estimated time when that is longer). A server
that accepts a request and never answers, or stops in the middle, costs the deadline, not an
hour. An abandoned stream is closed as soon as it yields again.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessageChunk, BaseMessage

from agents.answer import CallRecord, Trace
from agents.models.backends import Backend
from agents.models.facts import Abandoned, CallFacts, Progress
from agents.models.repetition import RepetitionCut
from agents.models.watch import Watch, too_slow
from agents.models.watch import who as describe
from agents.prompts import REFUSAL
from core.errors import LongqaError

log = logging.getLogger(__name__)

TokenSink = Callable[[str], None]
_KINDS = {
    "answer": "answer",
    "reason": "answer",
    "manager": "answer",
    "worker": "notes",
    "retrieve": "facts",
    "short": "short",
    "collect": "items",
}
_KEEP_SECONDS = 60.0  # the most an interrupted call waits for the model to store what it read
_STATUS_PREFIX = re.compile(r"^Error code: \d+ - ")  # the openai client's, before the server's words


class BudgetError(LongqaError):
    """A prompt that does not fit the model's window with room for the answer."""


@dataclass
class CallResult:
    """What a call wrote, what the backend said it measured, and the trace's record of it."""

    text: str
    facts: CallFacts
    record: CallRecord


def _first_line(text: str, limit: int = 200) -> str:
    line = (text.strip().splitlines() or [""])[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _describe_failure(exc: Exception, backend: Backend, seconds: float) -> LongqaError:
    """The one-line error for a failed call: a ServerError when the model server is down, slow
    or broke off (what ``longqa serve`` answers 503 for), else a LongqaError."""
    from agents.models.openai_compat import ServerError, failures

    who = describe(backend)
    chain = list(_causes(exc))
    kinds = failures()
    text = _first_line(str(exc) or type(exc).__name__)

    def any_of(classes: tuple[type[BaseException], ...]) -> bool:
        return any(isinstance(e, classes) for e in chain)

    if any("refused" in str(e).lower() for e in chain):
        return ServerError(f"{who} is not reachable: connection refused (is the server running?)")
    if any_of(kinds.timeout):
        return ServerError(too_slow(backend, seconds))
    status = getattr(exc, "status_code", None)
    if status is not None:
        line = f"{who} answered HTTP {status}: {_STATUS_PREFIX.sub('', text)}"
        return ServerError(line) if status >= 500 else LongqaError(line)
    if any_of(kinds.connect):
        detail = next((str(e) for e in reversed(chain) if str(e)), text)
        return ServerError(f"{who} is not reachable: {_first_line(detail)}")
    if any_of(kinds.broken):
        return ServerError(f"{who} broke off the connection in the middle of its answer")
    if "No generation chunks" in text or any_of(kinds.decode):  # the first: langchain-core's words
        return LongqaError(f"{who} sent something that is not a chat completion stream")
    return LongqaError(f"the call to {who} failed: {type(exc).__name__}: {text}")


class _End:
    """The stream's end, or the exception that ended it."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def _read(
    stream: Callable[[], Iterator[AIMessageChunk]], pieces: queue.Queue[Any], abandoned: threading.Event
) -> None:
    """Runs on the worker thread: every chunk of the stream into ``pieces``, then an ``_End``."""
    try:
        iterator = stream()
        try:
            for chunk in iterator:
                if abandoned.is_set():
                    break
                pieces.put(chunk)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()  # stops a local model's generation; releases a server's connection
    except BaseException as exc:  # noqa: BLE001 - handed to the calling thread, which decides
        pieces.put(_End(exc))
    else:
        pieces.put(_End())


class Caller:
    """Makes the calls of one answer against one backend, into one trace."""

    def __init__(
        self, backend: Backend, trace: Trace, on_status: Callable[[str], None] | None = None
    ) -> None:
        self.backend = backend
        self.trace = trace
        self.on_status = on_status  # where a long read says how far it is

    @property
    def prompt_budget(self) -> int:
        """The largest prompt that leaves the answer budget free."""
        return self.backend.context_window - self.backend.answer_tokens

    def call(
        self,
        role: str,
        messages: list[BaseMessage],
        on_token: TokenSink | None = None,
        max_tokens: int | None = None,
        cache_prefix: str | None = None,
        cache_tag: str | None = None,
        **options: Any,
    ) -> CallResult:
        """One call. ``cache_prefix`` is the start of the last message that does not depend on the
        question (the documents it opens with): a backend that keeps prefix states reuses it,
        ``cache_tag`` names the collection it comes from."""
        limit = max_tokens or self.backend.answer_tokens
        prompt_tokens = self._fits(role, messages, limit)
        cached_before, cached_bytes = self.backend.cached(messages, cache_prefix)
        speed = self.backend.speed  # as it stood before this call: the estimate is a prediction
        deadline = self.backend.deadline(prompt_tokens, limit, cached_before)
        options = {**self._options(deadline, cache_prefix, cache_tag), **options}
        started = time.perf_counter()
        written, facts, first = self._read(messages, deadline, started, on_token, max_tokens=limit, **options)
        seconds = time.perf_counter() - started
        if written.reason:
            self.trace.events.append(f"{role}: stopped an answer that repeated itself ({written.reason})")
        decoded = written.text  # what the model wrote (and was timed for), loop included
        completion = facts.output_tokens or (self.backend.count_text(decoded) if decoded else 0)
        prompt_used = facts.input_tokens or prompt_tokens
        first_seconds = facts.first_token_seconds
        if first_seconds is None:
            first_seconds = first if first is not None else seconds
        estimate = speed.seconds(
            int(prompt_used), int(completion), facts.cached_tokens, cached_bytes if facts.loaded_tokens else 0
        )
        record = CallRecord(
            role,
            int(prompt_used),
            int(completion),
            seconds,
            first_seconds,
            note=facts.prefix_note(),
            cached_tokens=facts.cached_tokens,
            estimated_seconds=round(estimate, 2),
        )
        self.trace.calls.append(record)
        self._measured(record, facts, cached_bytes, role)
        return CallResult(written.kept, facts, record)

    def _fits(self, role: str, messages: list[BaseMessage], limit: int) -> int:
        """The prompt's tokens; a ``BudgetError`` when it leaves no room for ``limit`` in the window
        (strategies fit their prompts first: this is the last guard)."""
        prompt_tokens = self.backend.count_prompt(messages)
        if prompt_tokens + limit > self.backend.context_window:
            raise BudgetError(
                f"{role} prompt of {prompt_tokens} tokens + {limit} for the answer exceeds the "
                f"{self.backend.context_window}-token window of {self.backend.spec}"
            )
        return prompt_tokens

    def _options(self, deadline: float, cache_prefix: str | None, cache_tag: str | None) -> dict[str, Any]:
        """What this backend is told besides the messages: the prefix hint, its own time limit."""
        options: dict[str, Any] = {}
        if cache_prefix and self.backend.prefix_options is not None:
            options.update(self.backend.prefix_options(cache_prefix, cache_tag))
        if self.backend.call_timeout is not None:
            options.update(self.backend.call_timeout(deadline))
        return options

    def _read(
        self,
        messages: list[BaseMessage],
        deadline: float,
        started: float,
        on_token: TokenSink | None,
        **options: Any,
    ) -> tuple[RepetitionCut, CallFacts, float | None]:
        """The answer streamed to ``on_token`` (cut where it starts repeating itself), what the
        backend said it measured, and when the first text came."""
        first: float | None = None
        written = RepetitionCut()
        facts = CallFacts()
        with contextlib.closing(self._stream(messages, deadline, started, **options)) as chunks:
            for chunk in chunks:
                text = chunk.content if isinstance(chunk.content, str) else ""
                if text:
                    if first is None:
                        first = time.perf_counter() - started
                    if on_token:
                        on_token(text)
                    if written.feed(text):
                        break  # closing the stream stops the model
                facts.gather(chunk.response_metadata, dict(chunk.usage_metadata or {}) or None)
        return written, facts, first

    def _measured(self, record: CallRecord, facts: CallFacts, cached_bytes: int, role: str) -> None:
        """The call's timing folded into the speed book: a loaded prefix state on its own (reading
        the rest starts after it), then the prompt it read itself and what it wrote."""
        load_seconds = facts.load_seconds
        if facts.loaded_tokens and cached_bytes:
            self.backend.record_load(cached_bytes, load_seconds)
        self.backend.record(
            record.prompt_tokens - record.cached_tokens,
            record.completion_tokens,
            (record.first_token_seconds or 0.0) - load_seconds,
            record.seconds - load_seconds,
            past_tokens=record.cached_tokens,
            kind=_KINDS.get(role.split()[0]),
        )

    def _stream(
        self, messages: list[BaseMessage], deadline: float, started: float, **options: Any
    ) -> Generator[AIMessageChunk, None, None]:
        """The model's chunks as they come, read on a worker thread; a LongqaError naming the
        model when the stream fails or a limit of ``agents.models.watch`` runs out: the total
        ``deadline`` after ``started`` (servers), or the backend's no-progress limit."""
        pieces: queue.Queue[Any] = queue.Queue()
        abandoned = threading.Event()
        context = contextvars.copy_context()  # langchain's callbacks and tracing live in context vars
        watch = Watch(self.backend, deadline, started, self.on_status)
        if self.backend.reports_progress:

            def report(done: int, total: int) -> None:  # on the worker thread, between two slices
                if abandoned.is_set():
                    raise Abandoned
                pieces.put(Progress(done, total))

            options = {**options, "on_progress": report}

        def stream() -> Iterator[AIMessageChunk]:
            return self.backend.chat.stream(messages, **options)

        worker = threading.Thread(
            target=context.run, args=(_read, stream, pieces, abandoned), name="longqa-model-call", daemon=True
        )
        worker.start()
        try:
            while True:
                left, limit = watch.left()
                try:
                    item = pieces.get(timeout=max(left, 0.0)) if left > 0 else pieces.get_nowait()
                except queue.Empty:
                    log.debug("model call abandoned (%s limit, %d chunks)", limit, watch.received)
                    raise LongqaError(watch.expired(limit)) from None
                if isinstance(item, Progress):
                    watch.progress(item)
                    continue
                if isinstance(item, _End):
                    if item.error is None:
                        return
                    if isinstance(item.error, LongqaError):
                        raise item.error
                    if not isinstance(item.error, Exception):
                        raise item.error
                    log.debug("model call failed", exc_info=item.error)
                    raise _describe_failure(item.error, self.backend, deadline) from item.error
                watch.chunk()
                yield item
        except KeyboardInterrupt:
            abandoned.set()
            if self.backend.reports_progress and worker.is_alive():
                if self.on_status is not None:
                    self.on_status("interrupted: keeping what the model has read of the prompt")
                worker.join(_KEEP_SECONDS)  # it stops at its next slice and stores what it read
            raise
        finally:
            abandoned.set()  # the worker stops at its next chunk or slice (if it ever comes)


class HoldRefusal:
    """Streams tokens, but holds back an answer that starts like a refusal (it may be escalated),
    or, with ``hold_all``, the whole answer until ``release`` (it is checked first)."""

    def __init__(self, sink: TokenSink | None, hold_all: bool = False) -> None:
        self.sink = sink
        self.held: list[str] = []
        self.open = False
        self.hold_all = hold_all

    def __call__(self, token: str) -> None:
        if self.sink is None:
            return
        if self.open:
            self.sink(token)
            return
        self.held.append(token)
        if self.hold_all:
            return
        text, refusal = "".join(self.held).lstrip().lower(), REFUSAL.lower()
        n = min(len(text), len(refusal))
        if text[:n] != refusal[:n]:
            self.release()

    def drop(self) -> None:
        """Forget what is held (a refusal that a later call may replace)."""
        self.held = []

    def release(self) -> None:
        self.open = True
        if self.sink and self.held:
            self.sink("".join(self.held))
        self.held = []
