"""What one model call measured, written by a backend and read by ``agents.models.calls``.

A backend is a langchain-core chat model, so what it measured travels in its chunks'
``response_metadata`` and ``usage_metadata``; this module is the one place that names those keys
(``TIMING``, ``PREFIX``, ``LOGPROBS``), how a backend writes them (``timing``, ``Lookup.as_dict``)
and how a call reads them back into ``CallFacts``, typed. A backend that reads long prompts
reports how far it is as it goes (``Backend.reports_progress``: it takes ``on_progress(done,
total)``, which raises ``Abandoned`` once nobody waits). A backend that reports nothing (a
hosted server, any LangChain model) gives facts that are all empty, and the call measures itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from agents.models.prefix_cache import Lookup

TIMING = "timing"  # {"first_token_seconds": s, "seconds": s}: timed inside the backend
PREFIX = "prefix"  # ``Lookup.as_dict()``: where the prompt's question-independent prefix came from
LOGPROBS = "logprobs"  # OpenAI's shape: {"content": [{"top_logprobs": [{"token", "logprob"}, …]}, …]}
_LOOKUP_FIELDS = {f.name for f in fields(Lookup)}


class Abandoned(Exception):
    """Raised inside a backend's progress report (``on_progress``) once the caller stopped
    waiting: the backend stops reading there, and keeps what it read where it can."""


@dataclass(frozen=True)
class Progress:
    """Prompt tokens read so far, of how many (those already in the window count as read)."""

    done: int
    total: int


def timing(first_token_seconds: float | None, seconds: float) -> dict[str, float]:
    """The ``TIMING`` entry a backend writes when it times its own prefill and decoding."""
    timed = {"seconds": seconds}
    if first_token_seconds is not None:
        timed["first_token_seconds"] = first_token_seconds
    return timed


@dataclass
class CallFacts:
    """What a call's chunks said about it, gathered as they stream in."""

    first_token_seconds: float | None = None  # measured by the backend (excludes its overhead)
    prefix: Lookup | None = None  # a backend that keeps prefix states: what came from where
    top_logprobs: list[dict[str, Any]] = field(default_factory=list)  # the first token's
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int = 0  # prompt tokens reused, not read again

    def gather(self, response: dict[str, Any] | None, usage: dict[str, Any] | None) -> None:
        """Fold one chunk's metadata in (later chunks refine earlier ones; the first token's
        log-probabilities stay)."""
        response = response or {}
        if TIMING in response:
            first = (response[TIMING] or {}).get("first_token_seconds")
            self.first_token_seconds = None if first is None else float(first)
        if PREFIX in response:
            found = response[PREFIX] or {}
            self.prefix = Lookup(**{k: v for k, v in found.items() if k in _LOOKUP_FIELDS}) if found else None
        if not self.top_logprobs:
            content = (response.get(LOGPROBS) or {}).get("content") or [{}]
            self.top_logprobs = list(content[0].get("top_logprobs") or [])
        if usage:  # the last chunk's usage is the call's
            self.input_tokens = usage.get("input_tokens")
            self.output_tokens = usage.get("output_tokens")
            self.cached_tokens = int((usage.get("input_token_details") or {}).get("cache_read") or 0)

    @property
    def loaded_tokens(self) -> int:
        """Prompt tokens loaded from a stored prefix state (0 when none was)."""
        return self.prefix.loaded_tokens if self.prefix is not None else 0

    @property
    def load_seconds(self) -> float:
        """Seconds loading that state took; reading the rest of the prompt starts after it."""
        return self.prefix.load_seconds if self.prefix is not None and self.loaded_tokens else 0.0

    def prefix_note(self) -> str:
        """Where the call's prefix came from, in words, for the trace."""
        prefix = self.prefix
        if prefix is None or not prefix.prefix_tokens:
            return ""
        if prefix.loaded_tokens:
            seconds = prefix.load_seconds
            return f"prefix of {prefix.loaded_tokens} tokens loaded from the cache in {seconds:.1f} s"
        if prefix.computed_tokens:
            kept = f", stored ({prefix.stored_bytes / 1e6:.0f} MB)" if prefix.stored_bytes else ""
            return f"prefix of {prefix.computed_tokens} tokens read{kept}"
        return f"prefix of {prefix.memory_tokens} tokens still in the model's memory"
