"""The OpenAI-compatible door: ``POST /v1/chat/completions`` and ``GET /v1/models``, so that any
OpenAI client or chat front end (Open WebUI, LibreChat) can use longqa as a "model" that answers
from documents with citations.

``model`` names the collection and the last user message is the question (earlier messages are
not read: each question is answered from the documents alone). The answer's text carries its
``[S#]`` markers; the message (or, streamed, the last chunk's delta) carries ``citations``, each
with its span, quote and verdict, and the completion carries the whole ``answer`` (its verdict,
short form and trace). longqa's own choices ride along as extra fields of the request
(``strategy``, ``prefer``, ``verify``, ``strict``: the openai client's ``extra_body``); OpenAI's
sampling fields are accepted and ignored. When the checked answer differs from the text streamed
(a sentence removed, a citation repaired), the stream ends with the checked answer after it; a
refusal, held back while it might still be overturned, comes whole at the end.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse

from app.http.answers import answering
from app.http.errors import body as error_body
from app.http.errors import status_of
from app.http.state import Served, served
from app.services import assistant
from app.services.collections import Collection
from app.settings import Settings
from core.errors import LongqaError

router = APIRouter(prefix="/v1", tags=["openai"])
State = Annotated[Served, Depends(served)]


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """OpenAI's chat completion request; longqa's own choices as extra fields."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(description="The collection to answer from.")
    messages: list[Message]
    stream: bool = False
    strategy: str | None = None
    prefer: str | None = None
    verify: bool | None = None
    strict: bool | None = None


def _text(message: Message) -> str:
    if isinstance(message.content, str):
        return message.content
    parts = message.content or []
    return "\n".join(str(p.get("text", "")) for p in parts if p.get("type") == "text")


def question_of(request: ChatRequest) -> str:
    """The last user message's text."""
    asked = [m for m in request.messages if m.role == "user"]
    if not asked:
        raise LongqaError("messages: there is no user message to answer")
    return assistant.check_question(_text(asked[-1]))


def _citations(answer: assistant.Answer) -> list[dict[str, Any]]:
    cited: list[dict[str, Any]] = answer.to_dict()["citations"]
    return cited


def _usage(answer: assistant.Answer) -> dict[str, int]:
    prompt, completion = answer.trace.prompt_tokens, answer.trace.completion_tokens
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _prepared(request: ChatRequest, state: Served) -> tuple[Settings, Collection, str]:
    collection = state.collection(request.model)
    settings = state.settings_for(
        strategy=request.strategy, prefer=request.prefer, verify=request.verify, strict=request.strict
    )
    return settings, collection, question_of(request)


@router.get("/models", summary="The collections, as OpenAI models")
def models(state: State) -> dict[str, Any]:
    data = [
        {"id": c.name, "object": "model", "created": int(c.folder.stat().st_mtime), "owned_by": "longqa"}
        for c in state.store.all()
    ]
    return {"object": "list", "data": data}


@router.post("/chat/completions", summary="Answer the last user message from the collection named by model")
async def chat_completions(request: ChatRequest, state: State) -> Any:
    settings, collection, question = _prepared(request, state)
    started, name = int(time.time()), f"chatcmpl-{uuid.uuid4().hex[:24]}"
    if not request.stream:
        answer = await run_in_threadpool(assistant.ask, settings, collection, question)
        message = {"role": "assistant", "content": answer.text, "citations": _citations(answer)}
        return {
            "id": name,
            "object": "chat.completion",
            "created": started,
            "model": collection.name,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
            "usage": _usage(answer),
            "answer": answer.to_dict(),
        }
    await run_in_threadpool(assistant.prepare, settings, collection)
    return EventSourceResponse(_chunks(settings, collection, question, name, started), ping=15)


async def _chunks(
    settings: Settings, collection: Collection, question: str, name: str, started: int
) -> AsyncIterator[dict[str, str]]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, str]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        shaped = {"id": name, "object": "chat.completion.chunk", "created": started, "model": collection.name}
        return {"data": json.dumps({**shaped, "choices": [choice], **extra})}

    yield chunk({"role": "assistant", "content": ""})
    written = ""
    async for kind, value in answering(settings, collection, question):
        if kind == "token":
            written += value
            yield chunk({"content": value})
        elif kind == "answer":
            if not written.strip():  # held back (a refusal that might be overturned): all at once
                yield chunk({"content": value.text})
            elif " ".join(value.text.split()) != " ".join(written.split()):
                yield chunk({"content": f"\n\nChecked answer: {value.text}"})
            yield chunk({"citations": _citations(value)}, "stop", usage=_usage(value), answer=value.to_dict())
        elif kind == "error":
            yield {"data": json.dumps(error_body(str(value), status_of(value), openai=True))}
    yield {"data": "[DONE]"}
