"""A chat model and what budgets need; one call, bounded and measured.

``backends`` is the contract (``Backend``, what a call measured: ``CallFacts``) and the spec
grammar (``llamacpp:``, ``openai:``, ``vllm:``, ``fake:``); each provider is one file
(``llamacpp``, ``openai_compat``, ``vllm_engine``, ``fake``); ``calls`` makes one call within its
budget and deadline, and records it; ``speeds`` and ``prefix_cache`` are what the router's
estimates and a second question's speed rest on."""
