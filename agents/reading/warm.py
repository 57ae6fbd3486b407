"""Reading a collection ahead of time (``longqa warm``): the prefix states that full_context and
every Chain-of-Agents worker will ask for are computed and stored now, so that even the first
question reads only itself.

Resumable: a prefix already stored (whole: a damaged entry is read again) is not read again, so
an interrupted or killed warm goes on where it stopped. It only ever adds to the prefix cache
(which evicts by its own size bound). A cache folder that cannot be written is one line before
anything is read; a part whose state did not fit (a disk that filled up) is "not stored".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from agents.answer import Trace
from agents.evidence.corpus import Corpus
from agents.models.backends import Backend
from agents.models.calls import BudgetError, Caller
from agents.prompts import NO_NOTES
from agents.reading.strategies import full_context
from agents.reading.strategies.base import Context
from agents.reading.strategies.chain_of_agents import segments, worker_prompt
from agents.reading.strategies.registry import StrategyName
from core.errors import LongqaError

Progress = Callable[[int, int, str], None]
"""progress(done, total, what): parts warmed so far, of how many, and the one being read."""


@dataclass
class Warmed:
    """One prefix: what it is for, its size, and what warming it did."""

    part: str  # "full_context" or "segment 3 of 6"
    label: str  # the first block it holds
    tokens: int = 0
    status: str = "stored"  # stored, already stored, not stored, too short to keep, does not fit
    seconds: float = 0.0
    bytes: int = 0


@dataclass
class WarmReport:
    parts: list[Warmed] = field(default_factory=list)

    @property
    def prefilled(self) -> int:
        """Tokens read now (stored or not)."""
        return sum(p.tokens for p in self.parts if p.status in ("stored", "not stored"))

    @property
    def stored_bytes(self) -> int:
        return sum(p.bytes for p in self.parts)

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.parts)


def warm(corpus: Corpus, backend: Backend, progress: Progress | None = None) -> WarmReport:
    """Store the prefix states of ``corpus`` for full_context (where it fits) and every segment."""
    chat = backend.chat
    if not hasattr(chat, "warm"):
        raise LongqaError(
            f"{backend.spec} keeps no prefix states in this process: warm works with llamacpp: models "
            "(a server such as vllm serve caches prompt prefixes itself)"
        )
    cache = getattr(chat, "prefix_cache", None)
    if cache is None:
        raise LongqaError("the prefix cache is turned off (prefix_cache_gb = 0): nothing to warm")
    reason = cache.unwritable()
    if reason is not None:  # said now, not after hours of reading that could not be kept
        raise LongqaError(
            f"the prefix cache folder {cache.folder} cannot be written ({reason}): nothing to warm"
        )
    if not corpus.chunks():
        raise LongqaError("the collection is empty: ingest some documents first")
    tick = progress or (lambda *_: None)
    jobs: list[tuple[Warmed, list, str]] = []
    report = WarmReport()
    context = Context(corpus, Caller(backend, Trace()))
    try:
        messages, prefix = full_context.prompt("", context)
        jobs.append((Warmed(StrategyName.FULL_CONTEXT, "the whole collection"), messages, prefix))
    except BudgetError:
        report.parts.append(Warmed(StrategyName.FULL_CONTEXT, "the whole collection", status="does not fit"))
    context = Context(corpus, Caller(backend, Trace()))
    parts = segments(context)
    for part in parts:  # numbered in document order, as a chain of agents numbers them
        for chunk in part:
            context.evidence.marker(chunk)
    for i, part in enumerate(parts, 1):
        messages, prefix = worker_prompt("", context, part, i, len(parts), NO_NOTES)
        jobs.append((Warmed(f"segment {i} of {len(parts)}", part[0].label), messages, prefix))
    for n, (warmed, messages, prefix) in enumerate(jobs):
        tick(n, len(jobs), f"{warmed.part} ({warmed.label})")
        started = time.perf_counter()
        lookup = chat.warm(messages, prefix, tag=corpus.cache_tag)
        warmed.seconds = time.perf_counter() - started
        warmed.tokens = lookup.prefix_tokens
        warmed.bytes = lookup.stored_bytes
        if not lookup.prefix_tokens:
            warmed.status = "too short to keep"  # cheaper to read again than to load
        elif lookup.stored_bytes:
            warmed.status = "stored"
        elif lookup.computed_tokens or lookup.memory_tokens:  # read, then not kept
            warmed.status = "not stored"  # the folder filled up: the cache's warning says why
        else:
            warmed.status = "already stored"
        report.parts.append(warmed)
    tick(len(jobs), len(jobs), "done")
    return report
