"""Options that several ``longqa`` commands take, declared once so their flags and help agree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agents.reading.strategies.registry import PREFERENCE_CHOICES, STRATEGY_CHOICES

IndexOption = Annotated[
    Path | None,
    typer.Option(
        "--index",
        help="Index folder, milvus:FILE.db (Milvus Lite) or milvus://HOST:PORT/COLLECTION "
        "(default: settings' index).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable JSON report.")]
ModelOption = Annotated[str | None, typer.Option("--model", help="Backend spec (default llamacpp:default).")]
JudgeOption = Annotated[
    str | None, typer.Option("--judge", help="Backend that judges support (default: --model).")
]
StrategyOption = Annotated[str | None, typer.Option("--strategy", help=f"{STRATEGY_CHOICES}.")]
PreferOption = Annotated[str | None, typer.Option("--prefer", help=f"{PREFERENCE_CHOICES}.")]
WindowOption = Annotated[int | None, typer.Option("--context-window", help="Override the model's window.")]
TimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--timeout", min=1, help="Seconds a model server's call may take (at least 3× its estimate)."
    ),
]
StallOption = Annotated[
    float | None,
    typer.Option("--stall-timeout", min=1, help="Seconds a model call may go without progress."),
]
NoVerifyOption = Annotated[bool, typer.Option("--no-verify", help="Do not judge citations.")]
