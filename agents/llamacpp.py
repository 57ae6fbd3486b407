"""llama.cpp in process as a langchain-core chat model: the embedded default backend.

Generation always streams internally, so each call knows its time to first token (prefill) and
its decoding time; both go into ``response_metadata`` for the speed book. With
``logprobs=True`` the first generated token's top alternatives are returned in OpenAI's shape,
read from the logits through llama.cpp's public logits-processor hook (no ``logits_all``, which
would cost a vocabulary-sized row of memory per context token).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from ingest.errors import LongqaError

_ROLES = {"system": "system", "human": "user", "ai": "assistant", "user": "user", "assistant": "assistant"}


def to_openai_messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages as role/content dicts."""
    return [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]


class _FirstLogits:
    """A llama.cpp logits processor that keeps a copy of the first step's logits."""

    def __init__(self) -> None:
        self.logits: np.ndarray | None = None

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if self.logits is None:
            self.logits = np.array(scores, dtype=np.float64, copy=True)
        return scores


class ChatLlamaCpp(BaseChatModel):
    """A GGUF model run by llama-cpp-python in this process (one call at a time)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 16384
    n_threads: int | None = None
    max_tokens: int = 512
    temperature: float = 0.0
    seed: int = 7

    _llama: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "longqa-llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx}

    @property
    def llama(self) -> Any:
        """The loaded model (loaded on first use)."""
        if self._llama is None:
            import llama_cpp

            try:
                self._llama = llama_cpp.Llama(
                    model_path=self.model_path,
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads or os.cpu_count() or 1,  # llama-cpp-python's default is half
                    n_batch=512,
                    seed=self.seed,
                    verbose=False,
                )
            except (ValueError, RuntimeError) as exc:
                raise LongqaError(f"llama.cpp could not load {self.model_path}: {exc}") from exc
        return self._llama

    def context_window(self) -> int:
        return int(self.llama.n_ctx())

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def count_prompt(self, messages: list[BaseMessage]) -> int:
        """Exact prompt size: the chat template applied, then tokenized."""
        return len(self._prompt_tokens(messages))

    def _prompt_tokens(self, messages: list[BaseMessage]) -> list[int]:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llama = self.llama
        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            text = "\n".join(f"{m['role']}: {m['content']}" for m in to_openai_messages(messages))
            return llama.tokenize(text.encode("utf-8"), add_bos=True, special=True)
        eos = llama._model.token_get_text(llama.token_eos())
        bos = llama._model.token_get_text(llama.token_bos()) if llama.token_bos() >= 0 else ""
        prompt = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)(
            messages=to_openai_messages(messages)  # type: ignore[arg-type]
        ).prompt
        return llama.tokenize(
            prompt.encode("utf-8"), add_bos=not prompt.startswith(bos) if bos else False, special=True
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text, metadata = "", {}
        for chunk in self._stream(messages, stop=stop, run_manager=run_manager, **kwargs):
            text += str(chunk.message.content)
            metadata.update(chunk.message.response_metadata)
        usage = metadata.get("usage", {})
        message = AIMessage(
            content=text,
            response_metadata=metadata,
            usage_metadata={
                "input_tokens": usage.get("prompt_tokens", 0),
                "output_tokens": usage.get("completion_tokens", 0),
                "total_tokens": usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0),
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        from llama_cpp import LogitsProcessorList

        want_logprobs = bool(kwargs.pop("logprobs", False))
        top = int(kwargs.pop("top_logprobs", 5) or 5)
        max_tokens = int(kwargs.pop("max_tokens", self.max_tokens))
        capture = _FirstLogits()
        with self._lock:
            llama = self.llama
            prompt_tokens = self._prompt_tokens(messages)
            if len(prompt_tokens) + max_tokens > llama.n_ctx():
                raise LongqaError(
                    f"prompt of {len(prompt_tokens)} tokens + {max_tokens} for the answer exceeds "
                    f"the model's context window of {llama.n_ctx()} tokens"
                )
            # llama.cpp keeps the previous prompt's KV cache and evaluates only what differs:
            # report the reused prefix, or the measured prefill speed would count it as read
            cached = (
                llama.longest_token_prefix(llama._input_ids.tolist(), prompt_tokens) if llama.n_tokens else 0
            )
            started = time.perf_counter()
            first: float | None = None
            produced = 0
            try:
                stream = llama.create_completion(
                    prompt=prompt_tokens,
                    max_tokens=max_tokens,
                    temperature=float(kwargs.pop("temperature", self.temperature)),
                    stop=stop or None,
                    stream=True,
                    logits_processor=LogitsProcessorList([capture]) if want_logprobs else None,
                    seed=self.seed,
                )
                for part in stream:
                    piece = part["choices"][0]["text"]
                    if first is None:
                        first = time.perf_counter() - started
                    if piece:
                        produced += 1
                        if run_manager:
                            run_manager.on_llm_new_token(piece)
                        yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
            except ValueError as exc:
                raise LongqaError(f"llama.cpp refused the prompt: {exc}") from exc
            total = time.perf_counter() - started
        metadata: dict[str, Any] = {
            "usage": {
                "prompt_tokens": len(prompt_tokens),
                "completion_tokens": produced,
                "cached_tokens": cached,
            },
            "timing": {"first_token_seconds": first or total, "seconds": total},
            "model_name": self.model_path.rsplit("/", 1)[-1],
        }
        if want_logprobs and capture.logits is not None:
            metadata["logprobs"] = {"content": [{"top_logprobs": self._top_logprobs(capture.logits, top)}]}
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                response_metadata=metadata,
                usage_metadata={
                    "input_tokens": len(prompt_tokens),
                    "output_tokens": produced,
                    "total_tokens": len(prompt_tokens) + produced,
                    "input_token_details": {"cache_read": cached},
                },
            )
        )

    def _top_logprobs(self, logits: np.ndarray, top: int) -> list[dict[str, Any]]:
        shifted = logits - logits.max()
        logprobs = shifted - np.log(np.exp(shifted).sum())
        best = np.argsort(-logprobs)[: max(top, 1)]
        return [
            {
                "token": self.llama.detokenize([int(i)]).decode("utf-8", "replace"),
                "logprob": float(logprobs[i]),
            }
            for i in best
        ]
