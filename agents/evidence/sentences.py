"""The one sentence splitter, and the one way a claim is grounded in the sentences of a text.

``units`` cuts a text into what quotes and evidence are made of: in prose its sentences (ended by
. ! ? or ;, a closing quote or bracket kept), with a heading line on its own and each bullet its
own; in code its non-blank lines. The quote a user sees (``agents.evidence.citations``), the
sentences the support judge reads (``agents.evidence.grounds``) and the sentences its checks bind
facts to (``agents.evidence.claims``) are all cut here, so they always agree.

``best_window`` is the one grounding algorithm: the window of up to a few consecutive units that
holds most of a claim's terms (numbers count double), each extra unit costing a little, optionally
only where it holds enough of them and every number the claim states. Its callers differ only in
the parameters they pass. This module must never import the rest of ``agents.evidence``: the
facts of a claim (``claims``) are cut into sentences here, so what the algorithm needs of them (a
number reader, a negation test) comes in as arguments.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from retrieval.lexical import tokenize

Spans = list[tuple[int, int]]

_SENTENCE_END = re.compile(r"[.!?;][\"')\]”’]*(?=\s)")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_BULLET = re.compile(r"\n(?=[ \t]*[●•*-] )|(?=●)")
_HEADING = re.compile(r"[ \t]*[^\s.!?;:,][^\n.!?;:,]{0,60}[^\n.!?;:,\s][ \t]*")
_AFTER_HEADING = re.compile(r"[ \t]*[A-Z0-9●•*-]")
_ENDS_SENTENCE = re.compile(r"[.!?:;][\"')\]”’]*\s*$")


def headings(text: str) -> Spans:
    """The heading lines of prose, as offsets: a short line of its own, with no sentence punctuation
    nor comma (a title, an option's name, a short bullet), at the start of the text or of a
    paragraph or after a line that ends a sentence or is a heading, and followed by a line opening
    with a capital, a digit or a bullet. A short line inside a sentence is no heading."""
    found: Spans = []
    lines = text.split("\n")
    start = 0
    previous_ends = True  # the text's start, a blank line, or a line ending a sentence
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if previous_ends and _HEADING.fullmatch(line) and _AFTER_HEADING.match(following):
            found.append((start, start + len(line)))
            previous_ends = True
        else:
            previous_ends = not line.strip() or bool(_ENDS_SENTENCE.search(line))
        start += len(line) + 1
    return found


def units(text: str, code: bool = False) -> Spans:
    """The units of ``text``, as offsets: its non-blank lines in code; in prose its sentences,
    heading lines and bullets (a sentence may run across line breaks, never across a blank line)."""
    if code:
        spans: Spans = []
        start = 0
        for line in text.split("\n"):
            if line.strip():
                spans.append((start, start + len(line)))
            start += len(line) + 1
        return spans
    cuts = {0, len(text)}
    cuts |= {m.end() for m in _SENTENCE_END.finditer(text)}
    cuts |= {m.start() for m in _BLANK_LINE.finditer(text)} | {m.start() for m in _BULLET.finditer(text)}
    for start, end in headings(text):
        cuts |= {start, end}
    spans = []
    for left, right in itertools.pairwise(sorted(cuts)):
        piece = text[left:right]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((left + lead, left + len(piece.rstrip())))
    return spans


def sentence_bounds(text: str, start: int, end: int, code: bool = False) -> tuple[int, int]:
    """``[start, end)`` widened to whole units: from the start of the last unit starting at or
    before ``start`` to the end of the first unit ending at or after ``end`` (the white space after a
    unit belongs to it)."""
    spans = units(text, code)
    left = max([a for a, _ in spans if a <= start], default=0)
    right = min([b for _, b in spans if b >= end], default=len(text))
    return left, right


GROUNDED = 0.75  # the share of a claim's own terms (beyond the question's) its source must hold
GROUNDED_ALL = 0.5  # and the share of all its terms
EXTRA = 0.2  # the cost of each unit beyond the first: quotes and evidence stay tight


@dataclass(frozen=True)
class Window:
    """The consecutive units a claim rests on: their offsets, how many they are, and the shares of
    the claim's terms they hold (of its own terms, beyond the question's; of all its terms)."""

    start: int
    end: int
    units: int
    own: float
    all: float


def best_window(
    claim: str,
    text: str,
    spans: Spans,
    *,
    size: int,
    question: str = "",
    light: frozenset[str] = frozenset(),
    grounded: float = GROUNDED,
    grounded_all: float = GROUNDED_ALL,
    numbers: Callable[[str], set[str]] | None = None,
    negated: Callable[[str], bool] | None = None,
    extra: float = EXTRA,
    tight: bool = False,
) -> Window | None:
    """The best window of up to ``size`` consecutive ``spans`` of ``text`` for ``claim``; None when
    no window qualifies.

    The claim's own terms are those neither in ``question`` nor ``light`` (all of its terms where
    none is left); numbers count double. A window qualifies when it holds ``grounded`` of the own
    terms, ``grounded_all`` of all terms, some term at all, and (with ``numbers``, which reads the
    numbers of a text) every number the claim states. The best holds most of the own terms, then
    (with ``negated``) says no exactly when the claim does, then holds most of all terms, each unit
    beyond the first costing ``extra`` (against the own terms too where ``tight``: a longer window
    must then add that much to win), then is the shortest; the first of equals wins.
    """
    terms = {t: (2.0 if t.isdigit() else 1.0) for t in tokenize(claim)}
    if not terms:
        return None
    asked = set(tokenize(question)) | light
    own = {t: w for t, w in terms.items() if t not in asked} or terms
    own_total, all_total = sum(own.values()), sum(terms.values())
    stated = numbers(claim) if numbers else set()
    says_no = negated(claim) if negated else False
    held = [set(tokenize(text[a:b])) for a, b in spans]
    best: tuple[float, bool, float, int] | None = None
    found: Window | None = None
    for i in range(len(spans)):
        seen: set[str] = set()
        for j in range(i, min(i + size, len(spans))):
            seen |= held[j]
            own_share = sum(w for t, w in own.items() if t in seen) / own_total
            all_share = sum(w for t, w in terms.items() if t in seen) / all_total
            if own_share < grounded or all_share < grounded_all or not all_share:
                continue
            start, end = spans[i][0], spans[j][1]
            if numbers and stated and not stated <= numbers(text[start:end]):
                continue
            agrees = negated is None or negated(text[start:end]) == says_no
            cost = extra * (j - i)
            key = (own_share - cost if tight else own_share, agrees, all_share - cost, start - end)
            if best is None or key > best:
                best, found = key, Window(start, end, j - i + 1, own_share, all_share)
    return found
