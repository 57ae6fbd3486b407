"""Where in a passage a claim rests: its sentences, found without a model.

``window`` finds the (at most three) consecutive sentences of a passage that restate a claim, as
``agents.evidence.citations.ground`` grounds a paraphrase; ``focus_text`` is what a yes/no over that
evidence alone reads (with the definition or heading the sentences refer back to), which a small
model answers better than a question about a whole chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.evidence.citations import GROUNDED, GROUNDED_ALL
from agents.evidence.claims import BOUNDARY, negated, numbers
from retrieval.lexical import tokenize

_CODE_LINE = re.compile(r"^\s*(?:def |class |import |from |return\b|if |elif |else:|for |while |try:|except|"
                        r"@|#|[\w.\[\]'\"]+\s*[+\-*/]?=[^=]|\)|\]|\}|>>>)")  # fmt: skip


def is_code(passage: str) -> bool:
    """Whether a passage reads as source code (lines, not sentences, are its units)."""
    lines = [line for line in passage.splitlines() if line.strip()]
    return len(lines) >= 3 and sum(bool(_CODE_LINE.match(line)) for line in lines) >= 0.3 * len(lines)


def sentence_bounds(passage: str, start: int, end: int, code: bool) -> tuple[int, int]:
    """``[start, end)`` widened to whole sentences (whole lines in code)."""
    if code:
        left = passage.rfind("\n", 0, start) + 1
        right = passage.find("\n", max(end - 1, start))
        return left, len(passage) if right < 0 else right
    left, right = 0, len(passage)
    for match in BOUNDARY.finditer(passage):
        if match.end() <= start:
            left = match.end()
        elif match.start() >= end:
            right = match.start()
            break
    return left, right


_DEFINITION = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+\w+.*$", re.MULTILINE)
_ANAPHOR = re.compile(r"\s*[●•*-]?\s*(?:This|These|That|Those|It|They|Such|Its|Their)\b")


_HEADING = re.compile(
    r"(?:^|(?<=[.!?:;]\n))[ \t]*([A-Z0-9][^\n.!?;:,]{0,60}[^\n.!?;:,\s])[ \t]*\n(?=[ \t]*[A-Z●•])"
)


def context_of(passage: str, start: int, code: bool) -> str:
    """What evidence starting at ``start`` refers back to: the last ``def``/``class`` line above it
    (code) or the last heading above it (prose: a short line of its own, such as an option's name),
    and the sentence before one that opens with "This", "It", "They" …"""
    parts = [m.group().strip() for m in _DEFINITION.finditer(passage, 0, start)][-1:]
    if not code:
        parts += [m.group(1) for m in _HEADING.finditer(passage, 0, start)][-1:]
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


def units(passage: str, code: bool) -> list[tuple[int, int]]:
    """The sentences of a passage (its non-blank lines, in code), as offsets."""
    if code:
        spans, pos = [], 0
        for line in passage.split("\n"):
            if line.strip():
                spans.append((pos, pos + len(line)))
            pos += len(line) + 1
        return spans
    spans, left = [], 0
    for match in [*BOUNDARY.finditer(passage), None]:
        right = len(passage) if match is None else match.start()
        if passage[left:right].strip():
            spans.append((left, right))
        if match is not None:
            left = match.end()
    return spans


_LIGHT = set(tokenize("use uses used give gives make makes get gets provide provides allow allows"))
WINDOW = 3  # sentences (twice as many lines of code) a claim's evidence may span
_EXTRA = 0.2  # the cost of each sentence beyond the first: evidence stays tight


def window(claim: str, passage: str, question: str | None = None) -> Grounds | None:
    """The sentences of the passage that best restate the claim, found without the model: up to
    ``WINDOW`` consecutive sentences holding ``GROUNDED`` of the terms the claim adds to its question
    (numbers count double), ``GROUNDED_ALL`` of all its terms and every number it states (as
    ``agents.evidence.citations.ground`` grounds a paraphrase). None when no window does: the passage does not
    restate the claim."""
    code = is_code(passage)
    terms = {t: (2.0 if t.isdigit() else 1.0) for t in tokenize(claim)}
    if not terms:
        return None
    asked = set(tokenize(question or "")) | _LIGHT
    own = {t: w for t, w in terms.items() if t not in asked} or terms
    stated = numbers(claim)
    spans = units(passage, code)
    held = [set(tokenize(passage[a:b])) for a, b in spans]
    size = 2 * WINDOW if code else WINDOW
    best: tuple[float, bool, float, int] | None = None
    where = (0, 0)
    for i in range(len(spans)):
        seen: set[str] = set()
        for j in range(i, min(i + size, len(spans))):
            seen |= held[j]
            own_share = sum(w for t, w in own.items() if t in seen) / sum(own.values())
            all_share = sum(w for t, w in terms.items() if t in seen) / sum(terms.values())
            if own_share < GROUNDED or all_share < GROUNDED_ALL:
                continue
            start, end = spans[i][0], spans[j][1]
            if not stated <= numbers(passage[start:end]):
                continue
            agrees = negated(claim) == negated(passage[start:end])
            key = (own_share, agrees, all_share - _EXTRA * (j - i), -(end - start))
            if best is None or key > best:
                best, where = key, (start, end)
    if best is None:
        return None
    start, end = where
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
