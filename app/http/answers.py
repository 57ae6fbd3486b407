"""Search and ask over HTTP. ``ask`` answers as one JSON (``Answer.to_dict()``: text with ``[S#]``
markers, citations with their spans, quotes and verdicts, the trace), or, with ``"stream": true``
(or ``Accept: text/event-stream``), as server-sent events: ``status`` lines and ``token`` pieces
as the answer is written, then one ``answer`` event with that JSON (or one ``error`` event).

The answer is made by ``assistant.ask`` on a job's thread, the very call and callbacks the web
UI's chat streams from; what can fail before the first token (an empty question or collection,
a model server that is down) is checked first and answered with its status, not as an event. A
client that goes away stops the answer at the model's next token.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse

from app.http.errors import status_of
from app.http.state import Served, served
from app.services import assistant
from app.services.collections import Collection
from app.services.jobs import Job
from app.settings import Settings
from core.errors import LongqaError

router = APIRouter(tags=["answers"])
State = Annotated[Served, Depends(served)]


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(description="What to look for.")
    k: int | None = Field(None, ge=1, le=100, description="How many hits (default: search_k, 5).")
    mode: str = Field("hybrid", description="hybrid, dense or lexical.")


class AskRequest(BaseModel):
    """A question and, as ``longqa ask`` takes them, how to answer it."""

    model_config = ConfigDict(extra="forbid")
    question: str
    strategy: str | None = Field(None, description="auto, full, rag, coa or baseline.")
    prefer: str | None = Field(None, description="quality, balanced or cost.")
    verify: bool | None = Field(None, description="Judge each citation (default: on).")
    strict: bool | None = Field(None, description="Remove sentences no citation supports.")
    stream: bool = Field(False, description="Answer as server-sent events.")


def choices(request: AskRequest) -> dict[str, Any]:
    return {
        "strategy": request.strategy,
        "prefer": request.prefer,
        "verify": request.verify,
        "strict": request.strict,
    }


@router.post("/collections/{name}/search", summary="The spans that best match a query")
def search(name: str, body: SearchRequest, state: State) -> dict[str, Any]:
    collection = state.collection(name)
    hits = assistant.search(state.settings, collection, body.query, k=body.k, mode=body.mode)
    return {"query": body.query, "hits": [{"rank": n, **h.to_dict()} for n, h in enumerate(hits, 1)]}


@router.post(
    "/collections/{name}/ask",
    summary="Answer a question with citations of exact spans (streamed with stream: true)",
)
async def ask(name: str, body: AskRequest, request: Request, state: State) -> Any:
    collection = state.collection(name)
    settings = state.settings_for(**choices(body))
    question = assistant.check_question(body.question)
    if not (body.stream or "text/event-stream" in request.headers.get("accept", "")):
        answer = await run_in_threadpool(assistant.ask, settings, collection, question)
        return answer.to_dict()
    await run_in_threadpool(assistant.prepare, settings, collection)
    return EventSourceResponse(_events(settings, collection, question))


async def _events(settings: Settings, collection: Collection, question: str) -> AsyncIterator[dict[str, str]]:
    async for kind, value in answering(settings, collection, question):
        if kind in ("status", "token"):
            yield {"event": kind, "data": json.dumps({"text": value})}
        elif kind == "answer":
            yield {"event": "answer", "data": json.dumps(value.to_dict())}
        else:
            yield {"event": "error", "data": json.dumps({"error": str(value), "status": status_of(value)})}


async def answering(
    settings: Settings, collection: Collection, question: str
) -> AsyncIterator[tuple[str, Any]]:
    """Answer on a job's thread, yielding ``("status", line)`` and ``("token", text)`` as they come,
    then ``("answer", Answer)`` or ``("error", exception)``. Stops the job when left early."""
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def poke() -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: the server stopped
            loop.call_soon_threadsafe(wake.set)

    def work(job: Job[assistant.Answer]) -> assistant.Answer:
        return assistant.ask(settings, collection, question, on_token=job.token, on_status=job.status)

    job: Job[assistant.Answer] = Job(work, label="ask", on_change=poke)
    statuses = written = 0
    try:
        while True:
            await wake.wait()
            wake.clear()
            done = job.done  # read first: all it wrote before it ended is in what follows
            lines = job.statuses
            for line in lines[statuses:]:
                yield "status", line
            statuses = len(lines)
            pieces = job.pieces(written)
            for piece in pieces:
                yield "token", piece
            written += len(pieces)
            if done:
                break
        if job.result is not None:
            yield "answer", job.result
        else:
            yield "error", job.exception or LongqaError(job.error or "the answer was stopped")
    finally:
        job.stop()  # a client that went away: the model stops at its next token
