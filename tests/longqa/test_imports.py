"""The public surface, pinned (as langchain-core's test_imports.py pins its own): the names users
import from ``longqa`` and the ``longqa`` command's verbs. A rename or removal fails here, so it is
a decision, not an accident; an addition is one line here too."""

from __future__ import annotations

import subprocess
import sys

import typer

import longqa
from app.cli.main import app
from tests.conftest import ROOT

PUBLIC = [
    "Answer",
    "Citation",
    "Collection",
    "Hit",
    "IngestReport",
    "LongqaError",
    "Settings",
    "Span",
    "__version__",
    "load_settings",
]
COLLECTION = ["add", "ask", "documents", "index", "name", "open", "search", "settings"]
VERBS = ["ingest", "search", "ask", "warm", "batch", "eval", "convert", "ui", "serve"]


def test_the_public_names_are_these() -> None:
    assert sorted(longqa.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(longqa, name) is not None


def test_each_public_name_is_the_applications_own() -> None:
    from agents.answer import Answer, Citation
    from app.settings import Settings
    from core.errors import LongqaError
    from retrieval.search import Hit

    assert (longqa.Answer, longqa.Citation, longqa.Settings, longqa.LongqaError, longqa.Hit) == (
        Answer,
        Citation,
        Settings,
        LongqaError,
        Hit,
    )


def test_a_collection_offers_these() -> None:
    offered = sorted(n for n in dir(longqa.Collection) if not n.startswith("_"))
    assert offered == sorted(n for n in COLLECTION if n != "settings")  # settings: set per instance
    for name in ("open", "add", "search", "ask", "documents"):
        assert getattr(longqa.Collection, name).__doc__


def test_the_cli_verbs_are_these() -> None:
    assert list(typer.main.get_command(app).commands) == VERBS  # type: ignore[attr-defined]


def test_import_longqa_works_in_a_fresh_process() -> None:
    code = "import longqa; print(longqa.__version__, longqa.Collection.open.__doc__ is not None)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0.1.0", "True"]
