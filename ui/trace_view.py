"""'How this answer was made': the router's decision and reason, its estimates, every model call
with its tokens and seconds, what happened on the way, and the Chain-of-Agents workers' notes.

The reason and the events may quote documents (file names, dropped facts): they are escaped,
never rendered as Markdown; the notes are shown as plain text."""

from __future__ import annotations

import streamlit as st

from app.services.assistant import Answer
from app.settings import label
from ui import markup


def render(answer: Answer, key: str) -> None:
    trace = answer.trace
    with st.expander("How this answer was made", icon=":material/account_tree:"):
        strategy = label(answer.strategy)
        st.markdown(f"**{markup.escape(strategy)}** — {markup.escape(trace.reason or 'no reason recorded')}")
        if trace.estimates:
            st.caption("What each way of reading was expected to cost")
            st.dataframe(
                [
                    {
                        "way of reading": label(name),
                        "calls": e.calls,
                        "prompt tokens": e.prompt_tokens,
                        "answer tokens": e.completion_tokens,
                        "seconds (est.)": round(e.seconds, 1),
                        "fits the window": "yes" if e.fits else "no",
                    }
                    for name, e in trace.estimates.items()
                ],
                hide_index=True,
                width="stretch",
                key=f"estimates-{key}",
            )
        st.caption(
            f"Model calls: {len(trace.calls)} · {trace.prompt_tokens:,} prompt tokens · "
            f"{trace.completion_tokens:,} answer tokens · {trace.seconds:.1f} s"
        )
        if trace.calls:
            st.dataframe(
                [
                    {
                        "#": n,
                        "role": call.role,
                        "prompt tokens": call.prompt_tokens,
                        "answer tokens": call.completion_tokens,
                        "seconds": round(call.seconds, 2),
                        "first token (s)": (
                            None if call.first_token_seconds is None else round(call.first_token_seconds, 2)
                        ),
                    }
                    for n, call in enumerate(trace.calls, 1)
                ],
                hide_index=True,
                width="stretch",
                key=f"calls-{key}",
            )
        if trace.events:
            st.markdown("\n".join(f"- {markup.escape(' '.join(e.split()))}" for e in trace.events))
        for n, notes in enumerate(trace.notes, 1):
            st.markdown(f"**Worker {n} of {len(trace.notes)} — notes passed on**")
            st.text(notes.strip() or "(no notes)")
