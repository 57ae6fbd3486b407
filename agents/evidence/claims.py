"""The checkable facts of a claim, and what a passage must hold for the claim to rest on it.

A small judge model says "yes" to a claim with one number or option changed (MODELS.md). These
checks do what a careful reader does, without a model: every number, option or flag, code name and
proper name of the claim must be in its evidence, in a sentence about the claim, and the claim must
say no exactly when its evidence does. They are a veto, never a reason to say yes
(``agents.verify.support``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.evidence.sentences import units
from retrieval.lexical import tokenize

_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())
    if i != 1  # "one" is a pronoun as often as a number
}
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_WORD_NUMBER = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
_FLAG = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")
_URL = re.compile(r"\b[a-z]+://\S+")
_TOKEN = re.compile(r"[\w./*+-]*\w/?(?:\(\))?")
_NEGATION = re.compile(
    r"\b(?:not|no|never|cannot|none|nothing|neither|nor|without|unable)\b|n't\b", re.IGNORECASE
)
_LITERALS = {"True", "False", "None"}


def _canonical_number(text: str) -> str:
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", text):
        text = text.replace(",", "")
    if re.fullmatch(r"\d+\.\d+", text):
        text = text.rstrip("0").rstrip(".")
    return text


def numbers(text: str) -> set[str]:
    """The numbers a text states, canonical ("700,000" → "700000", "0.900" → "0.9", "three" → "3");
    digits inside a name (BLOSUM62) belong to the name."""
    found = {_canonical_number(m.group()) for m in _NUMBER.finditer(_FLAG.sub(" ", text))}
    found |= {_NUMBER_WORDS[m.group().lower()] for m in _WORD_NUMBER.finditer(text)}
    return found


def _is_identifier(token: str) -> bool:
    core = token.removesuffix("()")
    if token in _LITERALS or token.endswith("()"):
        return True
    if not re.search(r"[A-Za-z]", core):
        return False
    return bool(
        "_" in core
        or re.search(r"[A-Za-z]\d|\d[A-Za-z]", core)  # BLOSUM62, glsearch36, r300
        or re.search(r"\w[./]\w", core)  # json.OrderedDict, rastertogutenprint.5.2, /usr/lib
        or core.startswith("/")
        or re.search(r"[a-z][A-Z]|[A-Z]{2,}[a-z]", core)  # camelCase, JSONDecodeError
    )


_NAME = re.compile(r"(?<![\w-])(?:[A-Z][\w+-]*\s+){1,5}[A-Z][\w+-]*")


def names(text: str) -> set[str]:
    """Proper names a text uses: runs of two or more capitalised words ("GCR Lower Bound Value",
    "Correct Hue Only"), less the first word of a sentence."""
    found: set[str] = set()
    for match in _NAME.finditer(text):
        words = match.group().split()
        start = match.start()
        if start == 0 or re.search(r"[.!?:]\s*$|^\s*$", text[:start].rsplit("\n", 1)[-1]):
            words = words[1:]  # a sentence's first word is capitalised anyway
        if len(words) >= 2:
            found.add(" ".join(words))
    return found


def identifiers(text: str) -> set[str]:
    """Options, flags and code names a text mentions: ``--disable-shared``, ``-S``, ``use_decimal``,
    ``BLOSUM62``, ``/usr/lib/cups/filter``, ``json.OrderedDict``, ``True``."""
    urls = [m.group().rstrip(".,;:)") for m in _URL.finditer(text)]
    text = _URL.sub(" ", text)
    found = {m.group() for m in _FLAG.finditer(text)} | set(urls)
    rest = _FLAG.sub(" ", text)
    for match in _TOKEN.finditer(rest):
        token = match.group().strip("*").rstrip(".+-").lstrip(".+-")
        if token and _is_identifier(token):
            found.add(token)
    return found


_ASIDE = re.compile(r"\([^()]*\)|\b(?:if|unless)\b[^,;.–—()]*[,;–—]", re.IGNORECASE)


def negated(text: str, asides: bool = False) -> bool:
    """Whether a text says no (not, never, cannot, without, n't …). Words inside flags or code names
    (``--without-readline``) never count; asides in parentheses and conditions ("if you don't want
    it, …") count only with ``asides``."""
    text = _FLAG.sub(" ", text)
    return bool(_NEGATION.search(text if asides else _ASIDE.sub(" ", text)))


def _contains(evidence: str, term: str, flag: bool) -> bool:
    haystack = evidence if flag else evidence.lower()
    needle = term if flag else term.lower()
    return re.search(r"(?<![\w-])" + re.escape(needle) + r"(?![\w/])", haystack) is not None


@dataclass(frozen=True)
class Mismatch:
    """One thing the claim says that its evidence does not: a number, an identifier, a negation."""

    kind: str  # "number", "identifier", "name", "binding", "negation"
    term: str

    def __str__(self) -> str:
        return f"{self.kind} {self.term!r}" if self.term else self.kind


def _closest(claim: str, text: str) -> str:
    """The sentence of ``text`` (``agents.evidence.sentences.units``) that shares most terms with
    ``claim``."""
    terms = set(tokenize(claim))
    return max(_sentences(text) or [text], key=lambda unit: len(terms & set(tokenize(unit))))


def _sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in units(text)]


BOUND = 0.5  # a fact's sentence must share this share of the claim's words that the closest one shares


def _unbound(claim: str, evidence: str, facts: list[tuple[str, str]]) -> list[Mismatch]:
    """The facts (kind, term) of ``claim`` that ``evidence`` states only in sentences about something
    else: each must sit in a sentence sharing at least ``BOUND`` as many of the claim's words as the
    sentence closest to the claim, or in a sentence next to that one sharing some ("The default is
    +5/-4."). "Requires CUPS 1.1.9 or higher. We recommend use of 1.1.15" does not bind 1.1.15 to
    "requires"."""
    sentences = _sentences(evidence)
    if len(sentences) < 2:
        return []
    words = {t for t in tokenize(claim) if not t.isdigit()}
    shared = [len(words & set(tokenize(u))) for u in sentences]
    best = max(shared)
    closest = {i for i, n in enumerate(shared) if n == best}

    def bound(i: int) -> bool:  # about the claim, or a short follow-up of the closest sentence
        return shared[i] >= BOUND * best or (shared[i] >= 1 and bool({i - 1, i + 1} & closest))

    missing = []
    for kind, term in facts:
        holding = [i for i, u in enumerate(sentences) if _states(u, kind, term)]
        if holding and not any(bound(i) for i in holding):
            missing.append(Mismatch("binding", term))
    return missing


def _states(text: str, kind: str, term: str) -> bool:
    if kind == "number":
        return term in numbers(text)
    if kind == "name":
        return term.lower() in " ".join(text.split()).lower()
    return _contains(text, term, flag=term.startswith("-"))


def mismatches(
    claim: str, evidence: str, quote: str | None = None, context: str = "", code: bool = False
) -> list[Mismatch]:
    """What ``claim`` states that ``evidence`` (the sentences it rests on) does not.

    Every number, identifier and name of the claim must be in the evidence or its ``context`` (the
    definition a line of code belongs to, the heading above, the sentence a "This option …" refers
    back to), and in prose in a sentence about the claim (``_unbound``). The claim must say no
    exactly when its evidence does: a negated claim needs a negation in the evidence, and a plain
    claim must not rest on a negated sentence of the ``quote`` (the words quoted for it; the
    evidence by default), the sentence closest to the claim.
    """
    missing: list[Mismatch] = []
    scope = f"{context}\n{evidence}" if context else evidence
    stated = facts(claim)
    missing += [Mismatch(kind, term) for kind, term in stated if not _states(scope, kind, term)]
    if not code:
        missing += _unbound(claim, evidence, [f for f in stated if _states(evidence, *f)])
    if negated(claim) and not negated(evidence, asides=True):
        missing.append(Mismatch("negation", "claim says no"))
    elif not negated(claim) and negated(_closest(claim, evidence if quote is None else quote)):
        missing.append(Mismatch("negation", "evidence says no"))
    return missing


def facts(claim: str) -> list[tuple[str, str]]:
    """The claim's checkable facts, (kind, term): numbers, identifiers, names."""
    found = [("number", n) for n in sorted(numbers(claim))]
    found += [("identifier", t) for t in sorted(identifiers(claim))]
    return found + [("name", n) for n in sorted(names(claim))]


def blank(claim: str, question: str | None = None) -> tuple[str, str, str] | None:
    """The claim with its first fact that the question does not already state blanked out: (cloze,
    kind, term); None when every fact is in the question, or the claim states none."""
    for kind, term in facts(claim):
        if question and _states(question, kind, term):
            continue
        if kind == "number":
            spans = [m.span() for m in _NUMBER.finditer(claim) if _canonical_number(m.group()) == term]
            spans += [
                m.span() for m in _WORD_NUMBER.finditer(claim) if _NUMBER_WORDS[m.group().lower()] == term
            ]
        else:
            spans = [m.span() for m in re.finditer(re.escape(term), claim)]
        if not spans:
            continue
        cloze, last = "", 0
        for a, b in sorted(spans):
            cloze, last = cloze + claim[last:a] + "___", b
        return cloze + claim[last:], kind, term
    return None


def _core(text: str) -> str:
    return re.sub(r"^[a-z]+://", "", text.strip().lower()).strip("/ ")


def fills(answer: str, kind: str, term: str) -> bool | None:
    """Whether the model's fill of a blank is the claim's fact: True when it holds it, False when it
    holds another fact of the same kind (another number, flag, name …) instead, None otherwise (no
    fill, or words that are no fact)."""
    text = answer.strip().strip("\"'`").strip()
    if not text or text.upper().startswith("NONE") or len(text) > 120:
        return None
    if kind == "number":
        found = numbers(text)
        return None if not found else term in found
    if _core(term) in _core(text):
        return True
    if kind == "identifier" and term.startswith("-"):
        others: set[str] = {m.group() for m in _FLAG.finditer(text)}
    elif kind == "identifier":
        others = {t for t in identifiers(text) if not t.startswith("-")}
    else:
        others = names(text) | {t for t in identifiers(text) if not t.startswith("-")}
    return False if others else None
