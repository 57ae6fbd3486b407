"""llama.cpp in process as a langchain-core chat model: the embedded default backend.

Generation always streams internally, so each call knows its time to first token (prefill) and
its decoding time; both go into ``response_metadata`` for the speed book (the keys and their
reading: ``agents.models.facts``). With
``logprobs=True`` the first generated token's top alternatives are returned in OpenAI's shape,
read from the logits through llama.cpp's public logits-processor hook (no ``logits_all``, which
would cost a vocabulary-sized row of memory per context token).

A call may name the start of its last message that does not depend on the question
(``cache_prefix``: the documents of a full_context prompt, a worker's segment). That prefix's KV
cache is then taken from the model's memory when the previous call shared it, else loaded from
the disk prefix cache (``agents.models.prefix_cache``), else computed once and stored there; only
the rest of the prompt is evaluated. What came from where goes into the ``PREFIX`` entry.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from agents.models import kv_prefix
from agents.models.facts import LOGPROBS, PREFIX, TIMING, timing
from agents.models.llamacpp_params import extra_buffers, model_params
from agents.models.prefix_cache import Lookup, PrefixCache
from core.errors import LongqaError
from core.files import sha256_file

_MIN_PREFIX = 256  # shorter prefixes are cheaper to recompute than to load
KV_TYPES = {"f16": None, "q8_0": 8}  # GGML_TYPE_Q8_0; a quantised V cache needs flash attention

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
    repeat_penalty: float = 1.0  # llama.cpp's; benchmarks/bench_decoding.py measures others
    seed: int = 7
    model_sha256: str | None = None  # the file's pinned sha256, else computed on first need
    kv_type: str = "f16"  # "q8_0" halves the KV cache (and every stored prefix state)
    prefix_cache: PrefixCache | None = None

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

            if self.kv_type not in KV_TYPES:
                raise LongqaError(f"unknown KV cache type {self.kv_type!r}: use {', '.join(KV_TYPES)}")
            quantised = KV_TYPES[self.kv_type]
            kv: dict[str, Any] = (
                {"type_k": quantised, "type_v": quantised, "flash_attn": True}
                if quantised is not None
                else {}
            )
            try:
                with model_params(extra_buffers()):
                    self._llama = llama_cpp.Llama(
                        model_path=self.model_path,
                        n_ctx=self.n_ctx,
                        n_threads=self.n_threads or os.cpu_count() or 1,  # llama-cpp-python's default is half
                        n_batch=512,
                        seed=self.seed,
                        verbose=False,
                        **kv,
                    )
            except (ValueError, RuntimeError) as exc:
                raise LongqaError(f"llama.cpp could not load {self.model_path}: {exc}") from exc
        return self._llama

    def context_window(self) -> int:
        return int(self.llama.n_ctx())

    def cache_settings(self) -> str:
        """What shapes a stored prefix state besides the model and the tokens."""
        import llama_cpp

        return f"llama.cpp {llama_cpp.__version__}; n_ctx {self.n_ctx}; kv {self.kv_type}"

    def _model_sha256(self) -> str:
        if self.model_sha256 is None:
            self.model_sha256 = sha256_file(Path(self.model_path))
        return self.model_sha256

    def _prefix_tokens(self, messages: list[BaseMessage], prefix: str, prompt: list[int]) -> list[int]:
        """The tokens of ``prompt`` that come from everything up to ``prefix`` (the start of the
        last message): what the prompt shares with the same messages cut after the prefix."""
        last = messages[-1]
        content = str(last.content)
        if not content.startswith(prefix):
            return []
        cut = self._prompt_tokens([*messages[:-1], last.model_copy(update={"content": prefix})])
        shared = 0
        for a, b in zip(cut, prompt, strict=False):
            if a != b:
                break
            shared += 1
        shared = min(shared, len(prompt) - 1)  # the model must evaluate at least one token itself
        return prompt[:shared] if shared >= _MIN_PREFIX else []

    def _key(self, tokens: list[int]) -> str:
        return PrefixCache.key(self._model_sha256(), self.cache_settings(), tokens)

    def _read(self, tokens: list[int], have: int, report: Callable[[int], None]) -> None:
        kv_prefix.read(self.llama, tokens, have, report)

    def _prepare_prefix(
        self, prefix: list[int], tag: str | None, report: Callable[[int], None] = lambda _: None
    ) -> Lookup:
        """Bring ``prefix`` into the model's KV cache (``agents.models.kv_prefix.prepare``)."""
        return kv_prefix.prepare(self.llama, self.prefix_cache, self._key, prefix, tag, report)

    def cached_prefix(self, messages: list[BaseMessage], prefix: str) -> tuple[int, int]:
        """(tokens, state bytes to load) of the prefix of ``messages`` that is in the model's
        memory (nothing to load) or in the prefix cache; (0, 0) when it would be read afresh."""
        tokens = self._prefix_tokens(messages, prefix, self._prompt_tokens(messages))
        if not tokens:
            return 0, 0
        llama = self.llama
        if llama.n_tokens and llama.longest_token_prefix(llama._input_ids.tolist(), tokens) == len(tokens):
            return len(tokens), 0
        if self.prefix_cache is not None:
            size = self.prefix_cache.size(
                PrefixCache.key(self._model_sha256(), self.cache_settings(), tokens)
            )
            if size:
                return len(tokens), size
        return 0, 0

    def warm(self, messages: list[BaseMessage], prefix: str, tag: str | None = None) -> Lookup:
        """Store the prefix of ``messages`` in the prefix cache now, without generating
        (``longqa warm``); nothing is read when it is stored already."""
        with self._lock:
            tokens = self._prefix_tokens(messages, prefix, self._prompt_tokens(messages))
            if not tokens or self.prefix_cache is None:
                return Lookup()
            key = PrefixCache.key(self._model_sha256(), self.cache_settings(), tokens)
            if self.prefix_cache.has(key):
                return Lookup(prefix_tokens=len(tokens))
            llama = self.llama
            have = llama.longest_token_prefix(llama._input_ids.tolist(), tokens) if llama.n_tokens else 0
            lookup = Lookup(prefix_tokens=len(tokens), memory_tokens=have, computed_tokens=len(tokens) - have)
            llama.n_tokens = have
            llama.eval(tokens[have:])  # drops whatever the window held past the shared part first
            llama._ctx.kv_cache_seq_rm(-1, len(tokens), -1)
            started = time.perf_counter()
            lookup.stored_bytes = self.prefix_cache.store(llama._ctx.ctx, key, tokens, tag)
            lookup.store_seconds = time.perf_counter() - started
            return lookup

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

        cache_prefix = kwargs.pop("cache_prefix", None)
        cache_tag = kwargs.pop("cache_tag", None)
        want_logprobs = bool(kwargs.pop("logprobs", False))
        top = int(kwargs.pop("top_logprobs", 5) or 5)
        max_tokens = int(kwargs.pop("max_tokens", self.max_tokens))
        on_progress = kwargs.pop("on_progress", None)
        capture = _FirstLogits()
        with self._lock:
            llama = self.llama
            prompt_tokens = self._prompt_tokens(messages)
            if len(prompt_tokens) + max_tokens > llama.n_ctx():
                raise LongqaError(
                    f"prompt of {len(prompt_tokens)} tokens + {max_tokens} for the answer exceeds "
                    f"the model's context window of {llama.n_ctx()} tokens"
                )
            started = time.perf_counter()
            size = len(prompt_tokens)

            def report(done: int) -> None:
                if on_progress is not None:
                    on_progress(done, size)

            prefix = self._prefix_tokens(messages, cache_prefix, prompt_tokens) if cache_prefix else []
            lookup = self._prepare_prefix(prefix, cache_tag, report) if prefix else None
            # llama.cpp keeps the previous prompt's KV cache and evaluates only what differs:
            # report the reused prefix, or the measured prefill speed would count it as read
            if lookup is not None:
                cached = lookup.memory_tokens + lookup.loaded_tokens
            else:
                cached = (
                    llama.longest_token_prefix(llama._input_ids.tolist(), prompt_tokens)
                    if llama.n_tokens
                    else 0
                )
            # what was reused is known before the first token: said now, so that a caller that
            # stops reading early (a looping answer) still knows it
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    response_metadata={PREFIX: lookup.as_dict()} if lookup is not None else {},
                    usage_metadata={
                        "input_tokens": len(prompt_tokens),
                        "output_tokens": 0,
                        "total_tokens": len(prompt_tokens),
                        "input_token_details": {"cache_read": cached},
                    },
                )
            )
            first: float | None = None
            produced = 0
            try:
                # the rest of the prompt but its last token, a slice at a time (progress); the
                # completion then finds it all in the window and reads the last token itself
                have = llama.longest_token_prefix(llama._input_ids.tolist(), prompt_tokens)
                self._read(prompt_tokens[:-1], min(have if llama.n_tokens else 0, size - 1), report)
                stream = llama.create_completion(
                    prompt=prompt_tokens,
                    max_tokens=max_tokens,
                    temperature=float(kwargs.pop("temperature", self.temperature)),
                    repeat_penalty=self.repeat_penalty,
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
            TIMING: timing(first or total, total),
            "model_name": self.model_path.rsplit("/", 1)[-1],
        }
        if lookup is not None:
            metadata[PREFIX] = lookup.as_dict()
        if want_logprobs and capture.logits is not None:
            metadata[LOGPROBS] = {"content": [{"top_logprobs": self._top_logprobs(capture.logits, top)}]}
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
