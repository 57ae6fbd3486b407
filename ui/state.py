"""The UI's per-browser-session state, in one place: chats, running jobs, settings, notices.

Streamlit keeps ``st.session_state`` per browser tab; every key the UI uses is named here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import streamlit as st

from app.services.assistant import Answer
from app.services.collections import Collection, Collections
from app.services.intake import Added
from app.services.jobs import Job
from app.settings import Settings, load_settings

COLLECTION_KEY = "collection"
PAGE_KEY = "page"
MODEL_KEY = "setting.model"
STRATEGY_KEY = "setting.strategy"
PREFER_KEY = "setting.prefer"
VERIFY_KEY = "setting.verify"


@dataclass
class Message:
    """One chat message; an assistant's carries its Answer, or the one-line error it met."""

    role: Literal["user", "assistant"]
    text: str
    answer: Answer | None = None
    error: str | None = None
    stopped: bool = False
    seconds: float | None = None
    first_token: float | None = None
    how: str = ""  # the settings it was asked with, in plain words
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


@dataclass
class Asking:
    """A question being answered in the background."""

    collection: str
    question: str
    how: str
    job: Job[Answer]


@dataclass
class Adding:
    """Documents being added to a collection in the background."""

    collection: str
    what: str  # "3 uploaded files", "the folder /src/project"
    job: Job[Added]


def _get(key: str, default: Any) -> Any:
    if key not in st.session_state:
        st.session_state[key] = default
    return st.session_state[key]


def base_settings() -> Settings:
    """Defaults, the TOML file and ``LONGQA_*`` variables: what the settings widgets start from."""
    return load_settings()


def collections() -> Collections:
    return Collections.from_environment()


def chat(collection: str) -> list[Message]:
    chats: dict[str, list[Message]] = _get("chats", {})
    return chats.setdefault(collection, [])


def asking() -> Asking | None:
    return st.session_state.get("asking")


def set_asking(value: Asking | None) -> None:
    st.session_state["asking"] = value


def adding() -> Adding | None:
    return st.session_state.get("adding")


def set_adding(value: Adding | None) -> None:
    st.session_state["adding"] = value


def last_added() -> tuple[str, str, Added | None, str | None] | None:
    """The last finished add: (collection, what, result, error)."""
    return st.session_state.get("added")


def set_last_added(value: tuple[str, str, Added | None, str | None] | None) -> None:
    st.session_state["added"] = value


def uploader_key() -> str:
    return f"uploads-{_get('uploader_round', 0)}"


def clear_uploader() -> None:
    st.session_state["uploader_round"] = _get("uploader_round", 0) + 1


def notice(kind: Literal["error", "success"], text: str) -> None:
    """A message for the next run to show once (callbacks cannot draw)."""
    st.session_state["notice"] = (kind, text)


def pop_notice() -> tuple[str, str] | None:
    return st.session_state.pop("notice", None)


def current_collection(known: list[Collection]) -> Collection | None:
    """The selected collection, if it still exists (another tab may have deleted it)."""
    name = st.session_state.get(COLLECTION_KEY)
    return next((c for c in known if c.name == name), None)
