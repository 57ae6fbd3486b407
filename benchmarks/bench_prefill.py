"""How fast a packaged model reads as its context grows, and what a stored prefix state costs.

For each prompt length, the time to the first token from an empty KV cache (the prefill), then the
time to write a fixed number of tokens (the decode at that context); then the same prompt's prefix
stored as a prefix state, its size per token and the time to load it in a fresh model. The
figures are fitted to the speed model of ``agents.models.speeds`` (rate at a short context, slowdown per
1,000 tokens of context): that fit is the prior ``agents.models.backends`` starts each machine from.

    python benchmarks/bench_prefill.py --model default --lengths 512,2048,4096,8192 [--kv q8_0]

Results go to ``benchmarks/results/prefill-MODEL-KV.json``. Run it with nothing else busy.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langchain_core.messages import HumanMessage, SystemMessage  # noqa: E402

from agents.models.gguf import PACKAGED, model_path  # noqa: E402
from agents.models.llamacpp import ChatLlamaCpp  # noqa: E402
from agents.models.prefix_cache import PrefixCache  # noqa: E402
from agents.models.speeds import SpeedBook, _fit  # noqa: E402

WRITTEN = 32


def _text(tokens: int, model: ChatLlamaCpp) -> str:
    """Real prose from the sample corpus, about ``tokens`` long in the model's tokens."""
    words = " ".join((ROOT / "examples" / "README.md").read_text().split()).split()
    source = " ".join(words * (1 + tokens // 1200))
    cut = len(source) * tokens // max(model.count_tokens(source), 1)
    return source[:cut]


def _messages(document: str, question: str) -> list:
    return [
        SystemMessage("You answer from the documents."),
        HumanMessage(f"<documents>\n{document}\n</documents>\n\nQuestion: {question}"),
    ]


def _call(model: ChatLlamaCpp, messages: list, **options) -> dict:
    metadata: dict = {}
    for chunk in model.stream(messages, max_tokens=WRITTEN, **options):
        metadata.update(chunk.response_metadata)
    return metadata


def measure(name: str, lengths: list[int], kv: str) -> dict:
    path = str(model_path(name))
    make = lambda cache=None: ChatLlamaCpp(  # noqa: E731
        model_path=path, n_ctx=max(lengths) + 1024, max_tokens=WRITTEN, kv_type=kv,
        prefix_cache=cache, model_sha256=PACKAGED[name].sha256, temperature=0.0,
    )  # fmt: skip
    model = make()
    rows = []
    for length in lengths:
        document = _text(length, model)
        model.llama.reset()
        metadata = _call(model, _messages(document, "Summarise this in one sentence, then say more."))
        usage, timing = metadata["usage"], metadata["timing"]
        rows.append(
            {
                "prompt_tokens": usage["prompt_tokens"],
                "first_token_seconds": round(timing["first_token_seconds"], 3),
                "written": usage["completion_tokens"],
                "write_seconds": round(timing["seconds"] - timing["first_token_seconds"], 3),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    with tempfile.TemporaryDirectory() as folder:
        cache = PrefixCache(Path(folder))
        document = _text(lengths[-1], model)
        prefix = f"<documents>\n{document}\n</documents>\n\n"
        stored = _call(make(cache), _messages(document, "What is this?"), cache_prefix=prefix)["prefix"]
        loaded = _call(make(cache), _messages(document, "What is this?"), cache_prefix=prefix)["prefix"]
    samples = [
        [r["prompt_tokens"], 0, r["first_token_seconds"], r["written"], r["write_seconds"]] for r in rows
    ]
    speed = SpeedBook(None).get(name, _prior(name))
    speed.samples = samples
    fitted = _fit(speed)
    return {
        "model": name,
        "kv": kv,
        "rows": rows,
        "fit": {
            "ok": fitted,
            "prefill": round(speed.prefill, 1),
            "decode": round(speed.decode, 1),
            "slowdown": round(speed.slowdown, 4),
        },
        "state": {
            "tokens": stored["prefix_tokens"],
            "bytes": stored["stored_bytes"],
            "bytes_per_token": round(stored["stored_bytes"] / max(stored["prefix_tokens"], 1)),
            "store_seconds": stored["store_seconds"],
            "computed_seconds": rows[-1]["first_token_seconds"],
            "load_seconds": loaded["load_seconds"],
            "loaded_tokens": loaded["loaded_tokens"],
        },
        "measured": time.strftime("%Y-%m-%d %H:%M"),
    }


def _prior(name: str):
    from agents.models.backends import _PRIORS

    return _PRIORS[name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", choices=sorted(PACKAGED))
    parser.add_argument("--lengths", default="512,2048,4096,8192")
    parser.add_argument("--kv", default="f16", choices=["f16", "q8_0"])
    args = parser.parse_args()
    result = measure(args.model, [int(n) for n in args.lengths.split(",")], args.kv)
    out = ROOT / "benchmarks" / "results" / f"prefill-{args.model}-{args.kv}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["fit"]), json.dumps(result["state"]))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
