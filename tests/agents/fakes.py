"""Scripted chat models for the agents' unit tests, built on langchain-core's fake chat models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from agents.models.backends import Backend
from ingest.tokens import count_tokens


class ScriptedChat(GenericFakeChatModel):
    """langchain-core's GenericFakeChatModel that also records every prompt it receives and can
    answer through a function of the prompt (for calls whose order is not fixed, like the judge)."""

    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    reply: Callable[[list[BaseMessage]], str] | None = None
    messages: Any = Field(default_factory=lambda: iter(()))

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        if is_short(messages):  # the short-answer side call: its first words, off the script
            answer = str(messages[-1].content).split("\nAnswer: ", 1)[1].split("\n\n", 1)[0]
            return ChatResult(generations=[ChatGeneration(message=AIMessage(" ".join(answer.split()[:3])))])
        self.prompts.append(messages)
        if self.reply is not None:
            self.messages = iter([AIMessage(content=self.reply(messages))])
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def texts(self) -> list[str]:
        """Each recorded prompt's human message."""
        return [str(m[-1].content) for m in self.prompts]


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
