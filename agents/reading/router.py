"""The router (``auto``): how to read, decided per question, with its reason and its estimates.

0. A question about many items ("how many", "list the", "which … all") → collect (one short
   extraction call per passage that can hold them, the counting done in code), on every model,
   when its estimate is within the preference's budget: no strategy that asks the model to count
   answered any of the 11 such questions of examples/eval.jsonl (benchmarks/results/eval-examples).
1. The whole collection fits the window *and* reading it all stays within the preference's
   latency budget (estimated from the backend's measured prefill and decode speeds) →
   full_context; except, on a small model, a question about one thing whose retrieve_reason is
   within the budget too: the packaged 1.5B model cited the gold evidence in 4 of 6 such lookups
   reading retrieved facts, in 1 of 6 reading the whole document (examples/eval.jsonl,
   benchmarks/results/eval-examples).
2. Otherwise a question about one thing (concentrated retrieval scores) → retrieve_reason; a
   question about the whole (summaries, "all", "every", "how many", comparisons, or low or flat
   retrieval scores) → chain_of_agents, over the whole collection when that fits the budget,
   else over the documents retrieval points at, else retrieve_reason with wider retrieval.
   On a small model, such a question → baseline (the top passages in one call): on the 16
   questions of examples/eval.jsonl it sent to a chain of agents, the packaged 1.5B model was
   right on 8 that way, 4 by retrieve_reason, 2 by the chain of agents (eval-examples).
3. retrieve_reason whose facts do not answer searches again for what they point at, as many
   rounds as fit the budget (``follow_ups``); the orchestrator escalates a refusal that remains to
   chain_of_agents (after Self-Route) — not on a small model, whose 14 escalations there turned
   no refusal into a right answer and doubled the time (95 s a question against 45 s).

So on a laptop CPU (~70 prefill tokens/s) a 17k-token manual is not read whole for a lookup,
while on a vLLM GPU server it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.answer import Estimate, Trace
from agents.evidence.corpus import Corpus
from agents.models.backends import Backend
from agents.models.calls import BudgetError, Caller
from agents.reading.strategies import STRATEGIES
from agents.reading.strategies.base import Context, Prefix, Sizing
from agents.reading.strategies.registry import SCOPED, WIDER, Preference, StrategyName, preference
from agents.reading.strategies.retrieve_reason import RetrieveReason

# Latency budgets (seconds of model time) and the retrieval-score thresholds they move.
PREFERENCES: dict[str, dict[str, float]] = {
    Preference.QUALITY: {"latency": 1800.0, "low_score": 0.30, "flat": 0.06},
    Preference.BALANCED: {"latency": 240.0, "low_score": 0.25, "flat": 0.04},
    Preference.COST: {"latency": 60.0, "low_score": 0.20, "flat": 0.025},
}

_WHOLE = re.compile(
    r"\b(summari[sz]e|summary|overview|outline|main (?:points|topics|ideas|themes)|all|every|each|"
    r"list(?:s|ing)?|how many|number of|count|enumerate|compare|comparison|differences?|across|"
    r"throughout|whole|entire|overall|which (?:chapters|sections|files|modules))\b",
    re.IGNORECASE,
)


_ITEMS = re.compile(
    r"\b(how many|number of|count (?:of|the)|(?:list|enumerate|name) (?:all|every|each|the)|"
    r"which (?:\w+ ){0,4}(?:all|every)|what are (?:all )?the (?:\w+ ){0,2}\w+s)\b",
    re.IGNORECASE,
)


@dataclass
class Decision:
    strategy: str
    reason: str
    estimates: dict[str, Estimate] = field(default_factory=dict)
    scope: list[str] | None = None  # Chain of Agents over these documents only
    k: int | None = None  # retrieve_reason's retrieval depth, when widened


@dataclass
class Reading:
    """What the router knows of reading the collection on this backend: its size, and each
    strategy's question-independent prompts with what of them is cached (``Strategy.prefixes``)."""

    corpus_tokens: int
    prefixes: dict[str, list[Prefix]] = field(default_factory=dict)


def estimates(
    backend: Backend, corpus_tokens: int, retrieved_tokens: int, reading: Reading | None = None
) -> dict[str, Estimate]:
    """Each strategy's own estimate of its calls, tokens and seconds on this backend, counting only
    the uncached part of each prompt as read (the cached part costs its load)."""
    prefixes = reading.prefixes if reading is not None else {}
    sizing = Sizing(backend, corpus_tokens, retrieved_tokens, prefixes)
    return {name: strategy.estimate(sizing) for name, strategy in STRATEGIES.items()}


HOPS = 2  # follow-up rounds retrieve_reason may make when its facts do not answer


