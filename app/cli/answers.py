"""``longqa ask``, ``longqa warm`` and ``longqa batch``: answering questions over an index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from app import wiring
from app.batch import BatchRun, Question, read_questions, read_results, write_csv
from app.cli.console import (
    err,
    followed_instruction,
    literal,
    out,
    print_citations,
    print_ingest_report,
    print_json,
    print_trace,
    print_warm_report,
    print_warning,
)
from app.cli.options import (
    IndexOption,
    JsonOption,
    JudgeOption,
    ModelOption,
    NoVerifyOption,
    PreferOption,
    StallOption,
    StrategyOption,
    TimeoutOption,
    WindowOption,
)
from app.cli.progress import batch_progress, ingest_progress, warm_progress
from app.settings import Settings, load_settings
from core.errors import LongqaError


def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    index: IndexOption = None,
    strategy: StrategyOption = None,
    prefer: PreferOption = None,
    model: ModelOption = None,
    judge: JudgeOption = None,
    context_window: WindowOption = None,
    timeout: TimeoutOption = None,
    stall_timeout: StallOption = None,
    strict: Annotated[bool, typer.Option("--strict", help="Remove sentences no citation supports.")] = False,
    no_verify: NoVerifyOption = False,
    as_json: JsonOption = False,
    trace: Annotated[
        bool, typer.Option("--trace", help="Show the router's decision and every call.")
    ] = False,
) -> None:
    """Answer a question with citations of exact spans, streaming the answer."""
    settings = load_settings(
        strategy=strategy,
        prefer=prefer,
        model=model,
        judge=judge,
        context_window=context_window,
        timeout=timeout,
        stall_timeout=stall_timeout,
        strict=strict or None,
        verify=False if no_verify else None,
    )
    with wiring.open_index(settings, index or settings.index) as opened:
        answerer = wiring.answerer(settings, opened)
        stream = None if as_json else (lambda token: out.print(literal(token), end=""))
        status = (
            None if as_json or not err.is_terminal else (lambda text: err.print(literal(f"… {text}", "dim")))
        )
        answer = answerer.ask(question, on_token=stream, on_status=status)
    if as_json:
        print_json(answer.to_dict())
        return
    out.print()
    if answer.removed_sentences and (settings.strict or followed_instruction(answer)):
        # the streamed text still held them: show the answer as it stands
        heading = "Strict answer:" if settings.strict else "Answer without them:"
        out.print(Text.assemble("\n", (heading, "bold"), " ", literal(answer.text)))
    print_citations(answer)
    if trace:
        print_trace(answer)


def warm(
    index: IndexOption = None,
    model: ModelOption = None,
    context_window: WindowOption = None,
    timeout: TimeoutOption = None,
    stall_timeout: StallOption = None,
    as_json: JsonOption = False,
) -> None:
    """Read a collection ahead of time: store what the model reads of the whole collection and of
    each chain-of-agents segment, so that even the first question reads only itself. Resumable."""
    from agents.reading.warm import warm as warm_collection

    settings = load_settings(
        model=model, context_window=context_window, timeout=timeout, stall_timeout=stall_timeout
    )
    with wiring.open_index(settings, index or settings.index) as opened:
        answerer = wiring.answerer(settings, opened)
        with warm_progress(enabled=not as_json and err.is_terminal) as progress:
            report = warm_collection(answerer.corpus, answerer.backend, progress)
    if as_json:
        print_json(
            {
                "prefilled_tokens": report.prefilled,
                "stored_bytes": report.stored_bytes,
                "seconds": round(report.seconds, 1),
                "parts": [vars(p) for p in report.parts],
            }
        )
    else:
        print_warm_report(report)


def batch(
    questions: Annotated[
        Path, typer.Option("--questions", help=".jsonl (id, question) or .txt (one per line).")
    ],
    out_file: Annotated[Path, typer.Option("--out", help="answers.jsonl, appended as answers come.")],
    docs: Annotated[
        Path | None, typer.Option("--docs", help="Folder to ingest (if needed) and ask over.")
    ] = None,
    index: IndexOption = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write a CSV table.")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Questions in flight (servers only).")] = None,
    strategy: StrategyOption = None,
    prefer: PreferOption = None,
    model: ModelOption = None,
    judge: JudgeOption = None,
    context_window: WindowOption = None,
    timeout: TimeoutOption = None,
    stall_timeout: StallOption = None,
    no_verify: NoVerifyOption = False,
) -> None:
    """Answer every question of a file; resumable, one JSON line per answer as soon as it is done."""
    settings = load_settings(
        strategy=strategy,
        prefer=prefer,
        model=model,
        judge=judge,
        context_window=context_window,
        timeout=timeout,
        stall_timeout=stall_timeout,
        concurrency=concurrency,
        verify=False if no_verify else None,
    )
    # every check a user can fail comes before the long work (ingesting, loading the model)
    items = read_questions(questions)
    if docs is None and index is None:
        raise LongqaError("give --docs FOLDER (ingested if needed) or --index DIR")
    _writable_file(out_file, "--out")
    if csv_file is not None:
        _writable_file(csv_file, "--csv")
    folder = index if docs is None else _ingested(settings, docs, index)
    assert folder is not None  # --docs or --index, checked above
    answered, failed = _answer_all(settings, folder, items, out_file)
    if csv_file:
        csv_file.parent.mkdir(parents=True, exist_ok=True)
        write_csv(read_results(out_file), items, csv_file)
    err.print(
        literal(
            f"done: {answered} answered, {failed} failed → {out_file}"
            + (f" and {csv_file}" if csv_file else "")
        )
    )


def _writable_file(path: Path, option: str) -> None:
    """An output file's path must not be a folder (checked before any long work starts)."""
    if path.is_dir():
        raise LongqaError(f"{option} {path}: is a folder; give a file name")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise LongqaError(f"{option} {path}: {parent} is a file, not a folder")
            break


