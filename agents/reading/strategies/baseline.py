"""baseline: plain top-k retrieval stuffed into one prompt, the common RAG recipe. No fact
copying, no verbatim check, no ordering for long context. A strategy in its own right: the router
sends a small model's questions about the whole here (DESIGN.md §6), and the evaluation scores it
beside the others."""

from __future__ import annotations

from agents.answer import Estimate
from agents.evidence.blocks import pack
from agents.evidence.citations import is_refusal
from agents.prompts import ANSWER, documents
from agents.reading.strategies.base import FRAME_TOKENS, Call, Context, Draft, Prefix, Sizing


class Baseline:
    name = "baseline"

    def answer(self, question: str, context: Context) -> Draft:
        caller = context.caller
        context.on_status("searching the index")
        ranked = [h.chunk for h in context.corpus.search(question, k=context.k)]
        room = caller.prompt_budget - caller.backend.count_prompt(
            ANSWER.format_messages(question=question, documents=documents(""))
        )
        kept, _ = pack(ranked, room, context.block_tokens)
        context.on_status(f"answering from the top {len(kept)} chunks")
        messages = ANSWER.format_messages(
            question=question, documents=documents(context.evidence.render(kept))
        )
        result = caller.call("answer", messages, on_token=context.on_token)
        return Draft(result.text, context.evidence, is_refusal(result.text))

    def prefixes(self, question: str, context: Context) -> list[Prefix]:
        return []  # its prompt is the question's hits

    def estimate(self, sizing: Sizing) -> Estimate:
        """One call reading the retrieved chunks."""
        return sizing.cost([Call(sizing.retrieved_tokens + FRAME_TOKENS, sizing.writes("answer"))])
