"""``longqa ingest`` and ``longqa search``: building an index and searching it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app import wiring
from app.cli.console import err, print_hits, print_ingest_report, print_json
from app.cli.options import IndexOption, JsonOption
from app.cli.progress import ingest_progress
from app.settings import load_settings
from core.errors import LongqaError


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Folders and files to ingest.")],
    index: IndexOption = None,
    chunk_tokens: Annotated[int | None, typer.Option(help="Chunk size in cl100k tokens.")] = None,
    chunk_overlap: Annotated[int | None, typer.Option(help="Overlap between chunks, in tokens.")] = None,
    max_file_mb: Annotated[float | None, typer.Option(help="Skip files larger than this.")] = None,
    ocr_page_timeout: Annotated[
        float | None, typer.Option(help="Seconds OCR may spend on one PDF page before giving it up.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Read PDFs, code and text into an index; unchanged files are not read again."""
    settings = load_settings(
        chunk_tokens=chunk_tokens,
        chunk_overlap=chunk_overlap,
        max_file_mb=max_file_mb,
        ocr_page_timeout=ocr_page_timeout,
    )
    folder = index or settings.index
    with ingest_progress(enabled=err.is_terminal, lines=not as_json) as progress:
        report = wiring.ingest_paths(settings, paths, folder, progress=progress)
    if as_json:
        print_json(report.to_dict())
    else:
        print_ingest_report(report)
    if not report.usable:
        raise typer.Exit(1)


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
    with wiring.open_index(settings, index or settings.index) as opened:
        hits = wiring.searcher(settings, opened).search(query, k=settings.search_k, mode=mode)
    if as_json:
        print_json([{"rank": rank, **h.to_dict()} for rank, h in enumerate(hits, 1)])
    else:
        print_hits(query, hits)
