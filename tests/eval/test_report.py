"""The report folder from synthetic results: report.json, report.md with its tables, two PNGs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from PIL import Image

from app.evaluation.calibration import Calibration
from app.evaluation.faithfulness import CitationJudgment, CitationScore, SentenceJudgment
from app.evaluation.metrics import Cost
from app.evaluation.report import ReportMeta, write_report
from app.evaluation.scoring import QuestionResult


def judged(recall: float, precision: float) -> CitationScore:
    sentence = SentenceJudgment(
        "It needs 50 MB.", True, (CitationJudgment("manual.pdf p.9 l.3", None, None, True),)
    )
    return CitationScore(recall, precision, (sentence,), 1)


def answered(
    qid: str, strategy: str, kind: str, em: float, recall: float, precision: float, tokens: int
) -> QuestionResult:
    return QuestionResult(
        qid,
        strategy,
        f"question {qid}?",
        kind,
        ("50 MB",),
        answer="It needs 50 MB [S1].",
        refused=False,
        citations=({"marker": 1, "label": "manual.pdf p.9 l.3", "quote": "50 MB", "support": 0.9},),
        cost=Cost(2, tokens, 20, 1.25),
        em=em,
        f1=em,
        contains=1.0,
        refusal_correct=True,
        evidence_hit=1.0,
        citation=judged(recall, precision),
    )


RESULTS = [
    answered("e1", "full_context", "lookup", 1.0, 1.0, 1.0, 18000),
    answered("e2", "full_context", "code", 0.0, 0.5, 0.5, 18000),
    answered("e1", "retrieve_reason", "lookup", 1.0, 1.0, 0.5, 3000),
    QuestionResult(
        "e2", "retrieve_reason", "question e2?", "code", ("50 MB",), error="model server timed out"
    ),
    QuestionResult(
        "e3",
        "retrieve_reason",
        "question e3?",
        "unanswerable",
        ("UNANSWERABLE",),
        answer="The documents do not say.",
        refused=True,
        refusal_correct=True,
        cost=Cost(2, 2500, 8, 0.5),
    ),
]
CALIBRATION = Calibration("test:judge", "judge_calibration.jsonl", 29, 0.862, 0.85, 0.9, 0, 0.5, ())


def test_report_folder_has_every_file(tmp_path: Path) -> None:
    meta = ReportMeta("examples/eval.jsonl", "llamacpp:default", "test:judge", CALIBRATION, date="2025-01-02")
    files = write_report(tmp_path / "report", RESULTS, meta)
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [
        "accuracy_vs_tokens.png",
        "citation_quality.png",
        "report.json",
        "report.md",
    ]
    for png in files.plots:
        with Image.open(png) as image:
            image.verify()
        with Image.open(png) as image:
            assert image.format == "PNG" and image.width >= 600 and image.height >= 400
            assert len(image.convert("RGB").getcolors(1 << 16) or []) > 20  # something was drawn


def test_report_json_keeps_every_question_with_its_judgments(tmp_path: Path) -> None:
    meta = ReportMeta("data.jsonl", "model", "test:judge", CALIBRATION)
    data = json.loads(write_report(tmp_path, RESULTS, meta).json.read_text())
    assert data["meta"]["judge"] == "test:judge" and data["meta"]["calibration"]["accuracy"] == 0.862
    assert len(data["questions"]) == 5
    first = data["questions"][0]
    assert (
        first["answer"] == "It needs 50 MB [S1]." and first["citations"][0]["label"] == "manual.pdf p.9 l.3"
    )
    assert first["metrics"]["citation_recall"] == 1.0 and first["metrics"]["em"] == 1.0
    assert first["judgments"]["sentences"][0]["citations"][0]["relevant"] is True
    assert first["cost"] == {"calls": 2, "prompt_tokens": 18000, "completion_tokens": 20, "seconds": 1.25}
    failed = data["questions"][3]
    assert failed["error"] == "model server timed out" and failed["judgments"] is None
    rag = data["summary"]["by_strategy"][1]
    assert rag["strategy"] == "retrieve_reason" and rag["errors"] == 1 and rag["refused"] == 1


def test_report_md_states_the_setup_and_tables_the_numbers(tmp_path: Path) -> None:
    meta = ReportMeta("examples/eval.jsonl", "llamacpp:default", "test:judge", CALIBRATION, date="2025-01-02")
    text = write_report(tmp_path, RESULTS, meta).markdown.read_text()
    assert "- Dataset: examples/eval.jsonl (3 questions)" in text
    assert "- Model: llamacpp:default" in text
    assert "- Judge: test:judge; calibration: accuracy 0.86 on 29 hand-labelled pairs" in text
    assert "- Date: 2025-01-02" in text
    assert "Refused answers left out of the citation metrics: full_context 0, retrieve_reason 1." in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0].startswith(
        "| strategy | right | EM | F1 | gold in ans. | count acc. | item recall | item precision "
        "| refusal acc. | cit. recall | cit. precision |"
    )
    # full_context: EM 0.5 over 2, recall 0.75, precision 0.75, F1 0.75, 2 calls, 18000 prompt tokens
    assert rows[1] == (
        "| full_context | 1.00 (2) | 0.50 (2) | 0.50 (2) | 1.00 (2) | – (0) | – (0) | – (0) | 1.00 (2) "
        "| 0.75 (2) | 0.75 (2) | 0.75 | 1.00 (2) | 2.0 (2) | 18000 (2) | 20 (2) | 1.25 (2) | 2 | 0 |"
    )
    # retrieve_reason: one answerable answered (EM 1), one refusal (right), one error; P 0.5, R 1 -> F1 0.67
    assert rows[2] == (
        "| retrieve_reason | 1.00 (2) | 1.00 (1) | 1.00 (1) | 1.00 (1) | – (0) | – (0) | – (0) | 1.00 (2) "
        "| 1.00 (1) | 0.50 (1) | 0.67 | 1.00 (1) | 2.0 (2) | 2750 (2) | 14 (2) | 0.88 (2) | 3 | 1 |"
    )
    assert "| retrieve_reason | unanswerable | 1.00 (1) | – (0) |" in text
    assert "## The router" not in text  # no auto in this run
    assert "![accuracy vs tokens](accuracy_vs_tokens.png)" in text
    assert "- retrieve_reason / e2: model server timed out" in text


def test_a_report_without_any_answer_still_has_every_file(tmp_path: Path) -> None:
    failed = [QuestionResult("e1", "rag", "q?", None, ("x",), error="boom")]
    files = write_report(tmp_path, failed, ReportMeta("d", "m", "j"))
    assert all(p.stat().st_size > 1000 for p in files.plots)
    assert "calibration: not calibrated" in files.markdown.read_text()


def test_report_md_sets_the_router_against_each_strategy_alone(tmp_path: Path) -> None:
    def routed(qid: str, chosen: str, right: bool) -> QuestionResult:
        return replace(
            answered(qid, "auto", "lookup", 1.0, 1.0, 1.0, 3000),
            contains=float(right),
            trace={"strategy": chosen, "decision": chosen, "reason": "r"},
        )

    results = [
        *RESULTS,
        answered("e3", "full_context", "unanswerable", 0.0, 1.0, 1.0, 18000),  # answered: contains 1
        routed("e1", "retrieve_reason", True),
        routed("e2", "retrieve_reason", False),
        routed("e3", "full_context", False),
    ]
    text = write_report(tmp_path, results, ReportMeta("d", "m", "j")).markdown.read_text()
    assert (
        "Over the 3 questions every strategy was asked, auto was right on 1; the best strategy alone, "
        "full_context, on 3; some strategy alone on 3" in text
    )
    assert "| auto chose | questions | auto right | full_context right | retrieve_reason right |" in text
    assert "| retrieve_reason | 2 | 1 | 2 | 1 |" in text  # e2 failed under retrieve_reason alone
    assert "| full_context | 1 | 0 | 1 | 1 |" in text
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["summary"]["router"]["right"] == {"auto": 1, "full_context": 3, "retrieve_reason": 2}
