"""``fake:NAME``: a scripted chat model, selected by spec like any other model.

Where a test (or a demo without a model) needs a model, it registers a script under a name and
selects ``fake:NAME`` — in settings, on the command line, in the UI — so the script plugs in where
real models plug in (``load_backend``, the app's wiring, every command), instead of the app's
functions being replaced. A script answers from a list of replies in order, or from a function
of the prompt, and records every prompt it was sent. Built on langchain-core's
``GenericFakeChatModel``, so it streams like a real model.

One script is built in: ``fake:cite`` answers every prompt with the first sentence of the first
``[S#]`` block it was shown, cited (a pipeline's smoke test with no model to run).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import Field

from core.errors import LongqaError

Reply = Callable[[list[BaseMessage]], str]


class FakeChat(GenericFakeChatModel):
    """langchain-core's ``GenericFakeChatModel`` that records every prompt it receives and can
    answer through a function of the prompt (for calls whose order is not fixed, like a judge's)."""

    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    reply: Reply | None = None
    messages: Any = Field(default_factory=lambda: iter(()))

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        self.prompts.append(messages)
        if self.reply is not None:
            self.messages = iter([AIMessage(content=self.reply(messages))])
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def texts(self) -> list[str]:
        """Each recorded prompt's last message."""
        return [str(m[-1].content) for m in self.prompts]


def scripted_chat(replies: list[str] | None = None, reply: Reply | None = None) -> FakeChat:
    """A fake chat model answering ``replies`` in order, or ``reply(prompt)`` to each prompt."""
    return FakeChat(messages=iter(AIMessage(content=r) for r in (replies or [])), reply=reply)


_BLOCK = re.compile(r"^\[S(\d+)\][^\n]*\n(.+?)(?:[.!?](?=\s)|\n\n|$)", re.MULTILINE | re.DOTALL)


def cite_first_block(messages: list[BaseMessage]) -> str:
    """The first sentence of the first ``[S#]`` block of the prompt, with its marker."""
    found = _BLOCK.search(str(messages[-1].content))
    if found is None:
        return "The documents do not say."
    return f"{' '.join(found.group(2).split())}. [S{found.group(1)}]"


Factory = Callable[[], GenericFakeChatModel]
_SCRIPTS: dict[str, tuple[Factory, int]] = {}
_LOCK = threading.Lock()


def register(name: str, chat: GenericFakeChatModel | Factory, window: int = 8192) -> None:
    """Make ``fake:NAME`` load ``chat`` (one model, shared by every load) or what the factory
    ``chat()`` makes (a fresh one per load), with a ``window``-token context."""
    if isinstance(chat, GenericFakeChatModel):
        model = chat

        def factory() -> GenericFakeChatModel:
            return model
    else:
        factory = chat
    with _LOCK:
        _SCRIPTS[name] = (factory, window)


def unregister(name: str) -> None:
    with _LOCK:
        _SCRIPTS.pop(name, None)


def load(name: str) -> tuple[GenericFakeChatModel, int]:
    """The chat model ``fake:NAME`` names and its window; a one-line error for an unknown name."""
    with _LOCK:
        found = _SCRIPTS.get(name)
    if found is None:
        known = ", ".join(f"fake:{n}" for n in sorted(_SCRIPTS))
        raise LongqaError(f"no scripted model named {name!r} (registered: {known})")
    factory, window = found
    return factory(), window


register("cite", lambda: scripted_chat(reply=cite_first_block))
