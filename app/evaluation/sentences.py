"""From an ``Answer`` to the plain ``CitedSentence`` data the citation metrics read.

Sentences are cut exactly as the product cut them when it resolved the citations
(``agents.evidence.citations.parse_markers``), so each citation lands on the sentence it was made for:
a citation belongs to the parsed sentence whose text equals its ``sentence`` and whose markers
include its ``marker``. Markers that resolved to no citation (they named no shown block and were
dropped, DESIGN.md §5) are not citations here either. A citation whose sentence is not found in
the text (it should not happen) becomes a sentence of its own, so that no citation is lost.

The passage of a citation is, by default, its ``quote``: the text of the narrowed span the
product shows the reader (DESIGN.md §8: "the concatenation of its cited spans"). A runner may pass
another, e.g. the whole chunk's text.
"""

from __future__ import annotations

from collections.abc import Callable

from agents.answer import Answer, Citation
from agents.evidence.blocks import Evidence
from agents.evidence.citations import parse_markers
from app.evaluation.faithfulness import CitedSentence
from ingest.document import Chunk, Span

_PLACEHOLDER = Chunk("", "", "", Span("", None, 1, 1, 0, 0), 0, 0)


def quote_of(citation: Citation) -> str:
    return citation.quote


def cited_sentences(answer: Answer, passage: Callable[[Citation], str] = quote_of) -> list[CitedSentence]:
    """The answer's sentences, each with the passages of its own citations, in marker order."""
    # Only the markers that became citations are known; parse_markers counts the others.
    evidence = Evidence(by_marker={c.marker: _PLACEHOLDER for c in answer.citations})
    parsed = parse_markers(answer.text, evidence)
    remaining = list(answer.citations)
    sentences: list[CitedSentence] = []
    for sentence in parsed.sentences:
        own: list[Citation] = []
        for marker in sentence.markers:
            for citation in remaining:
                if citation.marker == marker and citation.sentence == sentence.text:
                    own.append(citation)
                    remaining.remove(citation)
                    break
        sentences.append(_cited(sentence.text, own, passage))
    for text in dict.fromkeys(c.sentence for c in remaining):
        sentences.append(_cited(text, [c for c in remaining if c.sentence == text], passage))
    return sentences


def _cited(text: str, citations: list[Citation], passage: Callable[[Citation], str]) -> CitedSentence:
    return CitedSentence(text, tuple(passage(c) for c in citations), tuple(c.label for c in citations))
