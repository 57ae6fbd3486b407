"""Append-only JSONL journals that runs resume from (batch answers, evaluation results).

Each record is one line, appended, flushed and fsynced as soon as it is done, so a killed run
loses at most the line it was writing. Reading back keeps every valid record, wherever it is in
the file; a blank line is passed over; a line that is not a record (edited by hand, from another
tool) is reported and left in the file, never deleted. Only a torn *last* line (no newline at the
end and not valid JSON: a write cut short by a kill) is cut off, so that the next append starts
on a line of its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from core.errors import LongqaError

T = TypeVar("T")


@dataclass
class Journal(Generic[T]):
    """The records read back from a journal, and the lines that were passed over (with why)."""

    records: list[tuple[int, T]] = field(default_factory=list)  # (line number, record)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    torn: bool = False  # a torn last line was cut off


def append(path: Path, record: dict[str, Any] | bytes) -> None:
    """Append one record as a line, durably (flushed and fsynced)."""
    line = record if isinstance(record, bytes) else _dumps(record)
    with path.open("ab") as handle:
        handle.write(line.rstrip(b"\n") + b"\n")
        handle.flush()
        os.fsync(handle.fileno())


def read(path: Path, parse: Callable[[bytes], T]) -> Journal[T]:
    """Every record of ``path`` that ``parse`` accepts (it raises ValueError for one it does not).

    A torn last line is cut off the file; a complete last line without its newline gets one.
    """
    journal: Journal[T] = Journal()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return journal
    except IsADirectoryError:
        raise LongqaError(f"{path}: is a folder, not a results file") from None
    except OSError as exc:
        raise LongqaError(f"{path}: cannot read it: {exc.strerror or exc}") from exc
    lines = data.split(b"\n")
    last = len(lines) - 1  # after the final newline: b"" when the file ends with one
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            journal.records.append((number, parse(line)))
        except ValueError as exc:
            if number - 1 == last and not _is_json(line):
                journal.torn = True
                _cut(path, len(data) - len(line))
                continue
            journal.skipped.append((number, _reason(exc)))
    if not journal.torn and lines[last].strip():
        with path.open("ab") as handle:  # a complete record without its newline: end the line
            handle.write(b"\n")
    return journal


def _dumps(record: dict[str, Any]) -> bytes:
    try:
        return json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (an undecodable file name): escape it, stay UTF-8
        return json.dumps(record).encode("ascii")


def _is_json(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _cut(path: Path, size: int) -> None:
    with path.open("r+b") as handle:
        handle.truncate(size)
        handle.flush()
        os.fsync(handle.fileno())


def _reason(exc: ValueError) -> str:
    text = str(exc).splitlines()
    return text[0] if text else type(exc).__name__
