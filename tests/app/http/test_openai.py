"""The OpenAI-compatible door, driven by the official ``openai`` client: a collection is a model,
the answer's text carries its ``[S#]`` markers and the message its citations, streamed or not."""

from __future__ import annotations

import re

import httpx
import openai
import pytest

from tests.ui.documents import QUESTION

HISTORY = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Hello?"},
    {"role": "assistant", "content": "Hello! Ask me about your documents."},
]


@pytest.fixture
def client(api: httpx.Client, papers: str) -> openai.OpenAI:
    """The official client, pointed at the server that holds ``papers``."""
    return openai.OpenAI(base_url=f"{str(api.base_url).rstrip('/')}/v1", api_key="unused", max_retries=0)


def test_the_collections_are_its_models(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["papers"]


def test_a_completion_answers_the_last_user_message_with_citations(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="papers", messages=[*HISTORY, {"role": "user", "content": QUESTION}]
    )
    [choice] = completion.choices
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    text = choice.message.content or ""
    markers = {int(m) for m in re.findall(r"\[S(\d+)\]", text)}
    citations = (choice.message.model_extra or {})["citations"]
    assert markers and markers == {c["marker"] for c in citations}
    assert all(c["span"]["path"] == "fasta_intro.pdf" and c["quote"] for c in citations)
    assert completion.model == "papers" and completion.usage and completion.usage.total_tokens > 0
    assert (completion.model_extra or {})["answer"]["verdict"] == "supported"


def test_a_streamed_completion_sends_tokens_then_the_citations(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="papers",
        messages=[{"role": "user", "content": [{"type": "text", "text": QUESTION}]}],
        stream=True,
        extra_body={"strategy": "rag"},
    )
    chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) >= 2
    last = chunks[-1].choices[0]
    assert last.finish_reason == "stop"
    citations = (last.delta.model_extra or {})["citations"]
    text = "".join(pieces)
    assert citations and {f"[S{c['marker']}]" for c in citations} <= set(re.findall(r"\[S\d+\]", text))
    assert (chunks[-1].model_extra or {})["answer"]["strategy"] == "retrieve_reason"


def test_errors_reach_the_client_as_openai_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    assert unknown.value.body == {
        "message": "no collection named 'nope'",
        "type": "invalid_request_error",
        "param": None,
        "code": 404,
    }
    with pytest.raises(openai.BadRequestError, match="there is no user message"):
        client.chat.completions.create(model="papers", messages=[{"role": "system", "content": "x"}])
    with pytest.raises(openai.BadRequestError, match="unknown preference 'fastest'"):
        client.chat.completions.create(
            model="papers", messages=[{"role": "user", "content": "x"}], extra_body={"prefer": "fastest"}
        )
