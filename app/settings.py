"""The one settings object: defaults that work offline, then a TOML file, then ``LONGQA_*``
environment variables, then CLI flags on top (the CLI passes those as overrides).

The TOML file is ``./longqa.toml`` if present, or the file named by ``LONGQA_CONFIG``. Parts
receive the values they need, never this object.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from agents.reading.strategies.registry import (
    PREFERENCE_CHOICES,
    PREFERENCE_LABELS,
    STRATEGY_CHOICES,
    STRATEGY_INFO,
    Preference,
    StrategyName,
    UnknownChoice,
    label,
    preference,
    strategy_name,
)
from core.errors import LongqaError
from ingest.ocr import PAGE_TIMEOUT, OcrMode
from retrieval.embeddings import BACKENDS as EMBEDDER_BACKENDS
from retrieval.vectors import DEFAULT_HNSW_THRESHOLD

# the registry of strategies and preferences, for the UI (which imports no lower than app)
__all__ = [
    "PREFERENCE_LABELS",
    "STRATEGY_INFO",
    "Preference",
    "Settings",
    "StrategyName",
    "label",
    "load_settings",
    "override",
]


def _toml_file() -> Path:
    return Path(os.environ.get("LONGQA_CONFIG", "longqa.toml"))


class Settings(BaseSettings):
    """Everything a user can set, with the offline defaults."""

    model_config = SettingsConfigDict(env_prefix="LONGQA_", extra="ignore")

    # ingest and index
    index: Path = Field(
        Path(".longqa/index"),
        description="index used when --index is not given: a folder, milvus:FILE.db (Milvus Lite) or "
        "milvus://HOST:PORT/COLLECTION (a Milvus server)",
    )
    collections: Path = Field(
        Path(".longqa/collections"), description="where the web UI keeps its collections"
    )
    chunk_tokens: int = Field(384, ge=16, description="chunk size in tiktoken cl100k tokens")
    chunk_overlap: int = Field(32, ge=0, description="overlap between consecutive chunks, in tokens")
    max_file_mb: float = Field(20.0, gt=0, description="files larger than this are skipped")
    hnsw_threshold: int = Field(
        DEFAULT_HNSW_THRESHOLD,
        ge=1,
        description="use an approximate (IVF) index instead of exact search from this many chunks",
    )
    embedding_model: str = Field(
        "sentence-transformers/all-MiniLM-L6-v2",
        description="the packaged default, or a local sentence-transformers folder",
    )
    embedding_batch: int = Field(32, ge=1)
    embedder_backend: str = Field(
        "openvino",
        description="what runs the embedding model: openvino (f32, torch's vectors, several times "
        "faster), openvino-bf16 (faster again on CPUs with bf16) or torch (sentence-transformers); "
        "their vectors share an index",
    )
    ocr: OcrMode = Field(
        "auto",
        description="OCR of PDF pages (Tesseract): auto reads the pages without a text layer, "
        "always every page (ignoring the text layer), never none",
    )
    ocr_page_timeout: float = Field(
        PAGE_TIMEOUT,
        gt=0,
        description="seconds OCR may spend on one PDF page before it gives the page up (noted) and "
        "reads the next; a dense page takes about 3 s",
    )

    # search
    search_k: int = Field(5, ge=1, description="how many results `longqa search` shows")

    # answering
    model: str = Field(
        "llamacpp:default",
        description="backend spec: llamacpp:default|small|tiny|/path.gguf, "
        "openai:http://HOST:PORT/v1, vllm:MODEL",
    )
    judge: str | None = Field(None, description="backend that judges citation support (default: the model)")
    context_window: int | None = Field(None, ge=512, description="override the backend's context window")
    answer_tokens: int = Field(512, ge=16, description="tokens kept free for each answer")
    strategy: StrategyName = Field(StrategyName.AUTO, description=STRATEGY_CHOICES)
    prefer: Preference = Field(Preference.BALANCED, description=PREFERENCE_CHOICES)
    k: int = Field(8, ge=1, description="chunks retrieve_reason retrieves")
    verify: bool = Field(True, description="judge each citation's support")
    strict: bool = Field(False, description="remove sentences no citation supports")
    timeout: float = Field(
        180.0,
        gt=0,
        description="total seconds a model server's call may take before it is abandoned (at least "
        "3× its estimated time); in-process models are given up only for no progress",
    )
    stall_timeout: float = Field(
        120.0,
        gt=0,
        description="seconds a model call may go without progress (a slice of the prompt read, a "
        "token written) before it is abandoned",
    )
    concurrency: int = Field(4, ge=1, description="questions in flight at once against a server")
    threads: int | None = Field(None, ge=1, description="CPU threads for llama.cpp (default: all)")
    api_key: str | None = Field(None, description="API key for an OpenAI-compatible server")
    milvus_token: str | None = Field(
        None, description="token (or USER:PASSWORD) of the Milvus server a milvus:// index is on"
    )
    api_token: str | None = Field(
        None,
        description="the bearer token `longqa serve` requires on every request (needed to listen "
        "on any address but 127.0.0.1)",
    )
    prefix_cache_gb: float = Field(
        8.0,
        ge=0,
        le=1_000_000,  # a petabyte; past it (1e300, inf) the size in bytes is no number
        allow_inf_nan=False,
        description="disk kept for prefix states (what the in-process model read of a document or a "
        "segment, reused by later questions) under longqa's cache folder, least recently used "
        "evicted first; 0 turns the cache off",
    )
    segment_tokens: int | None = Field(
        None,
        ge=256,
        description="the most tokens of the collection one chain-of-agents worker reads at once "
        "(default: as much as the model's window holds)",
    )
    kv_cache: str = Field(
        "f16",
        description="how the in-process llama.cpp model keeps its KV cache: f16, or q8_0 (half the "
        "memory and half the size of every stored prefix state)",
    )

    @field_validator("index", "collections", mode="before")
    @classmethod
    def _expand(cls, value: Any) -> Any:
        return Path(value).expanduser() if isinstance(value, str) else value

    @field_validator("strategy", mode="before")
    @classmethod
    def _known_strategy(cls, value: Any) -> Any:
        return strategy_name(value) if isinstance(value, str) else value

    @field_validator("kv_cache")
    @classmethod
    def _known_kv_type(cls, value: str) -> str:
        if value not in ("f16", "q8_0"):
            raise ValueError("not a KV cache type; use f16 or q8_0")
        return value

    @field_validator("embedder_backend")
    @classmethod
    def _known_embedder_backend(cls, value: str) -> str:
        if value not in EMBEDDER_BACKENDS:
            raise ValueError(f"not an embedder backend; use {', '.join(EMBEDDER_BACKENDS)}")
        return value

    @field_validator("prefer", mode="before")
    @classmethod
    def _known_preference(cls, value: Any) -> Any:
        return preference(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _overlap_below_half_a_chunk(self) -> Settings:
        # the same rule as ingest's ChunkSettings, checked here so a bad flag, variable or TOML
        # value fails where settings are made, naming the setting
        if self.chunk_overlap >= self.chunk_tokens // 2:
            raise ValueError(
                f"chunk_overlap {self.chunk_overlap} must be less than half of chunk_tokens "
                f"{self.chunk_tokens} (chunk_overlap < chunk_tokens / 2)"
            )
        return self

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_toml_file())
        return init_settings, env_settings, toml


def load_settings(**overrides: Any) -> Settings:
    """Settings with CLI overrides applied (``None`` values mean "not given").

    A bad value, from a flag, a ``LONGQA_*`` variable or the TOML file, is a one-line
    LongqaError naming the setting and the rule it breaks.
    """
    _check_toml_file()
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise LongqaError(_settings_message(exc)) from None


def override(settings: Settings, **overrides: Any) -> Settings:
    """``settings`` with ``overrides`` (``None``: not given) checked as ``load_settings`` checks
    them: for a caller that read the settings once and takes a few per request (``longqa serve``)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return settings
    try:
        return Settings(**{**settings.model_dump(), **given})
    except ValidationError as exc:
        raise LongqaError(_settings_message(exc)) from None


