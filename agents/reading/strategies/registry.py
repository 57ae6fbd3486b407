"""The one list of ways of reading and of preferences, and the words each is shown in.

A strategy has a canonical name (what answers, traces and evaluation results record), an alias
(what people type: ``--strategy rag``) and a label in plain words (what the UI and the CLI show).
The router's options and escalations that are not strategies of their own (retrieval twice as
wide, a chain of agents over some documents) are named here too, so that whatever a trace records
has a label. This module holds names and words only, never behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.errors import LongqaError


class StrategyName(StrEnum):
    """A strategy's canonical name; ``auto`` is the router choosing one per question."""

    AUTO = "auto"
    FULL_CONTEXT = "full_context"
    RETRIEVE_REASON = "retrieve_reason"
    CHAIN_OF_AGENTS = "chain_of_agents"
    BASELINE = "baseline"
    COLLECT = "collect"


class Preference(StrEnum):
    """What the router favours when it chooses (its time budget per question)."""

    QUALITY = "quality"
    BALANCED = "balanced"
    COST = "cost"


@dataclass(frozen=True)
class StrategyInfo:
    """One strategy as people meet it: typed as its alias, shown as its label."""

    name: StrategyName
    alias: str
    label: str
    does: str  # what it does, in words that follow its label


STRATEGY_INFO: dict[StrategyName, StrategyInfo] = {
    info.name: info
    for info in (
        StrategyInfo(
            StrategyName.AUTO,
            "auto",
            "Automatic",
            "picks per question and says why under “How this answer was made”",
        ),
        StrategyInfo(
            StrategyName.FULL_CONTEXT,
            "full",
            "Read everything at once",
            "gives the model the whole collection when it fits: best for questions about the whole, "
            "slow on a CPU",
        ),
        StrategyInfo(
            StrategyName.RETRIEVE_REASON,
            "rag",
            "Search, then reason",
            "finds the passages that match, copies the facts word for word, then answers from them: "
            "fast, best for one fact",
        ),
        StrategyInfo(
            StrategyName.CHAIN_OF_AGENTS,
            "coa",
            "Chain of agents",
            "reads the whole collection part by part, keeping notes, then answers",
        ),
        StrategyInfo(
            StrategyName.BASELINE,
            "baseline",
            "Baseline (the best chunks, one call)",
            "puts the best-matching chunks in one prompt, the common RAG recipe: fast, and what "
            "Automatic picks for a small model's questions about the whole",
        ),
        StrategyInfo(
            StrategyName.COLLECT,
            "collect",
            "Collect every item, then count",
            "reads each passage that can hold the items a question asks about, copies them out, then "
            "counts and lists them in code, each with its citation: for “how many” and “list all”",
        ),
    )
}

PREFERENCE_LABELS: dict[Preference, str] = {
    Preference.QUALITY: "Best quality",
    Preference.BALANCED: "Balanced",
    Preference.COST: "Fastest & cheapest",
}

_retrieve, _chain = STRATEGY_INFO[StrategyName.RETRIEVE_REASON], STRATEGY_INFO[StrategyName.CHAIN_OF_AGENTS]

# What the router weighs and what an answer records besides the strategies themselves: options
# (retrieve_reason retrieving twice as many chunks; a chain of agents over the documents retrieval
# points at) and escalations (retrieve_reason found nothing, then a chain of agents read more, or
# it retrieved again twice as wide).
WIDER = f"{_retrieve.name} (wider)"
SCOPED = f"{_chain.name} (scoped)"
ESCALATED = f"{_retrieve.name}→{_chain.name}"
WIDENED = f"{_retrieve.name}→wider"

_LABELS: dict[str, str] = {
    **{key: info.label for info in STRATEGY_INFO.values() for key in (info.name, info.alias)},
    WIDER: f"{_retrieve.label} (wider)",
    SCOPED: f"{_chain.label} (the documents retrieval points at)",
    ESCALATED: f"{_retrieve.label}; found nothing, so a chain of agents read more",
    WIDENED: f"{_retrieve.label}; found nothing, so searched wider",
}

_STRATEGY_NAMES = {key: info.name for info in STRATEGY_INFO.values() for key in (info.name, info.alias)}
_LONG_NAMES = [info.name for info in STRATEGY_INFO.values() if info.name != info.alias]
STRATEGY_CHOICES = f"{', '.join(info.alias for info in STRATEGY_INFO.values())} (or {', '.join(_LONG_NAMES)})"
PREFERENCE_CHOICES = ", ".join(Preference)


class UnknownChoice(LongqaError, ValueError):
    """A strategy or preference that is none; the message lists the valid ones. A ValueError too,
    so that pydantic reports it, one line, where settings are made."""


def strategy_name(value: str) -> StrategyName:
    """The canonical name of the strategy ``value`` names or aliases."""
    try:
        return _STRATEGY_NAMES[value]
    except KeyError:
        raise UnknownChoice(f"unknown strategy {value!r}: use {STRATEGY_CHOICES}") from None


def preference(value: str) -> Preference:
    """The preference ``value`` names."""
    try:
        return Preference(value)
    except ValueError:
        raise UnknownChoice(f"unknown preference {value!r}: use {PREFERENCE_CHOICES}") from None


def label(recorded: str) -> str:
    """Plain words for a strategy as a person or a trace names it: its name or alias, one of the
    router's options, an escalation; what was recorded, unchanged, if it is none of those."""
    return _LABELS.get(recorded, recorded)
