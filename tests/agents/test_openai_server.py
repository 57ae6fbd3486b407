"""The OpenAI-compatible backend against a real server: llama.cpp's OpenAI-compatible server on
127.0.0.1 with a packaged model, which speaks the same protocol as `vllm serve`."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from agents.answer import Trace
from agents.evidence.corpus import Corpus
from agents.models.backends import load_backend
from agents.models.calls import Caller
from agents.models.gguf import model_path
from agents.models.llamacpp import ChatLlamaCpp
from core.errors import LongqaError
from tests.agents.asking import ask_streaming

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, subprocess.Popen]]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from agents.models.llamacpp_params import serve; serve()",
            "--model",
            str(model_path("tiny")),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("llama.cpp's server did not start within 90 s")
    yield url, process
    process.terminate()
    process.wait(timeout=30)


def test_a_server_that_does_not_report_its_window_needs_the_flag(server) -> None:
    url, _ = server
    with pytest.raises(LongqaError, match="does not report its context window; pass --context-window N"):
        load_backend(f"openai:{url}")


def test_tokens_are_counted_by_the_server_itself(server) -> None:
    url, _ = server
    backend = load_backend(f"openai:{url}", context_window=4096)
    local = ChatLlamaCpp(model_path=str(model_path("tiny")), n_ctx=512)
    text = "Gutenprint supports over 1500 printer models; escputil -i reports ink levels."
    assert backend.exact_counts
    assert backend.count_text(text) == local.count_tokens(text)
    assert backend.description.endswith(f"at {url}")


def test_asking_through_the_server_streams_and_records_cost(server, small_corpus: Corpus) -> None:
    url, _ = server
    backend = load_backend(f"openai:{url}", context_window=4096, answer_tokens=64)
    answer, first = ask_streaming(backend, small_corpus, answer_tokens=64)
    assert first.prompt_tokens + 64 <= 4096
    assert all(c.support is None or 0.0 <= c.support <= 1.0 for c in answer.citations)


def test_a_server_that_goes_away_gives_one_line(server) -> None:
    url, process = server
    from langchain_core.messages import HumanMessage

    backend = load_backend(f"openai:{url}", context_window=4096, answer_tokens=16, timeout=5)
    messages = [HumanMessage("hello")]
    backend.count_prompt(messages)  # counted while the server was up: the call itself must fail well
    process.terminate()
    process.wait(timeout=30)
    with pytest.raises(LongqaError) as error:
        Caller(backend, Trace()).call("answer", messages)
    message = str(error.value)
    assert "\n" not in message
    assert "not reachable" in message and url.removesuffix("/v1") in message
