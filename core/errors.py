"""The one exception family whose messages are what a user reads.

Every layer raises a subclass of ``LongqaError``; the CLI and the UI print ``str(error)``, a single
line, and never a traceback.
"""

from __future__ import annotations


class LongqaError(Exception):
    """An error whose message is the one line a user sees."""


def reason_of(exc: BaseException) -> str:
    """An exception as the short reason a one-line message ends with."""
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return " ".join(text.split())
