"""Where longqa keeps files it assembles once (tokenizer tables, model files)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``LONGQA_CACHE_DIR``, else ``$XDG_CACHE_HOME/longqa``, else ``~/.cache/longqa``."""
    configured = os.environ.get("LONGQA_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "longqa"
