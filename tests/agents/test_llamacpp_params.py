"""llama.cpp's extra buffer types (its AMX kernels among them) are off on a CPU that advertises AMX,
where a virtual machine may kill the process on the first tile instruction; the switch overrides."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agents.models.llamacpp_params import ENV, advertises_amx, extra_buffers, model_params

AMX = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f amx_bf16 amx_tile amx_int8\n"
PLAIN = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f amx_tilex\n"  # a longer name is not the flag


@pytest.fixture
def cpu(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "cpuinfo"
        path.write_text(text)
        return path

    return write


def test_a_cpu_advertising_amx_loads_without_extra_buffers(cpu: Callable[[str], Path]) -> None:
    assert advertises_amx(cpu(AMX)) and not advertises_amx(cpu(PLAIN))
    assert extra_buffers({}, cpu(AMX)) is False
    assert extra_buffers({}, cpu(PLAIN)) is True
    assert extra_buffers({}, Path("/nonexistent/cpuinfo")) is True  # no flags to read: llama.cpp's default


def test_the_switch_overrides_the_cpu_flags(cpu: Callable[[str], Path]) -> None:
    assert extra_buffers({ENV: "1"}, cpu(AMX)) is True
    assert extra_buffers({ENV: "0"}, cpu(PLAIN)) is False
    assert extra_buffers({ENV: "maybe"}, cpu(AMX)) is False  # anything else: the flags decide


def test_the_parameters_are_set_only_while_a_model_loads() -> None:
    native = pytest.importorskip("llama_cpp.llama_cpp")
    original = native.llama_model_default_params
    with model_params(False):
        assert native.llama_model_default_params().use_extra_bufts is False
    with model_params(True):
        assert native.llama_model_default_params().use_extra_bufts is True
    assert native.llama_model_default_params is original
