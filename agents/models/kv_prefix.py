"""A question-independent prompt prefix in llama.cpp's KV cache: from the model's memory, from
the disk prefix cache (``agents.models.prefix_cache``), or read now, a slice at a time.

A prompt is read in slices of ``SLICE`` tokens, each ending on a multiple of it, with a progress
report after each (``agents.models.facts.Progress``). A read that is abandoned in the middle of a
prefix (the report raises ``Abandoned``) keeps the whole slices it read in the prefix cache once
they are worth it, and a later read of the same prefix loads the longest such part and reads on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from agents.models.facts import Abandoned
from agents.models.prefix_cache import Lookup, PrefixCache

SLICE = 512  # prompt tokens read between two progress reports (llama.cpp's batch: no slower)
_MIN_PARTIAL = 1024  # an interrupted prefix is kept on disk once this much of it was read
Key = Callable[[list[int]], str]  # the prefix cache's entry name for some tokens


def read(llama: Any, tokens: list[int], have: int, report: Callable[[int], None]) -> None:
    """Evaluate ``tokens[have:]`` after the ``have`` already in the window, a slice at a time
    (each ending on a multiple of ``SLICE``, where a kept part can be found again), reporting
    the tokens read after each. ``report`` raises ``Abandoned`` when nobody waits any more."""
    llama.n_tokens = have
    position = have
    while position < len(tokens):
        end = min((position // SLICE + 1) * SLICE, len(tokens))
        llama.eval(tokens[position:end])  # drops whatever the window held past ``position`` first
        position = end
        report(position)


def _load_part(llama: Any, cache: PrefixCache | None, key_of: Key, prefix: list[int]) -> int:
    """The longest kept part of ``prefix`` (an interrupted read's), loaded; its tokens, or 0."""
    if cache is None:
        return 0
    for size in range((len(prefix) - 1) // SLICE * SLICE, _MIN_PARTIAL - 1, -SLICE):
        part = prefix[:size]
        key = key_of(part)
        if cache.has(key) and cache.load(llama._ctx.ctx, key, part):
            llama.input_ids[:size] = part
            llama.n_tokens = size
            return size
    return 0


def _keep_part(
    llama: Any, cache: PrefixCache | None, key_of: Key, prefix: list[int], tag: str | None
) -> None:
    """After an interrupted read of ``prefix``: store what was read of it, when that is a whole
    number of slices worth keeping, so that asking again goes on from there."""
    size = llama.n_tokens
    if cache is None or size < _MIN_PARTIAL or size >= len(prefix) or size % SLICE:
        return
    if llama.longest_token_prefix(llama._input_ids.tolist(), prefix) < size:
        return
    llama._ctx.kv_cache_seq_rm(-1, size, -1)
    cache.store(llama._ctx.ctx, key_of(prefix[:size]), prefix[:size], tag)


def prepare(
    llama: Any,
    cache: PrefixCache | None,
    key_of: Key,
    prefix: list[int],
    tag: str | None,
    report: Callable[[int], None],
) -> Lookup:
    """Bring ``prefix`` into the model's KV cache: from memory, from disk (whole, or the part an
    interrupted read kept), or computed and stored."""
    lookup = Lookup(prefix_tokens=len(prefix))
    have = llama.longest_token_prefix(llama._input_ids.tolist(), prefix) if llama.n_tokens else 0
    if have == len(prefix):
        lookup.memory_tokens = have
        return lookup
    key = key_of(prefix) if cache else ""
    started = time.perf_counter()
    if cache is not None and cache.load(llama._ctx.ctx, key, prefix):
        llama.input_ids[: len(prefix)] = prefix
        llama.n_tokens = len(prefix)
        lookup.loaded_tokens = len(prefix)
        lookup.load_seconds = time.perf_counter() - started
        return lookup
    if cache is not None:  # a failed load may have left anything in the KV cache
        have = 0
        part = _load_part(llama, cache, key_of, prefix) if len(prefix) > _MIN_PARTIAL else 0
        if part:
            have = lookup.loaded_tokens = part
            lookup.load_seconds = time.perf_counter() - started
    report(have)
    try:
        read(llama, prefix, have, report)
    except Abandoned:
        _keep_part(llama, cache, key_of, prefix, tag)
        raise
    lookup.memory_tokens = have - lookup.loaded_tokens
    lookup.computed_tokens = len(prefix) - have
    if cache is not None:
        stored = time.perf_counter()
        lookup.stored_bytes = cache.store(llama._ctx.ctx, key, prefix, tag)
        lookup.store_seconds = time.perf_counter() - stored
    return lookup
