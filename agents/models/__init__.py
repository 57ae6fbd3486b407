"""A chat model and what budgets need; one call, bounded and measured.

``backends`` is the contract (``Backend``; what a call measured: ``facts``) and where a spec
(``spec``: ``llamacpp:``, ``openai:``, ``vllm:``, ``fake:``) becomes one; each provider is one
file (``llamacpp``, ``openai_compat``, ``vllm_engine``, ``fake``). ``calls`` makes one call
within its budget and records it, given up only as ``watch`` says (for silence, not slowness);
``kv_prefix`` brings a prompt prefix into llama.cpp's KV cache a slice at a time; ``speeds`` and
``prefix_cache`` are what the router's estimates and a second question's speed rest on."""
