"""The extracted text of a structured document (a Word file, a web page, an e-book).

Each such loader turns its file into ``Block``s — headings with their level, paragraphs, list
items, tables — and ``layout`` joins them with blank lines into the one text that every offset
points into, recording each heading's section where its line starts. Headings read as Markdown
headings (``## Linux``) and table rows as Markdown rows (``| a | b |``), so the text stays
readable in a prompt and in the source view. Nothing is copied out of the laid-out text again,
so spans round-trip by construction. This module never reads a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ingest.text import section_paths

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # all but tab and newline
BLOCK_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Block:
    """One paragraph of extracted text; ``level`` 1-9 for a heading, 0 for anything else."""

    text: str
    level: int = 0


def clean(text: str) -> str:
    """Flowing text as it reads: runs of spaces folded, line breaks kept, blank lines dropped."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def preformatted(text: str) -> str:
    """Preformatted text (code): lines kept as they are, trailing spaces and outer blank lines dropped."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def paragraph(text: str, prefix: str = "") -> Block | None:
    """A paragraph of flowing text (``prefix`` such as ``- `` for a list item); None when blank."""
    cleaned = clean(text)
    return Block(prefix + cleaned) if cleaned else None


def heading(text: str, level: int) -> Block | None:
    """A heading of ``level`` (1 is the highest); None when its title is blank."""
    title = " ".join(clean(text).split())
    return Block(title, max(1, level)) if title else None


def table(rows: Sequence[Sequence[str]], header: bool) -> Block | None:
    """Rows as Markdown rows, ``| --- |`` under a header row; None for a table without text."""
    cells = [[" ".join(clean(cell).split()).replace("|", "\\|") for cell in row] for row in rows]
    cells = [row for row in cells if any(row)]
    if not cells:
        return None
    width = max(len(row) for row in cells)
    lines = ["| " + " | ".join(row + [""] * (width - len(row))) + " |" for row in cells]
    if header and len(lines) > 1:
        lines.insert(1, "| " + " | ".join(["---"] * width) + " |")
    return Block("\n".join(lines))


def layout(blocks: Iterable[Block | None]) -> tuple[str, tuple[tuple[int, str], ...]]:
    """The document's text (blocks joined by blank lines) and its sections ``(offset, path)``."""
    parts: list[str] = []
    found: list[tuple[int, int, str]] = []
    offset = 0
    for block in blocks:
        if block is None or not block.text:
            continue
        if parts:
            offset += len(BLOCK_SEPARATOR)
        shown = f"{'#' * min(block.level, 6)} {block.text}" if block.level else block.text
        if block.level:
            found.append((offset, block.level, block.text))
        parts.append(shown)
        offset += len(shown)
    return BLOCK_SEPARATOR.join(parts), tuple(section_paths(found))
