"""collect: a question about many items ("how many …", "list the …") answered item by item.

A small model cannot count eighteen names in a 30k-token prompt, nor find them in a chain of
agents' 31k-token segments; it can read one short passage and copy the items it names. So:

*Scope*: the passages that can hold the items: the hybrid search's top hits, widened to the whole
sections they fall in, in document order; the whole collection when it is no more passages than
``PASSAGES`` allows. *Map*: one short call per passage, the passage first
and the question after, so that a passage's prompt prefix is the same for every question and a
backend that keeps prefix states reads it once ("copy each item the question asks for, one per
line, or NONE"); on a server that takes several requests at once the calls run side by side.
*Check*: an item is kept only where its words are found in its passage; it carries the exact
span it came from. *Reduce*, in code: items merged across passages (the same name twice is one
item), counted, kept in document order, and the answer written from the list, each item with
its citation. No model call decides a number. When no passage names any item, it refuses.

Passages are cut from each document's chunks in order, a section at most ``PASSAGE_TOKENS`` long
(longer sections in several), independently of the question: the same passages, and their
cached states, serve every question.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from agents.answer import Estimate
from agents.evidence.blocks import pack
from agents.prompts import COLLECT, REFUSAL, documents
from agents.reading.strategies.base import FRAME_TOKENS, Call, Context, Draft, Prefix, Sizing
from ingest.document import Chunk

PASSAGE_TOKENS = 1024  # the most of a document one extraction call reads
PASSAGES = 12  # the most passages one question reads (about 2 minutes on a 2-core CPU)
SCOPE_HITS = 12  # search hits whose sections make the scope
ITEM_TOKENS = 160  # the most one extraction call writes
_MAX_ITEM = 120  # characters: a longer line is a sentence, not an item
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)]|\[\s*S\s*\d+\s*\]\s*[:\-–]?)\s*")
_QUOTES = "\"'`“”‘’"
_COUNT = re.compile(r"\b(?:how many|number of|count)\b", re.IGNORECASE)
_NOUN = (
    re.compile(
        r"\bhow many (?:different |distinct |separate )?(.+?)\s+(?:does|do|did|is|are|was|were|can|"
        r"could|has|have|will|would|should|appear|exist|there)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\bnumber of (.+?)(?:\s+(?:in|of|that|which|does|do|is|are|the)\b|\?|$)", re.IGNORECASE),
    re.compile(
        r"\b(?:list|name|enumerate) (?:all |every |each )?(?:of )?(?:the )?(.+?)"
        r"(?:\s+(?:in|of|that|which|defined|used|given|listed|named|the)\b|\?|$)",
        re.IGNORECASE,
    ),
)


@dataclass(frozen=True)
class Item:
    """One item found: its words as the passage writes them, where (marker, span in its chunk)."""

    text: str
    marker: int
    span: tuple[int, int]
    order: tuple[str, int]  # (path, offset in the document): document order


def passages(context: Context) -> list[list[Chunk]]:
    """The collection (its scope) cut into passages: consecutive chunks of one section of one
    document, at most ``PASSAGE_TOKENS`` together (a longer chunk is a passage of its own)."""
    cut: list[list[Chunk]] = []
    run: list[Chunk] = []
    for chunk in context.chunks():
        if run and (chunk.span.path, chunk.section) != (run[-1].span.path, run[-1].section):
            cut += _packed(run, context)
            run = []
        run.append(chunk)
    return cut + (_packed(run, context) if run else [])


def _packed(run: list[Chunk], context: Context) -> list[list[Chunk]]:
    parts: list[list[Chunk]] = []
    while run:
        part, rest = pack(run, PASSAGE_TOKENS, context.block_tokens)
        if not part:  # a chunk larger than a passage is read alone
            part, rest = run[:1], run[1:]
        parts.append(part)
        run = rest
    return parts


def scope(question: str, context: Context) -> tuple[list[list[Chunk]], str]:
    """The passages to read, in document order, and why those."""
    every = passages(context)
    budget = PASSAGES
    if len(every) <= budget:
        return every, f"the whole collection ({len(every)} passages)"
    hits = [h.chunk for h in context.corpus.search(question, k=SCOPE_HITS)]
    rank = {c.chunk_id: i for i, c in reversed(list(enumerate(hits)))}
    sections = {(c.span.path, c.section) for c in hits if c.section is not None}
    chosen = [
        (min((rank.get(c.chunk_id, len(hits)) for c in p), default=len(hits)), i)
        for i, p in enumerate(every)
        if any(c.chunk_id in rank for c in p) or (p[0].span.path, p[0].section) in sections
    ]
    kept = sorted(i for _, i in sorted(chosen)[:budget])
    why = f"the sections of the top {len(hits)} search hits ({len(kept)} of {len(every)} passages" + (
        f"; {len(chosen) - len(kept)} more left out for the budget)" if len(chosen) > len(kept) else ")"
    )
    return [every[i] for i in kept], why


def parse_items(reply: str) -> list[str]:
    """The items one extraction call wrote: one a line, without bullets, numbers, markers or
    quotes; none for NONE; a line too long to be an item dropped."""
    found: list[str] = []
    for line in reply.splitlines():
        text = _BULLET.sub("", line).strip().strip(_QUOTES).strip().rstrip(".,;").strip(_QUOTES).strip()
        if not text or text.upper() in ("NONE", "NOTHING", "N/A") or len(text) > _MAX_ITEM:
            continue
        if text not in found:
            found.append(text)
    return found


def find(item: str, text: str) -> tuple[int, int] | None:
    """Where ``item``'s words are in ``text`` (case and spacing aside, whole words), or None."""
    words = item.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    if words[0][0].isalnum():
        pattern = r"(?<![\w])" + pattern
    if words[-1][-1].isalnum():
        pattern += r"(?![\w])"
    match = re.search(pattern, text, re.IGNORECASE)
    return (match.start(), match.end()) if match else None


