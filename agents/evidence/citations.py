"""From an answer's ``[S#]`` markers to citations of exact spans (DESIGN.md §5).

Markers are parsed per sentence (``[S3]``, ``[S3][S5]``, ``[S3, S5]``; never inside code), mapped
to the blocks the model was shown, and unknown ones dropped and counted. Each citation is then
narrowed to the sentence(s) inside its chunk that best support its sentence: the quote and its
sub-span, which round-trips like every span. Quotes copied by a model are located in their
source with the same normalisation (exactly, or fuzzily above a high threshold).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from agents.answer import Citation
from agents.evidence.blocks import Evidence
from agents.prompts import REFUSAL
from ingest.document import Chunk, Document
from ingest.lines import line_starts
from retrieval.lexical import tokenize

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


_HEADING_LINE = re.compile(r"^[^\n.!?:;,]{1,60}\n(?=[A-Z0-9•●*-])", re.MULTILINE)


def _units(chunk: Chunk, code: bool) -> list[tuple[int, int]]:
    """Candidate quote units inside a chunk (offsets relative to the chunk): lines for code;
    sentences for prose (which may run across line breaks), short heading lines on their own."""
    text = chunk.text
    units: list[tuple[int, int]] = []
    if code:
        for start, line in zip(line_starts(text), text.split("\n"), strict=True):
            if line.strip():
                units.append((start, start + len(line)))
        return units
    cuts = sorted({0, len(text), *(m.end() for m in _HEADING_LINE.finditer(text))})
    for left, right in itertools.pairwise(cuts):
        for match in re.finditer(r"\S(?:.|\n(?!\s*\n))*?(?:[.!?](?=\s)|$|(?=\n\s*\n))", text[left:right]):
            start, end = match.start() + left, match.end() + left
            if text[start:end].strip():
                units.append((start, end))
    return units or [(0, len(text))]


_EXTRA_UNIT = 0.2  # the cost of each sentence beyond the first: quotes stay tight


def narrow(
    claim: str, chunk: Chunk, code: bool, preferred: list[tuple[int, int]] | None = None, window: int = 3
) -> tuple[int, int]:
    """The offsets (relative to the chunk) of the sentences that best support ``claim``.

    ``preferred`` are spans already known to support it (facts located verbatim); otherwise the
    window of up to ``window`` consecutive units covering most of the claim's terms (numbers
    count double) wins, each extra unit costing a little.
    """
    weights = {t: (2.0 if t.isdigit() else 1.0) for t in tokenize(claim)}
    total = sum(weights.values())
    candidates: list[tuple[tuple[int, int], int]] = [(span, 1) for span in preferred or []]
    if not candidates:
        units = _units(chunk, code)
        size = window * 2 if code else window
        for i in range(len(units)):
            for j in range(i, min(i + size, len(units))):
                candidates.append(((units[i][0], units[j][1]), j - i + 1))
    if not total or not candidates:
        return 0, len(chunk.text)

    def score(candidate: tuple[tuple[int, int], int]) -> tuple[float, int]:
        (start, end), count = candidate
        terms = set(tokenize(chunk.text[start:end]))
        covered = sum(w for t, w in weights.items() if t in terms) / total
        return covered - _EXTRA_UNIT * (count - 1) * (0 if code else 1), -(end - start)

    best = max(candidates, key=score)
    if score(best)[0] <= 0:
        return 0, len(chunk.text)
    return best[0]


GROUNDED = 0.75  # the share of a paraphrase's own terms (beyond the question's) its source must hold
GROUNDED_ALL = 0.5  # and the share of all its terms


def ground(
    claim: str, chunk: Chunk, code: bool, question: str = ""
) -> tuple[tuple[int, int], tuple[float, float]] | None:
    """The sentences of ``chunk`` that a paraphrased ``claim`` restates, and how much of it they hold
    (the share of its own terms; the share of all its terms, less a little per extra unit).

    A paraphrase often restates the question's words around the fact ("FASTA uses BLOSUM50 by
    default" for "which matrix does FASTA use by default?"), so what must be in the source is what
    the claim adds to the question: at least ``GROUNDED`` of those terms (numbers count double),
    ``GROUNDED_ALL`` of all its terms, and every number it states, within two consecutive
    sentences (four lines of code).
    None when no window does (an invention)."""
    terms = {t: (2.0 if t.isdigit() else 1.0) for t in tokenize(claim)}
    asked = set(tokenize(question))
    own = {t: w for t, w in terms.items() if t not in asked} or terms
    numbers = set(_NUMBER.findall(claim))
    units = _units(chunk, code)
    size = 4 if code else 2
    best: tuple[float, float, int] | None = None
    where = (0, 0)
    for i in range(len(units)):
        for j in range(i, min(i + size, len(units))):
            start, end = units[i][0], units[j][1]
            held = set(tokenize(chunk.text[start:end]))
            own_share = sum(w for t, w in own.items() if t in held) / sum(own.values())
            all_share = sum(w for t, w in terms.items() if t in held) / sum(terms.values())
            if own_share < GROUNDED or all_share < GROUNDED_ALL:
                continue
            if not numbers <= set(_NUMBER.findall(chunk.text[start:end])):
                continue
            key = (own_share, all_share - _EXTRA_UNIT * (j - i), -(end - start))  # quotes stay tight
            if best is None or key > best:
                best, where = key, (start, end)
    return (where, (best[0], best[1])) if best else None


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
