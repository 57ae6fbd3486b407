"""Server-sent events read off an httpx response, as a browser's EventSource reads them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx


def events(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    """``(event, data)`` pairs; data parsed as JSON when it is (``[DONE]`` stays a string)."""
    name, data = "message", []
    for line in response.iter_lines():
        if not line:
            if data:
                text = "\n".join(data)
                try:
                    yield name, json.loads(text)
                except json.JSONDecodeError:
                    yield name, text
            name, data = "message", []
        elif line.startswith(":"):
            continue  # a comment (sse-starlette's pings)
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
