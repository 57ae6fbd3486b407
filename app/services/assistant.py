"""Answering for the web UI (and ``longqa serve``): one question over one collection, streamed
through callbacks, and searching it.

It checks what the user can get wrong before any model runs (an empty or overlong question, a
collection with nothing in it), loads the backend the settings name (once per process, see
``wiring.backend``), and lets only one question at a time use a model that runs in this
process: llama.cpp is not safe to call from two threads. It never touches Streamlit.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from agents.answer import Answer, CallRecord, Citation, Trace
from agents.models.backends import Backend
from agents.models.spec import parse_spec
from app import wiring
from app.services.collections import Collection, summary
from app.settings import Settings
from core.errors import LongqaError
from retrieval.search import Hit

__all__ = [
    "Answer",
    "CallRecord",
    "Citation",
    "Hit",
    "Trace",
    "ask",
    "check_question",
    "describe_model",
    "prepare",
    "read_ahead",
    "search",
]

SEARCH_MODES = ("hybrid", "dense", "lexical")
QUESTION_LIMIT = 2000  # characters; longer "questions" are documents pasted in the wrong place

_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()
_loading = threading.Lock()  # two tabs asking at once load a model once, not twice


def check_question(question: str) -> str:
    """The question with its whitespace folded; a LongqaError when it is empty or too long."""
    question = " ".join(question.split())
    if not question:
        raise LongqaError("type a question first")
    if len(question) > QUESTION_LIMIT:
        raise LongqaError(
            f"the question is {len(question):,} characters long; keep it under {QUESTION_LIMIT:,} "
            "(put long material into the collection instead)"
        )
    return question


def describe_model(spec: str) -> str:
    """A model spec in plain words (without loading it)."""
    try:
        return parse_spec(spec).describe()
    except LongqaError:
        return "not a model spec: use llamacpp:default, openai:http://HOST:PORT/v1 or vllm:MODEL"


def _empty(collection: Collection) -> LongqaError:
    return LongqaError(f"the collection {collection.name!r} is empty: add documents to it first")


def _not_empty(collection: Collection) -> None:
    if not summary(collection).chunks:
        raise _empty(collection)


def search(
    settings: Settings, collection: Collection, query: str, k: int | None = None, mode: str = "hybrid"
) -> list[Hit]:
    """The spans of ``collection`` that best match ``query`` (``longqa search``): ``k`` of them
    (default: the settings' ``search_k``), by ``mode``: hybrid, dense or lexical."""
    if mode not in SEARCH_MODES:
        raise LongqaError(
            f"unknown search mode {mode!r}: use {', '.join(SEARCH_MODES[:-1])} or {SEARCH_MODES[-1]}"
        )
    if not query.strip():
        raise LongqaError("type what to look for first")
    query = check_question(query)
    if not collection.ingested:
        raise _empty(collection)
    with wiring.open_index(settings, collection.index) as index:
        if not index.stats()["chunks"]:  # opened once: a search is the door's most frequent call
            raise _empty(collection)
        return wiring.searcher(settings, index).search(query, k=k or settings.search_k, mode=mode)


def _lock_for(model: Backend) -> threading.Lock | None:
    if model.concurrency > 1:
        return None  # servers batch concurrent requests themselves
    with _locks_guard:
        return _locks.setdefault(id(model.chat), threading.Lock())


def prepare(
    settings: Settings, collection: Collection, on_status: Callable[[str], None] | None = None
) -> Backend:
    """What an answer needs before its first call, checked: something in the collection, and the
    settings' model loaded (once per process; a server that is down fails here). For a caller that
    must know before it starts to answer (an HTTP stream); ``ask`` does it itself."""
    _not_empty(collection)
    (on_status or (lambda _: None))(f"loading the model ({settings.model})")
    with _loading:
        return wiring.backend(settings)


def ask(
    settings: Settings,
    collection: Collection,
    question: str,
    on_token: Callable[[str], None] | None = None,
    on_status: Callable[[str], None] | None = None,
) -> Answer:
    """Answer ``question`` over ``collection`` with the settings' model (a ``fake:`` spec in tests)."""
    status = on_status or (lambda _: None)
    question = check_question(question)
    model = prepare(settings, collection, status)
    with wiring.open_index(settings, collection.index) as index:
        answerer = wiring.answerer(settings, index, model)
        lock = _lock_for(model)
        if lock is None:
            return answerer.ask(question, on_token=on_token, on_status=status)
        while not lock.acquire(timeout=0.5):  # the status call lets a stopped job end here
            status("waiting for the model: it is answering another question")
        try:
            return answerer.ask(question, on_token=on_token, on_status=status)
        finally:
            lock.release()


def read_ahead(
    settings: Settings,
    collection: Collection,
    progress: Callable[[int, int, str], None] | None = None,
) -> str:
    """Store the collection's prefix states now (``longqa warm``), so that even its first question
    reads only itself; one line saying what was done, or why it was not (a server caches prefixes
    itself, the cache is off): never an error, since the documents were added all the same."""
    from agents.reading.warm import warm

    if not summary(collection).chunks:
        return ""
    try:
        with _loading:
            model = wiring.backend(settings)
        with wiring.open_index(settings, collection.index) as index:
            corpus = wiring.answerer(settings, index, model).corpus
            lock = _lock_for(model)
            with lock if lock is not None else contextlib.nullcontext():
                report = warm(corpus, model, progress)
    except LongqaError as exc:
        return f"not read ahead: {exc}"
    return (
        f"read ahead: {report.prefilled:,} tokens read, {report.stored_bytes / 1e6:,.0f} MB stored "
        f"in {report.seconds:.0f} s; the first question reads only itself"
    )
