"""The short answer: the key value or phrase of an answer (``64 MB``, ``sort_keys``), so that an
answer written as cited sentences can be read at a glance and scored by exact match.

It reads the answer already written, not the documents: one small call of a few dozen tokens. An
answer that is already a phrase is its own short answer, with no call.
"""

from __future__ import annotations

import re

from agents.models.calls import Caller
from agents.prompts import SHORT

_MARKER = re.compile(r"\s*\[S\d+\]")
_SHORT_WORDS = 6  # an answer this short is its own short answer
_MAX_TOKENS = 24


def _bare(text: str) -> str:
    """Text without [S#] markers, surrounding quotes, a label, or its closing full stop."""
    text = _MARKER.sub("", text).strip()
    text = re.sub(r"^(?:short answer|answer)\s*:\s*", "", text, flags=re.IGNORECASE)
    return text.strip().strip("\"'`“”").rstrip(".").strip()


def short_answer(question: str, answer: str, caller: Caller) -> str:
    """The key value or phrase of ``answer``; empty when the model gives nothing shorter."""
    bare = _bare(answer)
    if len(bare.split()) <= _SHORT_WORDS:
        return bare
    result = caller.call(
        "short", SHORT.format_messages(question=question, answer=bare), max_tokens=_MAX_TOKENS
    )
    lines = [line for line in result.text.strip().splitlines() if line.strip()]
    short = _bare(lines[0]) if lines else ""
    return short if short and len(short) < len(bare) else ""
