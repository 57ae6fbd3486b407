"""The ways of reading (DESIGN.md §6). A strategy is anything with
``answer(question, context) -> Draft``; ``STRATEGIES`` maps their canonical names to them, and
``registry`` holds their names, aliases and labels."""

from __future__ import annotations

from agents.reading.strategies.base import Context, Draft, Strategy
from agents.reading.strategies.baseline import Baseline
from agents.reading.strategies.chain_of_agents import ChainOfAgents
from agents.reading.strategies.full_context import FullContext
from agents.reading.strategies.registry import StrategyName
from agents.reading.strategies.retrieve_reason import RetrieveReason

STRATEGIES: dict[str, Strategy] = {
    StrategyName.FULL_CONTEXT: FullContext(),
    StrategyName.RETRIEVE_REASON: RetrieveReason(),
    StrategyName.CHAIN_OF_AGENTS: ChainOfAgents(),
    StrategyName.BASELINE: Baseline(),  # the evaluation's reference row: top-k chunks in one prompt
}

__all__ = ["STRATEGIES", "Context", "Draft", "Strategy"]
