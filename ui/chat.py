"""The Ask page: the chat over the selected collection, the answer streaming as it is written."""

from __future__ import annotations

import streamlit as st

from app.services import assistant
from app.services.collections import Collection, summary
from app.services.jobs import Job
from ui import answer_view, markup, polling, settings_panel, state
from ui.feedback import shown_errors

_CURSOR = " ▌"
ABANDON_AFTER = 120.0  # seconds an answer goes on with no page watching it (a closed tab)


def _finish(asking: state.Asking) -> None:
    """Move a finished answer from its job into the chat."""
    job = asking.job
    answer = job.result
    state.chat(asking.collection).append(
        state.Message(
            "assistant",
            answer.text if answer else job.text,
            answer=answer,
            error=job.error,
            stopped=job.stopped,
            seconds=job.seconds,
            first_token=job.first_token_seconds,
            how=asking.how,
        )
    )
    state.set_asking(None)


def _streaming(asking: state.Asking) -> None:
    """The answer being written: its status, its text so far, and a stop button."""
    job = asking.job
    with st.chat_message("assistant"):
        status = st.empty()
        body = st.empty()
        if st.button("Stop", key="stop-answer", icon=":material/stop_circle:"):
            job.stop()
        shown_status, shown_text = "", ""

        def redraw() -> None:
            nonlocal shown_status, shown_text
            job.touch()
            doing = markup.escape(job.last_status or "starting")
            line = f":material/hourglass_top: {doing} · {job.seconds:.0f} s"
            if line != shown_status:
                status.caption(line)
                shown_status = line
            text = job.text
            if text != shown_text:
                body.markdown(markup.answer(text) + _CURSOR)
                shown_text = text

        redraw()
        polling.watch(job, redraw)


def _ask(collection: Collection, question: str) -> None:
    state.chat(collection.name).append(state.Message("user", question))
    settings = settings_panel.current()

    def work(job: Job[assistant.Answer]) -> assistant.Answer:
        return assistant.ask(settings, collection, question, on_token=job.token, on_status=job.status)

    how = settings_panel.summary()
    job = Job(work, label="ask", abandon_after=ABANDON_AFTER)
    state.set_asking(state.Asking(collection.name, question, how, job))
    st.rerun()


def _welcome(collection: Collection) -> None:
    held = summary(collection)
    if not held.documents:
        st.info(
            "This collection is empty. Add PDFs, source files or a zipped codebase in the sidebar, "
            "then ask about them here.",
            icon=":material/upload_file:",
        )
        return
    st.caption(
        f"Ask about the {len(held.documents)} document{'s' if len(held.documents) != 1 else ''} in "
        f"**{markup.escape(collection.name)}**. Every claim in an answer cites its source: open a "
        "source to see the cited text highlighted in its page or file."
    )


def render(collection: Collection | None) -> None:
    """The whole Ask page."""
    asking = state.asking()
    if asking is not None and asking.job.done:
        _finish(asking)
        asking = None
    if collection is None:
        st.title("Ask")
        st.info("Create a collection in the sidebar and add documents to it; then ask here.")
        st.chat_input("Ask a question…", disabled=True, key="question")
        return
    st.title(markup.escape(collection.name), anchor=False)
    history = state.chat(collection.name)
    with shown_errors():
        if not history and asking is None:
            _welcome(collection)
    for message in history:
        with shown_errors():
            answer_view.render(collection, message)
    if asking is not None and asking.collection == collection.name:
        _streaming(asking)
    elif asking is not None:
        st.caption(f"Still answering a question in {asking.collection!r}…")
    question = st.chat_input(
        f"Ask about {collection.name}…",
        max_chars=5 * assistant.QUESTION_LIMIT,  # longer pastes get a clear message, not a silent cut
        disabled=asking is not None,
        key="question",
    )
    if question and asking is None:
        _ask(collection, question)
