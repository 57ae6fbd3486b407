"""The HTTP API as one FastAPI app (``create_app``), and ``serve``: uvicorn running it in this
process (no worker processes, so stopping the command stops everything; uvicorn turns SIGTERM and
Ctrl-C into a graceful stop of at most ``GRACE_SECONDS``, then the signal's own exit).

A server that listens on any address but 127.0.0.1, localhost or ::1 needs a token: it refuses to
start without one, rather than serve the collections to the network unguarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from app.http import answers, chat, collections, errors, jobs
from app.http.guard import Guard, needs_token
from app.http.state import Served
from app.services.collections import Collections
from app.settings import Settings
from core.errors import LongqaError, reason_of
from core.files import read_text

GRACE_SECONDS = 5


def create_app(settings: Settings, store: Collections) -> FastAPI:
    """The API's routes over ``store`` with ``settings`` (its model, answer defaults, caps)."""
    state = Served(settings, store)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        # stopping: a running ingest rolls back and takes its uploads out again, not half-done
        await asyncio.to_thread(state.jobs.stop_all, GRACE_SECONDS)

    api = FastAPI(
        title="longqa",
        summary="Ask questions of long documents; answers cite the exact spans they rest on.",
        version="0.1.0",
        lifespan=lifespan,
    )
    api.state.served = state
    errors.install(api)
    for module in (collections, jobs, answers, chat):
        api.include_router(module.router)
    return api


def guarded(settings: Settings, store: Collections, host: str, token: str | None) -> Any:
    """``create_app`` behind the guard for ``host`` (``app.http.guard``); refuses to listen on a
    non-loopback address without a token."""
    if needs_token(host) and not token:
        raise LongqaError(
            f"listening on {host} needs an API token: set LONGQA_API_TOKEN or give --token-file FILE "
            "(or listen on 127.0.0.1)"
        )
    api = create_app(settings, store)
    return Guard(api, host, token, api.state.served.limits.zip_bytes)


def read_token(path: Path | None, settings: Settings) -> str | None:
    """The API token: the file's first line when a file is given, else ``LONGQA_API_TOKEN``."""
    if path is None:
        return settings.api_token or None
    lines = read_text(path, "token").strip().splitlines()
    token = lines[0].strip() if lines else ""
    if not token:
        raise LongqaError(f"{path}: the token file is empty")
    return token


def config(app: Any, host: str, port: int) -> Any:
    """uvicorn's settings for ``app`` on ``host``:``port``."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=GRACE_SECONDS,
        server_header=False,
    )


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` (one line saying why not: a port in use, a bad address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except (OSError, OverflowError) as exc:
        sock.close()
        raise LongqaError(f"cannot listen on {host}:{port}: {reason_of(exc)}") from None
    return sock


def serve(settings: Settings, store: Collections, host: str, port: int, token: str | None) -> None:
    """Serve until SIGTERM or Ctrl-C (uvicorn raises the signal again once it has stopped)."""
    import uvicorn

    app = guarded(settings, store, host, token)
    sock = listen(host, port)
    server = uvicorn.Server(config(app, host, port))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
