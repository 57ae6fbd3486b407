"""Errors as ``longqa serve`` answers them: JSON holding the one line the CLI prints for the same
error (``{"error": "no collection named 'x'"}``; OpenAI's shape under ``/v1``), with the status
its kind calls for. A traceback never leaves the server: an unexpected error is logged and
answered 500 with one line.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from agents.models.openai_compat import ServerError
from app.http.jobs import Busy, UnknownJob
from app.services.collections import CollectionExists, UnknownCollection
from app.services.intake import UnknownDocument
from app.services.jobs import describe_error
from app.services.uploads import TooLarge
from core.errors import LongqaError
from retrieval.manifest import IndexBusy

STATUSES: tuple[tuple[type[BaseException], int], ...] = (
    (UnknownCollection, 404),
    (UnknownDocument, 404),
    (UnknownJob, 404),
    (CollectionExists, 409),
    (Busy, 409),
    (IndexBusy, 409),
    (TooLarge, 413),
    (ServerError, 503),
    (LongqaError, 400),
)
"""The first class an error is an instance of gives its status; any other error is a 500."""


def status_of(exc: BaseException | None) -> int:
    return next((status for kind, status in STATUSES if isinstance(exc, kind)), 500)


def body(message: str, status: int, openai: bool = False) -> dict[str, Any]:
    """The JSON of an error: longqa's ``{"error": line}``, or OpenAI's ``{"error": {"message": …}}``."""
    if not openai:
        return {"error": message}
    kind = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": status}}


def respond(
    request: Request | None, message: str, status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    openai = request is not None and request.url.path.startswith("/v1/")
    return JSONResponse(body(message, status, openai), status_code=status, headers=headers)


def one_line(exc: RequestValidationError) -> str:
    """A request that does not fit its route's declaration, as one line: the first problem."""
    problems = exc.errors()
    if not problems:
        return "the request is not valid"
    first = problems[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path"))
    what = str(first.get("msg", "not valid")).removeprefix("Value error, ")
    what = what[:1].lower() + what[1:]
    if first.get("type") == "json_invalid":
        return "the request's body is not valid JSON"
    line = f"{where}: {what}" if where else what
    more = len(problems) - 1
    return line + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")


def install(app: FastAPI) -> None:
    """Answer every error the routes raise as one line of JSON with its status."""

    @app.exception_handler(LongqaError)
    async def _longqa(request: Request, exc: LongqaError) -> JSONResponse:
        return respond(request, str(exc), status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return respond(request, one_line(exc), 400)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such route: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"{request.method} is not a method of {request.url.path}"
        return respond(request, message, exc.status_code, headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return respond(request, describe_error(exc), 500)
