"""The data model agents/ owns (DESIGN.md §3): Answer, Citation, and the trace of how an answer
was made. Plain data; ``to_dict`` gives the JSON the CLI, batch files and the UI share."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ingest.document import Span

SUPPORTED = 0.5
"""The support at and above which a citation's words support its sentence: every judge's score
reads against it (``agents.verify.support.rescale`` maps a judge's fitted threshold onto it)."""


@dataclass(frozen=True)
class Citation:
    """One ``[S#]`` marker resolved: the chunk, the tightest supporting sub-span, its quote."""

    marker: int
    chunk_id: str
    span: Span
    quote: str
    support: float | None = None  # the judge's P(supported), None when not verified
    sentence: str = ""  # the answer sentence that cites it

    @property
    def label(self) -> str:
        return self.span.label

    @property
    def supported(self) -> bool | None:
        return None if self.support is None else self.support >= SUPPORTED


@dataclass
class CallRecord:
    """One model call: who made it, its size, its time."""

    role: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    first_token_seconds: float | None = None
    note: str = ""
    cached_tokens: int = 0  # prompt tokens the model did not read again (a reused or loaded prefix)
    estimated_seconds: float | None = None  # what the speed model expected for these sizes


@dataclass
class Estimate:
    """What a way of reading is expected to cost on a backend before it runs: its calls, tokens
    (and of them, those the backend already holds) and seconds, and whether its prompts fit."""

    calls: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    fits: bool = True
    cached_tokens: int = 0  # prompt tokens this backend already holds (a stored prefix)

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "cached_tokens": self.cached_tokens,
            "completion_tokens": self.completion_tokens,
            "seconds": round(self.seconds, 1),
            "fits": self.fits,
        }


@dataclass
class Trace:
    """How an answer was made: the router's decision, each call, worker notes, dropped markers."""

    decision: str = ""
    reason: str = ""
    estimates: dict[str, Estimate] = field(default_factory=dict)  # the router's, per way of reading
    calls: list[CallRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # Chain-of-Agents worker notes, in order
    events: list[str] = field(default_factory=list)  # escalations, dropped facts, trimmed evidence
    unknown_markers: int = 0
    dropped_facts: int = 0

    @property
    def prompt_tokens(self) -> int:
        return sum(c.prompt_tokens for c in self.calls)

    @property
    def completion_tokens(self) -> int:
        return sum(c.completion_tokens for c in self.calls)

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.calls)


@dataclass
class Answer:
    """An answer with ``[S#]`` markers, its resolved citations and how it was made."""

    question: str
    text: str
    citations: list[Citation]
    strategy: str
    refused: bool
    trace: Trace
    # dropped: following an instruction found in a document, or (--strict) supported by no citation
    removed_sentences: list[str] = field(default_factory=list)
    short: str = ""  # the key value or phrase (agents.reading.short_answer); empty when refused

    @property
    def verdict(self) -> str:
        """How far the judge backs the answer: "refused"; "not checked" (no citation judged);
        "supported" (every cited sentence has a supporting citation), "not supported" (none
        has), or "partly supported"."""
        if self.refused:
            return "refused"
        judged = [c for c in self.citations if c.support is not None]
        if not judged:
            return "not checked"
        cited = {c.sentence for c in judged}
        backed = {c.sentence for c in judged if c.supported}
        if backed == cited:
            return "supported"
        return "partly supported" if backed else "not supported"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict
        data["trace"]["estimates"] = {name: e.as_dict() for name, e in self.trace.estimates.items()}
        data["citations"] = [
            {**asdict(c), "label": c.label, "supported": c.supported} for c in self.citations
        ]
        data["cost"] = {
            "calls": len(self.trace.calls),
            "prompt_tokens": self.trace.prompt_tokens,
            "completion_tokens": self.trace.completion_tokens,
            "seconds": round(self.trace.seconds, 3),
        }
        return data
