"""Stopping an answer that loops: a line a third time, a stretch of words three times in a row."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage

from agents.answer import Trace
from agents.models.calls import Caller
from agents.models.repetition import RepetitionCut
from tests.agents.fakes import scripted

FUNCTIONS = [f"- `{name}(obj, fp)` writes JSON [S{i}]" for i, name in enumerate("abcdefg", 1)]


def fed(text: str, step: int = 3) -> RepetitionCut:
    cut = RepetitionCut()
    for i in range(0, len(text), step):
        if cut.feed(text[i : i + step]):
            break
    return cut


def test_a_list_that_starts_over_is_cut_where_its_second_copy_began() -> None:
    answer = "The module defines:\n" + "\n".join(FUNCTIONS) + "\n"
    looping = answer + "\n".join(FUNCTIONS[4:] * 5) + "\n"
    cut = fed(looping)
    assert cut.kept == answer.rstrip()
    assert "came a third time" in cut.reason
    assert len(cut.text) < len(looping)  # it stopped reading before the end


def test_a_stretch_repeating_within_a_line_keeps_its_first_copy() -> None:
    looping = "Use --sort-keys" + ", and the indent flag" * 7
    cut = fed(looping, step=2)
    assert cut.kept == "Use --sort-keys, and the indent flag"
    assert "came three times in a row" in cut.reason


@pytest.mark.parametrize(
    "text",
    [
        "\n".join(FUNCTIONS) + "\n",  # a list without repeats
        "The answer is 64 MB [S1].\nThe answer is 64 MB [S1].\n",  # a line twice is not a loop
        "```\n}\n}\n}\n```\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",  # code and tables
        "def f():\n    return x\n\ndef g():\n    return x\n\ndef h():\n    return x\n",  # short lines
        "=" * 200,  # no words
    ],
)
def test_text_that_does_not_loop_is_kept_whole(text: str) -> None:
    cut = fed(text)
    assert cut.cut_at is None and cut.kept == text and cut.reason == ""


def test_a_call_stops_reading_a_looping_model_and_says_so() -> None:
    line = "The encoder escapes forward slashes when asked [S1]."
    _, backend = scripted(["\n".join([line] * 40)])
    streamed: list[str] = []
    trace = Trace()
    result = Caller(backend, trace).call("answer", [HumanMessage("How?")], on_token=streamed.append)
    assert result.text == line
    assert len("".join(streamed)) < 3 * len(line) + 3 * 10  # the model was not read to its end
    assert trace.events == [
        "answer: stopped an answer that repeated itself (the line "
        "'the encoder escapes forward slashes when asked [s1].' came a third time)"
    ]
    assert trace.calls[0].completion_tokens > 0
