"""retrieve_reason (after ALR²): hybrid retrieval, then two calls.

*retrieve*: the model copies, verbatim, the sentences it needs with their ``[S#]``. Only document
text reaches the next step: each copied fact is located in the block it cites (or, a slip of the
marker, in another shown block); a multi-line copy that is not found whole keeps the lines that are;
a paraphrase is replaced by the source sentences it restates when they hold most of its terms and
all its numbers; anything else is an invention and dropped. *reason*: the answer from the kept
facts only. The best evidence sits at both ends of the retrieve prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.citations import ground, is_refusal, locate
from agents.evidence import ends_first, pack
from agents.prompts import REASON, REFUSAL, RETRIEVE, documents
from agents.strategies.base import Context, Draft
from ingest.document import Chunk

_FACT = re.compile(r"^\W*\[\s*S\s*(\d+)\s*\]\s*[:\-–]?\s*(.*?)\s*$")
# a block's heading echoed by the model: "manual.pdf p.3 l.1-9 (Section)" or "pkg/mod.py:10-42 (f)"
_HEADING = re.compile(r"^\S+(?: p\.\d+ l\.\d+(?:-\d+)?|:\d+(?:-\d+)?)(?: \(.*\))?$")
_QUOTES = "\"'“”"


def parse_facts(text: str) -> list[tuple[int, str]]:
    """(marker, copied text) for each fact of the retrieve step: a line ``[S#] "quote"`` and the
    lines that follow it up to the next marker (a copied block of code or a paragraph), without
    an echoed block heading."""
    facts: list[tuple[int, list[str]]] = []
    for line in text.splitlines():
        match = _FACT.match(line)
        if match:
            facts.append((int(match.group(1)), [match.group(2)]))
        elif facts and line.strip().upper() != "NONE":
            facts[-1][1].append(line)
    parsed = []
    for marker, lines in facts:
        if _HEADING.match(lines[0].strip()):
            lines = lines[1:]
        quote = _unquote("\n".join(lines).strip())
        if quote:
            parsed.append((marker, quote))
    return parsed


def _unquote(text: str) -> str:
    """The text without one pair of quotes around it (code's own triple quotes stay)."""
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES and text[:3] != text[0] * 3:
        return text[1:-1].strip()
    return text


@dataclass
class Found:
    """Where the copied facts are: spans (relative to their chunk) per marker, and what it took."""

    spans: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    moved: int = 0  # found under another shown marker
    partial: int = 0  # multi-line copies kept in part
    grounded: int = 0  # paraphrases replaced by their source sentences
    dropped: int = 0  # inventions

    def add(self, marker: int, span: tuple[int, int]) -> None:
        spans = self.spans.setdefault(marker, [])
        if span not in spans:
            spans.append(span)


def _search(quote: str, order: list[tuple[int, Chunk]]) -> tuple[int, tuple[int, int]] | None:
    for marker, chunk in order:
        if found := locate(quote, chunk.text):
            return marker, found
    return None


def _merge(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Spans in text order, overlapping or whitespace-separated ones joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and (start <= merged[-1][1] or not text[merged[-1][1] : start].strip()):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _is_code(chunk: Chunk, context: Context) -> bool:
    return context.corpus.document(chunk.span.path).kind == "code"


def locate_facts(copied: list[tuple[int, str]], shown: list[Chunk], question: str, context: Context) -> Found:
    """Each copied fact located in the shown blocks (the one it cites first), as ``Found``."""
    result = Found()
    markers = [(context.evidence.marker(chunk), chunk) for chunk in shown]
    for cited, quote in copied:
        source = context.evidence.chunk(cited)
        order = [(cited, source)] if source is not None else []
        order += [(m, c) for m, c in markers if c is not source]
        if hit := _search(quote, order):
            result.moved += hit[0] != cited
            result.add(*hit)
            continue
        lines = [line for line in quote.splitlines() if len(line.strip()) >= 8]
        pieces = [hit for line in lines if (hit := _search(line, order))] if len(lines) > 1 else []
        if pieces:
            result.partial += 1
            for piece in pieces:
                result.add(*piece)
            continue
        grounded = [
            (found[1], marker, found[0])
            for marker, chunk in order
            if (found := ground(quote, chunk, _is_code(chunk, context), question))
        ]
        if grounded:
            _, marker, span = max(grounded, key=lambda g: g[0])  # the cited block wins a tie
            result.grounded += 1
            result.add(marker, span)
            continue
        result.dropped += 1
    for marker, spans in result.spans.items():
        result.spans[marker] = _merge(spans, _shown(context, marker).text)
    return result


def _shown(context: Context, marker: int) -> Chunk:
    """The chunk a marker of this answer names (every located fact names a shown one)."""
    chunk = context.evidence.chunk(marker)
    if chunk is None:
        raise KeyError(f"[S{marker}] names no block that was shown")
    return chunk


class RetrieveReason:
    name = "retrieve_reason"

    def answer(self, question: str, context: Context) -> Draft:
        caller = context.caller
        context.on_status("searching the index")
        hits = context.corpus.search(question, k=context.k)
        if context.scope is not None:
            hits = [h for h in hits if h.chunk.span.path in set(context.scope)]
        ranked = [h.chunk for h in hits]
        room = caller.prompt_budget - caller.backend.count_prompt(
            RETRIEVE.format_messages(question=question, documents=documents(""), max_facts=context.max_facts)
        )
        kept, dropped = pack(ranked, room, context.block_tokens)
        if dropped:
            caller.trace.events.append(
                f"retrieve: {len(dropped)} of {len(ranked)} retrieved chunks left out to fit"
            )
        ordered = ends_first(kept)
        for chunk in sorted(kept, key=lambda c: (c.span.path, c.span.char_start)):
            context.evidence.marker(chunk)  # number blocks in document order
        context.on_status(f"copying the relevant facts from {len(kept)} chunks")
        retrieved = caller.call(
            "retrieve",
            RETRIEVE.format_messages(
                question=question,
                documents=documents(context.evidence.render(ordered)),
                max_facts=context.max_facts,
            ),
        )
        found = locate_facts(parse_facts(retrieved.text), kept, question, context)
        caller.trace.dropped_facts += found.dropped
        for count, what in (
            (found.moved, "found verbatim under another shown marker, moved"),
            (found.partial, "copied in part: the lines found verbatim kept"),
            (found.grounded, "paraphrased: replaced by the source sentences they restate"),
            (found.dropped, "not found in the shown blocks, dropped"),
        ):
            if count:
                caller.trace.events.append(f"retrieve: {count} copied fact(s) {what}")
        lines = [
            f"[S{marker}] {_shown(context, marker).text[start:end]}"
            for marker, spans in found.spans.items()
            for start, end in spans
        ]
        if not lines:
            caller.trace.events.append("retrieve: no fact found in the documents; nothing to reason from")
            return Draft(REFUSAL, context.evidence, refused=True)
        context.on_status(f"answering from {len(lines)} facts")
        reasoned = caller.call(
            "reason",
            REASON.format_messages(question=question, facts="\n".join(lines)),
            on_token=context.on_token,
        )
        return Draft(reasoned.text, context.evidence, is_refusal(reasoned.text), found.spans)
