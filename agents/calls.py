"""One model call, done right: the window checked, the answer streamed, the cost recorded.

Every call any strategy makes goes through ``Caller.call``: it refuses a prompt that would not
leave the answer budget free in the window (strategies fit their prompts first; this is the
last guard), streams tokens to a callback, records tokens and seconds in the trace, feeds the
speed book, and turns a failing server into one line that names it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage

from agents.answer import CallRecord, Trace
from agents.backends import Backend
from ingest.errors import LongqaError

log = logging.getLogger(__name__)

TokenSink = Callable[[str], None]


class BudgetError(LongqaError):
    """A prompt that does not fit the model's window with room for the answer."""


@dataclass
class CallResult:
    text: str
    metadata: dict[str, Any]
    record: CallRecord


def _describe_failure(exc: Exception, backend: Backend) -> str:
    name = type(exc).__name__
    where = backend.description or backend.spec
    text = (str(exc) or name).splitlines()[0]
    if "Connection" in name or "refused" in text.lower():
        return f"model server {where} is not reachable: {text}"
    if "Timeout" in name:
        return f"model server {where} timed out: {text}"
    status = getattr(exc, "status_code", None)
    if status is not None:
        return f"model server {where} answered HTTP {status}: {text}"
    return f"model call to {where} failed: {name}: {text}"


class Caller:
    """Makes the calls of one answer against one backend, into one trace."""

    def __init__(self, backend: Backend, trace: Trace) -> None:
        self.backend = backend
        self.trace = trace

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
        **options: Any,
    ) -> CallResult:
        limit = max_tokens or self.backend.answer_tokens
        prompt_tokens = self.backend.count_prompt(messages)
        if prompt_tokens + limit > self.backend.context_window:
            raise BudgetError(
                f"{role} prompt of {prompt_tokens} tokens + {limit} for the answer exceeds the "
                f"{self.backend.context_window}-token window of {self.backend.spec}"
            )
        started = time.perf_counter()
        first: float | None = None
        pieces: list[str] = []
        metadata: dict[str, Any] = {}
        usage: dict[str, Any] = {}
        try:
            for chunk in self.backend.chat.stream(messages, max_tokens=limit, **options):
                text = chunk.content if isinstance(chunk.content, str) else ""
                if text:
                    if first is None:
                        first = time.perf_counter() - started
                    pieces.append(text)
                    if on_token:
                        on_token(text)
                for key, value in (chunk.response_metadata or {}).items():
                    if key != "logprobs" or "logprobs" not in metadata:  # keep the first token's
                        metadata[key] = value
                if chunk.usage_metadata:
                    usage = dict(chunk.usage_metadata.items())
        except LongqaError:
            raise
        except Exception as exc:  # servers fail in many ways; the user gets one line
            log.debug("model call failed", exc_info=True)
            raise LongqaError(_describe_failure(exc, self.backend)) from exc
        seconds = time.perf_counter() - started
        text = "".join(pieces)
        completion_tokens = usage.get("output_tokens") or (self.backend.count_text(text) if text else 0)
        prompt_used = usage.get("input_tokens") or prompt_tokens
        timing = metadata.get("timing", {})
        first_seconds = timing.get("first_token_seconds", first if first is not None else seconds)
        record = CallRecord(role, int(prompt_used), int(completion_tokens), seconds, first_seconds)
        self.trace.calls.append(record)
        cached = (usage.get("input_token_details") or {}).get("cache_read") or 0  # a reused KV prefix
        self.backend.record(int(prompt_used) - int(cached), int(completion_tokens), first_seconds, seconds)
        return CallResult(text, metadata, record)
