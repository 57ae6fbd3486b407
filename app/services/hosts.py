"""Which addresses a request may name: the loopback names, or the address a server was started on.

A page on another site can point a name of its own at 127.0.0.1 (DNS rebinding) and so reach a
server bound to loopback from the user's browser; such a request still names that site in its
``Host`` header (and its ``Origin``). The web UI and ``longqa serve`` both refuse it with this
rule. This module decides only; it never answers a request itself.
"""

from __future__ import annotations

from urllib.parse import urlsplit

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
"""The names a server bound to loopback answers to, and the addresses it needs no token on."""


def host_name(host: str) -> str | None:
    """The name in a Host header (``localhost:8501`` → ``localhost``, ``[::1]:8501`` → ``::1``);
    None when it is not a usable host."""
    try:
        name = urlsplit(f"//{host.strip()}").hostname
    except ValueError:
        return None
    return name.rstrip(".") if name else None


def allowed_host(host: str | None, server_address: str | None) -> bool:
    """Whether a request's Host header names this server (no header at all: allowed)."""
    if host is None:
        return True
    name = host_name(host)
    if name is None:
        return False
    served = host_name(server_address) if server_address else None
    return name in LOOPBACK or (served is not None and name == served)


def allowed_origin(origin: str | None, server_address: str | None) -> bool:
    """Whether a request's Origin header (``http://localhost:8000``) is a page of this server (no
    header, or ``null`` from a file or a sandbox with no site: allowed only when absent)."""
    if origin is None:
        return True
    try:
        netloc = urlsplit(origin.strip()).netloc
    except ValueError:
        return False
    return bool(netloc) and allowed_host(netloc, server_address)
