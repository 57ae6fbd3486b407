"""Any OpenAI-compatible server — ``vllm serve`` first of all, llama.cpp's server, a hosted API —
through langchain-openai's chat model.

The server is asked what it serves (``/v1/models``), how large its window is (vLLM's
``max_model_len``, llama.cpp's ``/props``) and how it tokenizes (vLLM's ``/tokenize``,
llama-cpp-python's ``/extras/tokenize/count``, llama.cpp's ``/tokenize``). A server that is
down or answers nonsense gives one line naming the endpoint. Nothing here waits without limit:
the probe has a total deadline, and every chat request one (``call_timeout``).
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
from langchain_core.messages import BaseMessage

from core.errors import LongqaError
from ingest.tokens import count_tokens as cl100k_tokens

log = logging.getLogger(__name__)


class ServerError(LongqaError):
    """A model server that cannot be used; the message names the endpoint."""


@dataclass(frozen=True)
class ServerInfo:
    base_url: str  # ends with /v1
    model: str
    context_window: int | None
    tokenizer: str  # 'vllm', 'llama-cpp-python', 'llama.cpp' or 'estimate'


def _root(base_url: str) -> str:
    return base_url[: -len("/v1")] if base_url.endswith("/v1") else base_url


def _seconds_left(deadline: float) -> float:
    return deadline - time.monotonic()


def _limits(seconds: float, http: Any = httpx) -> Any:
    """Timeouts for a request that must be over within ``seconds``: a connection gets a third of
    them (at most 10 s), so even a retried connect fits. ``http`` is the HTTP library the timeout
    is for (httpx for longqa's own requests, :func:`_openai_http` for the chat client's)."""
    return http.Timeout(seconds, connect=min(10.0, seconds / 3))


@functools.cache
def _openai_http() -> ModuleType:
    """The HTTP library the installed openai package talks through: httpx up to openai 2, httpx2
    from openai 3. Their Timeout types are not interchangeable (openai 3 rejects an
    ``httpx.Timeout``), so the chat client's timeouts and client are built from the library that
    openai's own default client is a ``Client`` of."""
    import openai

    base = next(c for c in openai.DefaultHttpxClient.__mro__ if c.__name__ == "Client")
    return importlib.import_module(base.__module__.partition(".")[0])


def _get(
    client: httpx.Client, url: str, deadline: float, timeout: float, attempts: int = 3
) -> httpx.Response:
    """GET ``url``, retrying a refused or dropped connection (while time is left before ``deadline``)."""
    delay = 0.5
    for attempt in range(attempts):
        left = _seconds_left(deadline)
        if left <= 0:
            raise ServerError(f"the model server at {url} gave no answer within {timeout:g} s")
        try:
            response = client.get(url, timeout=_limits(left))
            response.raise_for_status()
            return response
        except httpx.HTTPStatusError as exc:
            raise ServerError(f"model server at {url} answered HTTP {exc.response.status_code}") from exc
        except httpx.TimeoutException as exc:
            raise ServerError(f"the model server at {url} gave no answer within {timeout:g} s") from exc
        except httpx.HTTPError as exc:
            if attempt == attempts - 1 or _seconds_left(deadline) <= delay:
                raise ServerError(f"cannot reach the model server at {url}: {_reason(exc)}") from exc
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Failures:
    """The exception classes a call to a server fails with, by what went wrong: openai's own and
    those of the HTTP libraries beneath it (httpx, and httpx2 under openai 3)."""

    timeout: tuple[type[BaseException], ...]
    connect: tuple[type[BaseException], ...]
    broken: tuple[type[BaseException], ...]  # the connection broke off mid-answer
    decode: tuple[type[BaseException], ...]  # an answer that is not a chat completion


