"""Batch question answering: a file of questions in, a JSONL (and CSV) of answers out.

Each result is appended and fsynced as soon as it is done (``app.journal``), so an interrupted run
loses nothing; a rerun skips the ids already answered (a failed question is tried again) and
repeats nothing. Reading the answers back never deletes a valid answer: a line that is not a
result is reported and left in place; only a torn last line is cut.
A question that fails is recorded with its error and the run goes on. Against a model server,
several questions are in flight at once so that the server (vLLM) can batch them.
"""

from __future__ import annotations

import csv
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, ValidationError

from agents.answer import Answer
from app import journal
from app.records import json_reason, problem, says
from core.errors import LongqaError
from core.files import read_text


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    extra: dict[str, Any]


class _Asked(BaseModel):
    """A line of a ``.jsonl`` questions file."""

    model_config = ConfigDict(extra="allow")  # kept, and written into the question's answer record

    id: Annotated[str | StrictInt | None, says("'id' must be a string or an integer")] = None
    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


_NOT_A_QUESTION = {
    "missing": "not a JSON object with a 'question'",
    "model_type": "not a JSON object with a 'question'",
    "string_too_short": "the question is empty",
}


def read_questions(path: Path) -> list[Question]:
    """Questions from ``.jsonl`` (``id``, ``question``) or ``.txt`` (one per line)."""
    lines = read_text(path, "questions").splitlines()
    questions: list[Question] = []
    if path.suffix == ".jsonl":
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                asked = _Asked.model_validate(json.loads(line))
            except ValidationError as exc:
                raise LongqaError(f"{path}:{number}: {problem(exc, _NOT_A_QUESTION)}") from None
            except ValueError as exc:  # not JSON (a number too long for Python is not a JSONDecodeError)
                raise LongqaError(f"{path}:{number}: not JSON ({json_reason(exc)})") from None
            qid = str(asked.id or _text_id(asked.question))
            questions.append(Question(qid, asked.question, asked.model_extra or {}))
    else:
        questions = [Question(_text_id(line.strip()), line.strip(), {}) for line in lines if line.strip()]
    if not questions:
        raise LongqaError(f"{path}: no questions in this file")
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise LongqaError(f"{path}: question id {q.id!r} appears twice")
        seen.add(q.id)
    return questions


def _text_id(text: str) -> str:
    """A stable id for a question without one: it survives reordering and edits of other lines."""
    return "q-" + hashlib.sha1(" ".join(text.split()).encode()).hexdigest()[:10]


_NO_ID = "a record without an 'id'"  # or with one that is no id: null, "", a list


class _Answered(BaseModel):
    """A line of an answers file: any JSON object with an ``id`` (read back as it was written)."""

    model_config = ConfigDict(extra="allow")  # the answer, its citations, cost…: any other key

    id: Annotated[Annotated[str, Field(min_length=1)] | StrictInt, says(_NO_ID)]


_NOT_A_RESULT = {"missing": _NO_ID, "model_type": "not a JSON object"}


def _parse_result(line: bytes) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError:
        raise ValueError("not a JSON record") from None
    try:
        _Answered.model_validate(record)
    except ValidationError as exc:
        raise ValueError(problem(exc, _NOT_A_RESULT)) from None
    return record


def read_results(path: Path, warn: Callable[[str], None] | None = None) -> dict[str, dict[str, Any]]:
    """The last result per id in an answers file.

    Every valid record is kept wherever it is; a line that is not a result (edited by hand, no
    ``id``) is passed to ``warn`` and left in the file; only a torn last line (a killed run) is cut.
    """
    read = journal.read(path, _parse_result)
    if warn is not None:
        for number, reason in read.skipped:
            warn(f"{path}:{number}: {reason}; left in place and ignored")
    return {str(record["id"]): record for _, record in read.records}


