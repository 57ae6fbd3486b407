"""Where each line of a text starts, and which line an offset is on.

Lines are what ``text.split("\\n")`` gives (so an empty text has one empty line, and a text ending
in a newline has an empty last line); every span's line numbers, every chunker's line windows and
every line-numbered source view count lines this one way, so they always agree.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence


def line_starts(text: str) -> list[int]:
    """The offset where each line of ``text`` starts: 0, then one past each newline."""
    return [0, *(match.end() for match in re.finditer("\n", text))]


def line_of(starts: Sequence[int], offset: int) -> int:
    """The 0-based line holding ``offset`` (a newline belongs to the line it ends)."""
    return bisect.bisect_right(starts, offset) - 1
