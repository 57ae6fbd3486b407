"""Measured model speeds, kept per backend and machine: what the router's estimates rest on.

On a CPU, reading gets slower as the context grows (attention over every earlier token), so a
speed is not one number. A ``Speed`` holds the prefill and decode rates at a short context and a
``slowdown``: each 1,000 tokens of context already in the window make the next token that much
slower (prefill and decode alike). So the estimate for reading 14,000 tokens is the integral over
the positions it covers, not 14,000 / rate. A stored prefix state costs only its load
(``load`` bytes per second) when it is reused.

The figures start from priors (measured on a 2-core CPU for the packaged models, generous ones for
servers) and follow what each call really took: every call adds a sample (tokens read, tokens
already in the window, seconds to the first token; tokens written, seconds writing), and once the
samples span short and long contexts the rates and the slowdown are fitted to them by least
squares; before that the rates move towards each call's figure (an exponential moving average,
an outlier's step bounded). They are saved in longqa's cache, so the next run starts from what
this machine really does.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.files import atomic_write

log = logging.getLogger(__name__)

_WEIGHT = 0.3  # how far one call moves the estimate
_STEP = 4.0  # one call's figure counts at most this many times above or below the estimate
_PLAUSIBLE = 50.0  # a kept speed this many times away from the prior is discarded
_SAMPLES = 48  # samples kept per backend for the fit
_SPREAD = 2_500  # the fit needs samples whose contexts differ by at least this many tokens
_DEFAULT_LOAD = 400e6  # bytes per second reading a stored prefix state (a laptop SSD, cold)
# tokens a call writes before anything was measured: an answer of one to three sentences, a
# worker's new facts (often NONE), the facts the retrieve step copies, the items collect copies
# from one passage (often NONE)
WRITTEN = {"answer": 80.0, "notes": 60.0, "facts": 150.0, "short": 6.0, "items": 30.0}


@dataclass
class Speed:
    prefill: float  # prompt tokens per second at a short context
    decode: float  # generated tokens per second at a short context
    calls: int = 0
    slowdown: float = 0.0  # extra time per token, as a share, per 1,000 tokens of context
    load: float = _DEFAULT_LOAD  # bytes per second loading a stored prefix state
    samples: list[list[float]] = field(default_factory=list, repr=False)  # [new, past, first_s, …]
    written: dict[str, float] = field(default_factory=dict)  # tokens a call of each kind writes, usually

    def writes(self, kind: str) -> float:
        """How many tokens a call of ``kind`` (answer, notes, facts, items) writes, as measured here."""
        return self.written.get(kind, WRITTEN[kind])

    def prefill_seconds(self, new_tokens: int, past_tokens: int = 0) -> float:
        """Seconds to read ``new_tokens`` after ``past_tokens`` already in the window."""
        positions = new_tokens * (past_tokens + new_tokens / 2)  # sum of the contexts they see
        return (new_tokens + self.slowdown * positions / 1000) / max(self.prefill, 1e-6)

    def decode_seconds(self, tokens: int, context_tokens: int = 0) -> float:
        """Seconds to write ``tokens`` after a prompt of ``context_tokens``."""
        positions = tokens * (context_tokens + tokens / 2)
        return (tokens + self.slowdown * positions / 1000) / max(self.decode, 1e-6)

    def load_seconds(self, state_bytes: float) -> float:
        return state_bytes / max(self.load, 1.0)

    def seconds(
        self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0, cached_bytes: float = 0
    ) -> float:
        """One call: the uncached part of the prompt read after the cached part, the cached part
        loaded, the answer written."""
        new = max(prompt_tokens - cached_tokens, 0)
        return (
            self.load_seconds(cached_bytes)
            + self.prefill_seconds(new, cached_tokens)
            + self.decode_seconds(completion_tokens, prompt_tokens)
        )


class SpeedBook:
    """Speeds per backend spec, persisted as JSON (or in memory when ``path`` is None)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._speeds: dict[str, Speed] = {}
        if path is not None and path.exists():
            try:
                raw = json.loads(path.read_text())
                self._speeds = {k: Speed(**v) for k, v in raw.items()}
            except (OSError, ValueError, TypeError) as exc:
                log.warning("ignoring unreadable speed book %s: %s", path, exc)

    def get(self, backend: str, prior: Speed) -> Speed:
        with self._lock:
            kept = self._speeds.get(backend)
            if kept is not None and not (
                _plausible(kept.prefill, prior.prefill) and _plausible(kept.decode, prior.decode)
            ):
                log.warning("discarding implausible measured speeds of %s: %s", backend, kept)
                kept = self._speeds[backend] = _fresh(prior)
            if kept is not None and not kept.samples and not kept.slowdown:
                kept.slowdown = prior.slowdown  # kept by a longqa that did not measure the slowdown
            return kept or _fresh(prior)

    def record(
        self,
        backend: str,
        prior: Speed,
        prompt_tokens: int,
        completion_tokens: int,
        first_token_seconds: float,
        seconds: float,
        past_tokens: int = 0,
        kind: str | None = None,
    ) -> None:
        """Fold one call's timing in (ignored when too small to say anything).

        ``prompt_tokens`` are the tokens this call read itself; ``past_tokens`` those that were
        already in the window (a reused or loaded prefix); ``kind`` what the call wrote (answer,
        notes, facts), whose usual length is learnt too."""
        with self._lock:
            speed = self._speeds.setdefault(backend, _fresh(prior))
            if kind in WRITTEN and completion_tokens > 0:
                usual = speed.writes(kind)
                speed.written[kind] = round(usual + _WEIGHT * (completion_tokens - usual), 1)
            if prompt_tokens + past_tokens < 64 or first_token_seconds <= 0:
                self._save()
                return
            written_seconds = max(seconds - first_token_seconds, 0.0)
            speed.samples = [
                *speed.samples[-(_SAMPLES - 1) :],
                [prompt_tokens, past_tokens, first_token_seconds, completion_tokens, written_seconds],
            ]
            if not _fit(speed):
                measured = self._short_context_rate(speed, prompt_tokens, past_tokens, first_token_seconds)
                speed.prefill = _moved(speed.prefill, measured)
                if completion_tokens > 8 and written_seconds > 0:
                    context = past_tokens + prompt_tokens
                    per_token = written_seconds / (completion_tokens - 1)
                    stretch = 1 + speed.slowdown * (context + completion_tokens / 2) / 1000
                    speed.decode = _moved(speed.decode, stretch / per_token)
            speed.calls += 1
            self._save()

    def record_load(self, backend: str, prior: Speed, state_bytes: float, seconds: float) -> None:
        """Fold one stored prefix state's load in: the bytes per second it took (from the file
        cache, a fast disk or a slow one), moved towards as the speeds are."""
        if state_bytes < 1e6 or seconds <= 0:
            return  # too small to time
        with self._lock:
            speed = self._speeds.setdefault(backend, _fresh(prior))
            speed.load = _moved(speed.load, state_bytes / seconds)
            self._save()

    @staticmethod
    def _short_context_rate(speed: Speed, new: int, past: int, first_seconds: float) -> float:
        """The short-context prefill rate one call implies, given the current slowdown."""
        work = new + speed.slowdown * new * (past + new / 2) / 1000
        return work / first_seconds

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps({k: asdict(v) for k, v in self._speeds.items()}, indent=1))
        except OSError as exc:
            log.warning("could not save speeds to %s: %s", self.path, exc)


