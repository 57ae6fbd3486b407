"""A busy machine makes an answer slower, never an error: a call that keeps progressing is never
cut, one that goes silent is (with its own line), and a long read cut short keeps what it read."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from agents.answer import Trace
from agents.models import watch
from agents.models.backends import Backend
from agents.models.calls import Caller
from agents.models.facts import Abandoned
from agents.models.fake import FakeChat
from agents.models.gguf import PACKAGED, model_path
from agents.models.llamacpp import ChatLlamaCpp
from agents.models.prefix_cache import PrefixCache
from core.errors import LongqaError
from ingest.tokens import count_tokens

ROOT = Path(__file__).resolve().parents[2]


class Throttled(FakeChat):
    """A backend on a machine busy with other work: it reads the prompt a slice at a time, slowly,
    saying how far it is after each slice, and then answers."""

    pauses: list[float] = [0.3] * 6

    def _stream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        report = kwargs.pop("on_progress", None)
        total = 100 * len(self.pauses)
        for i, pause in enumerate(self.pauses, 1):
            time.sleep(pause)
            if report is not None:
                report(100 * i, total)
        yield from super()._stream(messages, stop=stop, run_manager=run_manager, **kwargs)


def throttled(pauses: list[float], stall: float) -> tuple[Throttled, Backend]:
    chat = Throttled(messages=iter([]), reply=lambda m: "It needs 50 MB. [S1]", pauses=pauses)
    backend = Backend.wrap(
        chat, context_window=4096, spec="fake:throttled", count_text=count_tokens, timeout=0.5
    )
    backend.reports_progress, backend.stall_timeout = True, stall
    return chat, backend


def test_a_slow_call_that_keeps_progressing_is_never_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "ETA_EVERY", 0.25)
    _, backend = throttled([0.3] * 6, stall=1.0)
    said: list[str] = []
    caller = Caller(backend, Trace(), on_status=said.append)
    started = time.perf_counter()
    result = caller.call("answer", [HumanMessage("How much disk space?")])
    took = time.perf_counter() - started
    assert result.text == "It needs 50 MB. [S1]"
    assert took > 2 * backend.deadline(10, 16)  # well past the total deadline a server would get
    assert said and all(line.startswith("reading the prompt: ") and "s left" in line for line in said)
    assert "of 600 tokens, about" in said[-1]


def test_a_call_that_goes_silent_is_cut_by_the_no_progress_limit() -> None:
    _, backend = throttled([0.1, 0.1, 3.0], stall=0.6)
    started = time.perf_counter()
    with pytest.raises(LongqaError) as error:
        Caller(backend, Trace()).call("answer", [HumanMessage("How much disk space?")])
    assert time.perf_counter() - started < 2.0
    assert str(error.value) == (
        "model fake:throttled made no progress for 0.6 s while reading the prompt; raise "
        "--stall-timeout if the machine is just busy"
    )


# ------------------------------------------------------------------ the real llama.cpp model

WORDS = (ROOT / "examples" / "README.md").read_text().split()
DOCS = "<documents>\n" + " ".join((WORDS * 2)[:900]) + "\n</documents>\n\n"


def _chat(cache: PrefixCache | None) -> ChatLlamaCpp:
    return ChatLlamaCpp(
        model_path=str(model_path("tiny")),
        n_ctx=4096,
        max_tokens=8,
        prefix_cache=cache,
        model_sha256=PACKAGED["tiny"].sha256,
    )


def _messages() -> list:
    return [SystemMessage("You answer from the documents."), HumanMessage(f"{DOCS}Question: Which licence?")]


def _ask(chat: ChatLlamaCpp, **options: Any) -> tuple[str, dict]:
    text, metadata = "", {}
    for chunk in chat.stream(_messages(), max_tokens=8, cache_prefix=DOCS, cache_tag="c@1", **options):
        text += str(chunk.content)
        metadata.update(chunk.response_metadata)
    return text, metadata


@pytest.mark.slow
def test_llama_cpp_reports_its_reading_and_an_interrupted_read_is_resumed(tmp_path: Path) -> None:
    cache = PrefixCache(tmp_path / "prefixes")
    seen: list[tuple[int, int]] = []

    def stop_after_two_slices(done: int, total: int) -> None:
        seen.append((done, total))
        if done >= 1024:
            raise Abandoned

    with pytest.raises(Abandoned):
        _ask(_chat(cache), on_progress=stop_after_two_slices)
    assert [done for done, _ in seen] == [0, 512, 1024]
    assert seen[0][1] > 2000  # the whole prompt's size
    assert cache.stats().entries == 1  # the part read, kept

    text, again = _ask(_chat(cache), on_progress=lambda done, total: seen.append((done, total)))
    prefix = again["prefix"]
    assert prefix["loaded_tokens"] == 1024 and prefix["computed_tokens"] == prefix["prefix_tokens"] - 1024
    assert seen[-1][0] == seen[-1][1] - 1  # read to the last token, which the completion reads
    assert cache.stats().entries == 2  # the whole prefix now, beside its part
    plain = "".join(str(c.content) for c in _chat(None).stream(_messages(), max_tokens=8))
    assert text == plain  # resumed from the kept part, the model reads as if it had read it all


def test_the_eta_follows_the_speed_models_shape_at_this_calls_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading slows as the context grows, and a busy machine reads slower than the quiet speeds
    say: the ETA is the speed model's time for the rest, scaled by how this call has gone so far."""
    from agents.models.facts import Progress
    from agents.models.speeds import Speed

    _, backend = throttled([], stall=60.0)
    backend.prior = Speed(prefill=100, decode=20, slowdown=0.2)  # quiet: 100 tokens/s, slowing
    clock = [0.0]
    monkeypatch.setattr(watch.time, "perf_counter", lambda: clock[0])
    said: list[str] = []
    seen = watch.Watch(backend, 1.0, 0.0, said.append)
    speed = backend.speed
    pace = 2.0  # the machine reads at half its quiet speed
    for done in range(0, 8001, 1000):
        clock[0] = pace * speed.prefill_seconds(done, 0)
        seen.progress(Progress(done, 16000))
    rest = pace * speed.prefill_seconds(8000, 8000)
    assert said[-1] == f"reading the prompt: 8,000 of 16,000 tokens, about {rest:.0f} s left"
    assert rest > clock[0]  # the second half takes longer than the first: the shape
