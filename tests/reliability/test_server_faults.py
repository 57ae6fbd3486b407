"""A model server that misbehaves: refused connections, HTTP 500, a body that is not a chat
completion stream, a request accepted and never answered, an answer that stops in the middle.

A fault-injecting OpenAI-compatible server (stdlib, on 127.0.0.1, in a thread) answers
``/v1/models`` so the backend loads, then misbehaves on ``/v1/chat/completions``. Each case
must end in one LongqaError line that names the server, within the deadline plus slack.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from langchain_core.messages import HumanMessage

from agents.answer import Trace
from agents.models.backends import Backend, load_backend
from agents.models.calls import Caller
from core.errors import LongqaError

TIMEOUT = 2.0  # the backend's timeout: each bad call must fail well within 3× this
_LONGEST_HANG = 20.0  # no handler thread outlives this, whatever happens to the test


def _chunk(text: str) -> bytes:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "faulty",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


class FaultyServer(ThreadingHTTPServer):
    """Serves ``/v1/models``; misbehaves on chat completions as ``mode`` says."""

    daemon_threads = True

    def __init__(self, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = mode
        self.stopping = threading.Event()
        self.chat_requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: FaultyServer
    timeout = _LONGEST_HANG  # a socket read never blocks a handler thread for longer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/v1/models":
            self._send(200, json.dumps({"object": "list", "data": [{"id": "faulty"}]}).encode())
        else:
            self._send(404, b'{"error": "not found"}')

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path != "/v1/chat/completions":
            self._send(404, b'{"error": "not found"}')
            return
        self.server.chat_requests += 1
        mode = self.server.mode
        if mode == "500":
            self._send(500, b'{"error": {"message": "the GPU caught fire", "type": "server_error"}}')
        elif mode == "garbage":
            self._send(200, b"<html><body>\x00\xff not JSON, not SSE {{{</body></html>", "text/html")
        elif mode == "text":
            self._send(200, b"Service temporarily moved. Have a nice day.\n", "text/plain")
        elif mode == "bad-json":
            self._send(200, b"data: {not json at all\n\n", "text/event-stream")
        elif mode == "hang":
            self.server.stopping.wait(_LONGEST_HANG)  # the request was accepted; no answer comes
        elif mode == "midstream":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in ("The ", "answer ", "is "):
                self.wfile.write(_chunk(word))
                self.wfile.flush()
            self.server.stopping.wait(_LONGEST_HANG)  # then silence, the connection held open
        self.close_connection = True


@pytest.fixture
def faulty() -> Iterator[Callable[[str], FaultyServer]]:
    servers: list[FaultyServer] = []

    def start(mode: str) -> FaultyServer:
        server = FaultyServer(mode)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stopping.set()
        server.shutdown()
        server.server_close()


def _backend(url: str) -> Backend:
    return load_backend(f"openai:{url}", timeout=TIMEOUT, context_window=4096, answer_tokens=32)


def _failure(backend: Backend) -> tuple[str, float]:
    """The one line a chat call through the Caller fails with, and how long it took."""
    started = time.monotonic()
    with pytest.raises(LongqaError) as error:
        Caller(backend, Trace()).call("answer", [HumanMessage("What is the answer?")])
    return str(error.value), time.monotonic() - started


def _assert_one_clear_line(message: str, url: str) -> None:
    assert "\n" not in message and message.strip() == message
    assert url.removesuffix("/v1").removeprefix("http://") in message
    assert "unexpected" not in message.lower() and "Traceback" not in message


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("500", "answered HTTP 500"),
        ("garbage", "not a chat completion stream"),
        ("text", "not a chat completion stream"),
        ("bad-json", "not a chat completion stream"),
        ("hang", f"gave no answer within {TIMEOUT:.0f} s; raise --timeout if it is just slow"),
        ("midstream", f"stopped in the middle of its answer and gave no more within {TIMEOUT:.0f} s"),
    ],
)
def test_a_misbehaving_server_is_one_line_within_the_deadline(faulty, mode: str, says: str) -> None:
    server = faulty(mode)
    backend = _backend(server.url)
    message, seconds = _failure(backend)
    _assert_one_clear_line(message, server.url)
    assert says in message
    assert seconds < 3 * TIMEOUT
    assert server.chat_requests == 1  # no retry that would outlive the deadline


def test_a_server_that_goes_away_after_loading_is_one_line(faulty) -> None:
    server = faulty("500")
    backend = _backend(server.url)
    server.shutdown()
    server.server_close()  # the port is closed now: connections are refused
    message, seconds = _failure(backend)
    _assert_one_clear_line(message, server.url)
    assert "not reachable: connection refused" in message
    assert seconds < 3 * TIMEOUT


def test_a_closed_port_is_refused_at_load_within_the_deadline() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    started = time.monotonic()
    with pytest.raises(LongqaError) as error:
        _backend(url)
    message = str(error.value)
    _assert_one_clear_line(message, url)
    assert "connection refused" in message
    assert time.monotonic() - started < 3 * TIMEOUT


def test_a_server_that_never_answers_its_model_list_is_given_up_within_the_timeout(faulty) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # connections are accepted by the kernel; nothing ever answers
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    try:
        started = time.monotonic()
        with pytest.raises(LongqaError) as error:
            _backend(url)
        seconds = time.monotonic() - started
    finally:
        listener.close()
    message = str(error.value)
    _assert_one_clear_line(message, url)
    assert f"gave no answer within {TIMEOUT:g} s" in message
    assert seconds < 3 * TIMEOUT


def test_a_server_that_goes_silent_mid_stream_is_cut_by_the_no_progress_limit(faulty) -> None:
    """Once a server streams, the no-progress limit runs between two chunks: a silence longer than
    it ends the call with its own line, well before the total deadline."""
    server = faulty("midstream")
    backend = load_backend(
        f"openai:{server.url}", timeout=TIMEOUT, stall_timeout=0.5, context_window=4096, answer_tokens=32
    )
    message, seconds = _failure(backend)
    _assert_one_clear_line(message, server.url)
    assert "made no progress for 0.5 s in the middle of its answer; raise --stall-timeout" in message
    assert seconds < TIMEOUT
