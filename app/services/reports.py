"""Evaluation reports for the web UI: finding report folders and reading them, and the one place
that starts an evaluation run.

A report folder holds ``report.json``, ``report.md`` (the metrics tables) and PNG plots, as the
evaluation (``app.evaluation``) writes them. This module reads them; ``run_evaluation`` is the
single place the UI calls into ``app.evaluation``. It never touches Streamlit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.settings import Settings
from core.errors import LongqaError

REPORT_FILES = ("report.json", "report.md")
_IMAGE_LINK = re.compile(r"!\[[^\]]*\]\([^)]*\)|<img\b[^>]*>", re.IGNORECASE)
_SEARCH_DEPTH = 3


@dataclass(frozen=True)
class Report:
    """One report folder's contents."""

    folder: Path
    modified: float
    markdown: str  # report.md without its image links (the plots are shown on their own)
    data: dict[str, Any] | None  # report.json, when readable
    plots: list[Path]

    @property
    def name(self) -> str:
        return self.folder.name


def default_folder(collections_root: Path) -> Path:
    """Where reports are looked for first: ``eval/`` beside the collections folder."""
    return collections_root.parent / "eval"


def _is_report(folder: Path) -> bool:
    return any((folder / name).is_file() for name in REPORT_FILES)


def find_reports(folder: Path) -> list[Path]:
    """Report folders at or below ``folder`` (three levels at most), newest first."""
    folder = folder.expanduser()
    if not folder.is_dir():
        return []
    found, level = [], [folder]
    for _ in range(_SEARCH_DEPTH + 1):
        found += [f for f in level if _is_report(f)]
        level = [c for f in level for c in sorted(f.iterdir()) if c.is_dir() and not c.name.startswith(".")]
    return sorted(found, key=_modified, reverse=True)


def _modified(folder: Path) -> float:
    times = [(folder / n).stat().st_mtime for n in REPORT_FILES if (folder / n).is_file()]
    return max(times, default=0.0)


def read_report(folder: Path) -> Report:
    """A report folder's tables, data and plots; a LongqaError if it holds no report."""
    if not _is_report(folder):
        raise LongqaError(f"{folder} holds no report.md or report.json")
    markdown_file, json_file = folder / "report.md", folder / "report.json"
    markdown = markdown_file.read_text(encoding="utf-8", errors="replace") if markdown_file.is_file() else ""
    data = None
    if json_file.is_file():
        try:
            data = json.loads(json_file.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            data = None
    plots = sorted(p for p in folder.glob("*.png") if p.is_file())
    return Report(folder, _modified(folder), _IMAGE_LINK.sub("", markdown).strip(), data, plots)


def find_datasets(folders: list[Path]) -> list[Path]:
    """Question sets (``*.jsonl``) in ``folders`` (not below them), by name."""
    return sorted({p.resolve() for f in folders if f.is_dir() for p in f.glob("*.jsonl") if p.is_file()})


def run_evaluation(
    settings: Settings,
    dataset: Path,
    out: Path,
    strategies: list[str] | None = None,
    limit: int | None = None,
    progress: Callable[[str, int, int, str], None] | None = None,
) -> Path:
    """Answer and score ``dataset`` under ``strategies``; the report folder is ``out``.

    The one place the UI calls ``app.evaluation`` (results already in ``out`` are reused, so a
    stopped run resumes).
    """
    # imported here, not above: a page that only lists reports need not load the runner and matplotlib
    from app.evaluation import run_evaluation as run

    return Path(run(settings, dataset, out, strategies=strategies, limit=limit, progress=progress))
