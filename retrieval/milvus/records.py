"""What the Milvus store's rows hold, and how chunks, documents and the index's state become rows
and back. Nothing here talks to Milvus.

* A chunk is one row of the chunks collection: its text, the BM25 terms (longqa's own
  tokenizer's, so that keyword search finds what the folder store finds), its span and ids as
  JSON, its vector.
* A document is one or more rows of the documents collection: its JSON (text, pages, sections,
  notes, boxes) cut into pieces that fit Milvus's 65,535-byte text field; the first piece also
  carries what a listing shows (``info``).
* The index's state is one or more rows too (kind ``manifest``): the settings it was built with,
  its generation, the next free id and the document versions that generation removed. A state
  counts only once all its pieces are there, so writing it is the commit.

Every row carries the generation that wrote it (``gen``) and the document version it belongs to
(``version``); a reader sees the rows of generations up to the state's, less its removed versions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import numpy as np

from ingest.document import Chunk, Document, Span, TextBox
from retrieval.lexical import tokenize
from retrieval.manifest import FORMAT_VERSION, IndexConfig
from retrieval.milvus.client import MAX_TEXT, STATE_DIMENSION
from retrieval.rows import DocumentInfo
from retrieval.writer import DocumentNotStored, NewDocument

PIECE_BYTES = 60_000
DOCUMENT, MANIFEST = "document", "manifest"
_STATE_VECTOR = [0.0] * STATE_DIMENSION


@dataclass(frozen=True)
class State:
    """One committed state of the index (a generation and its revision)."""

    generation: int
    revision: int
    next_id: int
    settings: dict
    """The manifest's settings (format version, embedding model, dimension, chunking...)."""
    dead: tuple[int, ...] = ()
    """Versions this generation removed whose rows may still be there (until cleaned up)."""

    def visible(self, documents: bool = False) -> str:
        """The filter of the rows this state shows."""
        where = f"gen <= {self.generation}"
        if self.dead:
            where += f" and version not in [{','.join(map(str, self.dead))}]"
        return f'kind == "{DOCUMENT}" and {where}' if documents else where


@dataclass
class Rows:
    """A document's rows, ready to insert."""

    chunks: list[dict] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)


def path_key(path: str) -> str:
    """What a document's path is looked up by (a filter never quotes a user's string)."""
    return hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()


