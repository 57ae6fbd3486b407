"""full_context: the whole collection, in document order, in one call.

The collection opens the prompt and the question follows it, so every question over the same
collection sends the same prefix: the backend reads it once and reuses it (``cache_prefix``).
"""

from __future__ import annotations

from langchain_core.messages import BaseMessage

from agents.answer import Estimate
from agents.evidence.blocks import pack
from agents.evidence.citations import is_refusal
from agents.models.calls import BudgetError
from agents.prompts import ANSWER, documents
from agents.reading.strategies.base import FRAME_TOKENS, Call, Context, Draft, Prefix, Sizing


def overhead(context: Context, question: str) -> int:
    """Tokens of the prompt around the evidence."""
    return context.caller.backend.count_prompt(
        ANSWER.format_messages(question=question, documents=documents(""))
    )


def prompt(question: str, context: Context) -> tuple[list[BaseMessage], str]:
    """The messages of the one call, and their question-independent prefix (the collection)."""
    chunks = context.chunks()
    budget = context.caller.prompt_budget - overhead(context, question)
    kept, rest = pack(chunks, budget, context.block_tokens)
    if rest:
        total = sum(context.block_tokens(c) for c in chunks)
        window = context.caller.backend.context_window
        raise BudgetError(
            f"the collection ({total} tokens) does not fit the {window}-token window with room for "
            "the answer; use --strategy rag or coa (or auto)"
        )
    prefix = documents(context.evidence.render(kept))
    return ANSWER.format_messages(question=question, documents=prefix), prefix


class FullContext:
    name = "full_context"

    def answer(self, question: str, context: Context) -> Draft:
        messages, prefix = prompt(question, context)
        context.on_status(
            f"reading the whole collection ({len(context.evidence.by_marker)} chunks) in one call"
        )
        result = context.caller.call(
            "answer", messages, on_token=context.on_token, cache_prefix=prefix, cache_tag=context.cache_tag
        )
        return Draft(result.text, context.evidence, is_refusal(result.text))

    def prefixes(self, question: str, context: Context) -> list[Prefix]:
        """The one prompt: the whole collection, and what the backend holds of it."""
        backend = context.caller.backend
        messages, prefix = prompt(question, context)
        cached, state = backend.cached(messages, prefix)
        return [Prefix(backend.count_prompt(messages), cached, state)]

    def estimate(self, sizing: Sizing) -> Estimate:
        """One call reading the collection (its exact prompt where known, less what is cached)."""
        answer = sizing.writes("answer")
        known = sizing.prefixes.get(self.name)
        if known:
            call = Call(known[0].prompt_tokens, answer, known[0].cached_tokens, known[0].cached_bytes)
        else:
            call = Call(sizing.corpus_tokens + FRAME_TOKENS, answer)
        return sizing.cost([call], fits=sizing.corpus_tokens <= sizing.room)
