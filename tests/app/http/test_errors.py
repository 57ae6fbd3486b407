"""Bad input of every kind, over real HTTP: each is answered with its status and the one line the
CLI prints for it (``{"error": line}``), and loses nothing: a refused upload leaves the
collection's files and index exactly as they were."""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.http.state import Served
from app.services.uploads import MB
from app.settings import Settings
from tests.app.http.conftest import Running, finished, upload
from tests.ui.documents import QUESTION

STRATEGIES = "auto, full, rag, coa, baseline, collect (or full_context, retrieve_reason, chain_of_agents)"


def refused(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    line = response.json()["error"]
    assert line == message and "\n" not in line


def zipped(entries: dict[str, bytes]) -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return data.getvalue()


def held(api: httpx.Client, settings: Settings, name: str) -> tuple[Any, ...]:
    """Everything a failed request must leave as it was: the files, the documents, the chunks."""
    files = settings.collections / name / "files"
    tree = sorted((p.relative_to(files).as_posix(), p.read_bytes()) for p in files.rglob("*") if p.is_file())
    shown = api.get(f"/collections/{name}").json()
    return tree, shown["documents"], shown["chunks"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"question": ""}, "type a question first"),
        ({"question": "   "}, "type a question first"),
        (
            {"question": QUESTION, "strategy": "fast"},
            f"setting strategy: unknown strategy 'fast': use {STRATEGIES}",
        ),
        (
            {"question": QUESTION, "prefer": "now"},
            "setting prefer: unknown preference 'now': use quality, balanced, cost",
        ),
        ({}, "question: field required"),
        ({"question": QUESTION, "colour": "red"}, "colour: extra inputs are not permitted"),
        ({"question": 42}, "question: input should be a valid string"),
    ],
)
def test_a_bad_question_is_400_with_its_line(
    api: httpx.Client, papers: str, body: dict, message: str
) -> None:
    refused(api.post(f"/collections/{papers}/ask", json=body), 400, message)


def test_bad_requests_of_every_other_kind_are_400(api: httpx.Client, papers: str) -> None:
    long = api.post(f"/collections/{papers}/ask", json={"question": "why " * 600})
    assert long.status_code == 400 and long.json()["error"].startswith(
        "the question is 2,399 characters long"
    )
    bad_json = api.post(
        f"/collections/{papers}/ask", content=b"{not json", headers={"content-type": "application/json"}
    )
    refused(bad_json, 400, "the request's body is not valid JSON")
    refused(
        api.post(f"/collections/{papers}/search", json={"query": "FASTA", "mode": "fuzzy"}),
        400,
        "unknown search mode 'fuzzy': use hybrid, dense or lexical",
    )
    refused(
        api.post(f"/collections/{papers}/search", json={"query": "FASTA", "k": 0}),
        400,
        "k: input should be greater than or equal to 1",
    )
    refused(
        api.post("/collections", json={"name": "../etc"}),
        400,
        "'../etc' is not a usable name: use letters, digits, spaces, '.', '-' and '_', "
        "starting with a letter or digit",
    )
    assert api.post("/collections", json={"name": "empty"}).status_code == 201
    refused(
        api.post("/collections/empty/ask", json={"question": QUESTION}),
        400,
        "the collection 'empty' is empty: add documents to it first",
    )
    refused(
        api.post("/collections/empty/search", json={"query": "x"}),
        400,
        "the collection 'empty' is empty: add documents to it first",
    )


@pytest.mark.parametrize(
    ("upload_as", "message"),
    [
        (
            ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00" * 64),
            "tool.exe: unsupported file type (.exe files are binary): upload ",
        ),
        (("notes.md", b""), "notes.md: the file is empty"),
        (
            ("evil.zip", zipped({"../escape.md": b"# out"})),
            "evil.zip: entry '../escape.md' would be written outside its folder ('..'); refused",
        ),
        (
            ("broken.zip", b"PK\x03\x04 not really"),
            "broken.zip: not a valid zip file (File is not a zip file)",
        ),
        (("..", b"# x"), "'..': not a usable file name"),
    ],
)
def test_a_refused_upload_is_400_and_leaves_the_collection_as_it_was(
    api: httpx.Client, papers: str, settings: Settings, upload_as: tuple[str, bytes], message: str
) -> None:
    before = held(api, settings, papers)
    good = ("fine.md", b"# Fine\n\nA document that would be accepted on its own.\n")
    response = upload(api, papers, good, upload_as)  # one refused file refuses the whole add
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(message)
    assert held(api, settings, papers) == before
    assert api.get("/jobs").json() == [
        j for j in api.get("/jobs").json() if j["kind"] != "add" or j["state"] == "done"
    ]


