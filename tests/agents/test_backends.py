"""Backend specs, packaged model verification, and clear errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from agents.models import gguf
from agents.models.backends import load_backend
from agents.verify.judge import yes_probability
from core.errors import LongqaError


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("llamacpp", "should look like llamacpp:default"),
        ("mystery:thing", "unknown model backend 'mystery'"),
        ("llamacpp:huge", "no such GGUF file"),
        ("llamacpp:/nowhere/model.gguf", "no such GGUF file"),
        ("fake:nobody", "no scripted model named 'nobody' \\(registered: fake:cite"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(LongqaError, match=message):
        load_backend(spec)


def test_a_fake_spec_plugs_in_where_real_models_do() -> None:
    """``fake:NAME`` goes through ``load_backend`` like any spec: a scripted model registered under a
    name answers the calls that a real one would, streamed, and a call is measured and recorded."""
    from agents.answer import Trace
    from agents.models.calls import Caller
    from agents.models.fake import register, scripted_chat, unregister
    from agents.models.spec import parse_spec
    from agents.prompts import ANSWER, documents

    register("two-replies", lambda: scripted_chat(["first [S1]", "second"]), window=4096)
    try:
        backend = load_backend("fake:two-replies", answer_tokens=64)
        assert backend.context_window == 4096 and not backend.packaged and not backend.is_server
        caller = Caller(backend, Trace())
        streamed: list[str] = []
        messages = ANSWER.format_messages(
            question="Disk?", documents=documents("[S1] a.md:1-1\nIt needs 50 MB.")
        )
        assert caller.call("answer", messages, on_token=streamed.append).text == "first [S1]"
        assert "".join(streamed) == "first [S1]" and caller.call("answer", messages).text == "second"
        assert [c.role for c in caller.trace.calls] == ["answer", "answer"]
        assert caller.trace.calls[0].completion_tokens > 0
    finally:
        unregister("two-replies")
    cite = Caller(load_backend("fake:cite"), Trace())
    assert cite.call("answer", messages).text == "It needs 50 MB. [S1]"
    assert parse_spec("fake:cite").describe() == "the scripted model 'cite' (no model runs)"
    assert parse_spec(" llamacpp:default ").packaged and not parse_spec("llamacpp:/m.gguf").packaged


def test_vllm_backend_without_vllm_says_to_install_the_gpu_extra() -> None:
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(LongqaError, match=r"pip install 'longqa\[gpu\]'"):
            load_backend("vllm:Qwen/Qwen2.5-7B-Instruct-1M")
    else:  # pragma: no cover - only on GPU machines with the extra installed
        pytest.skip("vllm is installed here")


def test_openai_backend_with_no_server_is_one_line(unused_port: int) -> None:
    with pytest.raises(LongqaError) as error:
        load_backend(f"openai:http://127.0.0.1:{unused_port}/v1")
    message = str(error.value)
    assert "\n" not in message
    assert f"127.0.0.1:{unused_port}/v1/models" in message and "connection refused" in message


def test_packaged_models_are_found_through_metadata_and_verified() -> None:
    path = gguf.model_path("tiny")
    assert path.name.endswith(".gguf") and path.stat().st_size == gguf.PACKAGED["tiny"].size


def test_a_model_file_with_the_wrong_hash_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"GGUF" + bytes(1000))
    model = gguf.PackagedModel(
        "fake", "a fake", ("none",), ".gguf", 1004, hashlib.sha256(b"other").hexdigest(), 512
    )
    monkeypatch.setenv("LONGQA_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(LongqaError, match="does not match the pinned"):
        gguf._verify(fake, model)


def test_missing_model_package_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = gguf.PackagedModel("x", "x", ("no-such-distribution-part1",), ".bin", 1, "0" * 64, 512)
    monkeypatch.setitem(gguf.PACKAGED, "missing", missing)
    with pytest.raises(LongqaError, match="needs the package 'no-such-distribution-part1'"):
        gguf.model_path("missing")


@pytest.mark.parametrize(
    ("top", "text", "expected"),
    [
        ([{"token": "Yes", "logprob": -0.1}, {"token": "No", "logprob": -2.4}], "Yes", 0.909),
        ([{"token": " no", "logprob": -0.05}, {"token": "yes", "logprob": -3.0}], "no", 0.05),
        ([], "Yes, it does.", 1.0),
        ([], "No.", 0.0),
        ([], "Maybe", None),
    ],
)
def test_yes_probability(top: list, text: str, expected: float | None) -> None:
    value = yes_probability(top, text)
    if expected is None:
        assert value is None
    else:
        assert value == pytest.approx(expected, abs=0.01)
