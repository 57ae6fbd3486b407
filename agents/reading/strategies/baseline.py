"""baseline: plain top-k retrieval stuffed into one prompt — the common RAG recipe, kept as the
evaluation's reference row. No fact copying, no verbatim check, no ordering for long context."""

from __future__ import annotations

from agents.evidence.blocks import pack
from agents.evidence.citations import is_refusal
from agents.prompts import ANSWER, documents
from agents.reading.strategies.base import Context, Draft


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
