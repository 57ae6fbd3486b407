"""The ways of reading (DESIGN.md §6). A strategy is anything with
``answer(question, context) -> Draft``; ``STRATEGIES`` maps their canonical names to them, and
``registry`` holds their names, aliases and labels."""

from __future__ import annotations

from agents.strategies.base import Context, Draft, Strategy
from agents.strategies.baseline import Baseline
from agents.strategies.chain_of_agents import ChainOfAgents
from agents.strategies.full_context import FullContext
from agents.strategies.registry import StrategyName
from agents.strategies.retrieve_reason import RetrieveReason

STRATEGIES: dict[str, Strategy] = {
    StrategyName.FULL_CONTEXT: FullContext(),
    StrategyName.RETRIEVE_REASON: RetrieveReason(),
    StrategyName.CHAIN_OF_AGENTS: ChainOfAgents(),
    StrategyName.BASELINE: Baseline(),  # the evaluation's reference row: top-k chunks in one prompt
}

__all__ = ["STRATEGIES", "Context", "Draft", "Strategy"]
