"""Question results aggregated per strategy and per (strategy, question type), and ``auto``
against each strategy alone.

Every number in a cell is a mean with the count of questions behind it (``Mean.n``): EM, F1 and
contains over answerable questions, right and refusal accuracy over every answered question, citation
recall and precision over answers that were not refused (and were judged), evidence hit over
questions with gold evidence, cost over answered questions. Questions that failed count only as
errors. Citation F1 is 2PR/(P+R) of the cell's mean precision and recall.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from app.evaluation.faithfulness import citation_f1
from app.evaluation.scoring import QuestionResult


@dataclass(frozen=True)
class Mean:
    """A mean and how many values it is over (None when there were none)."""

    value: float | None
    n: int


def mean(values: Iterable[float | bool | None]) -> Mean:
    """The mean of the values that are not None."""
    kept = [float(v) for v in values if v is not None]
    return Mean(sum(kept) / len(kept) if kept else None, len(kept))


@dataclass(frozen=True)
class Cell:
    """One row of a report table: a strategy, or a strategy on one question type."""

    strategy: str
    type: str | None  # None: all types
    questions: int
    errors: int
    right: Mean
    em: Mean
    f1: Mean
    contains: Mean
    count: Mean  # questions about many items (with gold items) only: the count stated is theirs
    item_recall: Mean  # the same questions
    item_precision: Mean  # the same questions, answers that list items only
    refusal: Mean
    citation_recall: Mean
    citation_precision: Mean
    citation_f1: float | None
    refused: int  # answers refused, left out of the citation metrics
    evidence_hit: Mean
    calls: Mean
    prompt_tokens: Mean
    completion_tokens: Mean
    seconds: Mean

    @property
    def tokens(self) -> float | None:
        """Mean prompt + completion tokens per answered question."""
        if self.prompt_tokens.value is None or self.completion_tokens.value is None:
            return None
        return self.prompt_tokens.value + self.completion_tokens.value


def cell(strategy: str, kind: str | None, results: Sequence[QuestionResult]) -> Cell:
    """Aggregate one strategy's results (already filtered to one type, or all of them)."""
    answered = [r for r in results if not r.failed]
    judged = [r.citation for r in answered if not r.refused and r.citation is not None]
    recall = mean(c.recall for c in judged)
    precision = mean(c.precision for c in judged)

    def over(pick: Callable[[QuestionResult], float | bool | None]) -> Mean:
        return mean(pick(r) for r in answered)

    return Cell(
        strategy=strategy,
        type=kind,
        questions=len(results),
        errors=len(results) - len(answered),
        right=over(lambda r: r.right),
        em=over(lambda r: r.em),
        f1=over(lambda r: r.f1),
        contains=over(lambda r: r.contains),
        count=over(lambda r: r.count_correct),
        item_recall=over(lambda r: r.item_recall),
        item_precision=over(lambda r: r.item_precision),
        refusal=over(lambda r: r.refusal_correct),
        citation_recall=recall,
        citation_precision=precision,
        citation_f1=citation_f1(precision.value, recall.value),
        refused=sum(bool(r.refused) for r in answered),
        evidence_hit=over(lambda r: r.evidence_hit),
        calls=over(lambda r: r.cost.calls),
        prompt_tokens=over(lambda r: r.cost.prompt_tokens),
        completion_tokens=over(lambda r: r.cost.completion_tokens),
        seconds=over(lambda r: r.cost.seconds),
    )


def summarise(results: Sequence[QuestionResult]) -> Summary:
    """Cells per strategy and per (strategy, type)."""
    strategies = list(dict.fromkeys(r.strategy for r in results))
    kinds = sorted({r.type for r in results}, key=lambda k: (k is None, k or ""))
    by_strategy = tuple(cell(s, None, [r for r in results if r.strategy == s]) for s in strategies)
    by_type = tuple(
        cell(s, k, chosen)
        for s in strategies
        for k in kinds
        if (chosen := [r for r in results if r.strategy == s and r.type == k])
    )
    return Summary(by_strategy, by_type, router_check(results))


ROUTER = "auto"


@dataclass(frozen=True)
class Choice:
    """The questions on which the router chose one strategy, and who got them right."""

    chosen: str  # the router's decision ("(failed)" when auto gave no answer)
    questions: int
    right: dict[str, int]  # strategy (auto first) -> questions it got right among these


@dataclass(frozen=True)
class RouterCheck:
    """``auto`` against each strategy alone, on the questions every one of them was asked."""

    questions: int
    right: dict[str, int]  # strategy (auto first) -> questions right
    any_right: int  # questions some strategy alone got right: a perfect router's score
    choices: tuple[Choice, ...]  # most chosen first

    @property
    def best(self) -> tuple[str, int]:
        """The best strategy alone (the first of equals, in run order) and its score."""
        alone = [(s, n) for s, n in self.right.items() if s != ROUTER]
        return max(alone, key=lambda item: item[1])


def router_check(results: Sequence[QuestionResult]) -> RouterCheck | None:
    """Compare ``auto`` with every other strategy of the run by ``right``, over the questions all
    of them were asked (None without ``auto`` and at least one other strategy)."""
    strategies = list(dict.fromkeys(r.strategy for r in results))
    if ROUTER not in strategies or len(strategies) < 2:
        return None
    order = [ROUTER, *(s for s in strategies if s != ROUTER)]
    table: dict[str, dict[str, QuestionResult]] = {}
    for r in results:
        table.setdefault(r.id, {})[r.strategy] = r
    rows = [row for row in table.values() if all(s in row for s in order)]

    def right(chosen: list[dict[str, QuestionResult]]) -> dict[str, int]:
        return {s: sum(bool(row[s].right) for row in chosen) for s in order}

    groups: dict[str, list[dict[str, QuestionResult]]] = {}
    for row in rows:
        decision = row[ROUTER].trace.get("decision") if not row[ROUTER].failed else None
        groups.setdefault(decision or "(failed)", []).append(row)
    choices = tuple(
        Choice(chosen, len(group), right(group))
        for chosen, group in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    )
    any_right = sum(any(row[s].right for s in order if s != ROUTER) for row in rows)
    return RouterCheck(len(rows), right(rows), any_right, choices)


@dataclass(frozen=True)
class Summary:
    by_strategy: tuple[Cell, ...]
    by_type: tuple[Cell, ...]  # strategy × type, strategies in run order, types sorted
    router: RouterCheck | None = None  # auto against each strategy alone, when auto ran
