"""Progress in a terminal while long work runs: ingesting, batch answering, evaluating, warming.

On a terminal each is a rich progress bar with an ETA on stderr; without one (nohup, CI) each
prints one line per finished step instead, so a long run shows it is alive. Details that come
from documents or models go through ``printable``, never read as markup (see app/cli/console.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from app.cli.console import err, literal, printable

_INGEST_STAGES = {"scan": "files", "read": "reading", "ocr": "OCR pages", "embed": "embedding"}


@contextmanager
def ingest_progress(enabled: bool, lines: bool = True) -> Iterator:
    """A progress callback drawing bars for files read, scanned pages read by OCR (a file's own
    count) and chunks embedded. Without a terminal (``lines``), a line as each file's OCR starts
    and at most one every ten seconds, so a long ingest shows it is alive; None without either."""
    if not enabled:
        yield _ingest_lines() if lines else None
        return
    columns = (
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[detail]}", markup=False),
    )
    with Progress(*columns, console=err, transient=False) as bars:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int, detail: str) -> None:
            label = _INGEST_STAGES.get(stage, stage)
            if stage not in tasks:
                tasks[stage] = bars.add_task(label, total=max(total, 1), detail="")
            shown = printable(detail if len(detail) <= 40 else "…" + detail[-39:])
            bars.update(tasks[stage], completed=done, total=max(total, done, 1), detail=shown)

        yield update


def _ingest_lines(every: float = 10.0) -> Callable[[str, int, int, str], None]:
    last = time.perf_counter()

    def line(stage: str, done: int, total: int, detail: str) -> None:
        nonlocal last
        now = time.perf_counter()
        if (stage == "ocr" and done == 0) or now - last >= every:
            last = now
            err.print(literal(f"{_INGEST_STAGES.get(stage, stage)} {done}/{total} {detail}".rstrip()))

    return line


def finished_line(record: dict[str, Any]) -> str:
    """One batch result as a line: id, strategy, seconds, ok / refused / error."""
    if record.get("error"):
        status = f"error: {record['error']}"
    else:
        status = "refused" if record.get("refused") else "ok"
    seconds = record.get("seconds")
    took = f"{seconds:.1f} s" if isinstance(seconds, int | float) else "-"
    return f"{record.get('id')} · {record.get('strategy') or '-'} · {took} · {status}"


@contextmanager
def batch_progress(total: int, enabled: bool) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A progress bar with ETA for a batch run; the callback takes each finished record.

    Without a terminal (nohup, CI), one line per finished question instead.
    """
    if not enabled:
        yield lambda record: err.print(literal(finished_line(record)))
        return
    columns = (
        TextColumn("answering"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[last]}", markup=False),
    )
    with Progress(*columns, console=err) as bars:
        task = bars.add_task("answering", total=max(total, 1), last="")

        def advance(record: dict[str, Any]) -> None:
            status = "error" if record.get("error") else "ok"
            bars.update(task, advance=1, last=printable(f"{record['id']}: {status}"))

        yield advance


@contextmanager
def eval_progress(enabled: bool) -> Iterator[Callable[[str, int, int, str], None]]:
    """A progress bar over (question, strategy) pairs; calibration and ingest shown as its detail.

    Without a terminal (nohup, CI), one line per finished pair and per stage instead, so a long
    run shows it is alive.
    """
    if not enabled:
        yield _eval_lines()
        return
    columns = (
        TextColumn("evaluating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[detail]}", markup=False),
    )
    with Progress(*columns, console=err) as bars:
        task = bars.add_task("evaluating", total=1, detail="")

        def update(stage: str, done: int, total: int, detail: str) -> None:
            label = {"calibrate": "", "ingest": "indexing ", "warm": "reading ahead "}.get(stage, "")
            shown = printable(f"{label}{detail}"[:60])
            bars.update(task, completed=done, total=max(total, 1), detail=shown)

        yield update


def _eval_lines() -> Callable[[str, int, int, str], None]:
    started = time.perf_counter()

    def line(stage: str, done: int, total: int, detail: str) -> None:
        if stage == "done":
            err.print(literal(f"[{done}/{total}] {detail}"))
        elif stage in ("calibrate", "ingest", "warm"):
            what = {"ingest": "indexing ", "warm": "reading ahead "}.get(stage, "")
            err.print(literal(f"{what}{detail} ({time.perf_counter() - started:.0f} s in)"))

    return line


@contextmanager
def warm_progress(enabled: bool) -> Iterator[Callable[[int, int, str], None] | None]:
    """A progress bar over the prefixes ``longqa warm`` reads (one line each off a terminal)."""
    if not enabled:
        yield (
            lambda done, total, what: err.print(literal(f"[{done}/{total}] {what}")) if done < total else None
        )
        return
    columns = (
        TextColumn("warming"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[detail]}", markup=False),
    )
    with Progress(*columns, console=err) as bars:
        task = bars.add_task("warming", total=1, detail="")

        def update(done: int, total: int, what: str) -> None:
            bars.update(task, completed=done, total=max(total, 1), detail=printable(what)[:60])

        yield update
