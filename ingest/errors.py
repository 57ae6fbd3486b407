"""The errors of reading a file: one that could not be read, one deliberately left out."""

from __future__ import annotations

from core.errors import LongqaError


class LoadError(LongqaError):
    """A file that could not be read; the message names the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class SkipFile(LoadError):
    """A file deliberately left out (binary, too large, ignored): not a failure."""
