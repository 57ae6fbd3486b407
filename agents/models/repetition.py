"""Stopping an answer that loops, as it streams.

Small models asked for a list over a long context sometimes write the right items and then repeat
lines until the token cap: minutes of decoding that add nothing. Two signs of a loop, checked on
every piece of text as it arrives:

- a line (a list item, a sentence on its own line) written for the third time: the answer is cut
  where its second copy began, so the first stays and the loop goes;
- the text's end repeating one stretch of words three times over within a line ("and the flag,
  and the flag, and the flag"): cut after its first copy.

Short lines (a closing bracket, a code fence, "---") and stretches without words are never counted:
code and tables repeat those legitimately.
"""

from __future__ import annotations

import re

_LINE_MIN = 16  # characters of a normalised line before its repeats count
_TAIL_MIN = 48  # characters the three copies of a looping stretch must cover together
_TAIL_MAX = 200  # the longest stretch looked for within a line
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_WORD = re.compile(r"[^\W\d_]{2,}")


def _normal(line: str) -> str:
    """A line as its repeats are compared: no list mark, spacing or case."""
    return " ".join(_LIST_MARK.sub("", line).split()).lower()


class RepetitionCut:
    """Fed the answer piece by piece; says when it loops, and what to keep of it."""

    def __init__(self) -> None:
        self.text = ""
        self.cut_at: int | None = None  # where the kept answer ends, once a loop is found
        self.reason = ""
        self._seen: dict[str, list[int]] = {}  # normalised line → where each copy starts
        self._line_start = 0

    @property
    def kept(self) -> str:
        """The answer without its loop (all of it when there is none)."""
        return self.text if self.cut_at is None else self.text[: self.cut_at].rstrip()

    def feed(self, piece: str) -> bool:
        """Add the next piece; True once the answer loops (the caller stops reading)."""
        if self.cut_at is not None:
            return True
        self.text += piece
        while (end := self.text.find("\n", self._line_start)) >= 0:
            if self._line_done(self._line_start, end):
                return True
            self._line_start = end + 1
        return self._tail_loops()

    def _line_done(self, start: int, end: int) -> bool:
        line = _normal(self.text[start:end])
        if len(line) < _LINE_MIN or not _WORD.search(line):
            return False
        copies = self._seen.setdefault(line, [])
        copies.append(start)
        if len(copies) < 3:
            return False
        self.cut_at = copies[1]
        self.reason = f"the line {line[:60]!r} came a third time"
        return True

    def _tail_loops(self) -> bool:
        line = self.text[self._line_start :]
        for size in range(max(1, _TAIL_MIN // 3), min(_TAIL_MAX, len(line) // 3) + 1):
            unit = line[-size:]
            if line[-2 * size : -size] == unit and line[-3 * size : -2 * size] == unit and _WORD.search(unit):
                self.cut_at = len(self.text) - 2 * size
                self.reason = f"{unit.strip()[:60]!r} came three times in a row"
                return True
        return False
