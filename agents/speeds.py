"""Measured model speeds (prefill and decode tokens per second), kept per backend.

The router estimates each strategy's latency from these. They start from priors (the figures
measured on a 2-core CPU for the packaged models, generous ones for servers) and move towards
what each call actually took (an exponential moving average), saved in longqa's cache so the
next run starts from what this machine really does.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_WEIGHT = 0.3  # how far one call moves the estimate
_STEP = 4.0  # one call's figure counts at most this many times above or below the estimate
_PLAUSIBLE = 50.0  # a kept speed this many times away from the prior is discarded


@dataclass
class Speed:
    prefill: float  # prompt tokens per second
    decode: float  # generated tokens per second
    calls: int = 0

    def seconds(self, prompt_tokens: int, completion_tokens: int) -> float:
        return prompt_tokens / max(self.prefill, 1e-6) + completion_tokens / max(self.decode, 1e-6)


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
                kept = self._speeds[backend] = Speed(prior.prefill, prior.decode)
            return kept or Speed(prior.prefill, prior.decode)

    def record(
        self,
        backend: str,
        prior: Speed,
        prompt_tokens: int,
        completion_tokens: int,
        first_token_seconds: float,
        seconds: float,
    ) -> None:
        """Fold one call's timing in (ignored when too small to say anything)."""
        if prompt_tokens < 64 or first_token_seconds <= 0:
            return
        with self._lock:
            speed = self._speeds.setdefault(backend, Speed(prior.prefill, prior.decode))
            speed.prefill = _moved(speed.prefill, prompt_tokens / first_token_seconds)
            decode_seconds = seconds - first_token_seconds
            if completion_tokens > 8 and decode_seconds > 0:
                speed.decode = _moved(speed.decode, (completion_tokens - 1) / decode_seconds)
            speed.calls += 1
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.tmp{os.getpid()}")
            tmp.write_text(json.dumps({k: vars(v) for k, v in self._speeds.items()}, indent=2))
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("could not save speeds to %s: %s", self.path, exc)


def _moved(estimate: float, measured: float) -> float:
    """The estimate moved towards one call's figure, an outlier (a cache hit, a stall) bounded."""
    measured = min(max(measured, estimate / _STEP), estimate * _STEP)
    return estimate + _WEIGHT * (measured - estimate)


def _plausible(measured: float, prior: float) -> bool:
    return prior / _PLAUSIBLE <= measured <= prior * _PLAUSIBLE
