"""``longqa serve`` over real HTTP: uvicorn on a free port of 127.0.0.1 (or 127.0.0.2) in a thread
of this process, a scripted model selected by its ``fake:`` spec, real embeddings and FAISS, and
httpx (or the openai client) talking to it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from app.http.server import config, guarded, listen
from app.services.collections import Collections
from app.settings import Settings
from tests.agents.fakes import registered
from tests.ui.documents import QUESTION, first_pages
from tests.ui.replies import reply

TIMEOUT = 120.0  # the first ingest of a session loads (or exports) the embedding model


@dataclass
class Running:
    """A server: its base URL, the app behind the guard, and uvicorn."""

    url: str
    app: Any
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def settings(self) -> Settings:
        return self.app.app.state.served.settings


def start(settings: Settings, host: str = "127.0.0.1", token: str | None = None) -> Running:
    app = guarded(settings, Collections(settings.collections), host, token)
    sock = listen(host, 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(config(app, host, port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    return Running(f"http://{host}:{port}", app, server, thread)


def stop(running: Running) -> None:
    running.server.should_exit = True
    running.thread.join(15)
    assert not running.thread.is_alive(), "uvicorn did not stop"


@pytest.fixture(scope="session")
def intro_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first two pages of examples/fasta_guide.pdf."""
    return first_pages(tmp_path_factory.mktemp("pdf") / "fasta_intro.pdf")


@pytest.fixture
def model_spec() -> str:
    """A scripted model that cites the evidence sentence best matching the question."""
    return registered(reply=lambda messages: reply(str(messages[-1].content)))[1]


@pytest.fixture
def settings(tmp_path: Path, model_spec: str) -> Settings:
    return Settings(model=model_spec, collections=tmp_path / "collections", prefix_cache_gb=0)


@pytest.fixture
def serve(settings: Settings) -> Iterator[Callable[..., Running]]:
    """Start servers (the test's settings unless others are given); all stopped at the end."""
    started: list[Running] = []

    def run(chosen: Settings | None = None, host: str = "127.0.0.1", token: str | None = None) -> Running:
        started.append(start(chosen or settings, host, token))
        return started[-1]

    yield run
    for running in started:
        stop(running)


@pytest.fixture
def api(serve: Callable[..., Running]) -> Iterator[httpx.Client]:
    """An httpx client of a server on 127.0.0.1 with the test's settings."""
    with httpx.Client(base_url=serve().url, timeout=TIMEOUT) as client:
        yield client


def finished(client: httpx.Client, accepted: httpx.Response) -> dict[str, Any]:
    """The job a 202 answer started, once it has ended."""
    assert accepted.status_code == 202, accepted.text
    poll = accepted.json()["poll"]
    deadline = time.monotonic() + TIMEOUT
    while True:
        job = client.get(poll).json()
        if job["state"] != "running":
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def upload(client: httpx.Client, name: str, *files: tuple[str, bytes], warm: bool = False) -> httpx.Response:
    return client.post(
        f"/collections/{name}/documents",
        files=[("files", (filename, data, "application/octet-stream")) for filename, data in files],
        data={"warm": "true"} if warm else None,
    )


@pytest.fixture
def papers(api: httpx.Client, intro_pdf: Path) -> str:
    """A collection "papers" holding the intro PDF, added over HTTP."""
    assert api.post("/collections", json={"name": "papers"}).status_code == 201
    job = finished(api, upload(api, "papers", (intro_pdf.name, intro_pdf.read_bytes())))
    assert job["state"] == "done", job
    return "papers"


__all__ = ["QUESTION", "Running", "finished", "start", "stop", "upload"]