def follow_ups(question: str, corpus: Corpus, backend: Backend, prefer: str = "balanced", k: int = 8) -> int:
    """How many follow-up rounds (``HOPS`` at most) retrieve_reason may add to its first retrieve
    and reason within the preference's budget (``RetrieveReason.hop``: what one round costs)."""
    latency = PREFERENCES[preference(prefer)]["latency"]
    hits = corpus.search(question, k=k)
    retrieved = sum(corpus.block_tokens(h.chunk, backend.spec, backend.count_text) for h in hits)
    sizing = Sizing(backend, 0, retrieved)
    strategy = STRATEGIES[StrategyName.RETRIEVE_REASON]
    assert isinstance(strategy, RetrieveReason)
    first, hop = strategy.estimate(sizing).seconds, strategy.hop(sizing).seconds
    rounds = 0
    while rounds < HOPS and first + (rounds + 1) * hop <= latency:
        rounds += 1
    return rounds


def reading(question: str, corpus: Corpus, backend: Backend) -> Reading:
    """The collection's size in the backend's tokens and, on a backend that keeps prefix states,
    each strategy's question-independent prompts and what of them is cached already (collect's,
    its passages in scope, on every backend)."""
    found = Reading(corpus.estimate_tokens(backend.spec, backend.count_text))
    for name, strategy in STRATEGIES.items():
        if backend.cached_prefix is None and name != StrategyName.COLLECT:
            continue  # nothing cached to count; collect's passages are its calls, cached or not
        try:
            prefixes = strategy.prefixes(question, Context(corpus, Caller(backend, Trace())))
        except BudgetError:
            continue  # they do not fit: nothing to cache
        if prefixes:
            found.prefixes[name] = prefixes
    return found


def score_shape(dense_scores: list[float]) -> tuple[float, float]:
    """(top score, concentration = top minus the mean of the rest) of a query's dense scores."""
    if not dense_scores:
        return 0.0, 0.0
    top = dense_scores[0]
    rest = dense_scores[1:] or [top]
    return top, top - sum(rest) / len(rest)


def route(question: str, corpus: Corpus, backend: Backend, prefer: str = "balanced", k: int = 8) -> Decision:
    """Choose a strategy for ``question`` and say why; never one whose estimate is over the
    preference's budget while another is within it."""
    policy = PREFERENCES[preference(prefer)]
    latency = policy["latency"]
    known = reading(question, corpus, backend)
    corpus_tokens = known.corpus_tokens
    hits = corpus.search(question, k=max(k, 10))
    retrieved = sum(corpus.block_tokens(h.chunk, backend.spec, backend.count_text) for h in hits[:k])
    options = estimates(backend, corpus_tokens, retrieved, known)
    full = options[StrategyName.FULL_CONTEXT]
    # the cached prefix is the prompt up to the question: the collection and the text around it
    cached = f" ({full.cached_tokens} prompt tokens read ahead)" if full.cached_tokens else ""
    fits = full.fits and full.seconds <= latency
    reads_all = (
        f"the collection ({corpus_tokens} tokens) fits the {backend.context_window}-token window "
        f"and reading it all takes ~{full.seconds:.0f}s{cached}, within the {prefer} budget of "
        f"{latency:.0f}s"
    )
    dense = sorted((h.dense_score for h in hits if h.dense_score is not None), reverse=True)
    top, concentration = score_shape(dense)
    wording = _WHOLE.search(question)
    one_thing = not wording and top >= policy["low_score"] and concentration >= policy["flat"]
    about = (
        f"the question is about one thing (top retrieval score {top:.2f}, {concentration:.2f} above the rest)"
    )
    items = _ITEMS.search(question)
    collect = options[StrategyName.COLLECT]
    if items and collect.seconds <= latency:
        return Decision(
            StrategyName.COLLECT,
            f"the question asks about many items (its wording '{items.group(0)}'): collect copies them "
            f"from {collect.calls} passage(s) and counts them in code, ~{collect.seconds:.0f}s, within "
            f"the {prefer} budget of {latency:.0f}s",
            options,
        )
    rr = options[StrategyName.RETRIEVE_REASON]
    if fits and one_thing and backend.packaged and rr.seconds <= latency:
        return Decision(
            StrategyName.RETRIEVE_REASON,
            f"{reads_all}, but {about}, and a small model cites more exactly from retrieved facts "
            f"(retrieve_reason takes ~{rr.seconds:.0f}s)",
            options,
        )
    if fits:
        return Decision(StrategyName.FULL_CONTEXT, reads_all, options)
    why_not_full = (
        f"the collection ({corpus_tokens} tokens) does not fit the {backend.context_window}-token window"
        if not full.fits
        else f"reading all {corpus_tokens} tokens{cached} would take ~{full.seconds:.0f}s, over the "
        f"{prefer} budget of {latency:.0f}s"
    )
    if one_thing:
        chosen, reason = _within(
            f"{why_not_full}; {about}",
            options,
            (StrategyName.RETRIEVE_REASON, StrategyName.BASELINE),
            prefer,
            latency,
        )
        return Decision(chosen, reason, options)
    signal = (
        f"its wording ('{wording.group(0)}')"
        if wording
        else f"{'low' if top < policy['low_score'] else 'flat'} retrieval scores (top {top:.2f}, "
        f"{concentration:.2f} above the rest)"
    )
    whole = f"{why_not_full}; the question is about the whole, by {signal}"
    if backend.packaged:
        chosen, reason = _within(
            f"{whole}; a small model's chain of agents finds little in segments this long, and it "
            "answers such questions better from the top passages in one call",
            options,
            (StrategyName.BASELINE, StrategyName.RETRIEVE_REASON),
            prefer,
            latency,
        )
        return Decision(chosen, reason, options)
    plan = plan_chain(question, corpus, backend, prefer, k, hits=hits, options=options)
    if plan.strategy == StrategyName.CHAIN_OF_AGENTS:
        plan.reason = f"{whole}: a chain of agents reads {plan.reason}"
    else:
        plan.reason = f"{whole}, but {plan.reason}"
    return plan


