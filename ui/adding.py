"""Adding documents in the sidebar: upload files or a zip, or name a folder on the server; a
progress bar while they are read and embedded; then a table of what happened to each file."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import streamlit as st

from app.services import assistant, intake
from app.services.collections import Collection, Collections
from app.services.jobs import Job
from app.services.uploads import MB, Limits
from ingest.formats import FORMATS
from ui import markup, polling, settings_panel, state
from ui.feedback import error_line

OUTCOMES = ("ingested", "unchanged", "skipped", "failed", "refused", "removed")
_SHOWN_PROBLEMS = 5


READ_AHEAD_KEY = "read_ahead"
READ_AHEAD_HELP = (
    "After adding, the model reads the whole collection once (and each part a chain of agents reads) "
    "and keeps what it computed, so that even the first question reads only itself. Takes a while on "
    "a CPU; the documents are searchable meanwhile."
)


def _start(collection: Collection, what: str, work: Callable[[Job[intake.Added]], intake.Added]) -> None:
    if st.session_state.get(READ_AHEAD_KEY):
        settings = settings_panel.current()
        add = work

        def work(job: Job[intake.Added]) -> intake.Added:
            added = add(job)
            if not (added.count("ingested") or added.count("unchanged")):
                return added
            done = assistant.read_ahead(
                settings,
                collection,
                progress=lambda n, total, part: job.progress("warm", n, total, part),
            )
            return dataclasses.replace(added, read_ahead=done)

    state.set_adding(state.Adding(collection.name, what, Job(work, label="add")))
    state.set_last_added(None)
    state.clear_uploader()
    st.rerun()


def upload_label() -> str:
    """The upload widget's label: every format longqa reads (``ingest.formats``), or a zip."""
    return ", ".join(fmt.label for fmt in FORMATS.values()) + " or a .zip of a codebase"


def upload_help(limits: Limits) -> str:
    """The upload widget's help: the formats, each as its format describes itself, and the caps."""
    formats = "; ".join(fmt.upload for fmt in FORMATS.values())
    return (
        f"{formats}; or a .zip of a codebase, unpacked into a folder of its own. "
        f"Up to {limits.file_bytes // MB} MB a document; a zip up to {limits.zip_bytes // MB} MB that "
        f"unpacks to at most {limits.unzipped_bytes // MB} MB."
    )


def _upload_tab(collection: Collection, busy: bool) -> None:
    if collection.files is None:
        st.caption("This index was opened from a folder: add documents to it with a folder path.")
        return
    limits = intake.upload_limits(settings_panel.current())
    files = st.file_uploader(
        upload_label(),
        accept_multiple_files=True,
        key=state.uploader_key(),
        max_upload_size=limits.zip_bytes // MB,
        help=upload_help(limits),
    )
    if st.button("Add to collection", type="primary", disabled=busy or not files, key="add-uploads"):
        uploads = [(f.name, f.getvalue()) for f in files or []]
        settings = settings_panel.current()
        count = f"{len(uploads)} uploaded file" + ("s" if len(uploads) != 1 else "")
        _start(
            collection,
            count,
            lambda job: intake.add_uploads(settings, collection, uploads, progress=job.progress),
        )


def _folder_tab(store: Collections, collection: Collection, busy: bool) -> None:
    st.text_input(
        "Folder (or file) on the server",
        key="folder_path",
        placeholder="/home/me/project",
        help="Read where it is, honouring .gitignore; files that change are re-read the next time.",
    )
    if st.button("Add folder", type="primary", disabled=busy, key="add-folder"):
        folder = st.session_state.get("folder_path", "")
        settings = settings_panel.current()
        _start(
            collection,
            f"the folder {folder.strip()}",
            lambda job: intake.add_folder(settings, store, collection, folder, progress=job.progress),
        )


def _stage(stage: str, done: int, total: int, detail: str) -> tuple[float, str]:
    short = detail if len(detail) <= 40 else "…" + detail[-39:]
    if stage == "save":
        return 0.02, f"saving {short}"
    if stage == "scan":
        return 0.05, f"found {total} files"
    if stage == "read":
        return 0.05 + 0.45 * done / max(total, 1), f"reading {done} of {total}: {short}"
    if stage == "ocr":  # within one file's reading: the bar stays where reading left it
        return 0.05, f"OCR: page {done} of {total} of {short}"
    if stage == "embed":
        return 0.5 + 0.5 * done / max(total, 1), f"embedding {done} of {total} chunks"
    if stage == "warm":
        return done / max(total, 1), f"reading ahead, part {min(done + 1, total)} of {total}: {short}"
    return 0.0, stage


def _watch(running: state.Adding) -> None:
    area = st.empty()
    shown_value, shown_label = 0.0, ""

    def redraw() -> None:
        nonlocal shown_value, shown_label
        report = running.job.last_progress
        value, text = (0.0, "starting")
        if report is not None:
            value, text = _stage(report.stage, report.done, report.total, report.detail)
        label = markup.escape(f"Adding {running.what}: {text} ({running.job.seconds:.0f} s)")
        if label != shown_label:
            shown_value, shown_label = max(shown_value, min(value, 1.0)), label
            area.progress(shown_value, text=label)

    redraw()
    polling.watch(running.job, redraw)


def _result(collection: Collection) -> None:
    last = state.last_added()
    if last is None or last[0] != collection.name:
        return
    _, what, added, error = last
    if error:
        error_line(error)
        return
    assert added is not None
    counts = " · ".join(f"{added.count(s)} {s}" for s in OUTCOMES if added.count(s))
    if added.count("ingested") or added.count("unchanged"):
        st.success(markup.escape(f"Added {what} in {added.seconds:.0f} s: {counts or 'nothing to do'}."))
    else:
        st.warning(markup.escape(f"Nothing from {what} could be added: {counts or 'no files found'}."))
    for row in added.problems[:_SHOWN_PROBLEMS]:
        error_line(f"{row.path}: {row.reason}")
    if added.read_ahead:
        st.caption(markup.escape(added.read_ahead[:1].upper() + added.read_ahead[1:] + "."))
    if len(added.problems) > _SHOWN_PROBLEMS:
        st.caption(f"… and {len(added.problems) - _SHOWN_PROBLEMS} more in the table.")
    if added.rows:
        st.dataframe(
            [{"file": r.path, "outcome": r.status, "why": r.reason, "chunks": r.chunks} for r in added.rows],
            hide_index=True,
            width="stretch",
            key="added-table",
        )
    st.button("Dismiss", key="dismiss-added", on_click=state.set_last_added, args=(None,))


def render(store: Collections, collection: Collection) -> None:
    """The 'Add documents' part of the sidebar for the selected collection."""
    running = state.adding()
    if running is not None and running.job.done:
        state.set_last_added((running.collection, running.what, running.job.result, running.job.error))
        if running.job.stopped:
            state.set_last_added((running.collection, running.what, None, "stopped: nothing was added"))
        state.set_adding(None)
        running = None
    busy = running is not None
    st.markdown("**Add documents**")
    upload, folder = st.tabs([":material/upload: Upload", ":material/folder_open: Folder on the server"])
    with upload:
        _upload_tab(collection, busy)
    with folder:
        _folder_tab(store, collection, busy)
    st.checkbox("Read ahead after adding", key=READ_AHEAD_KEY, help=READ_AHEAD_HELP, disabled=busy)
    if running is not None:
        if st.button("Stop adding", key="stop-adding", icon=":material/stop_circle:"):
            running.job.stop()
        _watch(running)
    _result(collection)
