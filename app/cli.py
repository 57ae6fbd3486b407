"""The ``longqa`` command line: thin commands over app/components.

Errors a user can cause or meet print one line (``error: ...``) and exit 2; a usage error (an
unknown option, a missing argument, a value of the wrong type) prints the usage text and exits 2;
Ctrl-C prints "interrupted" and exits 130. Tracebacks only go to the log with ``--verbose``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.text import Text
from typer.core import TyperGroup

from agents.strategies.registry import PREFERENCE_CHOICES, STRATEGY_CHOICES
from app import components
from app.console import (
    batch_progress,
    err,
    eval_progress,
    followed_instruction,
    ingest_progress,
    literal,
    out,
    print_citations,
    print_error,
    print_eval_summary,
    print_hits,
    print_ingest_report,
    print_json,
    print_trace,
    print_warm_report,
    print_warning,
    warm_progress,
)
from app.settings import load_settings
from ingest.errors import LongqaError
from ingest.files import read_text

_USAGE_ERRORS: tuple[type[Exception], ...] = (click.ClickException,)
try:  # typer >= 0.2x bundles its own click: its usage errors are not click's classes
    from typer._click import exceptions as _typer_click

    _USAGE_ERRORS += (_typer_click.ClickException,)
except ImportError:  # pragma: no cover - a typer that uses click itself
    pass
_EXITS: tuple[type[BaseException], ...] = (click.exceptions.Exit, typer.Exit)


class _Interrupted(Exception):
    """Ctrl-C inside a command (typer would turn it into a silent exit 130)."""


_INTERRUPTS: tuple[type[BaseException], ...] = (
    _Interrupted,
    KeyboardInterrupt,
    click.exceptions.Abort,
    typer.Abort,
)


class _Group(TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _Interrupted from None


app = typer.Typer(
    name="longqa",
    cls=_Group,
    help="Ask questions of long documents and codebases; answers cite the exact spans they rest on.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

IndexOption = Annotated[Path | None, typer.Option("--index", help="Index folder (default: settings' index).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable JSON report.")]


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details to stderr.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Folders and files to ingest.")],
    index: IndexOption = None,
    chunk_tokens: Annotated[int | None, typer.Option(help="Chunk size in cl100k tokens.")] = None,
    chunk_overlap: Annotated[int | None, typer.Option(help="Overlap between chunks, in tokens.")] = None,
    max_file_mb: Annotated[float | None, typer.Option(help="Skip files larger than this.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Read PDFs, code and text into an index; unchanged files are not read again."""
    settings = load_settings(chunk_tokens=chunk_tokens, chunk_overlap=chunk_overlap, max_file_mb=max_file_mb)
    folder = index or settings.index
    with ingest_progress(enabled=not as_json and err.is_terminal) as progress:
        report = components.ingest_paths(settings, paths, folder, progress=progress)
    if as_json:
        print_json(report.to_dict())
    else:
        print_ingest_report(report)
    if not report.usable:
        raise typer.Exit(1)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    index: IndexOption = None,
    k: Annotated[
        int | None, typer.Option("-k", min=1, help="How many results (default: search_k, 5).")
    ] = None,
    mode: Annotated[str, typer.Option(help="hybrid, dense or lexical.")] = "hybrid",
    as_json: JsonOption = False,
) -> None:
    """Find the spans that best match a query (dense + BM25, fused by reciprocal rank)."""
    if mode not in ("hybrid", "dense", "lexical"):
        raise LongqaError(f"unknown search mode {mode!r}: use hybrid, dense or lexical")
    settings = load_settings(search_k=k)
    with components.open_index(settings, index or settings.index) as opened:
        hits = components.searcher(settings, opened).search(query, k=settings.search_k, mode=mode)
    if as_json:
        print_json(
            [
                {
                    "rank": rank,
                    "label": h.chunk.label,
                    "score": h.score,
                    "dense_rank": h.dense_rank,
                    "lexical_rank": h.lexical_rank,
                    "section": h.chunk.section,
                    "chunk_id": h.chunk.chunk_id,
                    "span": h.chunk.span.__dict__,
                    "text": h.chunk.text,
                }
                for rank, h in enumerate(hits, 1)
            ]
        )
    else:
        print_hits(query, hits)


ModelOption = Annotated[str | None, typer.Option("--model", help="Backend spec (default llamacpp:default).")]
JudgeOption = Annotated[
    str | None, typer.Option("--judge", help="Backend that judges support (default: --model).")
]
StrategyOption = Annotated[str | None, typer.Option("--strategy", help=f"{STRATEGY_CHOICES}.")]
PreferOption = Annotated[str | None, typer.Option("--prefer", help=f"{PREFERENCE_CHOICES}.")]
WindowOption = Annotated[int | None, typer.Option("--context-window", help="Override the model's window.")]


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    index: IndexOption = None,
    strategy: StrategyOption = None,
    prefer: PreferOption = None,
    model: ModelOption = None,
    judge: JudgeOption = None,
    context_window: WindowOption = None,
    strict: Annotated[bool, typer.Option("--strict", help="Remove sentences no citation supports.")] = False,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Do not judge citations.")] = False,
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
        strict=strict or None,
        verify=False if no_verify else None,
    )
    with components.open_index(settings, index or settings.index) as opened:
        answerer = components.answerer(settings, opened)
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


