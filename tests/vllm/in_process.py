"""longqa's ``vllm:`` backend (vLLM's engine in this process), asked twice over one document.

Run with the Python of vLLM's virtualenv and the repository on PYTHONPATH; writes one JSON object
with what the backend reported to REPORT (vLLM logs to stdout), for
tests/agents/test_vllm_server.py to check:

    python tests/vllm/in_process.py MODEL_FOLDER REPORT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from langchain_core.messages import HumanMessage, SystemMessage

from agents.answer import Trace
from agents.models.backends import load_backend
from agents.models.calls import Caller

SAMPLE = "Gutenprint supports over 1500 printer models; escputil -i reports ink levels."
DOCUMENT = Path(__file__).resolve().parent.parent.parent / "examples" / "README.md"


def main() -> int:
    backend = load_backend(f"vllm:{sys.argv[1]}", context_window=4096, answer_tokens=24)
    caller, document = Caller(backend, Trace()), DOCUMENT.read_text()
    texts = []
    for question in ("Who wrote the Gutenprint manual?", "What does fasta_guide.pdf describe?"):
        messages = [
            SystemMessage("You answer from the document."),
            HumanMessage(f"<document>\n{document}\n</document>\n\nQuestion: {question}"),
        ]
        texts.append(caller.call("answer", messages).text)
    report = {
        "context_window": backend.context_window,
        "sample_tokens": backend.count_text(SAMPLE),
        "prompt_estimate": backend.count_prompt(messages),
        "calls": [
            {"prompt": c.prompt_tokens, "completion": c.completion_tokens, "cached": c.cached_tokens}
            for c in caller.trace.calls
        ],
        "texts": texts,
    }
    Path(sys.argv[2]).write_text(json.dumps(report))
    return 0


if __name__ == "__main__":  # vLLM starts its engine in a spawned process, which imports this module
    sys.exit(main())
