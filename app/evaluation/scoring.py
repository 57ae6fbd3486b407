"""One question's answer under one strategy, scored by every metric of DESIGN.md §8.

``score`` takes the dataset item, the name of the strategy asked for (results are grouped by it:
``auto`` stays ``auto`` whatever the router chose; the strategy that answered is in ``trace``),
the ``Answer`` (or the error that stopped it) and the entailment judge, and returns a
``QuestionResult``: plain data the summary and the report read. Which metrics apply:

- EM, F1, contains: answerable questions only (None for ``UNANSWERABLE`` golds).
- refusal accuracy: every answered question.
- right: every answered question (gold in the answer if answerable, else refusal accuracy; for
  a question about many items, the count it states or ``metrics.ITEMS_RIGHT`` of its items).
- count accuracy, item recall and item precision: questions with gold ``items``.
- citation recall/precision: answers that were not refused (a refusal cites nothing and is judged
  by refusal accuracy), and only when a judge is given.
- evidence hit: questions with gold evidence; a refused answer cites nothing, so it scores 0.
- a question that failed (``error``) has no metrics; it is counted as an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from agents.answer import Answer, Citation
from app.evaluation import metrics
from app.evaluation.dataset import EvalItem, GoldEvidence
from app.evaluation.faithfulness import CitationScore, Entails, score_citations
from app.evaluation.metrics import CitedSpan, Cost
from app.evaluation.sentences import cited_sentences, quote_of


@dataclass(frozen=True)
class QuestionResult:
    """Everything known about one question under one strategy."""

    id: str
    strategy: str
    question: str
    type: str | None
    golds: tuple[str, ...]
    gold_evidence: tuple[GoldEvidence, ...] = ()
    answer: str | None = None  # None when the question failed
    short: str | None = None  # the answer's key value or phrase (what EM and F1 score)
    refused: bool | None = None
    citations: tuple[dict[str, Any], ...] = ()  # as Answer.to_dict() writes them
    trace: dict[str, Any] = field(default_factory=dict)  # strategy that answered, router's decision…
    cost: Cost = field(default_factory=Cost)
    error: str | None = None
    em: float | None = None
    f1: float | None = None
    contains: float | None = None
    count_correct: float | None = None
    item_recall: float | None = None
    item_precision: float | None = None
    refusal_correct: bool | None = None
    evidence_hit: float | None = None
    citation: CitationScore | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def right(self) -> bool | None:
        """Right by the plainest reading, defined for every answered question: a gold answer
        appears in the answer (answerable questions), or the answer is a refusal exactly when the
        documents do not say (unanswerable ones)."""
        if self.failed:
            return None
        if self.item_recall is not None and self.item_recall >= metrics.ITEMS_RIGHT:
            return True
        if self.count_correct is not None:  # a question about many items: its count, not any number
            return self.count_correct > 0
        if self.contains is not None:
            return self.contains > 0
        return self.refusal_correct


def score(
    item: EvalItem,
    strategy: str,
    answer: Answer | None,
    entails: Entails | None = None,
    error: str | None = None,
    passage: Callable[[Citation], str] = quote_of,
) -> QuestionResult:
    """Score one answer (or record one failure) against the item's golds and evidence."""
    base = QuestionResult(
        id=item.id,
        strategy=strategy,
        question=item.question,
        type=item.type,
        golds=item.answers,
        gold_evidence=item.evidence,
    )
    if answer is None or error is not None:
        return replace(base, error=error or "no answer")
    data = answer.to_dict()
    citations = tuple(data["citations"])
    spans = [CitedSpan.from_dict(c["span"]) for c in citations]
    judged = None
    if entails is not None and not answer.refused:
        judged = score_citations(cited_sentences(answer, passage), entails)
    return replace(
        base,
        answer=answer.text,
        short=answer.short,
        refused=answer.refused,
        citations=citations,
        trace={
            "strategy": answer.strategy,
            **{k: data["trace"][k] for k in ("decision", "reason", "events")},
        },
        cost=Cost.from_dict(data["cost"]),
        em=metrics.exact_match(answer.short or answer.text, item.answers),
        f1=metrics.f1(answer.short or answer.text, item.answers),
        contains=metrics.answer_contains(answer.text, item.answers),
        count_correct=metrics.count_correct(answer.text, answer.short, item.items),
        item_recall=metrics.item_recall(answer.text, item.items),
        item_precision=metrics.item_precision(answer.text, item.items),
        refusal_correct=metrics.refusal_correct(answer.refused, item.answers),
        evidence_hit=metrics.evidence_hit(spans, item.evidence),
        citation=judged,
    )
