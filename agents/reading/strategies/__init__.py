"""The ways of reading (DESIGN.md §6), one file each. A strategy is anything that keeps the
``base.Strategy`` contract: ``answer(question, context) -> Draft``, and its own cost
(``prefixes``: its question-independent prompts; ``estimate(sizing) -> Estimate``), which is all
the router asks of it. ``STRATEGIES`` maps their canonical names to them, and ``registry`` holds
their names, aliases and labels.

To add a strategy: a file here with its class, one line below, and its name, alias and label in
``registry``."""

from __future__ import annotations

from agents.reading.strategies.base import Context, Draft, Strategy
from agents.reading.strategies.baseline import Baseline
from agents.reading.strategies.chain_of_agents import ChainOfAgents
from agents.reading.strategies.collect import Collect
from agents.reading.strategies.full_context import FullContext
from agents.reading.strategies.registry import StrategyName
from agents.reading.strategies.retrieve_reason import RetrieveReason

STRATEGIES: dict[str, Strategy] = {
    StrategyName.FULL_CONTEXT: FullContext(),
    StrategyName.RETRIEVE_REASON: RetrieveReason(),
    StrategyName.CHAIN_OF_AGENTS: ChainOfAgents(),
    StrategyName.BASELINE: Baseline(),
    StrategyName.COLLECT: Collect(),
}

__all__ = ["STRATEGIES", "Context", "Draft", "Strategy"]
