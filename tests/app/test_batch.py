"""Batch runs: append as answered, resume without loss or repetition, errors recorded."""

from __future__ import annotations

import csv
import json
import threading
from pathlib import Path

import pytest

from agents.answer import Answer, Trace
from app.batch import BatchRun, read_questions, read_results, write_csv
from core.errors import LongqaError


def fake_answer(question: str) -> Answer:
    return Answer(
        question=question,
        text=f"Answer to {question}",
        citations=[],
        strategy="full_context",
        refused=False,
        trace=Trace(),
    )


def questions_file(tmp_path: Path, n: int = 6) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "question": f"Question {i}?", "type": "lookup"}) + "\n"
            for i in range(n)
        )
    )
    return path


def test_interrupted_run_resumes_without_loss_or_repetition(tmp_path: Path) -> None:
    questions = read_questions(questions_file(tmp_path))
    out = tmp_path / "answers.jsonl"
    asked: list[str] = []

    def interrupted(question: str) -> Answer:
        if len(asked) == 3:
            raise KeyboardInterrupt
        asked.append(question)
        return fake_answer(question)

    with pytest.raises(KeyboardInterrupt):
        list(BatchRun(interrupted, out).run(questions))
    assert [r["id"] for r in read_results(out).values()] == ["q0", "q1", "q2"]

    resumed: list[str] = []
    records = list(BatchRun(lambda q: resumed.append(q) or fake_answer(q), out).run(questions))
    assert resumed == ["Question 3?", "Question 4?", "Question 5?"]
    assert [r["id"] for r in records] == ["q3", "q4", "q5"]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in lines) == [f"q{i}" for i in range(6)]  # each exactly once
    assert lines[0]["type"] == "lookup" and lines[0]["answer"] == "Answer to Question 0?"
    assert list(BatchRun(lambda q: pytest.fail("nothing is left to ask"), out).run(questions)) == []


def test_a_torn_last_line_is_cut_and_its_question_asked_again(tmp_path: Path) -> None:
    questions = read_questions(questions_file(tmp_path, 3))
    out = tmp_path / "answers.jsonl"
    list(BatchRun(fake_answer, out).run(questions[:2]))
    with out.open("a") as handle:
        handle.write('{"id": "q2", "question": "Question 2?", "ans')  # killed mid-write
    asked: list[str] = []
    list(BatchRun(lambda q: asked.append(q) or fake_answer(q), out).run(questions))
    assert asked == ["Question 2?"]
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["q0", "q1", "q2"]


def test_failed_questions_are_recorded_and_retried_on_rerun(tmp_path: Path) -> None:
    questions = read_questions(questions_file(tmp_path, 4))
    out = tmp_path / "answers.jsonl"

    def flaky(question: str) -> Answer:
        if question == "Question 1?":
            raise LongqaError("model server at http://127.0.0.1:9/v1 is not reachable")
        if question == "Question 2?":
            raise ValueError("boom")
        return fake_answer(question)

    records = {r["id"]: r for r in BatchRun(flaky, out).run(questions)}
    assert records["q1"]["error"] == "model server at http://127.0.0.1:9/v1 is not reachable"
    assert records["q2"]["error"] == "unexpected ValueError: boom"
    assert records["q0"]["error"] is None and records["q3"]["error"] is None
    retried: list[str] = []
    list(BatchRun(lambda q: retried.append(q) or fake_answer(q), out).run(questions))
    assert sorted(retried) == ["Question 1?", "Question 2?"]
    final = read_results(out)
    assert all(final[f"q{i}"]["error"] is None for i in range(4))
    write_csv(final, questions, tmp_path / "answers.csv")
    rows = list(csv.DictReader((tmp_path / "answers.csv").open()))
    assert [r["id"] for r in rows] == ["q0", "q1", "q2", "q3"] and rows[1][
        "answer"
    ] == "Answer to Question 1?"


