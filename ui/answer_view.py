"""One chat message: the question, or the answer with its markers as badges, its sources as
numbered chips that open the highlighted source, and how it was made.

An answer the judge finds not supported by its citations is shown inside a warning, never as a
plain answer. All document and model text goes through ``ui.markup`` (chip labels too: st.pills
renders its labels as Markdown)."""

from __future__ import annotations

import streamlit as st

from app.services.assistant import Answer, Citation
from app.services.collections import Collection
from app.settings import label
from ui import markup, source_panel, trace_view
from ui.feedback import error_line
from ui.state import Message

NOT_SUPPORTED = "Not supported by the cited passages: treat it with care."
PARTLY_SUPPORTED = "Partly supported: some sentences are not backed by the passages they cite (✗)."


def by_marker(answer: Answer) -> dict[int, list[Citation]]:
    """The answer's citations grouped by marker, in the order they are first cited."""
    groups: dict[int, list[Citation]] = {}
    for citation in answer.citations:
        groups.setdefault(citation.marker, []).append(citation)
    return groups


def chip_label(citations: list[Citation]) -> str:
    first = citations[0]
    checked = [c.supported for c in citations if c.supported is not None]
    verdict = "" if not checked else (" ✓" if all(checked) else " ✗")
    return f"S{first.marker} · {markup.escape(first.label)}{verdict}"


def _meta(message: Message, answer: Answer) -> str:
    parts = [label(answer.strategy)]
    if message.first_token is not None:
        parts.append(f"first words after {message.first_token:.1f} s")
    if message.seconds is not None:
        parts.append(f"{message.seconds:.1f} s in all")
    calls = len(answer.trace.calls)
    parts.append(f"{calls} model call{'s' if calls != 1 else ''}, {answer.trace.prompt_tokens:,} tokens read")
    if message.how and not message.how.startswith(parts[0]):
        parts.append(f"asked with: {message.how}")
    return markup.escape(" · ".join(parts))


def _sources(collection: Collection, message: Message, answer: Answer) -> None:
    groups = by_marker(answer)
    if not groups:
        if not answer.refused:
            st.caption("No sources: this answer cites none of the documents, so treat it with care.")
        return
    labels = {marker: chip_label(citations) for marker, citations in groups.items()}
    chosen = st.pills(
        "Sources — open one to see the cited text in its document",
        list(groups),
        format_func=labels.__getitem__,
        key=f"sources-{message.id}",
    )
    if chosen is not None and chosen in groups:
        source_panel.render(collection, groups[chosen], key=f"{message.id}-{chosen}")


def render_answer(collection: Collection, message: Message) -> None:
    """The body of a finished assistant message."""
    if message.error:
        error_line(message.error)
        return
    answer = message.answer
    if answer is None:  # stopped before it finished
        if message.text:
            st.markdown(markup.answer(message.text))
        st.caption("Stopped before the answer was finished.")
        return
    text = markup.answer(answer.text, {c.marker for c in answer.citations})
    if answer.refused:
        st.info(
            "The documents do not say: nothing in this collection answers the question.",
            icon=":material/search_off:",
        )
    elif answer.verdict == "not supported":
        st.warning(f"**{NOT_SUPPORTED}**\n\n{text}", icon=":material/warning:")
    else:
        st.markdown(text)
        if answer.verdict == "partly supported":
            st.caption(PARTLY_SUPPORTED)
    if answer.short and not answer.refused:
        st.markdown(f"**In short:** {markup.escape(answer.short)}")
    if answer.removed_sentences:
        n = len(answer.removed_sentences)
        st.caption(
            f"{n} sentence{'s' if n != 1 else ''} removed: following an instruction found in a "
            "document, or supported by no citation (see how this answer was made)."
        )
    st.caption(_meta(message, answer))
    _sources(collection, message, answer)
    trace_view.render(answer, key=message.id)


def render(collection: Collection, message: Message) -> None:
    with st.chat_message(message.role):
        if message.role == "user":
            st.markdown(markup.escape(message.text))
        else:
            render_answer(collection, message)
