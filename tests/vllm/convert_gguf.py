"""Turn a packaged GGUF file into the Hugging Face folder vLLM loads (config, tokenizer with its
chat template, bf16 safetensors).

vLLM 0.32 has no GGUF loader, so the packaged model is unpacked once with transformers' own GGUF
reader (dequantized: the same weights llama.cpp uses, now dense). Run with the Python of vLLM's
virtualenv (it needs transformers, gguf and accelerate); it never imports longqa and never
reaches a model hub:

    python tests/vllm/convert_gguf.py MODEL.gguf OUT_DIR
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def convert(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    unpacked = AutoModelForCausalLM.from_pretrained(
        gguf.parent,
        gguf_file=gguf.name,
        dtype=torch.bfloat16,
        quantization_config=GgufConfig(dequantize=True),
    )
    config = unpacked.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the weights are dense now; vLLM must not look for GGUF blocks
    # transformers will not save a model it loaded through a quantizer: copy it into a plain one
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    plain.load_state_dict(unpacked.state_dict(), strict=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, out)  # a folder that exists is complete
        Path(tmp).mkdir()  # for TemporaryDirectory's cleanup


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: convert_gguf.py MODEL.gguf OUT_DIR", file=sys.stderr)
        return 2
    gguf, out = Path(sys.argv[1]), Path(sys.argv[2])
    if not gguf.is_file():
        print(f"{gguf}: no such GGUF file", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    convert(gguf, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
