"""Aggregation: means with the counts behind them, per strategy and per strategy × type."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.evaluation.faithfulness import CitationScore
from app.evaluation.metrics import Cost
from app.evaluation.scoring import QuestionResult
from app.evaluation.summary import Mean, mean, router_check, summarise

ONE_CALL = Cost(1, 100, 10, 1.0)


def approx_mean(value: float, n: int) -> Mean:
    """A Mean that compares equal to one with about this value."""
    return Mean(pytest.approx(value), n)  # type: ignore[arg-type]


def judged(recall: float, precision: float) -> CitationScore:
    return CitationScore(recall, precision, (), 0)


def result(
    qid: str,
    strategy: str = "rag",
    kind: str | None = "lookup",
    em: float | None = 1.0,
    refused: bool = False,
    refusal_correct: bool = True,
    citation: CitationScore | None = None,
    hit: float | None = None,
    cost: Cost = ONE_CALL,
    error: str | None = None,
) -> QuestionResult:
    if error:
        return QuestionResult(qid, strategy, "q", kind, ("x",), error=error)
    return QuestionResult(
        qid,
        strategy,
        "q",
        kind,
        ("x",),
        answer="a",
        refused=refused,
        cost=cost,
        em=em,
        f1=em,
        contains=em,
        refusal_correct=refusal_correct,
        evidence_hit=hit,
        citation=citation,
    )


def test_citation_scores_are_averaged_over_answers_and_f1_is_taken_from_the_means() -> None:
    results = [
        result("a", citation=judged(1.0, 0.5)),
        result("b", citation=judged(0.0, 0.0)),  # an answer without citations
        result("c", citation=judged(0.5, 1.0)),
        result("d", refused=True, citation=None),  # refused: left out
    ]
    (cell,) = summarise(results).by_strategy
    assert cell.citation_recall == approx_mean(0.5, 3)
    assert cell.citation_precision == approx_mean(0.5, 3)
    assert cell.citation_f1 == pytest.approx(0.5)
    assert cell.refused == 1


def test_each_metric_counts_only_the_questions_it_is_defined_for() -> None:
    results = [
        result("a", em=1.0, hit=1.0),
        result("b", em=0.0, hit=0.0, cost=Cost(3, 300, 30, 3.0)),
        result("u", kind="unanswerable", em=None, refused=True, refusal_correct=True),
        result("x", error="timed out"),
    ]
    (cell,) = summarise(results).by_strategy
    assert (cell.questions, cell.errors) == (4, 1)
    assert cell.em == Mean(0.5, 2) and cell.f1 == Mean(0.5, 2)
    assert cell.refusal == Mean(1.0, 3)
    assert cell.evidence_hit == Mean(0.5, 2)
    assert cell.calls == approx_mean(5 / 3, 3)
    assert cell.prompt_tokens.value == pytest.approx(500 / 3) and cell.tokens == pytest.approx(550 / 3)
    assert cell.citation_recall == Mean(None, 0) and cell.citation_f1 is None


def test_cells_per_strategy_and_type_keep_run_order_and_sorted_types() -> None:
    results = [
        result("1", "full", "lookup"),
        result("2", "full", "code"),
        result("1", "rag", "lookup", em=0.0),
        result("3", "rag", None),
    ]
    summary = summarise(results)
    assert [c.strategy for c in summary.by_strategy] == ["full", "rag"]
    assert [(c.strategy, c.type, c.questions) for c in summary.by_type] == [
        ("full", "code", 1),
        ("full", "lookup", 1),
        ("rag", "lookup", 1),
        ("rag", None, 1),
    ]
    assert summary.by_type[2].em == Mean(0.0, 1)


def test_mean_ignores_none() -> None:
    assert mean([1, None, 0, True]) == approx_mean(2 / 3, 3)
    assert mean([None]) == Mean(None, 0)


def test_right_is_gold_in_the_answer_or_a_due_refusal_and_covers_every_answered_question() -> None:
    results = [
        result("a", em=1.0),
        result("b", em=0.0),
        result("u", kind="unanswerable", em=None, refused=True, refusal_correct=True),
        result("w", kind="unanswerable", em=None, refused=False, refusal_correct=False),
        result("x", error="timed out"),
    ]
    assert [r.right for r in results] == [True, False, True, False, None]
    (cell,) = summarise(results).by_strategy
    assert cell.right == Mean(0.5, 4)


def test_router_check_counts_rights_per_choice_over_questions_every_strategy_was_asked() -> None:
    def auto(qid: str, chosen: str, em: float) -> QuestionResult:
        return replace(result(qid, "auto", em=em), trace={"decision": chosen})

    results = [
        auto("1", "rag", 1.0),
        auto("2", "rag", 0.0),
        auto("3", "full", 0.0),
        result("1", "rag", em=1.0),
        result("2", "rag", em=1.0),
        result("3", "rag", em=0.0),
        result("1", "full", em=0.0),
        result("2", "full", error="timed out"),
        result("3", "full", em=1.0),
        result("4", "full", em=1.0),  # asked of one strategy only: left out
    ]
    check = router_check(results)
    assert check is not None
    assert (check.questions, check.right, check.any_right) == (3, {"auto": 1, "rag": 2, "full": 1}, 3)
    assert check.best == ("rag", 2)
    assert [(c.chosen, c.questions, c.right) for c in check.choices] == [
        ("rag", 2, {"auto": 1, "rag": 2, "full": 0}),
        ("full", 1, {"auto": 0, "rag": 0, "full": 1}),
    ]
    assert router_check([r for r in results if r.strategy != "auto"]) is None
