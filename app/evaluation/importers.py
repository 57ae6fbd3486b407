"""Importers: public long-context QA sets → our dataset JSONL (DESIGN.md §8) and a docs folder.

Each record's long context is written to ``OUT/docs/<id>.txt`` and the record's ``docs`` points at
it; the original fields the metrics do not read (task, length, language, …) are kept under
``source``. Records without a question (summarisation, code completion) or without answers are
skipped and counted in the log. Where each schema is documented:

- ``longbench``: THUDM/LongBench, ``LongBench/README.md`` ("Data Format"): JSONL with ``input``
  (the question), ``context``, ``answers`` (a list), ``length``, ``dataset``, ``language``,
  ``all_classes``, ``_id``. LongBench-E files have the same format.
- ``longbench-cite``: THUDM/LongCite, ``LongBench-Cite/pred_sft.py`` and ``eval_correct.py``
  (the README points there; they read ``LongBench-Cite.json``): a JSON list of ``idx``,
  ``dataset``, ``query``, ``context``, ``answer`` (a list of reference answers),
  ``few_shot_scores``.
- ``l-citeeval``: ZetangForward/L-CITEEVAL, ``readme.md`` ("All data in L-CiteEval follows the
  format below"): ``id``, ``question`` (absent for summarisation), ``answer`` (a string, number
  or list), ``docs`` (the context cut into chunks: strings, or ``{title, text}`` objects as
  ``script/inference_1shot_vllm.py`` reads them), ``length``, ``hardness``. One JSON list per
  task file (``<task>.json``); the task is the file's name, and ids are prefixed with it since
  each task numbers its records from 1.

Both JSON lists and JSON lines are read for every format.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import LongqaError

log = logging.getLogger(__name__)

DATASET_NAME = "dataset.jsonl"


@dataclass(frozen=True)
class Imported:
    """One source record, mapped: our fields, the context text and the source's other fields."""

    id: str
    question: str
    answers: list[str]
    context: str
    type: str | None
    source: dict[str, Any] = field(default_factory=dict)


class _Skip(Exception):
    """A record that is not a question with answers; the message says why."""


def _answers(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    answers = [str(v).strip() for v in values if v is not None and str(v).strip()]
    if not answers:
        raise _Skip("no answers")
    return answers


def _question(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Skip("no question")
    return " ".join(value.split())


def _longbench(record: dict[str, Any], source: Path) -> Imported:
    return Imported(
        id=str(record["_id"]),
        question=_question(record.get("input")),
        answers=_answers(record.get("answers")),
        context=str(record.get("context") or ""),
        type=record.get("dataset"),
        source={"format": "longbench", **_other(record, {"_id", "input", "answers", "context"})},
    )


def _longbench_cite(record: dict[str, Any], source: Path) -> Imported:
    return Imported(
        id=str(record["idx"]),
        question=_question(record.get("query")),
        answers=_answers(record.get("answer")),
        context=str(record.get("context") or ""),
        type=record.get("dataset"),
        source={
            "format": "longbench-cite",
            **_other(record, {"idx", "query", "answer", "context", "few_shot_scores"}),
        },
    )


def _chunk_text(chunk: Any) -> str:
    if isinstance(chunk, dict):
        title, text = str(chunk.get("title") or ""), str(chunk.get("text") or "").strip("\n")
        if title and text.startswith(title + "\n"):
            text = text[len(title) + 1 :]
        return f"{title}\n{text}" if title else text
    return str(chunk)


def _l_citeeval(record: dict[str, Any], source: Path) -> Imported:
    docs = record.get("docs") or []
    if not isinstance(docs, list):
        raise LongqaError(f"{source}: record {record.get('id')!r}: 'docs' is not a list of chunks")
    return Imported(
        id=f"{source.stem}-{record['id']}",
        question=_question(record.get("question")),
        answers=_answers(record.get("answer")),
        context="\n\n".join(_chunk_text(c).strip() for c in docs),
        type=source.stem,
        source={
            "format": "l-citeeval",
            "task": source.stem,
            **_other(record, {"question", "answer", "docs"}),
        },
    )


def _other(record: dict[str, Any], used: set[str]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in used}


FORMATS: dict[str, Callable[[dict[str, Any], Path], Imported]] = {
    "longbench": _longbench,
    "longbench-cite": _longbench_cite,
    "l-citeeval": _l_citeeval,
}


def read_records(source: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(position, record) for a JSON list or a JSON-lines file; positions are lines for JSONL."""
    if not source.is_file():
        raise LongqaError(f"{source}: no such file")
    text = source.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LongqaError(f"{source}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
        if not isinstance(data, list):
            raise LongqaError(f"{source}: expected a JSON list of records")
        yield from enumerate(data, 1)
        return
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise LongqaError(f"{source}:{number}: not valid JSON ({exc.msg})") from exc


def _file_name(qid: str, used: set[str]) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", qid).strip("._")[:80] or "record"
    if name.lower() in used:
        name = f"{name}-{hashlib.sha1(qid.encode()).hexdigest()[:8]}"
    used.add(name.lower())
    return f"{name}.txt"


def convert(format: str, source: Path, out_dir: Path) -> Path:
    """Convert ``source`` (in ``format``) into ``out_dir/dataset.jsonl`` and ``out_dir/docs/``."""
    if format not in FORMATS:
        raise LongqaError(f"unknown dataset format {format!r}: use {', '.join(FORMATS)}")
    mapper = FORMATS[format]
    docs = out_dir / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    skipped: Counter[str] = Counter()
    ids: set[str] = set()
    names: set[str] = set()
    for position, record in read_records(source):
        try:
            if not isinstance(record, dict):
                raise LongqaError(f"{source}:{position}: a record must be a JSON object")
            item = mapper(record, source)
        except _Skip as reason:
            skipped[str(reason)] += 1
            continue
        except KeyError as exc:
            raise LongqaError(f"{source}:{position}: missing {exc.args[0]!r} for format {format}") from exc
        if item.id in ids:
            raise LongqaError(f"{source}:{position}: id {item.id!r} appears twice")
        ids.add(item.id)
        name = _file_name(item.id, names)
        (docs / name).write_text(item.context, encoding="utf-8")
        record_out: dict[str, Any] = {
            "id": item.id,
            "question": item.question,
            "answers": item.answers,
            "docs": f"docs/{name}",
            **({"type": item.type} if item.type else {}),
            "source": item.source,
        }
        lines.append(json.dumps(record_out, ensure_ascii=False))
    if not lines:
        reasons = ", ".join(f"{n} with {why}" for why, n in skipped.items()) or "it is empty"
        raise LongqaError(f"{source}: no question with answers to import ({reasons})")
    for why, n in skipped.items():
        log.warning("%s: skipped %d record(s) with %s", source, n, why)
    dataset = out_dir / DATASET_NAME
    dataset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dataset
