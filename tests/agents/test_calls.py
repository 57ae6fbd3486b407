"""Caller.call's deadline: a model that does not answer in time is abandoned with one line, a
long call on a slow model gets three times its estimate, and a stop from the caller ends it."""

from __future__ import annotations

import threading
import time

import pytest
from langchain_core.messages import BaseMessage, HumanMessage

from agents.answer import Trace
from agents.models.calls import Caller
from agents.models.speeds import Speed
from core.errors import LongqaError
from tests.agents.fakes import scripted


def _sleeping(seconds: float, release: threading.Event | None = None):
    def reply(messages: list[BaseMessage]) -> str:
        if release is not None:
            release.wait(seconds)
        else:
            time.sleep(seconds)
        return "The answer is 42 [S1]."

    return reply


def test_a_model_that_does_not_answer_in_time_is_abandoned_with_one_line() -> None:
    release = threading.Event()
    _, backend = scripted(reply=_sleeping(30, release))
    backend.timeout = 0.5
    backend.prior = Speed(prefill=1e6, decode=1e6)  # estimated to take no time: the timeout holds
    started = time.monotonic()
    try:
        with pytest.raises(LongqaError) as error:
            Caller(backend, Trace()).call("answer", [HumanMessage("What is the answer?")])
    finally:
        release.set()
    assert time.monotonic() - started < 2.0
    assert str(error.value) == (
        "model test:scripted gave no answer within 0.5 s; raise --timeout if it is just slow"
    )


def test_a_long_call_on_a_slow_model_gets_three_times_its_estimate() -> None:
    _, backend = scripted(reply=_sleeping(0.6))
    backend.timeout = 0.3
    question = [HumanMessage("What is the answer? " * 20)]
    prompt = backend.count_prompt(question)
    backend.prior = Speed(prefill=prompt / 0.4, decode=1e6)  # an estimated 0.4 s: 1.2 s allowed
    assert backend.deadline(prompt, 16) == pytest.approx(1.2, rel=0.05)
    assert backend.deadline(1, 16) == 0.3  # a short call still gets the timeout
    result = Caller(backend, Trace()).call("answer", question, max_tokens=16)
    assert result.text == "The answer is 42 [S1]."


def test_a_stop_raised_by_the_token_sink_ends_the_call() -> None:
    class Stop(BaseException):
        pass

    _, backend = scripted(["one two three four five"])
    seen: list[str] = []

    def sink(token: str) -> None:
        seen.append(token)
        raise Stop

    with pytest.raises(Stop):
        Caller(backend, Trace()).call("answer", [HumanMessage("count")], on_token=sink)
    assert seen == ["one"]


def test_a_failing_model_is_one_line_naming_it() -> None:
    def broken(messages: list[BaseMessage]) -> str:
        raise RuntimeError("tensor on fire\nsecond line")

    _, backend = scripted(reply=broken)
    with pytest.raises(LongqaError) as error:
        Caller(backend, Trace()).call("answer", [HumanMessage("hello")])
    assert str(error.value) == "the call to model test:scripted failed: RuntimeError: tensor on fire"
