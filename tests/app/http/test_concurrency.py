"""Two questions and an ingest at once, over real HTTP: both answers come back whole and cited
(one model in this process answers one question at a time, so one waits and says so), and the
ingest into the same collection finishes meanwhile; what the asks read is the index as it was."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from app.settings import Settings
from tests.agents.fakes import registered
from tests.app.http.conftest import TIMEOUT, Running, finished, upload
from tests.app.http.sse import events
from tests.conftest import FIXTURES
from tests.ui.documents import QUESTION
from tests.ui.replies import reply

SLOW_CALL = 0.3  # seconds each model call takes: long enough for the three to overlap


def slow_reply(messages: list[Any]) -> str:
    time.sleep(SLOW_CALL)
    return reply(str(messages[-1].content))


def test_two_asks_and_an_ingest_at_once(
    serve: Callable[..., Running], settings: Settings, intro_pdf: Path
) -> None:
    slow = settings.model_copy(update={"model": registered(reply=slow_reply)[1]})
    url = serve(slow).url
    with httpx.Client(base_url=url, timeout=TIMEOUT) as api:
        api.post("/collections", json={"name": "papers"})
        assert (
            finished(api, upload(api, "papers", (intro_pdf.name, intro_pdf.read_bytes())))["state"] == "done"
        )

    results: dict[str, Any] = {}
    start = threading.Barrier(3)

    def streamed() -> None:
        with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
            start.wait()
            body = {"question": QUESTION, "stream": True}
            with client.stream("POST", "/collections/papers/ask", json=body) as response:
                results["streamed"] = list(events(response))

    def plain() -> None:
        with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
            start.wait()
            body = {"model": "papers", "messages": [{"role": "user", "content": QUESTION}]}
            results["plain"] = client.post("/v1/chat/completions", json=body)

    def ingest() -> None:
        with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
            start.wait()
            code = (FIXTURES / "code" / "errors.go").read_bytes()
            results["ingest"] = finished(client, upload(client, "papers", ("errors.go", code)))

    threads = [threading.Thread(target=work) for work in (streamed, plain, ingest)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    took = time.monotonic() - began

    kind, answer = results["streamed"][-1]
    assert kind == "answer" and answer["citations"] and answer["verdict"] == "supported"
    plain_answer = results["plain"].json()
    assert results["plain"].status_code == 200 and plain_answer["choices"][0]["message"]["citations"]
    assert results["ingest"]["state"] == "done"
    assert [r["status"] for r in results["ingest"]["result"]["rows"]] == ["ingested"]
    statuses = [data["text"] for kind, data in results["streamed"] if kind == "status"]
    traced = answer["trace"]["calls"] + plain_answer["answer"]["trace"]["calls"]
    calls = sum(call["role"] != "short" for call in traced)  # the short answer is off the script: no sleep
    waited = any(s.startswith("waiting for the model") for s in statuses)
    # one model, one question at a time: either this stream waited for the other, or it went first
    assert waited or took >= calls * SLOW_CALL
    with httpx.Client(base_url=url, timeout=TIMEOUT) as api:
        listed = {d["path"] for d in api.get("/collections/papers/documents").json()}
    assert listed == {"fasta_intro.pdf", "errors.go"}
