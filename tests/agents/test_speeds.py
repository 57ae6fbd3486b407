"""Measured speeds: a reused KV prefix, an outlier or a poisoned file must not mislead the router."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.outputs import ChatGenerationChunk

from agents.answer import Trace
from agents.backends import Backend
from agents.calls import Caller
from agents.speeds import Speed, SpeedBook

PRIOR = Speed(prefill=90, decode=30)


def test_speeds_move_towards_measurements_and_persist(tmp_path: Path) -> None:
    book = SpeedBook(tmp_path / "speeds.json")
    book.record("m", PRIOR, prompt_tokens=1000, completion_tokens=31, first_token_seconds=10, seconds=11)
    speed = SpeedBook(tmp_path / "speeds.json").get("m", PRIOR)
    assert speed.prefill == 90 + 0.3 * (100 - 90) and speed.decode == 30 + 0.3 * (30 - 30)
    assert speed.calls == 1


def test_one_outlier_moves_the_estimate_a_bounded_step() -> None:
    book = SpeedBook(None)
    # a prompt answered from cache in 5 ms reads as 200,000 tokens/s
    book.record("m", PRIOR, prompt_tokens=1000, completion_tokens=0, first_token_seconds=0.005, seconds=0.005)
    assert book.get("m", PRIOR).prefill == 90 + 0.3 * (90 * 4 - 90)


def test_an_implausible_kept_speed_is_discarded(tmp_path: Path) -> None:
    path = tmp_path / "speeds.json"
    path.write_text('{"m": {"prefill": 19706.3, "decode": 24.8, "calls": 111}}')
    assert SpeedBook(path).get("m", PRIOR) == Speed(90, 30)
    path.write_text('{"m": {"prefill": 120.0, "decode": 24.8, "calls": 111}}')
    assert SpeedBook(path).get("m", PRIOR).prefill == 120.0


class CachedPrefixChat(GenericFakeChatModel):
    """Answers at once, saying that all but 100 of its 5000 prompt tokens came from its KV cache."""

    def _stream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        yield ChatGenerationChunk(message=AIMessageChunk(content="ok"))
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata={
                    "input_tokens": 5000,
                    "output_tokens": 1,
                    "total_tokens": 5001,
                    "input_token_details": {"cache_read": 4900},
                },
            )
        )


def test_a_reused_prefix_is_not_counted_as_prefilled() -> None:
    chat = CachedPrefixChat(messages=iter([AIMessage(content="ok")]))
    backend = Backend.wrap(chat, context_window=8192, spec="m")
    backend.prior = PRIOR
    recorded: list[tuple[int, ...]] = []
    backend.speeds.record = lambda spec, prior, *figures: recorded.append(figures)  # type: ignore[method-assign]
    Caller(backend, Trace()).call("answer", [HumanMessage(content="q")])
    assert recorded and recorded[0][0] == 100  # 5000 prompt tokens, 4900 of them cached
