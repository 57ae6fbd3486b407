"""The model-spec grammar, parsed in one place: ``KIND:TARGET``.

| spec                        | what                                                       |
|-----------------------------|------------------------------------------------------------|
| ``llamacpp:default``        | Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped on PyPI         |
| ``llamacpp:small``/``tiny`` | Qwen2.5-Coder-0.5B / SmolLM2-135M, shipped on PyPI          |
| ``llamacpp:/path.gguf``     | any GGUF file                                               |
| ``openai:http://H:P/v1``    | any OpenAI-compatible server (``vllm serve``, llama.cpp);   |
|                             | ``#model`` after the URL picks one of the models it serves  |
| ``vllm:MODEL``              | vLLM's engine in process (the ``gpu`` extra)                |
| ``fake:NAME``               | a scripted model (``agents.models.fake``): tests, demos     |
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import LongqaError

KINDS = ("llamacpp", "openai", "vllm", "fake")


@dataclass(frozen=True)
class ModelSpec:
    kind: str
    target: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}"

    @property
    def packaged(self) -> bool:
        """One of the small models shipped on PyPI (``llamacpp:default``, ``small``, ``tiny``)."""
        from agents.models.gguf import PACKAGED

        return self.kind == "llamacpp" and self.target in PACKAGED

    def describe(self) -> str:
        """The model in plain words, without loading it."""
        from agents.models.gguf import PACKAGED

        if self.packaged:
            name = PACKAGED[self.target].description.split(" (")[0]
            return f"{name}, built in, runs on this computer's CPU"
        if self.kind == "llamacpp":
            return f"the GGUF model {Path(self.target).name}, runs on this computer's CPU"
        if self.kind == "openai":
            return f"the OpenAI-compatible server at {self.target}"
        if self.kind == "vllm":
            return f"{self.target} through vLLM, in this process (needs a GPU)"
        return f"the scripted model {self.target!r} (no model runs)"


def parse_spec(text: str) -> ModelSpec:
    """The spec ``text`` names; a one-line ``LongqaError`` saying what a spec looks like."""
    kind, _, target = text.strip().partition(":")
    if not target:
        raise LongqaError(f"model spec {text!r} should look like llamacpp:default, openai:URL or vllm:MODEL")
    if kind not in KINDS:
        raise LongqaError(f"unknown model backend {kind!r} in {text!r}: use llamacpp:, openai: or vllm:")
    return ModelSpec(kind, target)
