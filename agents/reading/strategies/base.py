"""What every strategy receives and returns, and how it says what it will cost.

A strategy (``Strategy``) answers a question in a ``Context`` with a ``Draft``, and estimates its
own cost from a ``Sizing`` (the backend, the collection's and the retrieved evidence's size, what
of its prompts the backend holds already), so the router compares ways of reading without
knowing how any of them reads. To add a strategy: one file in this folder with a class that has
``name``, ``answer``, ``prefixes`` and ``estimate``, one line in ``STRATEGIES`` and one in
``registry.StrategyName``/``STRATEGY_INFO`` (its alias and label)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from agents.answer import Estimate
from agents.evidence.blocks import Evidence
from agents.evidence.corpus import Corpus
from agents.models.backends import Backend
from agents.models.calls import Caller, TokenSink
from ingest.document import Chunk


@dataclass
class Context:
    """One answer's working set: the corpus, the caller (backend + trace), the stream sinks."""

    corpus: Corpus
    caller: Caller
    on_token: TokenSink | None = None
    on_status: Callable[[str], None] = lambda _: None
    k: int = 8  # chunks retrieve_reason retrieves
    max_facts: int = 8
    notes_tokens: int = 400  # the most a Chain-of-Agents worker may write
    scope: list[str] | None = None  # paths to read (Chain of Agents over part of the collection)
    hops: int = 0  # follow-up searches retrieve_reason may make when its facts do not answer
    evidence: Evidence = field(default_factory=Evidence)

    def chunks(self) -> list[Chunk]:
        """The chunks in document order, limited to ``scope`` when one is set."""
        return self.in_scope(self.corpus.chunks())

    def in_scope(self, chunks: list[Chunk]) -> list[Chunk]:
        """``chunks`` limited to ``scope`` when one is set."""
        if self.scope is None:
            return chunks
        wanted = set(self.scope)
        return [c for c in chunks if c.span.path in wanted]

    @property
    def cache_tag(self) -> str:
        """The collection a cached prompt prefix comes from (its folder and generation)."""
        return self.corpus.cache_tag

    def block_tokens(self, chunk: Chunk) -> int:
        backend = self.caller.backend
        return self.corpus.block_tokens(chunk, backend.spec, backend.count_text)


@dataclass
class Draft:
    """A strategy's answer before its citations are resolved and verified."""

    text: str
    evidence: Evidence
    refused: bool
    facts: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # marker → verified quotes
    short: str | None = None  # the short answer, where the strategy wrote it in code (collect)


FRAME_TOKENS = 250  # prompt text around the evidence, before the exact prompt is known
FACTS_TOKENS = 200  # the facts retrieve_reason's reason step reads
NOTES_ROOM = 300  # the most notes (what earlier workers found) a worker is expected to read


@dataclass(frozen=True)
class Call:
    """One planned model call: its prompt, what of it is cached (tokens, bytes to load), its answer."""

    prompt: int
    completion: int
    cached: int = 0
    cached_bytes: int = 0


@dataclass(frozen=True)
class Prefix:
    """One question-independent prompt a strategy will send (the whole collection; a segment): its
    exact size and what of it the backend holds (tokens, bytes to load)."""

    prompt_tokens: int
    cached_tokens: int = 0
    cached_bytes: int = 0


@dataclass
class Sizing:
    """What a strategy's estimate reads: the backend, the collection's size in the backend's tokens,
    the retrieved evidence's, and each strategy's ``prefixes`` where they were worked out."""

    backend: Backend
    corpus_tokens: int
    retrieved_tokens: int
    prefixes: dict[str, list[Prefix]] = field(default_factory=dict)

    @property
    def room(self) -> int:
        """The prompt room of one call, before its exact frame is known."""
        return self.backend.context_window - self.backend.answer_tokens - FRAME_TOKENS

    def writes(self, role: str) -> int:
        """What this backend's calls of ``role`` write (measured, or a prior)."""
        return int(self.backend.speed.writes(role))

    def cost(self, calls: list[Call], fits: bool = True) -> Estimate:
        """``calls`` estimated each on its own (a long context slows reading and writing), summed."""
        backend = self.backend
        return Estimate(
            calls=len(calls),
            prompt_tokens=sum(c.prompt for c in calls),
            completion_tokens=sum(c.completion for c in calls),
            seconds=sum(
                backend.estimate_seconds(c.prompt, c.completion, c.cached, c.cached_bytes) for c in calls
            ),
            fits=fits,
            cached_tokens=sum(c.cached for c in calls),
        )


class Strategy(Protocol):
    """A way of reading."""

    name: str

    def answer(self, question: str, context: Context) -> Draft:
        """The draft answer (citations not yet resolved)."""
        ...

    def prefixes(self, question: str, context: Context) -> list[Prefix]:
        """The question-independent prompts this strategy will send, with what the backend holds
        of them (empty when it sends none); raises ``BudgetError`` when they do not fit."""
        ...

    def estimate(self, sizing: Sizing) -> Estimate:
        """Expected calls, tokens and seconds on ``sizing.backend``."""
        ...