def pieces(text: str) -> list[str]:
    """``text`` cut into pieces of at most ``PIECE_BYTES`` bytes of UTF-8, on character boundaries."""
    data = text.encode("utf-8", "surrogatepass")
    out: list[str] = []
    start = 0
    while start < len(data) or not out:
        end = min(start + PIECE_BYTES, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # not inside a character
            end -= 1
        out.append(data[start:end].decode("utf-8", "surrogatepass"))
        start = end
    return out


def _piece_rows(kind: str, key: str, gen: int, version: int, text: str, **first: str) -> list[dict]:
    parts = pieces(text)
    return [
        {
            "key": f"{kind}.{key}.{n}",
            "kind": kind,
            "gen": gen,
            "version": version,
            "path_key": first.get("path_key", ""),
            "part": n,
            "parts": len(parts),
            "info": first.get("info", "") if n == 0 else "",
            "data": piece,
            "state": _STATE_VECTOR,
        }
        for n, piece in enumerate(parts)
    ]


def joined(rows: Iterable[dict]) -> str | None:
    """The text of one record's pieces; None when some are missing."""
    ordered = sorted(rows, key=lambda r: r["part"])
    if not ordered or [r["part"] for r in ordered] != list(range(ordered[0]["parts"])):
        return None
    return "".join(r["data"] for r in ordered)


# ------------------------------------------------------------------------------- the state
def settings_of(config: IndexConfig) -> dict:
    """What the state records of the settings an index is built with (the manifest's fields)."""
    return {"format_version": FORMAT_VERSION, **asdict(config)}


def state_rows(state: State) -> list[dict]:
    body = {**state.settings, "generation": state.generation, "next_id": state.next_id, "dead": state.dead}
    key = f"{state.generation}.{state.revision}"
    return _piece_rows(MANIFEST, key, state.generation, state.revision, json.dumps(body))


def newest_state(rows: Iterable[dict]) -> State | None:
    """The newest state whose pieces are all there."""
    by_state: dict[tuple[int, int], list[dict]] = {}
    for row in rows:
        by_state.setdefault((row["gen"], row["version"]), []).append(row)
    for generation, revision in sorted(by_state, reverse=True):
        text = joined(by_state[(generation, revision)])
        if text is None:
            continue
        body = json.loads(text)
        next_id, dead = body.pop("next_id"), tuple(body.pop("dead"))
        body.pop("generation")
        return State(generation, revision, next_id, body, dead)
    return None


# ------------------------------------------------------------------------------- documents
def document_rows(item: NewDocument, gen: int, first_id: int) -> tuple[Rows, int]:
    """The rows of a document and its chunks, ids from ``first_id`` (the document's version
    first); and the next free id. DocumentNotStored when Milvus could not hold it."""
    doc, path = item.document, item.document.path
    embeddings = np.asarray(item.embeddings, dtype=np.float32)
    if len(item.chunks) and (embeddings.ndim != 2 or len(embeddings) != len(item.chunks)):
        raise DocumentNotStored(path, f"could not be stored: embeddings of shape {embeddings.shape}")
    seen: set[str] = set()
    version, rows = first_id, Rows()
    for n, chunk in enumerate(item.chunks):
        if chunk.chunk_id in seen:
            raise DocumentNotStored(
                path, f"could not be stored: two of its chunks have the same id ({chunk.chunk_id})"
            )
        seen.add(chunk.chunk_id)
        if len(chunk.text.encode("utf-8", "surrogatepass")) > MAX_TEXT:
            raise DocumentNotStored(
                path,
                f"could not be stored: chunk {chunk.ordinal} is over Milvus's {MAX_TEXT:,}-byte text field",
            )
        rows.chunks.append(_chunk_row(chunk, first_id + 1 + n, gen, version, embeddings[n]))
    boxes: dict[int, list[list[float]]] = {}
    for box in doc.boxes:
        boxes.setdefault(box.page, []).append([box.start, box.end, *(round(v, 5) for v in box.box)])
    body = {
        "doc_id": doc.doc_id, "path": path, "kind": doc.kind, "text": doc.text, "language": doc.language,
        "pages": doc.pages, "page_starts": list(doc.page_starts), "mtime": doc.mtime, "title": doc.title,
        "sections": [list(s) for s in doc.sections], "notes": list(doc.notes), "boxes": boxes,
    }  # fmt: skip
    info = {
        "root": item.root, "path": path, "source": item.source, "doc_id": doc.doc_id, "kind": doc.kind,
        "language": doc.language, "pages": doc.pages, "title": doc.title, "notes": list(doc.notes),
        "size": item.size, "chunks": len(item.chunks), "tokens": sum(c.n_tokens for c in item.chunks),
    }  # fmt: skip
    info_text = json.dumps(info)
    if len(info_text.encode("utf-8", "surrogatepass")) > MAX_TEXT:
        raise DocumentNotStored(path, "could not be stored: its notes are over Milvus's text field")
    rows.documents = _piece_rows(
        DOCUMENT, str(version), gen, version, json.dumps(body), path_key=path_key(path), info=info_text
    )
    return rows, first_id + 1 + len(item.chunks)


def _chunk_row(chunk: Chunk, rowid: int, gen: int, version: int, vector: np.ndarray) -> dict:
    span = chunk.span
    meta = {
        "chunk_id": chunk.chunk_id, "doc_id": chunk.doc_id, "path": span.path, "page": span.page,
        "line_start": span.line_start, "line_end": span.line_end, "char_start": span.char_start,
        "char_end": span.char_end, "n_tokens": chunk.n_tokens, "ordinal": chunk.ordinal,
        "section": chunk.section,
    }  # fmt: skip
    return {
        "id": rowid,
        "gen": gen,
        "version": version,
        "text": chunk.text,
        "terms": bm25_terms(f"{chunk.section or ''}\n{chunk.text}"),
        "meta": meta,
        "dense": vector.tolist(),
    }


def bm25_terms(text: str) -> str:
    """What Milvus's BM25 function reads: longqa's terms (lower-cased, stemmed, identifiers also
    split), space-separated, so that its standard analyzer takes each as it is; cut to fit."""
    terms = " ".join(tokenize(text))
    if len(terms) > MAX_TEXT // 4:  # terms are mostly ASCII; only a very long chunk gets here
        data = terms.encode("utf-8", "surrogatepass")[:MAX_TEXT]
        terms = data.decode("utf-8", "ignore").rsplit(" ", 1)[0]
    return terms


def chunk_of(row: dict) -> Chunk:
    meta = row["meta"]
    span = Span(
        path=meta["path"],
        page=meta["page"],
        line_start=meta["line_start"],
        line_end=meta["line_end"],
        char_start=meta["char_start"],
        char_end=meta["char_end"],
    )
    return Chunk(
        chunk_id=meta["chunk_id"],
        doc_id=meta["doc_id"],
        text=row["text"],
        span=span,
        n_tokens=meta["n_tokens"],
        ordinal=meta["ordinal"],
        section=meta["section"],
    )


def info_of(row: dict) -> DocumentInfo:
    info = json.loads(row["info"])
    return DocumentInfo(row=row["version"], **{**info, "notes": tuple(info["notes"])})


def document_of(text: str) -> tuple[Document, list[TextBox]]:
    """A document's JSON as the Document the folder store gives (boxes apart, as there)."""
    body = json.loads(text)
    boxes = [
        TextBox(int(page), int(s), int(e), (left, top, right, bottom))
        for page, rows in body.pop("boxes").items()
        for s, e, left, top, right, bottom in rows
    ]
    document = Document(
        **{
            **body,
            "page_starts": tuple(body["page_starts"]),
            "sections": tuple((int(o), str(t)) for o, t in body["sections"]),
            "notes": tuple(body["notes"]),
        }
    )
    return document, boxes
