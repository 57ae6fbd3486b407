"""Who may call ``longqa serve``, checked before any route runs (a pure ASGI middleware).

- A bearer token, when the server has one (it must, to listen on any address but loopback's
  127.0.0.1, localhost or ::1): every request, ``/docs`` included, carries
  ``Authorization: Bearer TOKEN`` or is answered 401.
- On loopback, the web UI's rule (``app.services.hosts``): a request whose ``Host`` names another
  site (DNS rebinding) or whose ``Origin`` is another site's page is answered 403, so that no web
  page the user visits can drive the server from their browser.
- Bodies are capped: an upload at the upload caps' largest (a zip, plus room for the form), any
  other request at ``BODY_BYTES``; a larger one is answered 413, by its ``Content-Length`` before
  it is read, or as soon as it has sent more.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from starlette.exceptions import HTTPException

from app.http.errors import body
from app.services.hosts import LOOPBACK, allowed_host, allowed_origin
from app.services.uploads import MB

BODY_BYTES = 1 * MB  # a question, a chat history, a search: far less
FORM_BYTES = 1 * MB  # what a multipart form adds around its files

Scope = dict[str, Any]
ASGI = Any


def needs_token(host: str) -> bool:
    """Whether listening on ``host`` requires a token: any address but loopback's usual names."""
    return host not in LOOPBACK


class Guard:
    """The checks above, around the FastAPI app."""

    def __init__(self, app: ASGI, address: str, token: str | None, upload_bytes: int) -> None:
        self.app = app
        self.address = address
        self.token = token.encode() if token else None
        self.upload_bytes = upload_bytes + FORM_BYTES

    async def __call__(self, scope: Scope, receive: ASGI, send: ASGI) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            status, message, extra = refusal
            await _answer(send, status, message, scope["path"], extra)
            return
        limit = self.upload_bytes if scope["path"].endswith("/documents") else BODY_BYTES
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _answer(send, 413, _too_large(int(declared), limit), scope["path"])
            return
        await self.app(scope, _capped(receive, limit), send)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str, dict[str, str]] | None:
        if self.address in LOOPBACK:
            host = headers.get("host")
            if not allowed_host(host, self.address):
                shown = repr((host or "")[:100])
                return 403, f"this server answers to localhost only, not to {shown}", {}
            if not allowed_origin(headers.get("origin"), self.address):
                shown = repr(headers.get("origin", "")[:100])
                return 403, f"requests from pages of {shown} are refused: this server is local", {}
        if self.token is None:
            return None
        scheme, _, given = headers.get("authorization", "").partition(" ")
        challenge = {"www-authenticate": "Bearer"}
        if scheme.lower() != "bearer" or not given.strip():
            return 401, "this server needs its API token: send Authorization: Bearer TOKEN", challenge
        if not hmac.compare_digest(given.strip().encode(), self.token):
            return 401, "wrong API token", challenge
        return None


def _too_large(size: int, limit: int) -> str:
    return f"the request's body is {size / MB:.1f} MB, over the {limit / MB:.0f} MB limit"


def _capped(receive: ASGI, limit: int) -> ASGI:
    """``receive``, raising a 413 once the body goes past ``limit`` bytes (an HTTPException: the
    route reading the body lets that through, where it would turn any other error into a 400)."""
    seen = 0

    async def capped() -> Any:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, f"the request's body is over the {limit / MB:.0f} MB limit")
        return message

    return capped


async def _answer(
    send: ASGI, status: int, message: str, path: str, extra: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body(message, status, openai=path.startswith("/v1/"))).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
