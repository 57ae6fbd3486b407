"""Evidence as the model sees it (DESIGN.md §5): numbered blocks ``[S12] path p.11 l.3-9``.

One ``Evidence`` per answer numbers every chunk it shows, so a marker means the same chunk in
every call of that answer (Chain-of-Agents workers, the manager, the judge). Packing fits blocks
into a token budget counted by the serving model's own tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ingest.document import Chunk


def block_text(marker: int, chunk: Chunk) -> str:
    """The block as shown: marker, citation label, section, then the chunk's text."""
    heading = f"[S{marker}] {chunk.label}"
    if chunk.section:
        heading += f" ({chunk.section})"
    return f"{heading}\n{chunk.text}"


@dataclass
class Evidence:
    """The blocks shown in one answer's calls: marker ↔ chunk."""

    by_marker: dict[int, Chunk] = field(default_factory=dict)
    _marker_of: dict[str, int] = field(default_factory=dict)

    def marker(self, chunk: Chunk) -> int:
        """The chunk's marker, numbering it on first sight."""
        if chunk.chunk_id not in self._marker_of:
            number = len(self.by_marker) + 1
            self._marker_of[chunk.chunk_id] = number
            self.by_marker[number] = chunk
        return self._marker_of[chunk.chunk_id]

    def __contains__(self, chunk: Chunk) -> bool:
        return chunk.chunk_id in self._marker_of

    def pin(self, marker: int, chunk: Chunk) -> None:
        """Number ``chunk`` as ``marker``: an answer read back keeps the markers it was given."""
        self._marker_of[chunk.chunk_id] = marker
        self.by_marker[marker] = chunk

    def render(self, chunks: Iterable[Chunk]) -> str:
        return "\n\n".join(block_text(self.marker(c), c) for c in chunks)

    def chunk(self, marker: int) -> Chunk | None:
        return self.by_marker.get(marker)


def pack(chunks: list[Chunk], budget: int, tokens: Callable[[Chunk], int]) -> tuple[list[Chunk], list[Chunk]]:
    """The longest prefix of ``chunks`` whose blocks fit ``budget``; and the rest."""
    used = 0
    for i, chunk in enumerate(chunks):
        cost = tokens(chunk) + 2  # the blank line between blocks
        if used + cost > budget:
            return chunks[:i], chunks[i:]
        used += cost
    return chunks, []


def ends_first(ranked: list[Chunk]) -> list[Chunk]:
    """Best evidence at both ends of the prompt, weakest in the middle ("lost in the middle").

    ranks 1 2 3 4 5 → positions 1 3 5 4 2: the best first, the second best last.
    """
    front = ranked[0::2]
    back = ranked[1::2]
    return front + back[::-1]
