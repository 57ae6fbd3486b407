"""What every route of ``longqa serve`` shares: the settings read at start, the collections folder
(the one the web UI uses), the uploads' caps and the board of running jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from app.http.jobs import Board
from app.services.collections import Collection, Collections
from app.services.intake import upload_limits
from app.services.uploads import Limits
from app.settings import Settings, override


@dataclass
class Served:
    """The server's settings and collections; per-request settings are ``settings_for``'s."""

    settings: Settings
    store: Collections
    jobs: Board = field(default_factory=Board)

    @property
    def limits(self) -> Limits:
        return upload_limits(self.settings)

    def collection(self, name: str) -> Collection:
        """The collection named ``name`` (an UnknownCollection, 404, when there is none)."""
        return self.store.get(name)

    def settings_for(self, **overrides: Any) -> Settings:
        """The server's settings with a request's choices (strategy, prefer, verify, strict)."""
        return override(self.settings, **overrides)


def served(request: Request) -> Served:
    """The route's shared state (a FastAPI dependency)."""
    state: Served = request.app.state.served
    return state
