"""chain_of_agents (after Chain-of-Agents, Zhang et al. 2024): workers read the collection in
document order, one window-sized segment each, passing on notes that keep their ``[S#]``
markers; a manager answers from the last notes. Reads everything; each call stays short.

Segment boundaries do not depend on the question (a fixed room is kept for it), and each
worker's segment opens its prompt, so a segment read once is reused by every later question
(``cache_prefix``; ``longqa warm`` reads them all ahead of time).
"""

from __future__ import annotations

import math

from langchain_core.messages import BaseMessage

from agents.answer import Estimate
from agents.evidence.blocks import pack
from agents.evidence.citations import is_refusal
from agents.models.calls import BudgetError
from agents.prompts import MANAGER, NO_NOTES, WORKER, documents
from agents.reading.strategies.base import (
    FRAME_TOKENS,
    NOTES_ROOM,
    Call,
    Context,
    Draft,
    Prefix,
    Sizing,
)
from ingest.document import Chunk

QUESTION_ROOM = 256  # tokens kept for the question in every worker's prompt, whatever it is


def segments(context: Context, question_tokens: int = 0) -> list[list[Chunk]]:
    """The collection cut into consecutive segments that fit a worker's prompt.

    The cut depends on the collection and the model only (a question longer than the room kept
    for it cuts smaller segments), so the same segments, and their cached states, serve every
    question."""
    caller = context.caller
    frame = caller.backend.count_prompt(
        WORKER.format_messages(question="", previous=0, notes="", part=0, parts=0, documents=documents(""))
    )
    # a worker writes up to notes_tokens, and reads the notes so far (kept within notes_tokens)
    written = max(caller.backend.answer_tokens, context.notes_tokens)
    prompt_room = caller.backend.context_window - written
    room = prompt_room - frame - context.notes_tokens - max(QUESTION_ROOM, question_tokens)
    if caller.backend.segment_tokens:  # the setting: at most this much of the collection a worker
        room = min(room, caller.backend.segment_tokens)
    if room < 64:
        raise BudgetError(
            f"the {caller.backend.context_window}-token window is too small for a Chain-of-Agents worker"
        )
    remaining = context.chunks()
    parts: list[list[Chunk]] = []
    while remaining:
        part, remaining = pack(remaining, room, context.block_tokens)
        if not part:
            raise BudgetError(
                f"{remaining[0].label} ({context.block_tokens(remaining[0])} tokens) does not fit a "
                f"worker's room of {room} tokens; re-ingest with smaller --chunk-tokens"
            )
        parts.append(part)
    return parts


def worker_prompt(
    question: str, context: Context, part: list[Chunk], number: int, parts: int, notes: str
) -> tuple[list[BaseMessage], str]:
    """Worker ``number``'s messages, and their question-independent prefix (its segment)."""
    prefix = documents(context.evidence.render(part))
    messages = WORKER.format_messages(
        question=question, previous=number - 1, notes=notes, part=number, parts=parts, documents=prefix
    )
    return messages, prefix


def notes_read(earlier_workers: int, written: float) -> int:
    """The notes a call reads after ``earlier_workers`` workers who each wrote ``written`` tokens
    (this backend's measured average), kept within their room."""
    return int(min(earlier_workers * written, NOTES_ROOM))


def new_facts(reply: str) -> list[str]:
    """The lines a worker added (none for NONE), without list bullets."""
    lines = [line.strip().lstrip("-*• ").strip() for line in reply.splitlines()]
    return [line for line in lines if line and line.upper().rstrip(".") not in ("NONE", "NOTHING")]


def _within(facts: list[str], context: Context) -> list[str]:
    """The notes kept within the room a worker's prompt has for them: the oldest facts go first."""
    count = context.caller.backend.count_text
    while len(facts) > 1 and count("\n".join(facts)) > context.notes_tokens:
        facts = facts[1:]
        context.caller.trace.events.append(
            "chain of agents: the notes outgrew their room; the oldest fact was let go"
        )
    return facts


class ChainOfAgents:
    name = "chain_of_agents"

    def answer(self, question: str, context: Context) -> Draft:
        caller = context.caller
        parts = segments(context, caller.backend.count_text(question))
        for part in parts:  # number every block in document order first: markers stay stable
            for chunk in part:
                context.evidence.marker(chunk)
        facts: list[str] = []
        for i, part in enumerate(parts, 1):
            context.on_status(f"worker {i} of {len(parts)} reading {part[0].label} …")
            notes = "\n".join(facts) or NO_NOTES
            messages, prefix = worker_prompt(question, context, part, i, len(parts), notes)
            result = caller.call(
                f"worker {i}/{len(parts)}",
                messages,
                max_tokens=context.notes_tokens,
                cache_prefix=prefix,
                cache_tag=context.cache_tag,
            )
            facts += [line for line in new_facts(result.text) if line not in facts]
            facts = _within(facts, context)
            caller.trace.notes.append("\n".join(facts) or NO_NOTES)
        notes = "\n".join(facts) or NO_NOTES
        context.on_status("manager writing the answer")
        answer = caller.call(
            "manager", MANAGER.format_messages(question=question, notes=notes), on_token=context.on_token
        )
        return Draft(answer.text, context.evidence, is_refusal(answer.text))

    def prefixes(self, question: str, context: Context) -> list[Prefix]:
        """Each worker's prompt before any notes (its segment), and what the backend holds of it."""
        backend = context.caller.backend
        parts = segments(context, backend.count_text(question))
        for part in parts:
            for chunk in part:
                context.evidence.marker(chunk)
        found = []
        for i, part in enumerate(parts, 1):
            messages, prefix = worker_prompt(question, context, part, i, len(parts), NO_NOTES)
            cached, state = backend.cached(messages, prefix)
            found.append(Prefix(backend.count_prompt(messages), cached, state))
        return found

    def estimate(self, sizing: Sizing) -> Estimate:
        """A call per segment (the exact ones where known, else the collection cut evenly into
        window-sized parts), each reading the notes the workers before it wrote, and the manager's."""
        backend = sizing.backend
        notes = backend.speed.writes("notes")
        if self.name in sizing.prefixes:
            known = sizing.prefixes[self.name]
            parts = [(p.prompt_tokens, p.cached_tokens, p.cached_bytes) for p in known]
        else:
            segment = min(sizing.room - NOTES_ROOM, backend.segment_tokens or sizing.room)
            count = max(1, math.ceil(sizing.corpus_tokens / max(segment, 1)))
            parts = [(sizing.corpus_tokens // count + FRAME_TOKENS, 0, 0)] * count
        # worker i reads what the workers before it wrote (as much as this backend's workers write)
        workers = [
            Call(prompt + notes_read(i, notes), int(notes), cached, state)
            for i, (prompt, cached, state) in enumerate(parts)
        ]
        manager = Call(notes_read(len(workers), notes) + FRAME_TOKENS, sizing.writes("answer"))
        return sizing.cost([*workers, manager])
