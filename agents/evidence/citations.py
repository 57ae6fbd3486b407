"""From an answer's ``[S#]`` markers to citations of exact spans (DESIGN.md §5).

Markers are parsed per sentence (``[S3]``, ``[S3][S5]``, ``[S3, S5]``; never inside code), mapped
to the blocks the model was shown, and unknown ones dropped and counted. Each citation is then
narrowed to the sentence(s) inside its chunk that best support its sentence: the quote and its
sub-span, which round-trips like every span. Quotes copied by a model are located in their
source with the same normalisation (exactly, or fuzzily above a high threshold).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from agents.answer import Citation
from agents.evidence.blocks import Evidence
from agents.evidence.sentences import EXTRA, best_window, units
from agents.prompts import REFUSAL
from ingest.document import Chunk, Document

MARKER_GROUP = re.compile(r"\[\s*S\s*\d+(?:\s*[,;]\s*S?\s*\d+)*\s*\]")
_NUMBER = re.compile(r"\d+")
_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`", re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\[\"'(`*-])|\n+")
_REFUSALS = re.compile(
    r"documents? (?:do|does) not (?:say|contain|mention|specify)|not (?:mentioned|specified|stated|covered)"
    r" in the (?:documents?|sources?|text)|(?:no|not enough) information (?:about|on|in|to)|"
    r"cannot (?:be )?(?:found|determined|answer)|can't (?:find|determine|answer)",
    re.IGNORECASE,
)


@dataclass
class Sentence:
    """One answer sentence, its text without markers, and the markers that cite it."""

    text: str
    markers: list[int] = field(default_factory=list)
    groups: list[tuple[int, int]] = field(default_factory=list)  # its marker groups' offsets in the answer


@dataclass
class Parsed:
    sentences: list[Sentence]
    unknown: int  # markers naming no block that was shown


def _code_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _CODE.finditer(text)]


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def parse_markers(answer: str, evidence: Evidence) -> Parsed:
    """Sentences with their (known) markers; markers in code are text, not citations."""
    code = _code_spans(answer)
    pieces: list[Sentence] = []
    unknown = 0
    cursor = 0
    boundaries = [m.end() for m in _SENTENCE_END.finditer(answer) if not _inside(m.start(), code)]
    for end in [*boundaries, len(answer)]:
        raw = answer[cursor:end]
        offset = cursor
        cursor = end
        markers: list[int] = []
        groups: list[tuple[int, int]] = []
        kept: list[str] = []
        last = 0
        for match in MARKER_GROUP.finditer(raw):
            if _inside(offset + match.start(), code):
                continue
            leading = not "".join(kept).strip() and not raw[last : match.start()].strip()
            kept.append(raw[last : match.start()])
            last = match.end()
            where = (offset + match.start(), offset + match.end())
            (pieces[-1].groups if leading and pieces else groups).append(where)
            for number in map(int, _NUMBER.findall(match.group())):
                if evidence.chunk(number) is None:
                    unknown += 1
                elif leading and pieces:  # "… 20 MB. [S1] Next …": [S1] closes the previous sentence
                    if number not in pieces[-1].markers:
                        pieces[-1].markers.append(number)
                elif number not in markers:
                    markers.append(number)
        kept.append(raw[last:])
        text = re.sub(r"\s+([.,;:!?])", r"\1", " ".join("".join(kept).split()))
        if text:
            pieces.append(Sentence(text, markers, groups))
    return Parsed(pieces, unknown)


def is_refusal(answer: str) -> bool:
    """Whether an answer says the documents do not contain it."""
    flat = " ".join(MARKER_GROUP.sub("", answer).split()).strip()
    if not flat:
        return True
    if flat.lower().startswith(REFUSAL.lower().rstrip(".")):
        return True
    return len(flat) < 200 and bool(_REFUSALS.search(flat))


# ---------------------------------------------------------------- locating quotes


def _normalise(text: str) -> tuple[str, list[int]]:
    """Lower-cased text with whitespace folded and quotes unified, and where each char came from."""
    out: list[str] = []
    where: list[int] = []
    table = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-"})
    previous_space = True
    for i, char in enumerate(text):
        if char.isspace():
            if not previous_space:
                out.append(" ")
                where.append(i)
            previous_space = True
            continue
        previous_space = False
        out.append(char.translate(table).lower())
        where.append(i)
    return "".join(out), where


def locate(quote: str, text: str, threshold: float = 90.0) -> tuple[int, int] | None:
    """Where ``quote`` occurs in ``text`` (offsets into ``text``), tolerating whitespace, case,
    quote styles and a few changed characters; None when it is not there."""
    needle, _ = _normalise(quote.strip().strip("\"'“”").strip())
    if len(needle) < 8:
        return None
    haystack, where = _normalise(text)
    found = haystack.find(needle)
    if found >= 0:
        return where[found], where[found + len(needle) - 1] + 1
    alignment = fuzz.partial_ratio_alignment(needle, haystack, score_cutoff=threshold)
    if alignment is None or alignment.dest_end <= alignment.dest_start:
        return None
    covered = (alignment.src_end - alignment.src_start) / len(needle)
    if covered < 0.9:
        return None
    return where[alignment.dest_start], where[alignment.dest_end - 1] + 1


# ---------------------------------------------------------------- narrowing


def _units(chunk: Chunk, code: bool) -> list[tuple[int, int]]:
    return units(chunk.text, code) or [(0, len(chunk.text))]


def _digits(text: str) -> set[str]:
    """The runs of digits of a text: what a copied quote must keep of its numbers (5.2.11: 5, 2, 11)."""
    return set(_NUMBER.findall(text))


def narrow(
    claim: str, chunk: Chunk, code: bool, preferred: list[tuple[int, int]] | None = None, window: int = 3
) -> tuple[int, int]:
    """The offsets (relative to the chunk) of the sentences that best support ``claim``.

    The window of up to ``window`` consecutive units (twice as many lines of code) covering most of
    the claim's terms (numbers count double) wins, each extra sentence costing a little
    (``agents.evidence.sentences.best_window``, with no share required); or, where ``preferred``
    spans are known to support it (facts located verbatim), the one of them covering most. The whole
    chunk where nothing holds any of its terms.
    """
    size = 2 * window if code else window
    found = best_window(
        claim,
        chunk.text,
        preferred or _units(chunk, code),
        size=1 if preferred else size,
        grounded=0.0,
        grounded_all=0.0,
        extra=0.0 if code else EXTRA,
        tight=True,
    )
    return (found.start, found.end) if found else (0, len(chunk.text))


def ground(
    claim: str, chunk: Chunk, code: bool, question: str = ""
) -> tuple[tuple[int, int], tuple[float, float]] | None:
    """The sentences of ``chunk`` that a paraphrased ``claim`` restates, and how much of it they hold
    (the share of its own terms; the share of all its terms, less a little per extra unit).

    A paraphrase often restates the question's words around the fact ("FASTA uses BLOSUM50 by
    default" for "which matrix does FASTA use by default?"), so what must be in the source is what
    the claim adds to the question: at least ``GROUNDED`` of those terms (numbers count double),
    ``GROUNDED_ALL`` of all its terms, and every run of digits it states, within two consecutive
    sentences (four lines of code) (``agents.evidence.sentences.best_window``).
    None when no window does (an invention)."""
    spans = _units(chunk, code)
    found = best_window(claim, chunk.text, spans, size=4 if code else 2, question=question, numbers=_digits)
    if found is None:
        return None
    return (found.start, found.end), (found.own, found.all - EXTRA * (found.units - 1))


def cite(
    sentence: Sentence,
    marker: int,
    chunk: Chunk,
    document: Document,
    facts: list[tuple[int, int]] | None = None,
) -> Citation:
    """A citation of ``chunk`` for ``sentence``, narrowed to its supporting quote."""
    start, end = narrow(sentence.text, chunk, code=document.kind == "code", preferred=facts)
    while start < end and chunk.text[start].isspace():
        start += 1
    while end > start and chunk.text[end - 1].isspace():
        end -= 1
    absolute = chunk.span.char_start + start, chunk.span.char_start + end
    span = document.span(*absolute)
    return Citation(
        marker=marker,
        chunk_id=chunk.chunk_id,
        span=span,
        quote=document.text[absolute[0] : absolute[1]],
        sentence=sentence.text,
    )