def _within(
    why: str, options: dict[str, Estimate], order: tuple[str, ...], prefer: str, latency: float
) -> tuple[str, str]:
    """The first option of ``order`` whose estimate is within the budget, else the cheapest of
    them; and the reason, ``why`` continued."""
    for name in order:
        if options[name].seconds <= latency:
            over = "".join(
                f"; {n} would take ~{options[n].seconds:.0f}s, over the {prefer} budget of {latency:.0f}s"
                for n in order[: order.index(name)]
            )
            seconds = options[name].seconds
            takes = (
                f"retrieving wider instead: ~{seconds:.0f}s"
                if name == WIDER
                else f"{name} takes ~{seconds:.0f}s"
            )
            return name, f"{why}{over}; {takes}"
    cheapest = min(order, key=lambda n: options[n].seconds)
    return cheapest, (
        f"{why}; every way of reading it is over the {prefer} budget of {latency:.0f}s: the cheapest, "
        f"{cheapest}, takes ~{options[cheapest].seconds:.0f}s"
    )


def plan_chain(
    question: str,
    corpus: Corpus,
    backend: Backend,
    prefer: str = "balanced",
    k: int = 8,
    hits: list | None = None,
    options: dict[str, Estimate] | None = None,
) -> Decision:
    """A chain of agents over the whole collection if it fits the preference's budget, else over the
    documents retrieval points at; if even one is too long, retrieve_reason with wider retrieval
    (or plain top-k in one call, when even that is over the budget)."""
    latency = PREFERENCES[prefer]["latency"]
    hits = hits if hits is not None else corpus.search(question, k=max(k, 10))
    if options is None:
        retrieved = sum(corpus.block_tokens(h.chunk, backend.spec, backend.count_text) for h in hits[:k])
        known = reading(question, corpus, backend)
        options = estimates(backend, known.corpus_tokens, retrieved, known)
    coa = options[StrategyName.CHAIN_OF_AGENTS]
    if coa.seconds <= latency:
        cached = f" ({coa.cached_tokens} tokens of it cached)" if coa.cached_tokens else ""
        return Decision(
            StrategyName.CHAIN_OF_AGENTS, f"the whole collection{cached}, ~{coa.seconds:.0f}s", options
        )
    scope = _scope(corpus, backend, hits, latency)
    if scope:
        scoped = estimates(backend, sum(t for _, t in scope), 0)[StrategyName.CHAIN_OF_AGENTS]
        options[SCOPED] = scoped
        paths = [p for p, _ in scope]
        return Decision(
            StrategyName.CHAIN_OF_AGENTS,
            f"the {len(paths)} document(s) retrieval points at "
            f"({', '.join(paths)}), ~{scoped.seconds:.0f}s; the whole collection would take "
            f"~{coa.seconds:.0f}s",
            options,
            scope=paths,
        )
    retrieved = sum(corpus.block_tokens(h.chunk, backend.spec, backend.count_text) for h in hits[:k])
    options[WIDER] = estimates(backend, 0, 2 * retrieved)[StrategyName.RETRIEVE_REASON]
    why = f"even one document read by a chain of agents is over the {prefer} budget of {latency:.0f}s"
    chosen, reason = _within(
        why, options, (WIDER, StrategyName.RETRIEVE_REASON, StrategyName.BASELINE), prefer, latency
    )
    if chosen == WIDER:
        return Decision(StrategyName.RETRIEVE_REASON, reason, options, k=2 * k)
    return Decision(chosen, reason, options)


def _scope(corpus: Corpus, backend: Backend, hits: list, latency: float) -> list[tuple[str, int]]:
    """The documents the hits fall in, most hits first, while a chain of agents over them fits."""
    votes: dict[str, float] = {}
    for rank, hit in enumerate(hits):
        votes[hit.chunk.span.path] = votes.get(hit.chunk.span.path, 0.0) + 1.0 / (rank + 1)
    sizes: dict[str, int] = {}
    for chunk in corpus.chunks():
        if chunk.span.path in votes:
            sizes[chunk.span.path] = sizes.get(chunk.span.path, 0) + chunk.n_tokens
    ratio = corpus.estimate_tokens(backend.spec, backend.count_text) / max(corpus.cl100k_tokens, 1)
    chosen: list[tuple[str, int]] = []
    for path in sorted(votes, key=lambda p: -votes[p]):
        tokens = int(sizes.get(path, 0) * ratio)
        candidate = [*chosen, (path, tokens)]
        cost = estimates(backend, sum(t for _, t in candidate), 0)[StrategyName.CHAIN_OF_AGENTS].seconds
        if cost > latency:
            break
        chosen = candidate
    return chosen
