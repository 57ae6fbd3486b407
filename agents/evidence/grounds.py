"""Where in a passage a claim rests, as the support judge reads it: its sentences, found without a model.

``window`` finds the (at most three) consecutive sentences of a passage that restate a claim, by the
one grounding algorithm (``agents.evidence.sentences.best_window``, over the one splitter's
sentences, as ``agents.evidence.citations.ground`` grounds a paraphrase); ``focus_text`` is what a
yes/no over that evidence alone reads (with the definition or heading the sentences refer back
to), which a small model answers better than a question about a whole chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.evidence.claims import negated, numbers
from agents.evidence.sentences import best_window, headings, sentence_bounds, units
from retrieval.lexical import tokenize

_CODE_LINE = re.compile(r"^\s*(?:def |class |import |from |return\b|if |elif |else:|for |while |try:|except|"
                        r"@|#|[\w.\[\]'\"]+\s*[+\-*/]?=[^=]|\)|\]|\}|>>>)")  # fmt: skip


def is_code(passage: str) -> bool:
    """Whether a passage reads as source code (lines, not sentences, are its units)."""
    lines = [line for line in passage.splitlines() if line.strip()]
    return len(lines) >= 3 and sum(bool(_CODE_LINE.match(line)) for line in lines) >= 0.3 * len(lines)


_DEFINITION = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+\w+.*$", re.MULTILINE)
_ANAPHOR = re.compile(r"\s*[●•*-]?\s*(?:This|These|That|Those|It|They|Such|Its|Their)\b")


def context_of(passage: str, start: int, code: bool) -> str:
    """What evidence starting at ``start`` refers back to: the last ``def``/``class`` line above it
    (code) or the last heading above it (prose: a short line of its own, such as an option's name),
    and the sentence before one that opens with "This", "It", "They" …"""
    parts = [m.group().strip() for m in _DEFINITION.finditer(passage, 0, start)][-1:]
    if not code:
        parts += [passage[a:b].strip() for a, b in headings(passage) if b <= start][-1:]
    if not code and start > 0 and _ANAPHOR.match(passage, start):
        left, _ = sentence_bounds(passage, start - 1, start, code)
        parts.append(passage[left:start])
    return "\n".join(parts)


@dataclass(frozen=True)
class Grounds:
    """Where in the passage a claim rests: its sentences, and their offsets in the passage."""

    quote: str  # the passage's own words the claim rests on
    sentences: str
    spans: tuple[tuple[int, int], ...]
    context: str = ""  # what the sentences refer back to (``context_of``)
    shown: str = ""  # what a yes/no over the evidence alone reads (the sentences, if empty)


_LIGHT = frozenset(tokenize("use uses used give gives make makes get gets provide provides allow allows"))
WINDOW = 3  # sentences (twice as many lines of code) a claim's evidence may span


def window(claim: str, passage: str, question: str | None = None) -> Grounds | None:
    """The sentences of the passage that best restate the claim, found without the model: up to
    ``WINDOW`` consecutive sentences holding ``GROUNDED`` of the terms the claim adds to its question
    and to a few light verbs ("uses", "gives" …) (numbers count double), ``GROUNDED_ALL`` of all its
    terms and every number it states (``claims.numbers``), saying no exactly when the claim does
    where windows tie. None when no window does: the passage does not restate the claim."""
    code = is_code(passage)
    spans = units(passage, code)
    found = best_window(
        claim,
        passage,
        spans,
        size=2 * WINDOW if code else WINDOW,
        question=question or "",
        numbers=numbers,
        light=_LIGHT,
        negated=negated,
    )
    if found is None:
        return None
    start, end = found.start, found.end
    text = passage[start:end]
    shown = ""
    if code:  # a statement often runs over the lines around the window
        first = max(i for i, (a, _) in enumerate(spans) if a <= start)
        last = min(i for i, (_, b) in enumerate(spans) if b >= end)
        shown = passage[spans[max(first - 1, 0)][0] : spans[min(last + 1, len(spans) - 1)][1]]
    return Grounds(text, text, ((start, end),), context_of(passage, start, code), shown)


def focus_text(evidence: Grounds) -> str:
    """What the yes/no over the evidence alone reads: the sentences (a line more each side, in
    code), after what they refer back to."""
    shown = evidence.shown or evidence.sentences
    return f"{evidence.context}\n{shown}" if evidence.context else shown