def _ingested(settings: Settings, docs: Path, index: Path | None) -> Path:
    """The index of ``--docs``, brought up to date first (into ``--index`` when both are given);
    what was ingested in one line, or the per-file report when nothing could be."""
    if not docs.exists():
        raise LongqaError(f"--docs {docs}: no such folder")
    folder = index or wiring.docs_index_folder(docs)
    try:
        with ingest_progress(enabled=err.is_terminal) as progress:
            report = wiring.ingest_docs(settings, [docs], folder, progress=progress)
    except wiring.NothingIngested as exc:
        print_ingest_report(exc.report)
        raise
    err.print(
        literal(
            f"index {folder}: {report.count('ingested')} ingested, {report.count('unchanged')} "
            f"unchanged, {report.count('skipped') + report.count('failed')} skipped or failed"
        )
    )
    return folder


def _answer_all(settings: Settings, folder: Path, items: list[Question], out_file: Path) -> tuple[int, int]:
    """Answer the questions ``out_file`` does not hold yet, each appended as soon as it is done (several
    at a time against a server that batches); how many were answered and how many failed."""
    with wiring.open_index(settings, folder) as opened:
        answerer = wiring.answerer(settings, opened)
        workers = settings.concurrency if answerer.backend.concurrency > 1 else 1
        runner = BatchRun(answerer.ask, out_file, concurrency=workers, warn=print_warning)
        todo = runner.pending(items)
        err.print(
            literal(
                f"{len(items) - len(todo)} of {len(items)} already answered in {out_file}; {len(todo)} to go"
                + (f", {workers} at a time" if workers > 1 else "")
            )
        )
        failures = 0
        with batch_progress(len(todo), enabled=err.is_terminal) as advance:
            for record in runner.run(items):
                failures += bool(record.get("error"))
                advance(record)
    return len(todo) - failures, failures
