"""``longqa ui``: the Streamlit web UI, started on the loopback address only."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from app import wiring
from app.cli.children import run_child
from app.cli.console import err
from app.settings import load_settings
from core.errors import LongqaError
from retrieval import stores

_UI_APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"
"""The Streamlit script, run as a file (Streamlit's way), not imported: app/ never imports ui/."""


def ui(
    index: Annotated[
        Path | None, typer.Option("--index", help="Open this index (a folder or milvus:…) as a collection.")
    ] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 8501,
    collections: Annotated[Path | None, typer.Option(help="Folder holding the UI's collections.")] = None,
) -> None:
    """Start the web UI (Streamlit) on 127.0.0.1."""
    settings = load_settings()
    env = {**os.environ, "LONGQA_UI_COLLECTIONS": str((collections or settings.collections).resolve())}
    if index is not None:
        if not stores.exists(index):
            raise LongqaError(f"no index at {index}: run `longqa ingest PATH --index {index}` first")
        if stores.is_milvus(index):  # say now, in one line, if it cannot be opened
            wiring.open_reader(settings, index).close()
        env["LONGQA_UI_INDEX"] = str(stores.resolved(index))
    command = [sys.executable, "-m", "streamlit", "run", str(_UI_APP)]
    command += [part for key, value in streamlit_options(port) for part in (f"--{key}", value)]
    err.print(f"longqa UI on http://127.0.0.1:{port} (Ctrl-C to stop)")
    raise typer.Exit(run_child(command, env))  # SIGTERM and Ctrl-C stop the server too


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