def test_concurrent_questions_are_in_flight_together(tmp_path: Path) -> None:
    questions = read_questions(questions_file(tmp_path, 8))
    gate = threading.Barrier(4, timeout=10)

    def together(question: str) -> Answer:
        gate.wait()  # four questions must be running at once, or this times out
        return fake_answer(question)

    records = list(BatchRun(together, tmp_path / "a.jsonl", concurrency=4).run(questions))
    assert sorted(r["id"] for r in records) == [f"q{i}" for i in range(8)]
    assert all(r["error"] is None for r in records)


def test_text_questions_get_stable_ids(tmp_path: Path) -> None:
    path = tmp_path / "q.txt"
    path.write_text("What is it?\n\nHow big is it?\n")
    first = read_questions(path)
    path.write_text("A new first question?\nWhat is it?\nHow big is it?\n")
    second = read_questions(path)
    assert [q.question for q in first] == ["What is it?", "How big is it?"]
    assert {q.id for q in first} < {q.id for q in second}


def test_bad_question_files_are_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "ok"}\n{"id": "b"}\n')
    with pytest.raises(LongqaError, match=r"bad\.jsonl:2: not a JSON object with a 'question'"):
        read_questions(bad)
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": "a", "question": "x"}\n{"id": "a", "question": "y"}\n')
    with pytest.raises(LongqaError, match="question id 'a' appears twice"):
        read_questions(dup)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{oops", "not JSON (Expecting property name enclosed in double quotes at column 2)"),
        ("[1]", "not a JSON object with a 'question'"),
        ('{"id": "b"}', "not a JSON object with a 'question'"),
        ('{"id": "b", "question": " "}', "the question is empty"),
        ('{"id": "b", "question": 5}', "'question' must be a string"),
        ('{"id": "b", "question": null}', "'question' must be a string"),
        ('{"id": false, "question": "Why?"}', "'id' must be a string or an integer"),
        ('{"id": [1], "question": "Why?"}', "'id' must be a string or an integer"),
    ],
)
def test_a_bad_question_line_is_named_exactly(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a", "question": "ok"}\n' + line + "\n")
    with pytest.raises(LongqaError) as error:
        read_questions(path)
    assert str(error.value) == f"{path}:2: {message}"


def test_question_lines_keep_their_other_keys_and_may_have_a_number_as_id(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": 7, "question": " Why? ", "type": "lookup"}\n{"id": "", "question": "How?"}\n')
    first, second = read_questions(path)
    assert (first.id, first.question, first.extra) == ("7", "Why?", {"type": "lookup"})
    assert second.id.startswith("q-") and second.extra == {}


def test_lines_of_an_answers_file_that_are_not_results_are_named_exactly(tmp_path: Path) -> None:
    out = tmp_path / "answers.jsonl"
    lines = [
        '{"id": "a", "answer": "kept"}',
        "{oops",
        "[1]",
        '{"note": 1}',
        '{"id": null}',
        '{"id": ""}',
        '{"id": 5}',
    ]
    out.write_text("\n".join(lines) + "\n")
    warnings: list[str] = []
    assert sorted(read_results(out, warnings.append)) == ["5", "a"]
    reasons = ["not a JSON record", "not a JSON object"] + ["a record without an 'id'"] * 3
    assert warnings == [
        f"{out}:{number}: {reason}; left in place and ignored" for number, reason in enumerate(reasons, 2)
    ]
    assert out.read_text() == "\n".join(lines) + "\n"


def test_question_files_that_cannot_be_read_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(LongqaError, match="is a folder, not a questions file"):
        read_questions(tmp_path)
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes(b"Caf\xe9?\n")
    with pytest.raises(
        LongqaError, match=r"latin1\.txt: the questions file is not UTF-8 text \(byte 3 is 0xe9\)"
    ):
        read_questions(latin1)
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n  \n")
    with pytest.raises(LongqaError, match=r"blank\.jsonl: no questions in this file"):
        read_questions(blank)
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes('\ufeff{"id": "a", "question": "With a byte-order mark?"}\n'.encode())
    assert [q.id for q in read_questions(bom)] == ["a"]
