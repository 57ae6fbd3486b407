"""The terminal: the ``longqa`` command line (``main``: the typer app and how errors end a run), one
module per group of commands (``index``: ingest and search; ``answers``: ask, warm, batch;
``evaluation``: eval and convert; ``ui``: start the web UI; ``serve``: the HTTP API), the shared
options (``options``), and how results and progress look in a terminal (``console``,
``progress``).

A command is a plain function whose options are declared in its signature: it reads settings,
calls app code and prints. Nothing registers itself, so the list of commands is the one in
``main``."""

from __future__ import annotations

from app.cli.main import main, run

__all__ = ["main", "run"]