def result_record(
    question: Question, answer: Answer | None, error: str | None, seconds: float
) -> dict[str, Any]:
    record: dict[str, Any] = {"id": question.id, "question": question.question, **question.extra}
    if answer is not None:
        data = answer.to_dict()
        record.update(
            {
                "answer": data["text"],
                "refused": data["refused"],
                "verdict": getattr(answer, "verdict", None),
                "strategy": data["strategy"],
                "citations": data["citations"],
                "cost": data["cost"],
                "trace": {
                    "decision": data["trace"]["decision"],
                    "reason": data["trace"]["reason"],
                    "events": data["trace"]["events"],
                },
            }
        )
    record["error"] = error
    record["seconds"] = round(seconds, 3)
    return record


class BatchRun:
    """Answers a list of questions into an append-only JSONL file."""

    def __init__(
        self,
        ask: Callable[[str], Answer],
        out: Path,
        concurrency: int = 1,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.ask = ask
        self.out = out
        self.concurrency = max(1, concurrency)
        self.warn = warn  # told once about each line of ``out`` that is not a result
        self._warned = False
        self._lock = threading.Lock()

    def pending(self, questions: list[Question]) -> list[Question]:
        warn, self._warned = (None if self._warned else self.warn), True
        done = {qid for qid, r in read_results(self.out, warn).items() if not r.get("error")}
        return [q for q in questions if q.id not in done]

    def run(
        self, questions: list[Question], on_done: Callable[[dict[str, Any]], None] | None = None
    ) -> Iterator[dict]:
        """Answer the pending questions, yielding each result as it is written."""
        todo = self.pending(questions)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        pool = ThreadPoolExecutor(max_workers=self.concurrency)
        running: dict[Future, Question] = {}
        finished = False
        try:
            for question in todo:
                running[pool.submit(self._answer, question)] = question
                if len(running) >= self.concurrency:
                    yield from self._collect(running, on_done)
            while running:
                yield from self._collect(running, on_done)
            finished = True
        finally:
            # interrupted: drop the questions not started and do not wait for those in flight
            # (what they finish is still appended; what they do not is asked again next time)
            pool.shutdown(wait=finished, cancel_futures=True)

    def _collect(
        self, running: dict[Future, Question], on_done: Callable[[dict[str, Any]], None] | None
    ) -> Iterator[dict]:
        finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
        for future in finished:
            running.pop(future)
            record = future.result()
            if on_done:
                on_done(record)
            yield record

    def _answer(self, question: Question) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            answer, error = self.ask(question.question), None
        except LongqaError as exc:
            answer, error = None, str(exc)
        except Exception as exc:  # noqa: BLE001 - one bad question must not stop the run
            answer, error = None, f"unexpected {type(exc).__name__}: {exc}"
        record = result_record(question, answer, error, time.perf_counter() - started)
        self._append(record)
        return record

    def _append(self, record: dict[str, Any]) -> None:
        with self._lock:
            journal.append(self.out, record)


CSV_COLUMNS = [
    "id",
    "question",
    "answer",
    "refused",
    "verdict",
    "strategy",
    "citations",
    "supported_citations",
    "calls",
    "prompt_tokens",
    "completion_tokens",
    "seconds",
    "error",
]


def write_csv(results: dict[str, dict[str, Any]], questions: list[Question], path: Path) -> None:
    """One row per question, in the questions file's order, from the latest result of each."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for question in questions:
            record = results.get(question.id)
            if record is None:
                continue
            citations = record.get("citations") or []
            cost = record.get("cost") or {}
            writer.writerow(
                {
                    "id": question.id,
                    "question": record.get("question", question.question),
                    "answer": record.get("answer", ""),
                    "refused": record.get("refused", ""),
                    "verdict": record.get("verdict") or "",
                    "strategy": record.get("strategy", ""),
                    "citations": "; ".join(str(c.get("label", "")) for c in citations),
                    "supported_citations": sum(1 for c in citations if c.get("supported")),
                    "calls": cost.get("calls", ""),
                    "prompt_tokens": cost.get("prompt_tokens", ""),
                    "completion_tokens": cost.get("completion_tokens", ""),
                    "seconds": record.get("seconds", ""),
                    "error": record.get("error") or "",
                }
            )
