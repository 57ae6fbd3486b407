"""Resuming a batch (and an evaluation) from an answers file someone or something has damaged:
every valid record survives, only the missing ids are asked again, a line that is not a record is
reported (file:line) and left where it is, and only a torn last line is cut."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from agents.answer import Answer, Trace
from app.batch import BatchRun, Question, read_results
from app.evaluation.runner import _append as append_result
from app.evaluation.runner import read_results as read_eval_results
from app.evaluation.scoring import QuestionResult

QUESTIONS = [Question(f"q{i}", f"Question {i}?", {}) for i in range(5)]


def fake_answer(question: str) -> Answer:
    return Answer(question, f"Answer to {question}", [], "full_context", False, Trace())


def answered(tmp_path: Path, n: int = 4) -> Path:
    """An answers file holding the first ``n`` questions' answers."""
    out = tmp_path / "answers.jsonl"
    list(BatchRun(fake_answer, out).run(QUESTIONS[:n]))
    return out


def lines_of(out: Path) -> list[bytes]:
    return out.read_bytes().split(b"\n")


def torn_last_line(out: Path) -> None:
    with out.open("ab") as handle:
        handle.write(b'{"id": "q4", "question": "Question 4?", "ans')  # killed mid-write


def blank_lines(out: Path) -> None:
    lines = lines_of(out)
    out.write_bytes(b"\n".join([lines[0], b"", b"   ", lines[1], b"", *lines[2:]]))


def edited_middle_line(out: Path) -> None:
    lines = lines_of(out)
    lines[1] = lines[1][:20] + b" <- I fixed this answer by hand"  # q1's record, no longer JSON
    out.write_bytes(b"\n".join(lines))


def foreign_line(out: Path) -> None:
    lines = lines_of(out)
    out.write_bytes(b"\n".join([lines[0], b'["from", "another", "tool"]', *lines[1:]]))


def line_without_id(out: Path) -> None:
    lines = lines_of(out)
    record = json.loads(lines[2])
    del record["id"]  # q2's record, without its id
    lines[2] = json.dumps(record).encode()
    out.write_bytes(b"\n".join(lines))


def last_line_without_newline(out: Path) -> None:
    out.write_bytes(out.read_bytes().rstrip(b"\n"))


CASES: dict[str, tuple[Callable[[Path], None], set[str], list[int]]] = {
    # damage: (what it does, the ids asked again, the lines reported)
    "torn last line": (torn_last_line, {"q4"}, []),
    "blank lines": (blank_lines, {"q4"}, []),
    "hand-edited middle line": (edited_middle_line, {"q1", "q4"}, [2]),
    "foreign line": (foreign_line, {"q4"}, [2]),
    "line without id": (line_without_id, {"q2", "q4"}, [3]),
    "last line without newline": (last_line_without_newline, {"q4"}, []),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_valid_record_survives_and_only_missing_ids_are_asked(tmp_path: Path, case: str) -> None:
    damage, asked_again, reported = CASES[case]
    out = answered(tmp_path)
    damage(out)
    before = out.read_bytes()
    kept_lines = [line for line in before.split(b"\n") if line.strip()]
    if case == "torn last line":
        kept_lines = kept_lines[:-1]
    warnings: list[str] = []
    asked: list[str] = []
    run = BatchRun(lambda q: asked.append(q) or fake_answer(q), out, warn=warnings.append)
    records = list(run.run(QUESTIONS))

    assert sorted(asked) == sorted(f"Question {qid[1:]}?" for qid in asked_again)
    assert sorted(r["id"] for r in records) == sorted(asked_again)
    # each damaged line is reported once, naming the file and line, and nothing else is
    assert [w.split(": ")[0] for w in warnings] == [f"{out}:{n}" for n in reported]
    after = out.read_bytes()
    assert after.endswith(b"\n")
    after_lines = [line for line in after.split(b"\n") if line.strip()]
    assert after_lines[: len(kept_lines)] == kept_lines  # nothing before was cut or rewritten
    assert len(after_lines) == len(kept_lines) + len(asked_again)
    results = read_results(out)
    assert sorted(results) == [f"q{i}" for i in range(5)]
    assert all(results[q.id]["answer"] == f"Answer to {q.question}" for q in QUESTIONS)
    # and nothing is left to ask
    assert list(BatchRun(lambda q: pytest.fail("asked again"), out).run(QUESTIONS)) == []


def test_a_line_without_id_does_not_crash_a_csv_or_a_rerun(tmp_path: Path) -> None:
    out = answered(tmp_path, n=5)
    with out.open("a") as handle:
        handle.write('{"question": "Question 9?", "answer": "from an older tool"}\n')
    warnings: list[str] = []
    assert BatchRun(fake_answer, out, warn=warnings.append).pending(QUESTIONS) == []
    assert len(warnings) == 1 and "without an 'id'" in warnings[0] and f"{out}:6" in warnings[0]


def test_reading_twice_reports_a_bad_line_once(tmp_path: Path) -> None:
    out = answered(tmp_path)
    foreign_line(out)
    warnings: list[str] = []
    run = BatchRun(fake_answer, out, warn=warnings.append)
    run.pending(QUESTIONS)
    list(run.run(QUESTIONS))
    assert len(warnings) == 1


def result(qid: str, strategy: str = "full_context") -> QuestionResult:
    return QuestionResult(id=qid, strategy=strategy, question=f"{qid}?", type=None, golds=("x",), answer="x")


def test_evaluation_results_keep_every_valid_record(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "results.jsonl"
    for qid in ("a", "b", "c"):
        append_result(path, result(qid))
    lines = lines_of(path)
    path.write_bytes(b"\n".join([lines[0], b"", b"edited by hand", lines[1], b'{"id": "x"}', lines[2]]))
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # and the last newline lost
    with caplog.at_level("WARNING"):
        results = read_eval_results(path)
    assert sorted(results) == [("full_context", "a"), ("full_context", "b"), ("full_context", "c")]
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 2 and warned[0].startswith(f"{path}:3: ") and warned[1].startswith(f"{path}:5: ")
    assert b"edited by hand" in path.read_bytes()  # left in place
    append_result(path, result("d"))
    assert sorted(read_eval_results(path)) == sorted(("full_context", q) for q in "abcd")

    with path.open("ab") as handle:
        handle.write(b'{"id": "e", "strat')  # killed mid-write
    assert len(read_eval_results(path)) == 4
    assert path.read_bytes().endswith(b"\n") and b'{"id": "e"' not in path.read_bytes()


def test_an_answer_naming_an_undecodable_file_is_appended_and_read_back(tmp_path: Path) -> None:
    out = tmp_path / "answers.jsonl"
    odd = Answer("Q?", "See caf\udce9.md.", [], "full_context", False, Trace())  # a non-UTF-8 file name
    records = list(BatchRun(lambda q: odd, out).run(QUESTIONS[:1]))
    assert records[0]["error"] is None
    out.read_bytes().decode("utf-8")  # the file stays UTF-8
    assert read_results(out)["q0"]["answer"] == "See caf\udce9.md."
