"""Scripted chat models for the agents' unit tests, built on langchain-core's fake chat models."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from agents.models.backends import Backend
from agents.models.fake import FakeChat, register
from ingest.tokens import count_tokens


class ScriptedChat(FakeChat):
    """The product's scripted model (``agents.models.fake``), which also answers the short-answer
    side call off the script (its first words), so scripts hold the calls a test is about."""

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        if is_short(messages):
            answer = str(messages[-1].content).split("\nAnswer: ", 1)[1].split("\n\n", 1)[0]
            return ChatResult(generations=[ChatGeneration(message=AIMessage(" ".join(answer.split()[:3])))])
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


_names = itertools.count(1)


def registered(
    replies: list[str] | None = None,
    reply: Callable[[list[BaseMessage]], str] | None = None,
    window: int = 8192,
) -> tuple[ScriptedChat, str]:
    """A scripted chat model registered as a ``fake:`` spec of its own (selected like any model
    spec: in settings, with ``--model``), and that spec."""
    chat = ScriptedChat(messages=iter(AIMessage(content=r) for r in (replies or [])), reply=reply)
    name = f"test-{next(_names)}"
    register(name, chat, window=window)
    return chat, f"fake:{name}"


def scripted(
    replies: list[str] | None = None,
    reply: Callable[[list[BaseMessage]], str] | None = None,
    window: int = 8192,
    answer_tokens: int = 256,
) -> tuple[ScriptedChat, Backend]:
    chat = ScriptedChat(messages=iter(AIMessage(content=r) for r in (replies or [])), reply=reply)
    backend = Backend.wrap(
        chat,
        context_window=window,
        spec="test:scripted",
        count_text=count_tokens,
        answer_tokens=answer_tokens,
    )
    return chat, backend


def is_short(messages: list[BaseMessage]) -> bool:
    return "Write only the key value or phrase" in str(messages[-1].content)


def is_judge(messages: list[BaseMessage]) -> bool:
    """A support judge's call: its yes/no, or its cloze step (``agents.verify.support``), which a scripted
    "yes" or "no" answers with no fact, so that the cloze vetoes nothing."""
    return is_yes_no(messages) or is_cloze(messages)


def is_yes_no(messages: list[BaseMessage]) -> bool:
    return "Does the passage support the claim?" in str(messages[-1].content)


def is_cloze(messages: list[BaseMessage]) -> bool:
    return "Sentence with a blank:" in str(messages[-1].content)
