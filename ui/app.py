"""longqa's web UI, the Streamlit entry point (``longqa ui`` runs ``streamlit run ui/app.py``).

Streamlit puts this file's folder first on ``sys.path``, where this file (``app.py``) would hide
the ``app`` package; the repository root goes first instead. Everything else is in ``ui.shell``.

Before anything is drawn, the address the page was opened with (the ``Host`` header) must name
this server: a loopback name or the address it was started on. A page on another site that
points its own domain at 127.0.0.1 (DNS rebinding) could otherwise drive this UI, which reads
folders on the server (the rule is ``app.services.hosts``', which ``longqa serve`` applies too). A
session without headers (Streamlit's AppTest) is allowed.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
if str(_HERE.parent) not in sys.path:
    sys.path.insert(0, str(_HERE.parent))

import streamlit as st  # noqa: E402 - after the path fix above

from app.services.hosts import allowed_host  # noqa: E402 - after the path fix above
from ui.markup import escape  # noqa: E402 - after the path fix above
from ui.shell import main  # noqa: E402 - after the path fix above


def _check_host() -> None:
    host = st.context.headers.get("Host")
    if not allowed_host(host, st.get_option("server.address")):
        shown = escape(repr((host or "")[:100]))
        st.error(
            f"This page was opened as {shown}, which is not an address of this longqa server: "
            "open it at localhost, with the server's port.",
            icon=":material/block:",
        )
        st.stop()


_check_host()
main()
