"""The HTTP API's happy paths over real HTTP: collections, an upload ingested as a job, search,
an answer streamed as server-sent events (tokens, then the answer with its citations) or given
as one JSON, documents listed and removed, read-ahead as a job."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx

from tests.app.http.conftest import finished, upload
from tests.app.http.sse import events
from tests.conftest import FIXTURES
from tests.ui.documents import QUESTION, QUOTE


def test_upload_then_job_then_ask_streams_tokens_then_citations(api: httpx.Client, intro_pdf: Path) -> None:
    assert api.get("/collections").json() == []
    created = api.post("/collections", json={"name": "papers"})
    assert created.status_code == 201 and created.json()["ingested"] is False
    accepted = upload(api, "papers", (intro_pdf.name, intro_pdf.read_bytes()))
    assert accepted.json()["job"]["kind"] == "add" and accepted.json()["job"]["collection"] == "papers"
    job = finished(api, accepted)
    assert job["state"] == "done" and job["error"] is None
    assert (
        job["result"]["rows"][0]["path"] == intro_pdf.name
        and job["result"]["rows"][0]["status"] == "ingested"
    )
    assert job["progress"]["stage"] == "embed"

    body = {"question": QUESTION, "stream": True}
    with api.stream("POST", "/collections/papers/ask", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        received = list(events(response))
    kinds = [kind for kind, _ in received]
    assert kinds[-1] == "answer" and "error" not in kinds
    tokens = [data["text"] for kind, data in received if kind == "token"]
    assert len(tokens) >= 2  # streamed as written, not all at once
    assert kinds.index("token") > kinds.index("status")  # what it is doing comes first
    answer = received[-1][1]
    assert "".join(tokens).strip().startswith(answer["text"].split("[S")[0].strip()[:30])
    [citation] = answer["citations"]
    assert citation["span"]["path"] == intro_pdf.name and citation["span"]["page"] == 1
    assert " ".join(citation["quote"].split()) in " ".join(QUOTE.split())
    assert citation["supported"] is True and answer["verdict"] == "supported"
    assert answer["trace"]["calls"] and answer["short"]


def test_ask_without_stream_is_one_json_and_takes_the_cli_choices(api: httpx.Client, papers: str) -> None:
    response = api.post(
        f"/collections/{papers}/ask", json={"question": QUESTION, "strategy": "rag", "verify": False}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["strategy"] == "retrieve_reason" and answer["trace"]["reason"] == "chosen by the user"
    assert answer["citations"] and all(c["support"] is None for c in answer["citations"])
    assert answer["verdict"] == "not checked"


def test_search_ranks_spans_like_the_cli(api: httpx.Client, papers: str) -> None:
    response = api.post(f"/collections/{papers}/search", json={"query": "protein databases", "k": 2})
    assert response.status_code == 200
    hits = response.json()["hits"]
    assert [h["rank"] for h in hits] == [1, 2]
    assert all(
        h["label"].startswith("fasta_intro.pdf p.") and h["span"]["path"] == "fasta_intro.pdf" for h in hits
    )
    lexical = api.post(f"/collections/{papers}/search", json={"query": "FASTA", "mode": "lexical"}).json()
    assert lexical["hits"] and all(h["dense_rank"] is None for h in lexical["hits"])


def test_documents_are_listed_and_removed_with_their_chunks(api: httpx.Client, papers: str) -> None:
    code = (FIXTURES / "code" / "errors.go").read_bytes()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("project/errors.go", code)
        zipped.writestr("project/README.md", "# Project\n\nErrors with messages, wrapped.\n")
    assert finished(api, upload(api, papers, ("project.zip", archive.getvalue())))["state"] == "done"
    listed = {d["path"] for d in api.get(f"/collections/{papers}/documents").json()}
    assert listed == {"fasta_intro.pdf", "project/errors.go", "project/README.md"}
    held = api.get(f"/collections/{papers}").json()
    assert held["chunks"] > 0 and {d["path"] for d in held["documents"]} == listed

    removed = finished(api, api.delete(f"/collections/{papers}/documents/project"))
    assert removed["state"] == "done", removed
    assert {r["path"] for r in removed["result"]["rows"]} == {"project/errors.go", "project/README.md"}
    assert {d["path"] for d in api.get(f"/collections/{papers}/documents").json()} == {"fasta_intro.pdf"}
    hits = api.post(f"/collections/{papers}/search", json={"query": "WithMessagef"}).json()["hits"]
    assert all(h["span"]["path"] == "fasta_intro.pdf" for h in hits)


def test_collections_are_created_listed_and_deleted(api: httpx.Client, papers: str, settings) -> None:
    assert api.post("/collections", json={"name": "empty one"}).status_code == 201
    listed = api.get("/collections").json()
    assert [(c["name"], c["ingested"]) for c in listed] == [("empty one", False), ("papers", True)]
    assert api.delete("/collections/papers").json() == {"deleted": "papers"}
    assert not (settings.collections / "papers").exists()
    assert [c["name"] for c in api.get("/collections").json()] == ["empty one"]


def test_read_ahead_is_a_job_too(api: httpx.Client, papers: str) -> None:
    job = finished(api, api.post(f"/collections/{papers}/warm"))
    assert job["kind"] == "warm" and job["state"] == "done"
    assert isinstance(job["result"], str)  # one line: what was read ahead, or why not
    assert api.get(f"/jobs/{job['id']}").json() == job
    assert job["id"] in {j["id"] for j in api.get("/jobs").json()}


def test_the_openapi_docs_are_served(api: httpx.Client) -> None:
    assert "swagger" in api.get("/docs").text.lower()
    paths = api.get("/openapi.json").json()["paths"]
    for route in (
        "/collections/{name}/ask",
        "/collections/{name}/documents",
        "/jobs/{job_id}",
        "/v1/chat/completions",
    ):
        assert route in paths
