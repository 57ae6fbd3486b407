"""Model backends by spec (DESIGN.md §7; the grammar: ``agents.models.spec``): every one a
langchain-core chat model plus what the strategies need to budget it — its context window, its
own token counter and its speeds. This module is the backend contract (``Backend``) and the one
place a spec becomes one; what a call measured comes back typed (``agents.models.facts``).

To add a provider: its chat model in a file of its own here, a kind in ``spec.KINDS``, and one
branch in ``load_backend``. Any other LangChain chat model can be wrapped with ``Backend.wrap``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from agents.models.prefix_cache import PrefixCache
from agents.models.spec import parse_spec
from agents.models.speeds import Speed, SpeedBook
from core.errors import LongqaError
from ingest.tokens import count_tokens as cl100k_tokens

# Priors measured on a quiet 2-core CPU with benchmarks/bench_prefill.py (results in
# benchmarks/results/prefill-*.json): tokens per second at a short context, and how much slower
# each 1,000 tokens of context make the next one. The speed book replaces them with what this
# machine measures.
_PRIORS = {
    "default": Speed(prefill=159, decode=42, slowdown=0.14),
    "small": Speed(prefill=307, decode=72, slowdown=0.20),
    "tiny": Speed(prefill=425, decode=122, slowdown=0.24),
}
_GGUF_PRIOR = Speed(prefill=80, decode=15, slowdown=0.15)
_SERVER_PRIOR = Speed(prefill=4000, decode=60)
_ENGINE_PRIOR = Speed(prefill=8000, decode=80)
DEFAULT_TIMEOUT = 180.0  # seconds a server's call may take; long calls get 3× their estimate
DEFAULT_STALL = 120.0  # seconds a call may go without progress (agents.models.watch)
_PROBE_SECONDS = 30.0  # asking a server what it serves never takes longer than this


@dataclass
class Backend:
    """A chat model and the facts about it that budgets and routing rest on."""

    spec: str
    chat: BaseChatModel
    context_window: int
    count_text: Callable[[str], int]
    count_prompt: Callable[[list[BaseMessage]], int]
    prior: Speed
    speeds: SpeedBook = field(default_factory=lambda: SpeedBook(None))
    concurrency: int = 1  # requests worth sending at once (servers batch them)
    exact_counts: bool = True
    description: str = ""
    answer_tokens: int = 512  # the budget kept free for each answer
    timeout: float = DEFAULT_TIMEOUT  # total seconds a call may take (see ``deadline``)
    stall_timeout: float = DEFAULT_STALL  # seconds a call may go without progress
    # the chat model takes ``on_progress(done, total)`` and calls it as it reads the prompt: such a
    # call is given up for silence only, never for its total time (agents.models.watch)
    reports_progress: bool = False
    # chat-model options that make one call itself give up after N seconds (servers), so an
    # abandoned call does not outlive its deadline by much
    call_timeout: Callable[[float], dict[str, Any]] | None = None
    # how this backend takes the hint that a prompt starts with a question-independent prefix
    # (the collection, a worker's segment): chat-model options for ``(prefix, collection tag)``
    prefix_options: Callable[[str, str | None], dict[str, Any]] | None = None
    # how much of such a prefix is already cached here: ``(messages, prefix) -> (tokens, state bytes
    # to load)``; None where the backend cannot tell (a server: its own cache, unseen)
    cached_prefix: Callable[[list[BaseMessage], str], tuple[int, int]] | None = None
    # one of the small models shipped on PyPI: it cites the wrong place more often when it reads
    # a whole collection than when it reads retrieved facts, and its chain of agents finds little,
    # so the router keeps it to retrieval (benchmarks/results/eval-examples)
    packaged: bool = False
    # a model behind an HTTP server: its failures are a server's (unreachable, HTTP errors)
    is_server: bool = False
    # the most of the collection one chain-of-agents worker reads at once; None: what the window holds
    segment_tokens: int | None = None

    @property
    def speed(self) -> Speed:
        return self.speeds.get(self.spec, self.prior)

    def estimate_seconds(
        self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0, cached_bytes: int = 0
    ) -> float:
        """One call's seconds on this backend: the uncached part of the prompt read (slower the
        longer the context), the cached part loaded, the answer written."""
        return self.speed.seconds(prompt_tokens, completion_tokens, cached_tokens, cached_bytes)

    def cached(self, messages: list[BaseMessage], prefix: str | None) -> tuple[int, int]:
        """(tokens, bytes to load) of ``prefix`` this backend already holds; (0, 0) if unknown."""
        if not prefix or self.cached_prefix is None:
            return 0, 0
        return self.cached_prefix(messages, prefix)

    def deadline(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
        """Seconds one call may take in all, retries included: the timeout, or three times the
        call's estimated time when that is longer. Applies to backends that do not report their
        progress (servers); one that does is given up only for silence (``stall_timeout``)."""
        estimate = self.estimate_seconds(prompt_tokens, completion_tokens, cached_tokens)
        return max(self.timeout, 3.0 * estimate)

    def record(
        self,
        prompt_tokens: int,
        completion_tokens: int,
        first_token_seconds: float,
        seconds: float,
        past_tokens: int = 0,
        kind: str | None = None,
    ) -> None:
        """Fold one call's timing into the speed book: ``prompt_tokens`` read by the call itself,
        after ``past_tokens`` already in the window; ``kind`` what it wrote (answer, notes, facts)."""
        self.speeds.record(
            self.spec,
            self.prior,
            prompt_tokens,
            completion_tokens,
            first_token_seconds,
            seconds,
            past_tokens=past_tokens,
            kind=kind,
        )

    def record_load(self, state_bytes: int, seconds: float) -> None:
        """Fold one prefix state's load time into the speed book."""
        self.speeds.record_load(self.spec, self.prior, state_bytes, seconds)

    @classmethod
    def wrap(
        cls,
        chat: BaseChatModel,
        context_window: int,
        spec: str | None = None,
        count_text: Callable[[str], int] | None = None,
        prior: Speed | None = None,
        answer_tokens: int = 512,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Backend:
        """Any LangChain chat model; tokens counted in cl100k unless a counter is given."""
        counter = count_text or cl100k_tokens
        return cls(
            spec=spec or f"langchain:{type(chat).__name__}",
            chat=chat,
            context_window=context_window,
            count_text=counter,
            count_prompt=lambda messages: sum(counter(str(m.content)) + 4 for m in messages) + 4,
            prior=prior or _SERVER_PRIOR,
            exact_counts=count_text is not None,
            answer_tokens=answer_tokens,
            timeout=timeout,
        )


def load_backend(
    spec: str,
    speeds: SpeedBook | None = None,
    context_window: int | None = None,
    answer_tokens: int = 512,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = 4,
    api_key: str | None = None,
    threads: int | None = None,
    prefix_cache: PrefixCache | None = None,
    kv_type: str = "f16",
    segment_tokens: int | None = None,
    stall_timeout: float = DEFAULT_STALL,
) -> Backend:
    """The backend a spec names; a clear one-line error for a bad spec or an unreachable server.

    ``timeout`` is the total seconds one model call may take (``Backend.deadline``);
    ``prefix_cache`` keeps the in-process llama.cpp model's prefix states on disk, with its KV
    cache stored as ``kv_type``; ``segment_tokens`` caps what one chain-of-agents worker reads;
    ``stall_timeout`` is how long a call may go without progress (``agents.models.watch``)."""
    parsed = parse_spec(spec)
    kind, target = parsed.kind, parsed.target
    speeds = speeds or SpeedBook(None)
    if timeout <= 0:
        raise LongqaError(f"the model timeout must be a positive number of seconds, not {timeout}")
    if stall_timeout <= 0:
        raise LongqaError(f"the stall timeout must be a positive number of seconds, not {stall_timeout}")
    if kind == "llamacpp":
        backend = _llamacpp(
            spec, target, speeds, context_window, answer_tokens, threads, prefix_cache, kv_type
        )
    elif kind == "openai":
        backend = _openai(spec, target, speeds, context_window, answer_tokens, timeout, concurrency, api_key)
    elif kind == "vllm":
        backend = _vllm(spec, target, speeds, context_window, answer_tokens)
    else:
        backend = _fake(spec, target, speeds, context_window, answer_tokens)
    backend.timeout = timeout
    backend.stall_timeout = stall_timeout
    backend.segment_tokens = segment_tokens
    return backend


def _llamacpp(
    spec: str,
    target: str,
    speeds: SpeedBook,
    context_window: int | None,
    answer_tokens: int,
    threads: int | None,
    prefix_cache: PrefixCache | None = None,
    kv_type: str = "f16",
) -> Backend:
    from agents.models.gguf import PACKAGED, model_path
    from agents.models.llamacpp import ChatLlamaCpp

    if target in PACKAGED:
        path, prior = model_path(target), _PRIORS[target]
        window = context_window or PACKAGED[target].context
        description = PACKAGED[target].description
    else:
        path = Path(target).expanduser()
        if not path.is_file():
            raise LongqaError(f"{target}: no such GGUF file")
        prior, window, description = _GGUF_PRIOR, context_window or 8192, path.name
    chat = ChatLlamaCpp(
        model_path=str(path),
        n_ctx=window,
        max_tokens=answer_tokens,
        n_threads=threads,
        model_sha256=PACKAGED[target].sha256 if target in PACKAGED else None,
        kv_type=kv_type,
        prefix_cache=prefix_cache,
    )
    return Backend(
        spec=spec,
        chat=chat,
        context_window=window,
        count_text=functools.lru_cache(maxsize=65536)(chat.count_tokens),
        count_prompt=chat.count_prompt,
        prior=prior,
        speeds=speeds,
        concurrency=1,
        description=description,
        answer_tokens=answer_tokens,
        prefix_options=lambda prefix, tag: {"cache_prefix": prefix, "cache_tag": tag},
        cached_prefix=chat.cached_prefix,
        packaged=target in PACKAGED,
        reports_progress=True,
    )


def _openai(
    spec: str,
    target: str,
    speeds: SpeedBook,
    context_window: int | None,
    answer_tokens: int,
    timeout: float,
    concurrency: int,
    api_key: str | None,
) -> Backend:
    from agents.models.openai_compat import ServerTokenizer, call_timeout, chat_model, probe

    url, _, model = target.partition("#")  # openai:http://host:8000/v1#model-name picks a model
    info = probe(url, model or None, timeout=min(timeout, _PROBE_SECONDS))
    window = context_window or info.context_window
    if not window:
        raise LongqaError(
            f"the server at {info.base_url} does not report its context window; pass --context-window N"
        )
    tokenizer = ServerTokenizer(info, timeout=min(timeout, _PROBE_SECONDS))
    return Backend(
        spec=spec,
        chat=chat_model(info, answer_tokens, timeout, api_key=api_key),
        context_window=window,
        count_text=tokenizer.count,
        count_prompt=tokenizer.count_prompt,
        prior=_SERVER_PRIOR,
        speeds=speeds,
        concurrency=concurrency,
        exact_counts=tokenizer.exact,
        description=f"{info.model} at {info.base_url}",
        answer_tokens=answer_tokens,
        timeout=timeout,
        call_timeout=call_timeout,
        is_server=True,
    )


def _vllm(
    spec: str, target: str, speeds: SpeedBook, context_window: int | None, answer_tokens: int
) -> Backend:
    from agents.models.vllm_engine import ChatVLLM, import_vllm

    import_vllm()  # fail at once, with the install hint, when vLLM is missing
    chat = ChatVLLM(model=target, max_tokens=answer_tokens, max_model_len=context_window)
    return Backend(
        spec=spec,
        chat=chat,
        context_window=chat.context_window(),
        count_text=functools.lru_cache(maxsize=65536)(chat.count_tokens),
        count_prompt=chat.count_prompt,
        prior=_ENGINE_PRIOR,
        speeds=speeds,
        concurrency=1,
        description=f"{target} (vLLM in process)",
        answer_tokens=answer_tokens,
    )


def _fake(
    spec: str, target: str, speeds: SpeedBook, context_window: int | None, answer_tokens: int
) -> Backend:
    from agents.models.fake import load

    chat, window = load(target)
    backend = Backend.wrap(
        chat,
        context_window=context_window or window,
        spec=spec,
        count_text=cl100k_tokens,
        answer_tokens=answer_tokens,
    )
    backend.speeds = speeds
    backend.description = f"scripted model {target}"
    return backend
