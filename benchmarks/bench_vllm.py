"""vLLM's CPU build against llama.cpp's server, the same packaged model on both.

vLLM serves the packaged GGUF unpacked to bf16 (tests/vllm/), llama.cpp's server the GGUF itself.
For each server: its start time; then, ``--reps`` times, a prompt it has not seen answered with
one token (prefill speed: prompt tokens over that call's time), the same document again with
another question (what its prefix cache saves: the first call's time over this one's time to the
first token; the cached tokens it reports) writing up to ``--written`` tokens (generation speed:
tokens after the first over the time they took). Medians, and the ratio of
vLLM's to llama.cpp's.

    LONGQA_VLLM_PYTHON=.venv-vllm/bin/python python benchmarks/bench_vllm.py [--tokens 2000]

Results go to ``benchmarks/results/vllm-MODEL.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.models.gguf import model_path  # noqa: E402
from tests.vllm.server import Server, free_port, hf_model, serve, vllm_python  # noqa: E402

QUESTIONS = ("Who wrote the Gutenprint manual?", "What does fasta_guide.pdf describe?")


def _document(words: int) -> str:
    source = (ROOT / "examples" / "README.md").read_text().split()
    return " ".join((source * (1 + words // len(source)))[:words])


def _llama_server(key: str, window: int) -> Server:
    port = free_port()
    serve = "from agents.models.llamacpp_params import serve; serve()"
    command = [sys.executable, "-c", serve, "--model", str(model_path(key))]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(window)]
    command += ["--logits_all", "false"]  # the server's default computes logits for every prompt token
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    while time.monotonic() - started < 120:
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return Server(url, process, Path("/dev/null"), time.monotonic() - started)
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("llama.cpp's server did not start within 120 s")


def _body(url: str, document: str, question: str, written: int) -> dict[str, Any]:
    return {
        "model": httpx.get(f"{url}/models", timeout=10).json()["data"][0]["id"],
        "messages": [
            {"role": "system", "content": "You answer from the document."},
            {"role": "user", "content": f"<document>\n{document}\n</document>\n\nQuestion: {question}"},
        ],
        "max_tokens": written,
        "temperature": 0.0,
        "cache_prompt": True,  # llama.cpp's server; vLLM ignores it
    }


def _read(url: str, document: str) -> dict[str, Any]:
    """A prompt read and one token written (not streamed: both servers report its usage then)."""
    started = time.perf_counter()
    response = httpx.post(f"{url}/chat/completions", json=_body(url, document, QUESTIONS[0], 1), timeout=900)
    seconds = time.perf_counter() - started
    response.raise_for_status()
    return {"prompt_tokens": response.json()["usage"]["prompt_tokens"], "seconds": seconds}


def _ask(url: str, document: str, question: str, written: int) -> dict[str, Any]:
    """One streamed chat call: time to the first token, tokens written after it, usage (vLLM
    streams it; llama-cpp-python's server does not, so its written tokens are counted as chunks)."""
    body = {**_body(url, document, question, written), "stream": True}
    body["stream_options"] = {"include_usage": True}
    started, first, last, chunks, usage = time.perf_counter(), None, 0.0, 0, {}
    with httpx.stream("POST", f"{url}/chat/completions", json=body, timeout=900) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[len("data: ") :])
            usage = event.get("usage") or usage
            if any((c.get("delta") or {}).get("content") for c in event.get("choices") or []):
                last = time.perf_counter() - started
                first = last if first is None else first
                chunks += 1
    details = usage.get("prompt_tokens_details") or {}
    return {
        "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": usage.get("completion_tokens", chunks),
        "cached_tokens": details.get("cached_tokens"),
        "first_token_seconds": first,
        "writing_seconds": last - (first or 0.0),
    }


def measure(server: Server, words: int, reps: int, written: int) -> dict[str, Any]:
    runs = []
    for _ in range(reps):
        document = f"[{uuid.uuid4().hex}]\n" + _document(words)  # a prompt no cache holds yet
        cold = _read(server.url, document)
        warm = _ask(server.url, document, QUESTIONS[1], written)
        runs.append({"cold": cold, "warm": warm})
    prefill = [r["cold"]["prompt_tokens"] / r["cold"]["seconds"] for r in runs]
    writing = [
        (r["warm"]["completion_tokens"] - 1) / r["warm"]["writing_seconds"]
        for r in runs
        if r["warm"]["completion_tokens"] > 1 and r["warm"]["writing_seconds"] > 0
    ]
    saved = [r["cold"]["seconds"] / r["warm"]["first_token_seconds"] for r in runs]
    return {
        "start_seconds": round(server.start_seconds, 1),
        "prompt_tokens": runs[0]["cold"]["prompt_tokens"],
        "prefill_tok_s": round(statistics.median(prefill), 1),
        "gen_tok_s": round(statistics.median(writing), 1) if writing else None,
        "cached_first_token_speedup": round(statistics.median(saved), 2),
        "cached_tokens_reported": [r["warm"]["cached_tokens"] for r in runs],
        "runs": runs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny", help="packaged model key (default tiny)")
    parser.add_argument("--words", type=int, default=1500, help="document length in words")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--written", type=int, default=64, help="tokens to write per answer")
    parser.add_argument("--window", type=int, default=8192)
    parser.add_argument("--eager", action="store_true", help="vLLM without torch.compile")
    args = parser.parse_args()
    python = vllm_python()
    if python is None:
        sys.exit("set LONGQA_VLLM_PYTHON to the Python of vLLM's virtualenv (make test-vllm makes one)")
    results: dict[str, Any] = {"model": args.model, "words": args.words, "eager": args.eager}
    flags = ["--max-model-len", str(args.window), "--enable-prompt-tokens-details"]
    flags += ["--enforce-eager"] if args.eager else []
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "vllm.log"
        for name, start in (
            ("llama.cpp", lambda: _llama_server(args.model, args.window)),
            ("vllm", lambda: serve(python, hf_model(python, args.model), args.model, log, *flags)),
        ):
            server = start()
            try:
                results[name] = measure(server, args.words, args.reps, args.written)
            finally:
                server.stop()
            print(name, {k: v for k, v in results[name].items() if k != "runs"}, flush=True)
    results["ratio_vllm_to_llama_cpp"] = {
        key: round(results["vllm"][key] / results["llama.cpp"][key], 2)
        for key in ("prefill_tok_s", "gen_tok_s")
        if results["vllm"][key] and results["llama.cpp"][key]
    }
    print("ratio vllm / llama.cpp", results["ratio_vllm_to_llama_cpp"])
    suffix = "-eager" if args.eager else ""
    out = ROOT / "benchmarks" / "results" / f"vllm-{args.model}{suffix}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