def _check_toml_file() -> None:
    """The settings file, when one is named or present, must be readable TOML naming known settings."""
    path = _toml_file()
    if path.is_dir():
        raise LongqaError(f"{path}: is a folder, not a TOML settings file")
    if not path.exists():
        if "LONGQA_CONFIG" in os.environ:
            raise LongqaError(f"{path}: no such settings file (named by LONGQA_CONFIG)")
        return
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise LongqaError(f"{path}: cannot read this settings file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise LongqaError(f"{path}: settings file is not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise LongqaError(f"{path}: not valid TOML ({exc})") from None
    for key in data:
        if key not in Settings.model_fields:
            close = difflib.get_close_matches(key, list(Settings.model_fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise LongqaError(f"{path}: unknown setting {key!r}{hint}")


def _settings_message(exc: ValidationError) -> str:
    """One line for the first problem (and how many more there are)."""
    errors = exc.errors()
    first = errors[0]
    name = ".".join(str(part) for part in first["loc"])
    reason = str(first["msg"]).removeprefix("Value error, ")
    reason = reason[:1].lower() + reason[1:]
    if not name:
        line = f"settings: {reason}"
    elif isinstance(first.get("ctx", {}).get("error"), UnknownChoice):  # it names the value itself
        line = f"setting {name}: {reason}"
    else:
        line = f"setting {name} = {first.get('input')!r}: {reason}"
    more = len(errors) - 1
    return line + (f" (and {more} more invalid setting{'s' if more > 1 else ''})" if more else "")
