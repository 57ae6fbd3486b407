"""Measured speeds: a reused KV prefix, an outlier or a poisoned file must not mislead the router."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.outputs import ChatGenerationChunk

from agents.answer import Trace
from agents.models.backends import Backend
from agents.models.calls import Caller
from agents.models.speeds import Speed, SpeedBook

PRIOR = Speed(prefill=90, decode=30)


def test_speeds_move_towards_measurements_and_persist(tmp_path: Path) -> None:
    book = SpeedBook(tmp_path / "speeds.json")
    book.record("m", PRIOR, prompt_tokens=1000, completion_tokens=31, first_token_seconds=10, seconds=11)
    speed = SpeedBook(tmp_path / "speeds.json").get("m", PRIOR)
    assert speed.prefill == 90 + 0.3 * (100 - 90) and speed.decode == 30 + 0.3 * (30 - 30)
    assert speed.calls == 1


def test_loading_a_prefix_state_is_timed_and_learnt(tmp_path: Path) -> None:
    book = SpeedBook(tmp_path / "speeds.json")
    default = book.get("m", PRIOR).load
    # 890 MB from the file cache in 0.25 s, far faster than the cautious default
    book.record_load("m", PRIOR, state_bytes=890e6, seconds=0.25)
    learnt = SpeedBook(tmp_path / "speeds.json").get("m", PRIOR).load
    assert learnt == default + 0.3 * (min(890e6 / 0.25, default * 4) - default)
    book.record_load("m", PRIOR, state_bytes=1000, seconds=0.0)  # nothing to time: ignored
    assert book.get("m", PRIOR).load == learnt
    assert book.get("m", PRIOR).load_seconds(890e6) < 890e6 / default


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
    recorded: list[tuple[tuple[int, ...], dict]] = []
    backend.speeds.record = lambda spec, prior, *figures, **named: recorded.append((figures, named))  # type: ignore[method-assign]
    trace = Trace()
    Caller(backend, trace).call("answer", [HumanMessage(content="q")])
    figures, named = recorded[0]
    assert figures[0] == 100 and named == {"past_tokens": 4900, "kind": "answer"}  # 4900 of 5000 cached
    assert trace.calls[0].cached_tokens == 4900 and trace.calls[0].estimated_seconds is not None


def test_reading_slows_down_as_the_context_grows() -> None:
    speed = Speed(prefill=100, decode=20, slowdown=0.2)
    # 14,000 tokens read from scratch see an average context of 7,000: 2.4 times the short-context time
    assert speed.prefill_seconds(14_000) == (14_000 + 0.2 * 14_000 * 7_000 / 1000) / 100
    # the same 200 tokens cost more after 14,000 cached tokens than at the start
    assert speed.prefill_seconds(200, past_tokens=14_000) > 3 * speed.prefill_seconds(200)
    # a cached prefix costs only its load and the context it adds to the rest
    cached = speed.seconds(14_200, 100, cached_tokens=14_000, cached_bytes=400e6)
    assert cached < speed.seconds(14_200, 100) / 5


def test_the_slowdown_is_fitted_once_samples_span_short_and_long_contexts() -> None:
    machine = Speed(prefill=70, decode=18, slowdown=0.25)  # what this "machine" really does
    book = SpeedBook(None)
    prior = Speed(prefill=200, decode=40)  # a prior that is wrong on both counts
    for new, past in [(800, 0), (3000, 0), (300, 12_000), (9000, 0), (500, 6000), (16_000, 0)]:
        first = machine.prefill_seconds(new, past)
        written = 100
        book.record(
            "m",
            prior,
            new,
            written,
            first,
            first + machine.decode_seconds(written - 1, new + past),
            past_tokens=past,
        )
    fitted = book.get("m", prior)
    assert abs(fitted.prefill - 70) < 1 and abs(fitted.slowdown - 0.25) < 0.01
    assert abs(fitted.decode - 18) < 1
    assert abs(fitted.prefill_seconds(14_000) - machine.prefill_seconds(14_000)) < 5


def test_samples_from_short_contexts_only_keep_the_prior_slowdown(tmp_path: Path) -> None:
    book = SpeedBook(tmp_path / "speeds.json")
    prior = Speed(prefill=90, decode=30, slowdown=0.3)
    for _ in range(6):
        book.record("m", prior, 1000, 31, 1000 * 1.15 / 90, 1000 * 1.15 / 90 + 1.0)
    kept = SpeedBook(tmp_path / "speeds.json").get("m", prior)
    assert kept.slowdown == 0.3 and 85 < kept.prefill < 95


def test_how_long_answers_usually_are_is_learnt_per_kind() -> None:
    book = SpeedBook(None)
    for _ in range(12):
        book.record("m", PRIOR, 40, 30, 0.5, 1.5, past_tokens=19_000, kind="answer")
    speed = book.get("m", PRIOR)
    assert abs(speed.writes("answer") - 30) < 2  # answers here are short: the estimate follows
    assert speed.writes("notes") == 60.0  # nothing measured yet: the default
    assert len(speed.samples) == 12  # a cached call is a sample too (reading after 19,000 tokens)
