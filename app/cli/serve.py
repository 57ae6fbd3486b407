"""``longqa serve``: the HTTP API (``app.http``) over the web UI's collections, in this process."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.console import err, literal
from app.cli.options import ModelOption
from app.services.collections import Collections
from app.settings import load_settings


def serve(
    collections: Annotated[
        Path | None, typer.Option(help="Folder holding the collections (default: the UI's).")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on; any but 127.0.0.1 needs a token.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    token_file: Annotated[
        Path | None,
        typer.Option(help="File whose first line is the API token (default: LONGQA_API_TOKEN)."),
    ] = None,
    model: ModelOption = None,
) -> None:
    """Serve the HTTP API (search, ask with streaming, an OpenAI-compatible chat endpoint)."""
    from app.http.server import read_token, serve

    settings = load_settings(model=model)
    store = Collections((collections or settings.collections).resolve())
    token = read_token(token_file, settings)
    shown = f"[{host}]" if ":" in host else host
    guarded = " (bearer token required)" if token else ""
    err.print(
        literal(f"longqa API on http://{shown}:{port}{guarded}: docs at /docs, collections in {store.root}")
    )
    err.print("Ctrl-C to stop")
    serve(settings, store, host, port, token)
