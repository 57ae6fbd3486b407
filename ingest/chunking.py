"""Cutting a region of text into token-budgeted pieces along natural boundaries.

Used by every loader for whatever has no finer structure (a PDF page, a Markdown section, a
function too large for one chunk, a file in a language without a grammar). Pieces break at blank
lines when they can, else at line ends, else between words; consecutive pieces overlap by a few
whole lines. Offsets are returned, never copied text, so spans round-trip by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.tokens import count_tokens

_WORD = re.compile(r"\S+\s*")


@dataclass(frozen=True)
class ChunkSettings:
    """Chunk budget and overlap, in tiktoken cl100k tokens."""

    tokens: int = 384
    overlap: int = 32

    def __post_init__(self) -> None:
        if self.tokens < 16:
            raise ValueError("chunk size must be at least 16 tokens")
        if not 0 <= self.overlap < self.tokens // 2:
            raise ValueError("chunk overlap must be below half the chunk size")


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int
    blank: bool


def _units(text: str, start: int, end: int, budget: int) -> list[_Unit]:
    """Lines of ``text[start:end]`` (with their newline); over-long lines cut between words."""
    units: list[_Unit] = []
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        line_end = end if nl < 0 else nl + 1
        line = text[pos:line_end]
        tokens = count_tokens(line)
        if tokens <= budget:
            units.append(_Unit(pos, line_end, tokens, not line.strip()))
        else:
            units.extend(_split_long_line(text, pos, line_end, budget))
        pos = line_end
    return units


def _split_long_line(text: str, start: int, end: int, budget: int) -> list[_Unit]:
    """Cut one line longer than the budget between words; each word is counted once.

    Minified code repeats the same few thousand words over megabytes, so counts are memoised.
    """
    pieces: list[_Unit] = []
    piece_start, piece_tokens = start, 0
    counts: dict[str, int] = {}
    for match in _WORD.finditer(text, start, end):
        word = match.group()
        word_tokens = counts.get(word)
        if word_tokens is None:
            word_tokens = counts[word] = count_tokens(word)
        if piece_tokens and piece_tokens + word_tokens > budget:
            pieces.append(_Unit(piece_start, match.start(), piece_tokens, False))
            piece_start, piece_tokens = match.start(), 0
        if word_tokens > budget:  # one "word" longer than a chunk: cut it by characters
            pieces.extend(_split_by_chars(text, match.start(), match.end(), budget))
            piece_start, piece_tokens = match.end(), 0
            continue
        piece_tokens += word_tokens
    if piece_start < end:
        pieces.append(_Unit(piece_start, end, count_tokens(text[piece_start:end]), False))
    return pieces


def _split_by_chars(text: str, start: int, end: int, budget: int) -> list[_Unit]:
    """Cut one over-long word into pieces of at most ``budget * 2`` characters within budget."""
    pieces: list[_Unit] = []
    pos = start
    while pos < end:
        size = min(end - pos, budget * 2)
        tokens = count_tokens(text[pos : pos + size])
        while size > 1 and tokens > budget:
            size = size * 3 // 4
            tokens = count_tokens(text[pos : pos + size])
        pieces.append(_Unit(pos, pos + size, tokens, False))
        pos += size
    return pieces


def split_region(text: str, start: int, end: int, settings: ChunkSettings) -> list[tuple[int, int, int]]:
    """Pieces ``(char_start, char_end, n_tokens)`` of ``text[start:end]``, whitespace-trimmed."""
    units = _units(text, start, end, settings.tokens)
    pieces: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and total + units[j].tokens <= settings.tokens:
            total += units[j].tokens
            j += 1
        j = max(j, i + 1)
        if j < len(units):
            j = _prefer_paragraph_break(units, i, j, settings.tokens)
        pieces.append((units[i].start, units[j - 1].end))
        if j >= len(units):
            break
        i = _overlap_start(units, i, j, settings.overlap)
    result: list[tuple[int, int, int]] = []
    for s, e in pieces:
        trimmed = _trim(text, s, e)
        if trimmed is not None and (not result or result[-1][:2] != trimmed[:2]):  # overlap over blanks
            result.append(trimmed)
    return result


def _prefer_paragraph_break(units: list[_Unit], i: int, j: int, budget: int) -> int:
    """Move the cut back to the last blank line if that keeps at least half the budget."""
    total = sum(u.tokens for u in units[i:j])
    for k in range(j - 1, i, -1):
        total -= units[k].tokens
        if total < budget // 2:
            break
        if units[k].blank:
            return k + 1
    return j


def _overlap_start(units: list[_Unit], i: int, j: int, overlap: int) -> int:
    """Where the next piece starts: a few whole lines before ``j``, but always after ``i``."""
    k, carried = j, 0
    while k - 1 > i and carried + units[k - 1].tokens <= overlap:
        carried += units[k - 1].tokens
        k -= 1
    while k < j and units[k].blank:
        k += 1
    return k


def _trim(text: str, start: int, end: int) -> tuple[int, int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        return None
    return start, end, count_tokens(text[start:end])