@functools.cache
def failures() -> Failures:
    """What ``agents.models.calls`` tells a failing call by (``isinstance``, never class names)."""
    import openai

    libraries = {httpx, _openai_http()}
    return Failures(
        timeout=(openai.APITimeoutError, TimeoutError, *(lib.TimeoutException for lib in libraries)),
        connect=(openai.APIConnectionError, ConnectionError, *(lib.ConnectError for lib in libraries)),
        broken=tuple(c for lib in libraries for c in (lib.RemoteProtocolError, lib.ReadError)),
        decode=(json.JSONDecodeError, UnicodeDecodeError, *(lib.DecodingError for lib in libraries)),
    )


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower():
        return "connection refused (is the server running?)"
    return text.splitlines()[0]


def probe(base_url: str, model: str | None = None, timeout: float = 10.0) -> ServerInfo:
    """What the server at ``base_url`` serves, its window and how to count its tokens; all
    within ``timeout`` seconds (optional endpoints that do not answer in time are skipped)."""
    deadline = time.monotonic() + timeout
    base_url = base_url.rstrip("/")
    if not base_url.endswith("/v1"):
        base_url += "/v1"
    with httpx.Client(timeout=_limits(timeout)) as client:
        response = _get(client, f"{base_url}/models", deadline, timeout)
        try:
            models = response.json()["data"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ServerError(f"{base_url}/models did not return an OpenAI model list") from exc
        if not isinstance(models, list) or not all(isinstance(m, dict) for m in models):
            raise ServerError(f"{base_url}/models did not return an OpenAI model list")
        if not models:
            raise ServerError(f"{base_url}/models lists no model")
        entry = next((m for m in models if m.get("id") == model), None) if model else models[0]
        if entry is None:
            raise ServerError(f"{base_url} does not serve {model!r} (it serves {models[0].get('id')!r})")
        if not isinstance(entry.get("id"), str):
            raise ServerError(f"{base_url}/models did not return an OpenAI model list")
        window = entry.get("max_model_len") or (entry.get("meta") or {}).get("n_ctx")
        if window is None:
            window = _props_window(client, base_url, deadline)
        tokenizer = _tokenizer_style(client, base_url, entry["id"], deadline)
    try:
        size = int(window) if window else None
    except (TypeError, ValueError):
        size = None
    return ServerInfo(base_url, entry["id"], size, tokenizer)


def _props_window(client: httpx.Client, base_url: str, deadline: float) -> int | None:
    left = _seconds_left(deadline)
    if left <= 0:
        return None
    try:
        response = client.get(f"{_root(base_url)}/props", timeout=_limits(left))
        if response.status_code == 200:
            return int(response.json()["default_generation_settings"]["n_ctx"])
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        pass
    return None


def _tokenizer_style(client: httpx.Client, base_url: str, model: str, deadline: float) -> str:
    root = _root(base_url)
    attempts = [
        ("vllm", f"{root}/tokenize", {"model": model, "prompt": "hello"}, "count"),
        ("llama-cpp-python", f"{root}/extras/tokenize/count", {"input": "hello"}, "count"),
        ("llama.cpp", f"{root}/tokenize", {"content": "hello"}, "tokens"),
    ]
    for style, url, body, key in attempts:
        left = _seconds_left(deadline)
        if left <= 0:
            break
        try:
            response = client.post(url, json=body, timeout=_limits(left))
            if response.status_code == 200 and key in response.json():
                return style
        except (httpx.HTTPError, ValueError, TypeError):
            continue
    log.info("%s offers no tokenize endpoint; token counts are estimated", base_url)
    return "estimate"


class ServerTokenizer:
    """Counts tokens with the server's own tokenizer (cached), or estimates them conservatively."""

    _ESTIMATE_MARGIN = 1.25  # cl100k undercounts most open models' tokens

    def __init__(self, info: ServerInfo, timeout: float = 30.0) -> None:
        self.info = info
        self._client = httpx.Client(timeout=_limits(timeout))
        self.count = functools.lru_cache(maxsize=65536)(self._count)

    @property
    def exact(self) -> bool:
        return self.info.tokenizer != "estimate"

    def _count(self, text: str) -> int:
        root = _root(self.info.base_url)
        try:
            if self.info.tokenizer == "vllm":
                response = self._client.post(
                    f"{root}/tokenize",
                    json={"model": self.info.model, "prompt": text, "add_special_tokens": False},
                )
                return int(response.json()["count"])
            if self.info.tokenizer == "llama-cpp-python":
                response = self._client.post(f"{root}/extras/tokenize/count", json={"input": text})
                return int(response.json()["count"])
            if self.info.tokenizer == "llama.cpp":
                response = self._client.post(f"{root}/tokenize", json={"content": text})
                return len(response.json()["tokens"])
        except httpx.TransportError as exc:
            raise ServerError(f"model server at {root} is not reachable: {_reason(exc)}") from exc
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise ServerError(f"token counting at {root} failed: {_reason(exc)}") from exc
        return int(cl100k_tokens(text) * self._ESTIMATE_MARGIN) + 1

    def count_prompt(self, messages: list[BaseMessage]) -> int:
        """A chat prompt's size: its messages plus the chat template's few tokens per message."""
        return sum(self.count(str(m.content)) + 8 for m in messages) + 8


def call_timeout(seconds: float) -> dict[str, Any]:
    """The per-request option that makes one chat call give up after ``seconds`` (the Caller's
    deadline for it), instead of the client's default."""
    return {"timeout": _limits(seconds, _openai_http())}


@functools.cache
def _server_chat_class() -> type:
    """langchain-openai's ChatOpenAI, also sending the answer budget under its older name.

    langchain-openai sends ``max_completion_tokens`` only; llama.cpp's servers read ``max_tokens``
    and would otherwise write on past the answer budget (vLLM reads either)."""
    from langchain_openai import ChatOpenAI

    class ChatServer(ChatOpenAI):
        legacy_max_tokens: bool = False

        def _get_request_payload(self, input_: Any, *, stop: list[str] | None = None, **kwargs: Any) -> dict:
            payload = super()._get_request_payload(input_, stop=stop, **kwargs)
            if self.legacy_max_tokens and "max_completion_tokens" in payload:
                payload.setdefault("max_tokens", payload["max_completion_tokens"])
            return payload

    return ChatServer


def chat_model(info: ServerInfo, max_tokens: int, timeout: float, api_key: str | None = None) -> Any:
    """langchain-openai's ChatOpenAI pointed at the server, streaming with usage.

    Prompts share their prefix byte for byte across questions (documents first), so the server's
    own prefix cache does the rest: vLLM's automatic prefix caching, and llama.cpp's server, which
    is asked for it explicitly (``cache_prompt``). The cached prompt tokens it reports come back
    in the usage (``input_token_details.cache_read``); vLLM reports them only when started with
    ``--enable-prompt-tokens-details``.

    A request waits at most ``timeout`` seconds (each call narrows this to its own deadline), and
    is not retried by the client: a retry after a timeout would outlive the deadline, and an HTTP
    error is reported at once. Only a refused connection is retried (twice, by the transport),
    which takes a second, not another timeout.
    """
    http = _openai_http()
    client = http.Client(timeout=_limits(timeout, http), transport=http.HTTPTransport(retries=2))
    return _server_chat_class()(
        legacy_max_tokens=info.tokenizer in ("llama.cpp", "llama-cpp-python"),
        model=info.model,
        base_url=info.base_url,
        api_key=api_key or "not-needed",  # type: ignore[arg-type]
        temperature=0.0,
        max_tokens=max_tokens,  # type: ignore[call-arg]
        timeout=_limits(timeout, http),
        max_retries=0,
        http_client=client,
        stream_usage=True,
        seed=7,
        **({"extra_body": {"cache_prompt": True}} if info.tokenizer == "llama.cpp" else {}),
    )
