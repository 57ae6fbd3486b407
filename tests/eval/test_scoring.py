"""From an Answer to scored data: sentences with their own citations, every metric per question."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.answer import Answer, CallRecord, Citation, Trace
from agents.prompts import REFUSAL
from app.evaluation.dataset import UNANSWERABLE, EvalItem, GoldEvidence
from app.evaluation.faithfulness import CitedSentence
from app.evaluation.scoring import score
from app.evaluation.sentences import cited_sentences
from ingest.document import Span

PDF = "manual.pdf"


def citation(marker: int, sentence: str, quote: str, page: int = 9) -> Citation:
    return Citation(
        marker, f"chunk{marker}", Span(PDF, page, 3, 4, 100, 100 + len(quote)), quote, 0.9, sentence
    )


def answer(text: str, citations: list[Citation], refused: bool = False) -> Answer:
    trace = Trace(calls=[CallRecord("answer", 1000, 20, 2.0), CallRecord("judge", 200, 1, 0.5)])
    return Answer("q?", text, citations, "full_context", refused, trace)


def test_each_sentence_gets_the_passages_of_its_own_citations() -> None:
    text = "Disk needs 50 MB [S1][S2]. It was renamed in 2004. [S3] Memory is 64 MB [S9]. Done."
    cites = [
        citation(1, "Disk needs 50 MB.", "at least 50 MB of disk"),
        citation(2, "Disk needs 50 MB.", "to compile and install"),
        citation(3, "It was renamed in 2004.", "renamed in the fall of 2004", page=8),
    ]
    sentences = cited_sentences(answer(text, cites))
    assert sentences == [
        CitedSentence(
            "Disk needs 50 MB.",
            ("at least 50 MB of disk", "to compile and install"),
            ("manual.pdf p.9 l.3-4", "manual.pdf p.9 l.3-4"),
        ),
        CitedSentence("It was renamed in 2004.", ("renamed in the fall of 2004",), ("manual.pdf p.8 l.3-4",)),
        CitedSentence("Memory is 64 MB."),  # [S9] named no shown block: not a citation
        CitedSentence("Done."),
    ]


def test_the_same_marker_in_two_sentences_stays_with_each() -> None:
    text = "A is 1 [S1]. B is 2 [S1]."
    cites = [citation(1, "A is 1.", "quote for A"), citation(1, "B is 2.", "quote for B")]
    assert [s.passages for s in cited_sentences(answer(text, cites))] == [("quote for A",), ("quote for B",)]


def test_passages_can_come_from_elsewhere_than_the_quote() -> None:
    cites = [citation(1, "A is 1.", "quote")]
    sentences = cited_sentences(answer("A is 1 [S1].", cites), passage=lambda c: f"chunk {c.chunk_id}")
    assert sentences[0].passages == ("chunk chunk1",)


def test_a_citation_whose_sentence_is_not_in_the_text_is_kept_as_its_own_sentence() -> None:
    cites = [citation(1, "A sentence edited away.", "quote")]
    sentences = cited_sentences(answer("Something else.", cites))
    assert sentences == [
        CitedSentence("Something else."),
        CitedSentence("A sentence edited away.", ("quote",), (cites[0].label,)),
    ]


def item(answers: tuple[str, ...], evidence: tuple[GoldEvidence, ...] = ()) -> EvalItem:
    return EvalItem("e1", "How much disk?", answers, (Path("/docs"),), evidence, "lookup")


def test_score_fills_every_metric_of_an_answered_question() -> None:
    judged: list[tuple[str, str]] = []

    def entails(claim: str, passage: str) -> bool:
        judged.append((claim, passage))
        return "50 MB" in passage

    result = score(
        item(("50 MB",), (GoldEvidence(PDF, page=9),)),
        "full_context",
        answer("At least 50 MB [S1].", [citation(1, "At least 50 MB.", "You need at least 50 MB of disk.")]),
        entails,
    )
    # 'at least 50 mb' vs '50 mb': P 2/4, R 1 -> F1 2/3
    assert (result.em, result.f1, result.contains) == (0.0, pytest.approx(2 / 3), 1.0)
    assert result.refusal_correct is True and result.evidence_hit == 1.0
    assert result.citation is not None and (result.citation.recall, result.citation.precision) == (1.0, 1.0)
    assert judged == [("At least 50 MB.", "You need at least 50 MB of disk.")]
    assert (result.cost.calls, result.cost.prompt_tokens, result.cost.completion_tokens) == (2, 1200, 21)
    assert result.cost.seconds == 2.5
    assert result.citations[0]["label"] == "manual.pdf p.9 l.3-4" and not result.failed


def test_a_refusal_is_not_judged_for_citations_and_hits_no_evidence() -> None:
    def entails(claim: str, passage: str) -> bool:
        raise AssertionError("a refusal has nothing to judge")

    result = score(
        item(("50 MB",), (GoldEvidence(PDF, page=9),)), "rag", answer(REFUSAL, [], refused=True), entails
    )
    assert result.citation is None and result.refused
    assert result.refusal_correct is False and result.evidence_hit == 0.0 and result.em == 0.0


def test_an_unanswerable_question_is_scored_by_refusal_only() -> None:
    result = score(item((UNANSWERABLE,)), "rag", answer(REFUSAL, [], refused=True))
    assert result.refusal_correct is True
    assert (result.em, result.f1, result.contains, result.evidence_hit) == (None, None, None, None)


def test_without_a_judge_citations_are_not_scored() -> None:
    result = score(item(("50 MB",)), "rag", answer("50 MB [S1].", [citation(1, "50 MB.", "50 MB")]))
    assert result.citation is None and result.em == 1.0


def test_a_failed_question_keeps_its_error_and_no_metrics() -> None:
    result = score(item(("50 MB",)), "rag", None, error="model server timed out")
    assert result.failed and result.error == "model server timed out"
    assert (result.answer, result.em, result.refusal_correct, result.citation) == (None, None, None, None)


@pytest.mark.parametrize(
    ("text", "recall", "precision", "count", "right"),
    [
        ("There are four: red [S1] and green [S1].", 2 / 4, 1.0, 1.0, True),  # the count, stated
        ("Red, green and blue [S1].", 3 / 4, None, 0.0, True),  # three quarters named, no list
        ("Red and green [S1].", 2 / 4, None, 0.0, False),  # neither
        ("Five colours: red, green, blue, cyan [S1].", 1.0, 1.0, 0.0, True),  # every item, count wrong
        ("3 colours:\n- red [S1]\n- mauve [S1]\n- blue [S1]", 2 / 4, 2 / 3, 0.0, False),  # one wrong
        # a 4 further down (a listed item, a line number) is not the count it states
        ("3 colours:\n- red [S1]\n- 4 [S1]\n- blue [S1]", 2 / 4, 2 / 3, 0.0, False),
    ],
)
def test_a_question_about_many_items_is_right_by_its_count_or_most_of_its_items(
    text: str, recall: float, precision: float | None, count: float, right: bool
) -> None:
    item = EvalItem(
        "q", "Which colours?", ("4", "four"), (Path("docs"),), items=("red", "green", "blue", "cyan")
    )
    result = score(item, "collect", answer(text, [citation(1, text, "red, green, blue, cyan")]))
    assert result.item_recall == recall
    assert result.item_precision == precision
    assert result.count_correct == count
    assert result.right is right
