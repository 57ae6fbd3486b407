"""Chunking of prose by headings, then paragraphs: Markdown, reStructuredText and plain text files,
and the text extracted from Word files, web pages and e-books (see ``ingest/blocks.py``).

A heading starts a section; each chunk carries its heading path (``Install > From source``).
Sections smaller than a quarter of the budget are joined with the next one so that short
headings do not make tiny chunks. Fenced code blocks are never read as headings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ingest.chunking import ChunkSettings, split_region
from ingest.document import Chunk, Document, make_chunk
from ingest.lines import line_starts
from ingest.tokens import count_tokens

_ATX = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_SETEXT = re.compile(r"^(=+|-+)[ \t]*$")
_RST_UNDERLINE = re.compile(r"""^([=\-`:'"~^_*+#<>])\1{2,}[ \t]*$""")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")


def headings(text: str, flavour: str | None) -> list[tuple[int, int, str]]:
    """(char offset of the heading line, level, title) for each heading, in order."""
    lines = text.split("\n")
    offsets = line_starts(text)
    found: list[tuple[int, int, str]] = []
    rst_levels: list[str] = []
    in_fence = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if flavour != "rst" and (m := _ATX.match(line)):
            found.append((offsets[i], len(m.group(1)), m.group(2).strip()))
            continue
        if i == 0 or not lines[i - 1].strip() or lines[i - 1].startswith((" ", "\t")):
            continue
        title = lines[i - 1].strip()
        if flavour == "markdown" and _SETEXT.match(line) and len(line.strip()) >= 2:
            found.append((offsets[i - 1], 1 if line.startswith("=") else 2, title))
        elif flavour == "rst" and (m := _RST_UNDERLINE.match(line)) and len(line.rstrip()) >= len(title):
            mark = m.group(1)
            overlined = i >= 2 and lines[i - 2].strip() == line.strip()
            key = ("over" if overlined else "") + mark
            if key not in rst_levels:
                rst_levels.append(key)
            start = offsets[i - 2] if overlined else offsets[i - 1]
            found.append((start, rst_levels.index(key) + 1, title))
    return found


def sections(text: str, flavour: str | None) -> list[tuple[int, str]]:
    """(offset, 'Parent > Child') where each section starts."""
    return section_paths(headings(text, flavour))


def section_paths(found: Iterable[tuple[int, int, str]]) -> list[tuple[int, str]]:
    """(offset, 'Parent > Child') for each (offset, level, title) heading, in document order."""
    stack: list[tuple[int, str]] = []
    result: list[tuple[int, str]] = []
    for offset, level, title in found:
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        result.append((offset, " > ".join(t for _, t in stack)))
    return result


def chunk_text(doc: Document, settings: ChunkSettings) -> list[Chunk]:
    """Chunks of a prose document, never crossing a heading unless the section is tiny."""
    bounds: list[tuple[int, str | None]] = list(doc.sections)
    if not bounds or bounds[0][0] > 0:
        bounds.insert(0, (0, None))
    regions: list[tuple[int, int, str | None]] = []
    for i, (start, title) in enumerate(bounds):
        end = bounds[i + 1][0] if i + 1 < len(bounds) else len(doc.text)
        if end <= start:
            continue
        if (
            regions
            and count_tokens(doc.text[regions[-1][0] : regions[-1][1]]) < settings.tokens // 4
            and (count_tokens(doc.text[regions[-1][0] : end]) <= settings.tokens)
        ):
            regions[-1] = (regions[-1][0], end, regions[-1][2] or title)
            continue
        regions.append((start, end, title))
    chunks: list[Chunk] = []
    for start, end, title in regions:
        for s, e, n in split_region(doc.text, start, end, settings):
            chunks.append(make_chunk(doc, s, e, len(chunks), n, title))
    return chunks
