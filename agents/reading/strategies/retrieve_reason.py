"""retrieve_reason (after ALR²): hybrid retrieval, then two calls.

*retrieve*: the model copies, verbatim, the sentences it needs with their ``[S#]``. Only document
text reaches the next step: each copied fact is located in the block it cites (or, a slip of the
marker, in another shown block); a multi-line copy that is not found whole keeps the lines that are;
a paraphrase is replaced by the source sentences it restates when they hold most of its terms and
all its numbers; anything else is an invention and dropped. *reason*: the answer from the kept
facts only. The best evidence sits at both ends of the retrieve prompt.

When the facts do not answer (a refusal from the reason step) and ``Context.hops`` allows it, the
model writes up to two search queries from the facts it has (the second hop: a name, an option a
fact points at), their new hits go through the retrieve step, and the reason step reads all the
facts again. The queries and what they found are events of the trace; a refusal is streamed only
once every hop has failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.answer import Estimate
from agents.evidence.blocks import ends_first, pack
from agents.evidence.citations import ground, is_refusal, locate
from agents.models.calls import HoldRefusal, TokenSink
from agents.prompts import FOLLOW_UP, REASON, REFUSAL, RETRIEVE, documents
from agents.reading.strategies.base import FACTS_TOKENS, FRAME_TOKENS, Call, Context, Draft, Prefix, Sizing
from ingest.document import Chunk

_FACT = re.compile(r"^\W*\[\s*S\s*(\d+)\s*\]\s*[:\-–]?\s*(.*?)\s*$")
# a block's heading echoed by the model: "manual.pdf p.3 l.1-9 (Section)" or "pkg/mod.py:10-42 (f)"
_HEADING = re.compile(r"^\S+(?: p\.\d+ l\.\d+(?:-\d+)?|:\d+(?:-\d+)?)(?: \(.*\))?$")
_QUOTES = "\"'“”"
FOLLOW_UPS = 2  # queries written per follow-up round
QUERIES_TOKENS = 48  # what the follow-up step writes


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


def follow_up_queries(text: str, question: str, n: int) -> list[str]:
    """The follow-up step's queries: one per line, without numbering, bullets or quotes; none that
    repeats the question, no NONE; at most ``n``."""
    queries: list[str] = []
    for line in text.splitlines():
        query = re.sub(r"^\s*(?:\d+[.)]|[-*•])\s*", "", line).strip().strip(_QUOTES).strip()
        if query.upper() == "NONE" or query.lower() == question.lower():
            continue
        if 3 <= len(query) <= 120 and query not in queries:
            queries.append(query)
    return queries[:n]


class RetrieveReason:
    """Retrieve, copy the facts, reason from them; when they do not answer, search again for what
    they point at (at most ``Context.hops`` follow-up rounds) before refusing."""

    name = "retrieve_reason"

    def answer(self, question: str, context: Context) -> Draft:
        caller = context.caller
        context.on_status("searching the index")
        hits = context.corpus.search(question, k=context.k)
        found = self._retrieve(question, context.in_scope([h.chunk for h in hits]), context, "retrieve")
        lines = _lines(found, context)
        if not lines:
            caller.trace.events.append("retrieve: no fact found in the documents; nothing to reason from")
            return Draft(REFUSAL, context.evidence, refused=True)
        hold = HoldRefusal(context.on_token) if context.hops else None
        draft = self._reason(question, lines, found, context, hold or context.on_token)
        for hop in range(1, context.hops + 1):
            if not draft.refused:
                break
            more = self._hop(question, lines, hop, context)
            if not more.spans:
                break
            if hold is not None:
                hold.drop()  # the refusal is replaced by what the facts now say
            for marker, spans in more.spans.items():
                found.spans.setdefault(marker, []).extend(spans)
            lines = _lines(found, context)
            draft = self._reason(question, lines, found, context, hold or context.on_token)
        if hold is not None:
            hold.release()
        return draft

    def prefixes(self, question: str, context: Context) -> list[Prefix]:
        return []  # its prompts are the question's hits and facts

    def estimate(self, sizing: Sizing) -> Estimate:
        """The retrieve step over the retrieved chunks, then the reason step over the facts."""
        return sizing.cost(
            [
                Call(sizing.retrieved_tokens + FRAME_TOKENS, sizing.writes("facts")),
                Call(FACTS_TOKENS + FRAME_TOKENS, sizing.writes("answer")),
            ]
        )

    def hop(self, sizing: Sizing) -> Estimate:
        """One follow-up round: queries written from the facts, the retrieve step over half as many
        new chunks, the reason step over twice the facts."""
        return sizing.cost(
            [
                Call(FACTS_TOKENS + FRAME_TOKENS, QUERIES_TOKENS),
                Call(sizing.retrieved_tokens // 2 + FRAME_TOKENS, sizing.writes("facts")),
                Call(2 * FACTS_TOKENS + FRAME_TOKENS, sizing.writes("answer")),
            ]
        )

    def _retrieve(self, question: str, ranked: list[Chunk], context: Context, role: str) -> Found:
        """The retrieve step over ``ranked`` (as many as fit): the facts it copied, located."""
        caller = context.caller
        room = caller.prompt_budget - caller.backend.count_prompt(
            RETRIEVE.format_messages(question=question, documents=documents(""), max_facts=context.max_facts)
        )
        kept, dropped = pack(ranked, room, context.block_tokens)
        if dropped:
            caller.trace.events.append(
                f"{role}: {len(dropped)} of {len(ranked)} retrieved chunks left out to fit"
            )
        for chunk in sorted(kept, key=lambda c: (c.span.path, c.span.char_start)):
            context.evidence.marker(chunk)  # number blocks in document order
        context.on_status(f"copying the relevant facts from {len(kept)} chunks")
        retrieved = caller.call(
            role,
            RETRIEVE.format_messages(
                question=question,
                documents=documents(context.evidence.render(ends_first(kept))),
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
                caller.trace.events.append(f"{role}: {count} copied fact(s) {what}")
        return found

    def _hop(self, question: str, lines: list[str], hop: int, context: Context) -> Found:
        """One follow-up round: queries written from the facts so far, their hits not shown yet,
        the retrieve step over those."""
        caller = context.caller
        context.on_status("the facts do not answer yet: searching for what they point at")
        written = caller.call(
            f"follow-up {hop}",
            FOLLOW_UP.format_messages(question=question, facts="\n".join(lines), n=FOLLOW_UPS),
            max_tokens=64,
            temperature=0.0,
        )
        queries = follow_up_queries(written.text, question, FOLLOW_UPS)
        fresh: list[Chunk] = []
        for query in queries:
            for hit in context.corpus.search(query, k=max(context.k // 2, 3)):
                if hit.chunk not in context.evidence and hit.chunk not in fresh:
                    fresh.append(hit.chunk)
        fresh = context.in_scope(fresh)
        asked = "; ".join(f"“{q}”" for q in queries) or "nothing usable"
        caller.trace.events.append(f"follow-up {hop}: searched for {asked}: {len(fresh)} new chunk(s)")
        if not fresh:
            return Found()
        return self._retrieve(question, fresh, context, f"retrieve (follow-up {hop})")

    @staticmethod
    def _reason(
        question: str, lines: list[str], found: Found, context: Context, sink: TokenSink | None
    ) -> Draft:
        context.on_status(f"answering from {len(lines)} facts")
        reasoned = context.caller.call(
            "reason", REASON.format_messages(question=question, facts="\n".join(lines)), on_token=sink
        )
        return Draft(reasoned.text, context.evidence, is_refusal(reasoned.text), found.spans)


def _lines(found: Found, context: Context) -> list[str]:
    """The located facts as the reason step reads them: ``[S#] text``."""
    return [
        f"[S{marker}] {_shown(context, marker).text[start:end]}"
        for marker, spans in found.spans.items()
        for start, end in spans
    ]
