"""What every strategy receives and returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from agents.evidence.blocks import Evidence
from agents.evidence.corpus import Corpus
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


class Strategy(Protocol):
    name: str

    def answer(self, question: str, context: Context) -> Draft: ...
