"""Citation repair: a sentence its citations do not support is grounded again in the collection.

A full-context answer on a long manual may state the right thing and cite the wrong page (page 1
for what page 18 says). After an answer is judged (any strategy), each sentence that cites and
whose every citation the judge finds not supporting is searched for in the collection (the hybrid
index, the sentence as the query). The hits whose sentences restate it (``agents.evidence.grounds.window``,
its facts checked: no model call) are judged in turn, at most ``TRIES`` of them, and the first the
judge finds supporting is cited instead, narrowed to its sentences, with a new marker in the
answer's text. A sentence no passage supports keeps its citations, unsupported (``--strict`` then
drops it). Each repair, and each failure to repair, is an event of the trace.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from agents.answer import SUPPORTED, Citation, Trace
from agents.evidence.blocks import Evidence
from agents.evidence.citations import Sentence, cite, parse_markers
from agents.evidence.corpus import Corpus
from agents.evidence.grounds import window
from agents.verify.judge import Supports
from agents.verify.support import vetoes

HITS = 8  # hits searched for each sentence
TRIES = 3  # of those, the most judged (each a cloze and a yes/no over a few sentences)


@dataclass(frozen=True)
class Repaired:
    """The answer's text with the repaired sentences' markers replaced, and its citations."""

    text: str
    citations: list[Citation]
    repaired: int = 0
    unsupported: int = 0


def judged(question: str, citations: list[Citation], evidence: Evidence, judge: Supports) -> list[Citation]:
    """The citations with the judge's support for their sentences, read against the cited chunk
    (its quote where the chunk was not shown)."""
    checked = []
    for citation in citations:
        chunk = evidence.chunk(citation.marker)
        support = judge.support(citation.sentence, chunk.text if chunk else citation.quote, question)
        checked.append(dataclasses.replace(citation, support=support))
    return checked


def repair(
    question: str,
    text: str,
    evidence: Evidence,
    citations: list[Citation],
    corpus: Corpus,
    judge: Supports,
    trace: Trace,
) -> Repaired:
    """``citations`` (already judged) with each unsupported sentence grounded again where the
    collection supports it; ``evidence`` numbers the chunks newly cited."""
    kept: list[Citation] = []
    edits: list[tuple[int, int, str]] = []
    repaired = unsupported = 0
    for sentence in parse_markers(text, evidence).sentences:
        cited = [c for c in citations if c.sentence == sentence.text and c.marker in sentence.markers]
        if not cited or any(c.supported is not False for c in cited):  # supported, or not judged
            kept += cited
            continue
        found = _grounded_again(question, sentence.text, cited, corpus, judge, evidence)
        before = ", ".join(sorted({c.label for c in cited}))
        if found is None:
            unsupported += 1
            kept += cited
            trace.events.append(
                f"no passage of the collection supports “{_short(sentence.text)}”; its citation "
                f"({before}) stays, marked unsupported"
            )
            continue
        repaired += 1
        kept.append(found)
        edits += _remarked(sentence, found.marker)
        trace.events.append(f"citation repaired: “{_short(sentence.text)}” cited {before} → {found.label}")
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return Repaired(text, kept, repaired, unsupported)


def _grounded_again(
    question: str, claim: str, cited: list[Citation], corpus: Corpus, judge: Supports, evidence: Evidence
) -> Citation | None:
    """The citation of the first hit for ``claim`` that restates it and that the judge finds
    supporting it; None when none of the first ``TRIES`` candidates does."""
    tried = {c.chunk_id for c in cited}
    judged = 0
    for hit in corpus.search(claim, k=HITS):
        chunk = hit.chunk
        if chunk.chunk_id in tried or vetoes(claim, window(claim, chunk.text, question)) != []:
            continue
        tried.add(chunk.chunk_id)
        support = judge.support(claim, chunk.text, question)
        judged += 1
        if support is not None and support >= SUPPORTED:
            marker = evidence.marker(chunk)
            document = corpus.document(chunk.span.path)
            found = cite(Sentence(claim, [marker]), marker, chunk, document)
            return dataclasses.replace(found, support=support)
        if judged >= TRIES:
            break
    return None


def _remarked(sentence: Sentence, marker: int) -> list[tuple[int, int, str]]:
    """Edits that make ``sentence`` cite ``marker`` alone: its first marker group replaced, the
    others removed."""
    groups = sorted(sentence.groups)
    return [(start, end, f"[S{marker}]" if i == 0 else "") for i, (start, end) in enumerate(groups)]


def _short(sentence: str, limit: int = 60) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"
