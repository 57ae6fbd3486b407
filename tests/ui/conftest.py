"""The web UI under Streamlit's AppTest: a collections folder of its own, a scripted model going
through the real Answerer, and helpers to drive the page like a user."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.services.collections import ENV_INDEX, ENV_ROOT
from tests.agents.fakes import ScriptedChat, registered
from tests.conftest import ROOT
from tests.ui.documents import first_pages
from tests.ui.replies import reply
from ui.markup import JOINER
from ui.state import MODEL_KEY

APP = str(ROOT / "ui" / "app.py")
TIMEOUT = 180  # the first run loads the embedding model


@pytest.fixture(scope="session")
def intro_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first two pages of examples/fasta_guide.pdf."""
    return first_pages(tmp_path_factory.mktemp("pdf") / "fasta_intro.pdf")


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The UI's collections folder, as `longqa ui` passes it."""
    folder = tmp_path / "collections"
    monkeypatch.setenv(ENV_ROOT, str(folder))
    monkeypatch.delenv(ENV_INDEX, raising=False)
    monkeypatch.delenv("LONGQA_MODEL", raising=False)
    return folder


@pytest.fixture
def model() -> tuple[ScriptedChat, str]:
    """A scripted chat model that cites the evidence sentence best matching the question, and the
    ``fake:`` spec that selects it."""
    return registered(reply=lambda messages: reply(str(messages[-1].content)))


@pytest.fixture
def ui(root: Path, model: tuple[ScriptedChat, str]) -> Callable[..., AppTest]:
    """Start the app (with the scripted model unless ``scripted=False``) and run it once."""

    def start(scripted_model: bool = True) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        if scripted_model:
            at.session_state[MODEL_KEY] = model[1]  # as a user would type it
        return at.run()

    return start


def no_traceback(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def shown(markdown: str) -> str:
    """The text a Markdown body written by ``ui.markup`` shows: escapes and joiners removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(JOINER, "")


def errors(at: AppTest) -> list[str]:
    """The error lines on the page, as the user reads them."""
    return [shown(e.value) for e in at.error]


def create(at: AppTest, name: str) -> AppTest:
    at.text_input(key="new_collection").set_value(name)
    next(b for b in at.sidebar.button if b.label == "Create").click()
    return at.run()


def upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    at.file_uploader[0].set_value([(name, data, "application/octet-stream") for name, data in files]).run()
    at.button(key="add-uploads").click()
    return at.run()


def add_folder(at: AppTest, folder: str) -> AppTest:
    at.text_input(key="folder_path").set_value(folder)
    at.button(key="add-folder").click()
    return at.run()


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question)
    return at.run()


def added_table(at: AppTest) -> list[dict]:
    table = next(d for d in at.sidebar.dataframe if "outcome" in d.value.columns)
    return table.value.to_dict("records")
