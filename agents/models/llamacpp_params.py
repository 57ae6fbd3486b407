"""The model parameters llama-cpp-python's ``Llama()`` takes no argument for.

llama.cpp repacks weights into "extra" buffer types by default, among them its AMX kernels on a
CPU that advertises Intel's tile instructions. Inside a virtual machine that advertises AMX but
does not run the tile instructions for its guest (seen on Firecracker guests, kernel permission
granted), the first matrix product dies on ``ldtilecfg`` with a general protection fault: the
process is killed, no Python error, no message. So on such a CPU longqa loads the weights without
extra buffer types (the plain CPU kernels), unless ``LONGQA_LLAMA_EXTRA_BUFFERS=1`` says the
tiles work there; ``LONGQA_LLAMA_EXTRA_BUFFERS=0`` turns them off on any CPU. ``serve`` runs
llama-cpp-python's OpenAI-compatible server under the same choice.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ENV = "LONGQA_LLAMA_EXTRA_BUFFERS"
_CPUINFO = Path("/proc/cpuinfo")
_PATCHING = threading.Lock()  # the defaults are patched module-wide while one model loads


def advertises_amx(cpuinfo: Path = _CPUINFO) -> bool:
    """Whether the CPU's flags name AMX tiles (False where there is no /proc/cpuinfo)."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return False
    return any(line.startswith("flags") and "amx_tile" in line.split() for line in text.splitlines())


def extra_buffers(environ: dict[str, str] | None = None, cpuinfo: Path = _CPUINFO) -> bool:
    """Whether llama.cpp may repack weights into extra buffer types (see the module's text)."""
    choice = (os.environ if environ is None else environ).get(ENV, "").strip()
    if choice in {"0", "1"}:
        return choice == "1"
    return not advertises_amx(cpuinfo)


@contextmanager
def model_params(use_extra_bufts: bool) -> Iterator[None]:
    """While a ``Llama`` is built inside it, its model parameters start with ``use_extra_bufts``
    as given (llama-cpp-python reads its defaults from ``llama_model_default_params``)."""
    import llama_cpp.llama_cpp as native

    original = native.llama_model_default_params

    def defaults() -> Any:
        params = original()
        params.use_extra_bufts = use_extra_bufts
        return params

    with _PATCHING:
        native.llama_model_default_params = defaults
        try:
            yield
        finally:
            native.llama_model_default_params = original


def serve() -> None:
    """llama-cpp-python's OpenAI-compatible server (its command line, from ``sys.argv``), its
    models loaded under ``extra_buffers()``: ``python -c "from agents.models.llamacpp_params
    import serve; serve()" --model FILE ...``."""
    from llama_cpp.server.__main__ import main

    with model_params(extra_buffers()):
        main()
