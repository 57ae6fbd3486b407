"""An answer's caption and its trace name the way it was read in the registry's plain words,
whatever the router or the orchestrator recorded."""

from __future__ import annotations

from agents.answer import Trace
from app.services.assistant import Answer
from tests.ui.conftest import shown
from ui.answer_view import _meta
from ui.state import Message


def test_an_answer_that_searched_wider_says_so_in_plain_words() -> None:
    answer = Answer("Gap penalty?", "The documents do not say.", [], "retrieve_reason→wider", True, Trace())
    meta = shown(_meta(Message("assistant", "", answer=answer, how="Automatic, balanced"), answer))
    assert meta.startswith("Search, then reason; found nothing, so searched wider · "), meta
    assert "retrieve_reason" not in meta and meta.endswith("asked with: Automatic, balanced")


def test_the_settings_summary_is_not_repeated_when_the_answer_was_read_as_asked() -> None:
    answer = Answer("Disk?", "50 MB [S1].", [], "full_context", False, Trace())
    meta = shown(_meta(Message("assistant", "", answer=answer, how="Read everything at once"), answer))
    assert meta.startswith("Read everything at once · ") and "asked with" not in meta