def test_unknown_things_are_404(api: httpx.Client, papers: str) -> None:
    for response in (
        api.post("/collections/nope/ask", json={"question": QUESTION}),
        api.post("/collections/nope/search", json={"query": "x"}),
        upload(api, "nope", ("a.md", b"# a")),
        api.get("/collections/nope"),
        api.delete("/collections/nope"),
        api.post("/collections/nope/warm"),
    ):
        refused(response, 404, "no collection named 'nope'")
    refused(api.get("/jobs/42-abc"), 404, "no job '42-abc'")
    refused(
        api.delete(f"/collections/{papers}/documents/gone.pdf"),
        404,
        "no document 'gone.pdf' in the collection 'papers'",
    )
    climbing = api.delete(f"/collections/{papers}/documents/%2E%2E/index")  # never the index itself
    assert climbing.status_code == 404 and api.get(f"/collections/{papers}").json()["chunks"] > 0
    refused(api.get("/nothing/here"), 404, "no such route: GET /nothing/here")
    refused(api.put("/collections"), 405, "PUT is not a method of /collections")


def test_a_second_ingest_while_one_runs_is_409_and_saves_nothing(
    serve: Callable[..., Running], settings: Settings, intro_pdf: Path
) -> None:
    running = serve()
    api = httpx.Client(base_url=running.url, timeout=60)
    api.post("/collections", json={"name": "papers"})
    served: Served = running.app.app.state.served
    release = threading.Event()
    blocking = served.jobs.start("add", "papers", lambda job: release.wait(60))  # an ingest in the middle
    try:
        line = (
            f"an ingest into 'papers' is already running (job {blocking.id}): wait for it to end, or stop it"
        )
        before = held(api, settings, "papers")
        refused(upload(api, "papers", (intro_pdf.name, intro_pdf.read_bytes())), 409, line)
        refused(api.post("/collections/papers/warm"), 409, line)
        refused(api.delete("/collections/papers"), 409, line)
        assert held(api, settings, "papers") == before and (settings.collections / "papers").is_dir()
        refused(
            api.post("/collections", json={"name": "Papers"}),
            409,
            "a collection named 'Papers' already exists",
        )
    finally:
        release.set()
    assert finished(api, upload(api, "papers", (intro_pdf.name, intro_pdf.read_bytes())))["state"] == "done"


def test_too_large_is_413_by_the_caps_and_by_the_body_limit(
    serve: Callable[..., Running], settings: Settings
) -> None:
    small = settings.model_copy(update={"max_file_mb": 0.05})
    api = httpx.Client(base_url=serve(small).url, timeout=60)
    api.post("/collections", json={"name": "papers"})
    before = held(api, small, "papers")
    big = ("big.md", b"# Big\n\n" + b"words and more words\n" * 3000)
    refused(upload(api, "papers", big), 413, "big.md: 62 KB is over the 51 KB limit for one document")
    crowded = zipped({f"part{n}.md": b"" for n in range(20_001)})
    refused(
        upload(api, "papers", ("crowded.zip", crowded)),
        413,
        "crowded.zip: 20,001 entries, over the limit of 20,000; refused",
    )
    assert held(api, small, "papers") == before
    huge = {"question": "x" * (1 * MB + 10)}
    refused(
        api.post("/collections/papers/ask", json=huge),
        413,
        "the request's body is 1.0 MB, over the 1 MB limit",
    )

    def chunked() -> Any:  # no Content-Length: counted as it comes
        for _ in range(3):
            yield b"x" * (MB // 2)

    response = api.post(
        "/collections/papers/ask", content=chunked(), headers={"content-type": "application/json"}
    )
    refused(response, 413, "the request's body is over the 1 MB limit")


def test_a_model_server_that_is_down_is_503(
    serve: Callable[..., Running], settings: Settings, unused_port: int, intro_pdf: Path
) -> None:
    down = settings.model_copy(update={"model": f"openai:http://127.0.0.1:{unused_port}/v1", "timeout": 5})
    api = httpx.Client(base_url=serve(down).url, timeout=60)
    api.post("/collections", json={"name": "papers"})
    assert finished(api, upload(api, "papers", (intro_pdf.name, intro_pdf.read_bytes())))["state"] == "done"
    plain = api.post("/collections/papers/ask", json={"question": QUESTION})
    line = f"cannot reach the model server at http://127.0.0.1:{unused_port}/v1/models: connection refused"
    assert plain.status_code == 503 and plain.json()["error"].startswith(line[:60]), plain.text
    streamed = api.post("/collections/papers/ask", json={"question": QUESTION, "stream": True})
    assert streamed.status_code == 503 and streamed.json() == plain.json()
    chat = api.post(
        "/v1/chat/completions", json={"model": "papers", "messages": [{"role": "user", "content": QUESTION}]}
    )
    assert chat.status_code == 503 and chat.json()["error"]["message"] == plain.json()["error"]
    assert chat.json()["error"]["type"] == "server_error"
