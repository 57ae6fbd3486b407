"""A cited source, opened from its chip: the PDF page with the cited text highlighted, or the
file's numbered lines with the cited ones marked; beside it each quote and its support verdict.

File names, quotes and notes come from documents: they go through ``ui.markup`` (captions of
images are Markdown too), and the source's lines through ``html.escape``."""

from __future__ import annotations

import html

import streamlit as st

from app.services import sources
from app.services.assistant import Citation
from app.services.collections import Collection
from ui import markup
from ui.feedback import shown_errors

_BOX = "max-height:34rem;overflow:auto;border:1px solid rgba(128,128,128,.35);border-radius:.5rem"
_TABLE = (
    "border-collapse:collapse;width:100%;margin:0;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"
    "monospace;font-size:.8rem;line-height:1.5"
)
_NUMBER = (
    "color:#8a8f98;text-align:right;padding:0 .6rem;width:1%;user-select:none;border:none;white-space:pre"
)
_CITED_NUMBER = _NUMBER.replace("color:#8a8f98", "color:#a06a00;font-weight:600")
_CODE = "padding:0 .6rem;white-space:pre;border:none"
_CITED_ROW = "background:rgba(255,214,0,.16)"
_MARK = "background:rgba(255,196,0,.6);color:inherit;padding:0;border-radius:2px"


@st.cache_data(max_entries=48, show_spinner=False)
def _load(index: str, stamp: float, spans: tuple, whole: bool) -> sources.SourceView:
    from pathlib import Path

    return sources.show(Path(index), list(spans), whole=whole)


def _line_html(line: sources.Line) -> str:
    text, pieces, at = line.text, [], 0
    for start, end in line.marks:
        pieces.append(html.escape(text[at:start]))
        pieces.append(f'<mark style="{_MARK}">{html.escape(text[start:end])}</mark>')
        at = end
    pieces.append(html.escape(text[at:]))
    code = "".join(pieces) or " "
    row = f' class="cited" style="{_CITED_ROW}"' if line.cited else ""
    number = _CITED_NUMBER if line.cited else _NUMBER
    return f'<tr{row}><td style="{number}">{line.number}</td><td style="{_CODE}">{code}</td></tr>'


def text_html(view: sources.TextView) -> str:
    """Numbered lines with the cited ones shaded and the quoted characters marked."""
    rows = "".join(_line_html(line) for line in view.lines)
    return f'<div class="longqa-source" style="{_BOX}"><table style="{_TABLE}">{rows}</table></div>'


def _show_page(view: sources.PageView, key: str) -> None:
    where = f"{markup.escape(view.path)} — page {view.page} of {view.pages}"
    if not view.boxes:
        st.image(view.image, caption=where, width="stretch")
        st.caption("The cited characters could not be located on the page image.")
        return
    if st.toggle("Zoom in on the cited text", key=f"zoom-{key}"):
        st.image(sources.focus(view), caption=f"{where}, around the cited text", width="stretch")
    else:
        st.image(view.image, caption=f"{where}; the cited text is highlighted", width="stretch")


def _show_view(view: sources.SourceView, key: str) -> None:
    if isinstance(view, sources.PageView):
        _show_page(view, key)
        return
    if view.note:
        st.info(markup.escape(view.note), icon=":material/info:")
    where = markup.escape(view.path) + (f" — page {view.page}, extracted text" if view.page else "")
    if view.lines:
        where += f" · lines {view.lines[0].number}-{view.lines[-1].number} of {view.total_lines}"
    st.caption(where)
    st.html(text_html(view))


def _verdict(citation: Citation) -> None:
    if citation.support is None:
        st.badge("not checked", icon=":material/remove:", color="gray")
    elif citation.supported:
        st.badge(f"supported · {citation.support:.2f}", icon=":material/check:", color="green")
    else:
        st.badge(f"not supported · {citation.support:.2f}", icon=":material/close:", color="red")


def render(collection: Collection, citations: list[Citation], key: str) -> None:
    """The source of one marker's citations (all from one chunk), with their quotes."""
    first = citations[0]
    code = first.span.page is None  # code and text: long lines want the room
    view_column, quote_column = st.columns([2, 1] if code else [3, 2], gap="medium")
    with quote_column:
        st.markdown(f"**S{first.marker}** · {markup.code(first.label)}")
        for citation in citations:
            with st.container(border=True):
                _verdict(citation)
                if code:
                    st.code(citation.quote, language=None, wrap_lines=True)
                else:
                    st.markdown("> " + markup.escape(" ".join(citation.quote.split())))
                if citation.sentence:
                    st.caption(f"Cited for: “{markup.escape(citation.sentence.strip())}”")
    with view_column, shown_errors():
        whole = False
        if code:
            whole = st.toggle("Show the whole file", key=f"whole-{key}")
        spans = tuple(c.span for c in citations)
        with st.spinner("Opening the source…"):
            view = _load(str(collection.index), collection.stamp, spans, whole)
        _show_view(view, key)
