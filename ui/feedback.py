"""Errors as the page shows them: one line, never a traceback.

``shown_errors`` wraps each part of a page: a ``LongqaError`` shows its message; anything else
is logged with its traceback (the server's log) and shows one line saying so. Streamlit's own
control flow (reruns, stops) passes through: it is not an ``Exception``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from app.services.jobs import describe_error
from ui import markup


def error_line(text: str) -> None:
    """One error line; its text (file names, a server's words) is shown literally, never as Markdown."""
    st.error(markup.escape(text), icon=":material/error:")


@contextmanager
def shown_errors() -> Iterator[None]:
    """Run a part of the page; show what goes wrong in it as one line."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the UI boundary: one line for the user, details logged
        error_line(describe_error(exc))
