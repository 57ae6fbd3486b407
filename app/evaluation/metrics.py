"""Answer metrics of DESIGN.md §8: EM, F1, refusal accuracy, evidence hit, cost.

Pure functions over plain data: no model, no index. Answers are sentences with ``[S#]`` markers;
the markers are removed before scoring. EM and F1 are not defined for questions whose gold is
``UNANSWERABLE``: those are scored by refusal accuracy only (``exact_match`` and ``f1`` return
None for them).

- EM: any gold equals the prediction after SQuAD normalisation (lowercase, punctuation removed,
  articles a/an/the removed, whitespace folded).
- F1: the best token-level F1 over the golds, same normalisation (SQuAD's definition: 0 when
  either side normalises to no tokens, unless both do).
- contains (not in DESIGN; reported beside EM because answers are sentences): some normalised
  gold occurs in the normalised prediction on token boundaries (ALCE's STR-EM, token-aligned).
- item recall (questions about many items, with gold ``items``): the share of the items the
  answer names, each as whole words, case aside, its punctuation kept (``-a`` is not ``a``, and
  ``the`` is an item like any other); such a question is right when the
  answer states the count (a gold answer) or names at least ``ITEMS_RIGHT`` of the items.
- item precision (same questions): of the items the answer lists (its bullet or numbered lines,
  else the comma-separated run after its first colon), the share that name a gold item or that a
  gold item names; None when the answer lists nothing.
- refusal accuracy: refused if and only if the gold is ``UNANSWERABLE``.
- evidence hit: some citation span overlaps some gold evidence: same file (both paths normalised:
  posix separators, leading ``./`` removed), and the same page when the evidence names one, and
  overlapping lines when the evidence names lines; evidence naming neither is hit by any citation
  of its file. Retrieval recall (tests/retrieval, benchmarks/bench_ingest.py) counts a retrieved
  chunk by this same rule, through ``CitedSpan.of``.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from agents.evidence.citations import MARKER_GROUP
from app.evaluation.dataset import UNANSWERABLE, GoldEvidence
from ingest.document import Span

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def strip_markers(text: str) -> str:
    """The answer text without its ``[S#]`` citation markers."""
    return " ".join(MARKER_GROUP.sub(" ", text).split())


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lowercase, remove punctuation, remove articles, fold whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def is_unanswerable(golds: Sequence[str]) -> bool:
    return any(g.strip() == UNANSWERABLE for g in golds)


def exact_match(prediction: str, golds: Sequence[str]) -> float | None:
    """1.0 if any gold equals the prediction after normalisation, else 0.0; None if unanswerable."""
    if is_unanswerable(golds):
        return None
    predicted = normalize_answer(strip_markers(prediction))
    return float(any(predicted == normalize_answer(g) for g in golds))


def _token_f1(predicted: list[str], gold: list[str]) -> float:
    if not predicted or not gold:
        return float(predicted == gold)
    same = sum((Counter(predicted) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def f1(prediction: str, golds: Sequence[str]) -> float | None:
    """The best token-level F1 over the golds; None if the gold is unanswerable."""
    if is_unanswerable(golds):
        return None
    predicted = normalize_answer(strip_markers(prediction)).split()
    return max(_token_f1(predicted, normalize_answer(g).split()) for g in golds)


def answer_contains(prediction: str, golds: Sequence[str]) -> float | None:
    """1.0 if some normalised gold occurs in the normalised prediction as whole tokens."""
    if is_unanswerable(golds):
        return None
    predicted = f" {normalize_answer(strip_markers(prediction))} "
    return float(any(normalize_answer(g) and f" {normalize_answer(g)} " in predicted for g in golds))


ITEMS_RIGHT = 0.75  # a question about many items is right with its count, or this share of its items


def item_recall(prediction: str, items: Sequence[str]) -> float | None:
    """The share of gold items the answer names (each as whole tokens, normalised as above);
    None for a question without gold items."""
    if not items:
        return None
    predicted = " ".join(strip_markers(prediction).casefold().split())
    return sum(_names(item, predicted) for item in items) / len(items)


_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()
_COUNT = re.compile(r"(?<![\w.,-])(\d+|" + "|".join(_NUMBER_WORDS) + r")(?![\w.,-]\w)", re.IGNORECASE)


def stated_count(prediction: str, short: str | None = None) -> int | None:
    """The count an answer states: the first number of ``short``, else of the answer's first
    line; None when neither holds one."""
    first_line = strip_markers(prediction.strip().split("\n", 1)[0])
    for text in (short or "", first_line):
        if match := _COUNT.search(text):
            word = match.group(1).casefold()
            return int(word) if word.isdigit() else _NUMBER_WORDS.index(word)
    return None


def count_correct(prediction: str, short: str | None, items: Sequence[str]) -> float | None:
    """1.0 when the answer states the number of gold items, else 0.0; None without gold items."""
    if not items:
        return None
    return float(stated_count(prediction, short) == len(items))


def item_precision(prediction: str, items: Sequence[str]) -> float | None:
    """The share of the items the answer lists that are gold items (either names the other, as
    whole words); None without gold items or when the answer lists nothing."""
    listed = listed_items(prediction)
    if not items or not listed:
        return None
    golds = [" ".join(item.casefold().split()) for item in items]
    right = sum(any(_names(gold, entry) or _names(entry, gold) for gold in golds) for entry in listed)
    return right / len(listed)


_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+(.+)$", re.MULTILINE)
_SEPARATORS = re.compile(r"[,;]\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+")


def listed_items(prediction: str) -> list[str]:
    """The items an answer lists, casefolded, spaces folded, markers removed: its bullet or
    numbered lines, else the comma-, semicolon- or "and"-separated run after its first colon."""
    text = MARKER_GROUP.sub(" ", prediction)
    entries = _BULLET.findall(text)
    if not entries and ":" in text:
        run = text.split(":", 1)[1].split("\n\n", 1)[0]
        entries = _SEPARATORS.split(run.strip().rstrip("."))
    cleaned = (" ".join(entry.casefold().split()).strip(" .`'\"") for entry in entries)
    return [entry for entry in cleaned if entry]


def _names(item: str, text: str) -> bool:
    """Whether ``text`` (casefolded, spaces folded) names ``item`` as a whole: an option such as
    ``-a`` or a symbol such as ``/`` keeps its punctuation, which SQuAD's normalisation drops."""
    words = item.casefold().split()
    if not words:
        return False
    pattern = r"\s".join(re.escape(w) for w in words)
    return re.search(rf"(?<![\w-]){pattern}(?![\w-])", text) is not None


def refusal_correct(refused: bool, golds: Sequence[str]) -> bool:
    """A refusal is right exactly when the gold is UNANSWERABLE."""
    return refused == is_unanswerable(golds)


# ---------------------------------------------------------------- evidence hit


@dataclass(frozen=True)
class CitedSpan:
    """Where a citation points (the index's path, relative to the corpus root)."""

    path: str
    page: int | None
    line_start: int
    line_end: int

    @classmethod
    def from_dict(cls, span: dict[str, Any]) -> CitedSpan:
        """From a span as ``Answer.to_dict()`` writes it."""
        return cls(str(span["path"]), span.get("page"), int(span["line_start"]), int(span["line_end"]))

    @classmethod
    def of(cls, span: Span) -> CitedSpan:
        """From a span of the index (a retrieval hit's chunk), to score retrieval as citations are."""
        return cls(span.path, span.page, span.line_start, span.line_end)


def normalize_path(path: str) -> str:
    """Posix separators, no leading ``./``, no doubled or trailing slashes."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts)


def span_hits(span: CitedSpan, evidence: GoldEvidence) -> bool:
    """Whether one citation span overlaps one gold evidence span."""
    if normalize_path(span.path) != normalize_path(evidence.file):
        return False
    if evidence.page is not None and span.page != evidence.page:
        return False
    if evidence.lines is not None:
        first, last = evidence.lines
        return span.line_start <= last and first <= span.line_end
    return True


def evidence_hit(spans: Iterable[CitedSpan], evidence: Sequence[GoldEvidence]) -> float | None:
    """1.0 if any citation overlaps any gold evidence, else 0.0; None without gold evidence."""
    if not evidence:
        return None
    return float(any(span_hits(s, e) for s in spans for e in evidence))


# ---------------------------------------------------------------- cost


@dataclass(frozen=True)
class Cost:
    """What one answer cost: model calls, prompt and completion tokens, seconds."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @classmethod
    def from_dict(cls, cost: dict[str, Any]) -> Cost:
        """From ``Answer.to_dict()['cost']``."""
        return cls(
            int(cost.get("calls", 0)),
            int(cost.get("prompt_tokens", 0)),
            int(cost.get("completion_tokens", 0)),
            float(cost.get("seconds", 0.0)),
        )
