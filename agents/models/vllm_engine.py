"""vLLM's engine in this process as a langchain-core chat model (``vllm:MODEL``), for batch runs on
a GPU machine. vLLM is imported only when this backend is used; without it, one line says to
install the ``gpu`` extra. For many concurrent requests prefer ``vllm serve`` and the
``openai:`` backend, which lets vLLM batch them continuously."""

from __future__ import annotations

import threading
import time
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, PrivateAttr

from agents.models.facts import LOGPROBS, TIMING, timing
from agents.models.llamacpp import to_openai_messages
from core.errors import LongqaError


def import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise LongqaError(
            "the vllm: backend needs vLLM, which is not installed: pip install 'longqa[gpu]' on a "
            "machine with a GPU (or use openai:http://HOST:PORT/v1 with `vllm serve`)"
        ) from exc
    return vllm


class ChatVLLM(BaseChatModel):
    """A Hugging Face model (name or local folder) served by vLLM's ``LLM`` in process."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: str
    max_tokens: int = 512
    max_model_len: int | None = None
    tensor_parallel_size: int = 1

    _llm: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "longqa-vllm"

    @property
    def llm(self) -> Any:
        if self._llm is None:
            vllm = import_vllm()
            options: dict[str, Any] = {
                "enable_prefix_caching": True,
                "tensor_parallel_size": self.tensor_parallel_size,
            }
            if self.max_model_len:
                options["max_model_len"] = self.max_model_len
            self._llm = vllm.LLM(model=self.model, **options)
        return self._llm

    def context_window(self) -> int:
        return int(self.llm.llm_engine.model_config.max_model_len)

    def count_tokens(self, text: str) -> int:
        return len(self.llm.get_tokenizer().encode(text, add_special_tokens=False))

    def count_prompt(self, messages: list[BaseMessage]) -> int:
        tokenizer = self.llm.get_tokenizer()
        ids = tokenizer.apply_chat_template(  # transformers 5 returns a dict unless told otherwise
            to_openai_messages(messages), tokenize=True, add_generation_prompt=True, return_dict=False
        )
        return len(ids)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        vllm = import_vllm()
        top = int(kwargs.get("top_logprobs", 5)) if kwargs.get("logprobs") else None
        params = vllm.SamplingParams(
            temperature=0.0,
            max_tokens=int(kwargs.get("max_tokens", self.max_tokens)),
            stop=stop,
            logprobs=top,
        )
        started = time.perf_counter()
        with self._lock:
            output = self.llm.chat([to_openai_messages(messages)], params, use_tqdm=False)[0]
        seconds = time.perf_counter() - started
        completion = output.outputs[0]
        cached = int(getattr(output, "num_cached_tokens", 0) or 0)  # found in vLLM's prefix cache
        metadata: dict[str, Any] = {
            "usage": {
                "prompt_tokens": len(output.prompt_token_ids),
                "completion_tokens": len(completion.token_ids),
                "prompt_tokens_details": {"cached_tokens": cached},
            },
            TIMING: timing(None, seconds),
        }
        if top and completion.logprobs:
            first = completion.logprobs[0]
            metadata[LOGPROBS] = {
                "content": [
                    {
                        "top_logprobs": [
                            {"token": lp.decoded_token, "logprob": lp.logprob} for lp in first.values()
                        ]
                    }
                ]
            }
        message = AIMessage(
            content=completion.text,
            response_metadata=metadata,
            usage_metadata={
                "input_tokens": len(output.prompt_token_ids),
                "output_tokens": len(completion.token_ids),
                "total_tokens": len(output.prompt_token_ids) + len(completion.token_ids),
                "input_token_details": {"cache_read": cached},
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])
