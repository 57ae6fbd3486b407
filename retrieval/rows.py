"""What the index's rows read as, for those outside it: an indexed file without its text, and a
file as an ingest compares it with its folder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed file, without its text."""

    row: int
    root: str
    path: str
    source: str
    doc_id: str
    kind: str
    language: str | None
    pages: int
    title: str | None
    notes: tuple[str, ...]
    size: int
    chunks: int
    tokens: int


class KnownFile(NamedTuple):
    """An indexed file as an ingest compares it with the folder: its root, hash and row."""

    root: str
    doc_id: str
    row: int
