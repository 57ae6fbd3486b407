"""The sidebar: the page switch, the collections (select, create, delete), what the selected one
holds, adding documents, and the answer settings."""

from __future__ import annotations

import streamlit as st

from app.services.collections import Collection, Collections, summary
from app.services.jobs import describe_error
from ui import adding, markup, settings_panel, state
from ui.feedback import error_line, shown_errors

PAGES = {"ask": ":material/forum: Ask", "evaluation": ":material/monitoring: Evaluation"}
_KINDS = {"pdf": "PDF", "code": "code", "text": "text"}


def _create(store: Collections) -> None:
    try:
        created = store.create(st.session_state.get("new_collection", ""))
    except Exception as exc:  # noqa: BLE001 - shown as one line on the next run
        state.notice("error", describe_error(exc))
        return
    st.session_state[state.COLLECTION_KEY] = created.name
    st.session_state["new_collection"] = ""
    state.notice("success", f"Collection {created.name!r} created: now add documents to it.")


def _delete(store: Collections, name: str) -> None:
    running = state.adding()
    if running and running.collection == name and not running.job.done:
        state.notice("error", f"documents are being added to {name!r}; delete it when that is done")
        return
    try:
        store.delete(name)
    except Exception as exc:  # noqa: BLE001 - shown as one line on the next run
        state.notice("error", describe_error(exc))
        return
    st.session_state.pop(state.COLLECTION_KEY, None)
    st.session_state.get("chats", {}).pop(name, None)
    state.notice("success", f"Collection {name!r} deleted.")


def page_switch() -> str:
    """Which page to show (kept in the address as ``?page=``)."""
    wanted = st.query_params.get("page", "ask")
    st.session_state.setdefault(state.PAGE_KEY, wanted if wanted in PAGES else "ask")
    page = st.segmented_control(
        "Page",
        list(PAGES),
        format_func=PAGES.__getitem__,
        key=state.PAGE_KEY,
        label_visibility="collapsed",
        required=True,
    )
    page = page or "ask"
    if st.query_params.get("page", "ask") != page:
        st.query_params["page"] = page
    return page


def _picker(store: Collections) -> Collection | None:
    known = store.all()
    names = [c.name for c in known]
    if st.session_state.get(state.COLLECTION_KEY) not in names:
        st.session_state[state.COLLECTION_KEY] = names[0] if names else None
    st.selectbox(
        "Collection",
        names,
        key=state.COLLECTION_KEY,
        placeholder="No collection yet",
        format_func=lambda n: f"{n} (opened)" if next(c for c in known if c.name == n).external else n,
    )
    selected = state.current_collection(known)
    new, delete = st.columns(2)
    with (
        new,
        st.popover("New", icon=":material/add:", help="Create a collection", width="stretch"),
        st.form("new-collection", border=False),
    ):
        st.text_input("Name of the new collection", key="new_collection", max_chars=64)
        st.form_submit_button("Create", type="primary", on_click=_create, args=(store,))
    with (
        delete,
        st.popover(
            "Delete",
            icon=":material/delete:",
            help="Delete this collection",
            disabled=selected is None or selected.external,
            width="stretch",
        ),
    ):
        if selected is not None:
            st.markdown(f"Delete **{markup.escape(selected.name)}**, its index and its uploaded files?")
            st.button(
                "Delete for good",
                type="primary",
                key="delete-collection",
                on_click=_delete,
                args=(store, selected.name),
            )
    return selected


def _contents(collection: Collection) -> None:
    held = summary(collection)
    if not held.documents:
        st.caption("Empty: add documents below.")
        return
    n = len(held.documents)
    st.caption(f"{n} document{'s' if n != 1 else ''} · {held.chunks:,} chunks · {held.tokens:,} tokens")
    with st.expander(f"Documents ({len(held.documents)})", icon=":material/description:"):
        st.dataframe(
            [
                {
                    "file": d.path,
                    "kind": _KINDS.get(d.kind, d.kind) + (f" ({d.language})" if d.language else ""),
                    "pages": d.pages if d.kind == "pdf" else None,
                    "chunks": d.chunks,
                }
                for d in held.documents
            ],
            hide_index=True,
            width="stretch",
        )


def render() -> tuple[str, Collection | None]:
    """Draw the sidebar; return the page to show and the selected collection."""
    with st.sidebar:
        st.markdown("## :material/menu_book: longqa")
        st.caption("Ask long documents and codebases; every claim cites its source.")
        page = page_switch()
        notice = state.pop_notice()
        selected: Collection | None = None
        with shown_errors():
            store = state.collections()
            selected = _picker(store)
            if notice:
                kind, text = notice
                if kind == "error":
                    error_line(text)
                else:
                    st.success(markup.escape(text), icon=":material/check_circle:")
            if selected is None:
                st.info("Create a collection with **New** to start.", icon=":material/info:")
            else:
                if selected.external:
                    st.caption(f"Opened from {markup.code(str(selected.index))}.")
                with shown_errors():
                    _contents(selected)
                adding.render(store, selected)
        st.divider()
        settings_panel.render()
    return page, selected