def key(item: str) -> str:
    """What makes two items the same: case, quotes, spacing and a trailing call's ``()`` aside."""
    text = " ".join(item.casefold().split()).strip(_QUOTES).strip()
    return text.removesuffix("()").strip()


def reduce(items: list[Item]) -> list[Item]:
    """Items once each (the first place a name is found), in document order."""
    first: dict[str, Item] = {}
    for item in sorted(items, key=lambda i: i.order):
        first.setdefault(key(item.text), item)
    return list(first.values())


def noun(question: str) -> str:
    """What the question counts or lists, in its own words ("keyword parameters"), or "items"."""
    for pattern in _NOUN:
        if match := pattern.search(question):
            words = match.group(1).strip(" ?.,")
            if 0 < len(words.split()) <= 5:
                return words
    return "items"


def written(question: str, items: list[Item]) -> tuple[str, str]:
    """The answer (a count and the list, each item with its marker) and its short form (the count
    when the question asks how many, else the list)."""
    listing = "\n".join(f"- {item.text} [S{item.marker}]" for item in items)
    text = f"{len(items)} {noun(question)}:\n{listing}"
    short = str(len(items)) if _COUNT.search(question) else ", ".join(item.text for item in items)
    return text, short


class Collect:
    """Copy the items from each passage in scope, then count and list them in code."""

    name = "collect"

    def answer(self, question: str, context: Context) -> Draft:
        caller = context.caller
        every = passages(context)
        for part in every:  # markers in document order, the same for every question: stable prefixes
            for chunk in part:
                context.evidence.marker(chunk)
        chosen, why = scope(question, context)
        caller.trace.events.append(f"collect: reading {why}")
        replies = self._map(question, chosen, context)
        found: list[Item] = []
        for part, reply in zip(chosen, replies, strict=True):
            kept, dropped = self._check(parse_items(reply), part, context)
            found += kept
            caller.trace.events.append(
                f"collect: {part[0].label}: "
                + (", ".join(i.text for i in kept) if kept else "nothing")
                + (f" ({len(dropped)} not in the passage, dropped: {', '.join(dropped)})" if dropped else "")
            )
        items = reduce(found)
        if not items:
            caller.trace.events.append("collect: no passage names an item the question asks for")
            return Draft(REFUSAL, context.evidence, refused=True)
        caller.trace.events.append(
            f"collect: {len(found)} item(s) found, {len(items)} once each after merging duplicates"
        )
        text, short = written(question, items)
        if context.on_token:
            context.on_token(text)
        facts: dict[int, list[tuple[int, int]]] = {}
        for item in items:
            facts.setdefault(item.marker, []).append(item.span)
        return Draft(text, context.evidence, False, facts, short=short)

    def _map(self, question: str, chosen: list[list[Chunk]], context: Context) -> list[str]:
        """Each passage's extraction call, side by side where the backend serves several at once."""
        caller = context.caller

        def read(numbered: tuple[int, list[Chunk]]) -> str:
            number, part = numbered
            context.on_status(f"copying the items from passage {number} of {len(chosen)} ({part[0].label})")
            prefix = documents(context.evidence.render(part))
            return caller.call(
                f"collect {number}/{len(chosen)}",
                COLLECT.format_messages(question=question, documents=prefix),
                max_tokens=ITEM_TOKENS,
                cache_prefix=prefix,
                cache_tag=context.cache_tag,
                temperature=0.0,
            ).text

        numbered = list(enumerate(chosen, 1))
        workers = min(caller.backend.concurrency, len(chosen))
        if workers <= 1:
            return [read(n) for n in numbered]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(read, numbered))

    @staticmethod
    def _check(copied: list[str], part: list[Chunk], context: Context) -> tuple[list[Item], list[str]]:
        """The copied items found in the passage (the first chunk holding each), and those not."""
        kept: list[Item] = []
        dropped: list[str] = []
        for text in copied:
            for chunk in part:
                if span := find(text, chunk.text):
                    words = chunk.text[span[0] : span[1]]
                    order = (chunk.span.path, chunk.span.char_start + span[0])
                    kept.append(Item(words, context.evidence.marker(chunk), span, order))
                    break
            else:
                dropped.append(text)
        return kept, dropped

    def prefixes(self, question: str, context: Context) -> list[Prefix]:
        """Each passage's prompt before the question, and what the backend holds of it."""
        backend = context.caller.backend
        every = passages(context)
        for part in every:
            for chunk in part:
                context.evidence.marker(chunk)
        chosen, _ = scope(question, context)
        found = []
        for part in chosen:
            prefix = documents(context.evidence.render(part))
            messages = COLLECT.format_messages(question=question, documents=prefix)
            cached, state = backend.cached(messages, prefix)
            found.append(Prefix(backend.count_prompt(messages), cached, state))
        return found

    def estimate(self, sizing: Sizing) -> Estimate:
        """A call per passage in scope (the exact ones where known, else as many full passages as
        the budget's default allows or the collection holds), each writing its items."""
        writes = min(sizing.writes("items"), ITEM_TOKENS)
        if self.name in sizing.prefixes:
            calls = [
                Call(p.prompt_tokens, writes, p.cached_tokens, p.cached_bytes)
                for p in sizing.prefixes[self.name]
            ]
        else:
            count = max(1, min(PASSAGES, -(-sizing.corpus_tokens // PASSAGE_TOKENS)))
            calls = [Call(PASSAGE_TOKENS + FRAME_TOKENS, writes)] * count
        return sizing.cost(calls)