@app.command()
def warm(
    index: IndexOption = None,
    model: ModelOption = None,
    context_window: WindowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Read a collection ahead of time: store what the model reads of the whole collection and of
    each chain-of-agents segment, so that even the first question reads only itself. Resumable."""
    from agents.warm import warm as warm_collection

    settings = load_settings(model=model, context_window=context_window)
    with components.open_index(settings, index or settings.index) as opened:
        answerer = components.answerer(settings, opened)
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


@app.command()
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
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Do not judge citations.")] = False,
) -> None:
    """Answer every question of a file; resumable, one JSON line per answer as soon as it is done."""
    from app.batch import BatchRun, read_questions, read_results, write_csv

    settings = load_settings(
        strategy=strategy,
        prefer=prefer,
        model=model,
        judge=judge,
        context_window=context_window,
        concurrency=concurrency,
        verify=False if no_verify else None,
    )
    items = read_questions(questions)
    if docs is None and index is None:
        raise LongqaError("give --docs FOLDER (ingested if needed) or --index DIR")
    _writable_file(out_file, "--out")
    if csv_file is not None:
        _writable_file(csv_file, "--csv")
    if docs is not None and not docs.exists():
        raise LongqaError(f"--docs {docs}: no such folder")
    folder = index or components.docs_index_folder(docs)  # type: ignore[arg-type]
    if docs is not None:
        with ingest_progress(enabled=err.is_terminal) as progress:
            report = components.ingest_paths(settings, [docs], folder, progress=progress)
        if not report.usable:
            print_ingest_report(report)
            raise LongqaError(f"nothing in {docs} could be ingested")
        err.print(
            literal(
                f"index {folder}: {report.count('ingested')} ingested, {report.count('unchanged')} "
                f"unchanged, {report.count('skipped') + report.count('failed')} skipped or failed"
            )
        )
    with components.open_index(settings, folder) as opened:
        answerer = components.answerer(settings, opened)
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
    if csv_file:
        csv_file.parent.mkdir(parents=True, exist_ok=True)
        write_csv(read_results(out_file), items, csv_file)
    err.print(
        literal(
            f"done: {len(todo) - failures} answered, {failures} failed → {out_file}"
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


@app.command(name="eval")
def evaluate(
    dataset: Annotated[
        Path | None, typer.Argument(help="Dataset JSONL (id, question, answers, docs, ...).")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Report folder (results are cached there).")] = Path(
        ".longqa/eval"
    ),
    strategies: Annotated[
        str | None, typer.Option(help=f"Comma-separated, from {STRATEGY_CHOICES}; all by default.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N questions.")] = None,
    data_format: Annotated[
        str | None, typer.Option("--format", help="Import first: longbench, longbench-cite, l-citeeval.")
    ] = None,
    model: ModelOption = None,
    judge: JudgeOption = None,
    prefer: PreferOption = None,
    context_window: WindowOption = None,
    calibrate_judge: Annotated[
        bool,
        typer.Option(
            "--calibrate-judge", help="Only measure the judge's accuracy on the hand-labelled pairs."
        ),
    ] = False,
    warm: Annotated[
        bool,
        typer.Option("--warm", help="Read each collection ahead (as longqa warm) before its first question."),
    ] = False,
) -> None:
    """Score answer accuracy, citation faithfulness and cost per strategy; write a report."""
    from app.evaluation.runner import calibration_for, run_evaluation

    settings = load_settings(model=model, judge=judge, prefer=prefer, context_window=context_window)
    if out_dir.exists() and not out_dir.is_dir():
        raise LongqaError(f"--out {out_dir}: is a file; the report needs a folder")
    if calibrate_judge:
        from agents.answer import Trace
        from agents.calls import Caller
        from agents.judge import Judge

        spec = settings.judge or settings.model
        judge_model = Judge(Caller(components.backend(settings, spec), Trace()))
        err.print(literal(f"calibrating {spec} on the hand-labelled pairs …"))
        calibration = calibration_for(judge_model, out_dir)
        out.print(literal(f"judge {calibration.judge}: {calibration.line()}"))
        return
    if dataset is None:
        raise LongqaError("give a dataset file (or --calibrate-judge)")
    if data_format is None:
        read_text(dataset, "dataset")  # readable UTF-8, checked before any model is loaded
    with eval_progress(enabled=err.is_terminal) as progress:
        folder = run_evaluation(
            settings,
            dataset,
            out_dir,
            strategies=strategies.split(",") if strategies else None,
            limit=limit,
            format=data_format,
            progress=progress,
            warm=warm,
        )
    print_eval_summary(folder)


@app.command()
def convert(
    data_format: Annotated[str, typer.Argument(help="longbench, longbench-cite or l-citeeval.")],
    source: Annotated[Path, typer.Argument(help="The dataset file in that format.")],
    out_dir: Annotated[Path, typer.Argument(help="Folder for dataset.jsonl and docs/.")],
) -> None:
    """Import a public long-context dataset into longqa's evaluation format."""
    from app.evaluation.importers import convert as convert_dataset

    path = convert_dataset(data_format, source, out_dir)
    count = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    out.print(literal(f"wrote {path} ({count} questions)"))


@app.command()
def ui(
    index: Annotated[Path | None, typer.Option("--index", help="Open this index as a collection.")] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 8501,
    collections: Annotated[Path | None, typer.Option(help="Folder holding the UI's collections.")] = None,
) -> None:
    """Start the web UI (Streamlit) on 127.0.0.1."""
    import os
    import subprocess

    settings = load_settings()
    app_file = Path(__file__).resolve().parent.parent / "ui" / "app.py"
    env = {**os.environ, "LONGQA_UI_COLLECTIONS": str((collections or settings.collections).resolve())}
    if index is not None:
        if not (index / "manifest.json").exists():
            raise LongqaError(f"no index at {index}: run `longqa ingest PATH --index {index}` first")
        env["LONGQA_UI_INDEX"] = str(index.resolve())
    command = [sys.executable, "-m", "streamlit", "run", str(app_file)]
    command += [part for key, value in streamlit_options(port) for part in (f"--{key}", value)]
    err.print(f"longqa UI on http://127.0.0.1:{port} (Ctrl-C to stop)")
    try:
        raise typer.Exit(subprocess.call(command, env=env))
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def streamlit_options(port: int) -> list[tuple[str, str]]:
    """Streamlit's server options for the UI: loopback only, XSRF and CORS protection on, and the
    Host and origin allow-lists naming only the loopback address — each where the installed
    Streamlit has it."""
    hosts = ("127.0.0.1", "localhost")
    wanted = [
        ("server.headless", "true"),
        ("server.address", "127.0.0.1"),
        ("server.port", str(port)),
        ("server.enableXsrfProtection", "true"),
        ("server.enableCORS", "true"),
        *(("server.allowedHosts", host) for host in hosts),
        *(("server.corsAllowedOrigins", f"http://{host}:{port}") for host in hosts),
        ("server.fileWatcherType", "none"),
        ("browser.gatherUsageStats", "false"),
        ("client.toolbarMode", "minimal"),
        ("client.showErrorDetails", "none"),
    ]
    try:
        from streamlit import config

        known = set(config._config_options_template)
    except (ImportError, AttributeError):  # cannot tell: pass the long-standing ones only
        known = {key for key, _ in wanted if key not in ("server.allowedHosts", "server.corsAllowedOrigins")}
    return [(key, value) for key, value in wanted if key in known]


def run(args: list[str] | None = None) -> int:
    """Run the CLI on ``args`` (default: the command line); the exit status, errors printed."""
    command = typer.main.get_command(app)
    try:
        status = command.main(args=args, prog_name="longqa", standalone_mode=False)
        return status if isinstance(status, int) else 0
    except _EXITS as exc:
        return int(getattr(exc, "exit_code", 0))
    except _USAGE_ERRORS as exc:  # typer's usage text and the reason
        error: Any = exc
        _give_context(error, command, sys.argv[1:] if args is None else args)
        error.show()
        return int(error.exit_code)
    except _INTERRUPTS:
        err.print("interrupted")
        return 130
    except LongqaError as exc:
        print_error(str(exc))
        return 2
    except OSError as exc:
        logging.getLogger("longqa").debug("%s", exc, exc_info=True)
        if exc.filename is None:
            print_error(f"{exc.strerror or exc} (run with --verbose for details)")
            return 1
        print_error(f"{exc.filename}: {exc.strerror or exc}")
        return 2
    except Exception as exc:  # the last line of defence: one line, details in the log
        logging.getLogger("longqa").debug("unexpected error", exc_info=True)
        print_error(f"unexpected {type(exc).__name__}: {exc} (run with --verbose for details)")
        return 1


def _give_context(exc: Any, command: Any, args: list[str]) -> None:
    """A usage error raised before its command's context was made (an option missing its value)
    gets one, so that it prints the command's usage like the others."""
    if getattr(exc, "ctx", "absent") is not None:
        return
    root = command.context_class(command, info_name="longqa")
    name = next((arg for arg in args if not arg.startswith("-")), None)
    sub = command.commands.get(name) if name else None
    exc.ctx = command.context_class(sub, info_name=name, parent=root) if sub else root
    exc.cmd = exc.ctx.command


def main() -> None:
    """Entry point: run the CLI, turning errors into one-line messages."""
    status = run()
    if status == 130 and any(
        t is not threading.main_thread() and t.is_alive() and not t.daemon for t in threading.enumerate()
    ):
        # a model call still running in a worker thread would hold the exit until it returns;
        # everything finished is already on disk (fsynced), so leave now
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(status)


if __name__ == "__main__":
    main()