def _fresh(prior: Speed) -> Speed:
    return Speed(prior.prefill, prior.decode, slowdown=prior.slowdown, load=prior.load)


def _fit(speed: Speed) -> bool:
    """Fit prefill, decode and slowdown to the samples by least squares, when they span short and
    long contexts; False (nothing changed) when they do not yet."""
    samples = [s for s in speed.samples if s[2] > 0]
    contexts = [s[1] + s[0] / 2 for s in samples]
    if len(samples) < 4 or max(contexts) - min(contexts) < _SPREAD:
        return False
    # first_s = new * a + new * (past + new/2) / 1000 * b, with a = 1/prefill, b = slowdown/prefill
    rows = [(s[0], s[0] * (s[1] + s[0] / 2) / 1000, s[2]) for s in samples]
    a, b = _least_squares(rows)
    if a <= 0:
        return False
    slowdown = max(b, 0.0) / a
    prefill = 1 / a
    if not (_plausible(prefill, speed.prefill) and slowdown < 10):
        return False
    speed.prefill, speed.slowdown = prefill, slowdown
    writes = [
        (s[3] - 1, (s[3] - 1) * (1 + slowdown * (s[1] + s[0] + s[3] / 2) / 1000), s[4])
        for s in samples
        if s[3] > 8 and s[4] > 0
    ]
    if writes:
        stretched = sum(w[1] for w in writes)
        speed.decode = stretched / sum(w[2] for w in writes)
    return True


def _least_squares(rows: list[tuple[float, float, float]]) -> tuple[float, float]:
    """(a, b) minimising sum (a*x + b*y - t)^2, with b >= 0 (else the best ``a`` alone)."""
    design = np.array([(x, y) for x, y, _ in rows], dtype=float)
    target = np.array([t for _, _, t in rows], dtype=float)
    (a, b), _, rank, _ = np.linalg.lstsq(design, target, rcond=None)
    if rank == 2 and b >= 0:
        return float(a), float(b)
    x = design[:, 0]
    sxx = float(x @ x)
    return (float(x @ target) / sxx if sxx else 0.0), 0.0


def _moved(estimate: float, measured: float) -> float:
    """The estimate moved towards one call's figure, an outlier (a cache hit, a stall) bounded."""
    measured = min(max(measured, estimate / _STEP), estimate * _STEP)
    return estimate + _WEIGHT * (measured - estimate)


def _plausible(measured: float, prior: float) -> bool:
    return prior / _PLAUSIBLE <= measured <= prior * _PLAUSIBLE
