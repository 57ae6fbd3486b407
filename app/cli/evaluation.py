"""``longqa eval`` and ``longqa convert``: scoring strategies on a dataset, importing datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agents.reading.strategies.registry import STRATEGY_CHOICES
from app import wiring
from app.cli.console import err, literal, out, print_eval_summary
from app.cli.options import JudgeOption, ModelOption, PreferOption, StallOption, TimeoutOption, WindowOption
from app.cli.progress import eval_progress
from app.settings import Settings, load_settings
from core.errors import LongqaError
from core.files import read_text


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
    timeout: TimeoutOption = None,
    stall_timeout: StallOption = None,
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
    pairs: Annotated[
        Path | None,
        typer.Option(
            "--pairs",
            help="With --calibrate-judge: your own labelled pairs (JSONL: claim, passage, supported, "
            "optional question and split).",
        ),
    ] = None,
) -> None:
    """Score answer accuracy, citation faithfulness and cost per strategy; write a report."""
    from app.evaluation.runner import run_evaluation

    settings = load_settings(
        model=model,
        judge=judge,
        prefer=prefer,
        context_window=context_window,
        timeout=timeout,
        stall_timeout=stall_timeout,
    )
    if out_dir.exists() and not out_dir.is_dir():
        raise LongqaError(f"--out {out_dir}: is a file; the report needs a folder")
    if pairs is not None and not calibrate_judge:
        raise LongqaError("--pairs goes with --calibrate-judge")
    if calibrate_judge:
        _calibrate_judge(settings, out_dir, pairs)
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


def _calibrate_judge(settings: Settings, out_dir: Path, pairs: Path | None) -> None:
    """Measure the judge (``--judge``, else ``--model``) on the hand-labelled pairs (the packaged
    ones, or ``pairs``, checked before any model loads); kept in ``out_dir``."""
    from agents.answer import Trace
    from agents.models.calls import Caller
    from agents.verify.support import support_judge
    from app.evaluation.calibration import FIXTURE, load_pairs
    from app.evaluation.runner import calibration_for

    pairs = pairs or FIXTURE
    read_text(pairs, "pairs")  # readable UTF-8, or one line saying why
    load_pairs(pairs)  # every pair well-formed, or the first bad one named

    spec = settings.judge or settings.model
    judge_model = support_judge(Caller(wiring.backend(settings, spec), Trace()))
    err.print(literal(f"calibrating {spec} on the hand-labelled pairs …"))
    calibration = calibration_for(judge_model, out_dir, pairs=pairs)
    out.print(literal(f"judge {calibration.judge}: {calibration.line()}"))


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
