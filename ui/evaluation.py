"""The Evaluation page: run an evaluation of a question set (once the evaluation feature is
installed), and read the reports already made — their metrics tables and plots."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import streamlit as st

from app.services import reports
from app.services.jobs import Job
from app.settings import STRATEGY_INFO, label
from ui import polling, settings_panel, state
from ui.feedback import error_line, shown_errors

_FOLDER_KEY = "eval.folder"
_DATASET_KEY = "eval.dataset"
_STRATEGIES_KEY = "eval.strategies"
_LIMIT_KEY = "eval.limit"
_JOB_KEY = "eval.job"
_CHOSEN_KEY = "eval.report"


def _default_folder() -> Path:
    return reports.default_folder(state.collections().root)


def _finished(running: Job[Path]) -> None:
    st.session_state.pop(_JOB_KEY, None)
    if running.stopped:
        st.warning(
            "Stopped. The answers scored so far are kept: run the same question set into the same "
            "folder to go on where it stopped.",
            icon=":material/pause_circle:",
        )
    elif running.error:
        error_line(running.error)
    elif running.result is not None:
        st.success(f"Report written to {running.result}", icon=":material/check_circle:")
        st.session_state[_CHOSEN_KEY] = str(running.result)


def _watch(running: Job[Path]) -> None:
    if st.button("Stop", icon=":material/stop_circle:", key="eval-stop"):
        running.stop()
    area = st.empty()
    shown = ""

    def redraw() -> None:
        nonlocal shown
        report = running.last_progress
        done = report.done / max(report.total, 1) if report else 0.0
        what = f"{report.stage} {report.done} of {report.total}: {report.detail}" if report else "starting"
        label = f"Evaluating… {what} ({running.seconds:.0f} s)"
        if label != shown:
            area.progress(min(done, 1.0), text=label)
            shown = label

    redraw()
    polling.watch(running, redraw)


def _start(folder: Path) -> None:
    dataset = Path(st.session_state[_DATASET_KEY].strip()).expanduser()
    if not dataset.is_file():
        error_line(f"{dataset}: no such question set")
        return
    strategies = list(st.session_state[_STRATEGIES_KEY]) or None
    limit = int(st.session_state[_LIMIT_KEY]) or None
    settings = settings_panel.current()
    out = folder / dataset.stem

    def work(job: Job[Path]) -> Path:
        return reports.run_evaluation(
            settings, dataset, out, strategies=strategies, limit=limit, progress=job.progress
        )

    st.session_state[_JOB_KEY] = Job(work, label="eval")
    st.rerun()


def _run_section(folder: Path) -> None:
    st.subheader("Run an evaluation", divider="gray")
    found = reports.find_datasets([folder, Path.cwd() / "examples"])
    st.session_state.setdefault(_DATASET_KEY, str(found[0]) if found else "")
    st.text_input(
        "Question set",
        key=_DATASET_KEY,
        help="JSONL, one question a line: id, question, answers (acceptable short answers), docs "
        "(the folder or files to ask over), optionally evidence.",
    )
    if found:
        st.caption("Found: " + ", ".join(f"`{p}`" for p in found))
    left, right = st.columns([3, 1])
    aliases = [info.alias for info in STRATEGY_INFO.values()]
    left.multiselect(
        "Ways of reading to compare",
        aliases,
        default=aliases,
        format_func=label,
        key=_STRATEGIES_KEY,
    )
    right.number_input(
        "Questions (0 = all)", min_value=0, value=5, step=1, key=_LIMIT_KEY, help="The first N questions."
    )
    running = st.session_state.get(_JOB_KEY)
    if running is not None and running.done:
        _finished(running)
        running = None
    st.caption(
        f"Answers with the model of *Answer settings*; the report goes to `{folder}/<question set>`. "
        "Every question is asked once per way of reading: on a CPU this takes a while."
    )
    if st.button("Run", type="primary", disabled=running is not None, icon=":material/play_arrow:"):
        _start(folder)
    if running is not None:
        _watch(running)


def _report(folder: Path) -> None:
    report = reports.read_report(folder)
    when = datetime.fromtimestamp(report.modified).strftime("%Y-%m-%d %H:%M")
    st.caption(f"`{report.folder}` · written {when}")
    if report.markdown:
        st.markdown(report.markdown)
    elif report.data is not None:
        st.json(report.data, expanded=1)
    for plot in report.plots:
        st.image(str(plot), caption=plot.stem.replace("_", " "), width="stretch")
    if report.data is not None:
        st.download_button(
            "Download report.json",
            json.dumps(report.data, indent=2),
            file_name=f"{report.name}-report.json",
            mime="application/json",
            icon=":material/download:",
        )


def render() -> None:
    """The whole Evaluation page."""
    st.title("Evaluation")
    st.caption(
        "How well answers match gold answers (exact match, F1), whether citations support their "
        "sentences, and what each way of reading costs."
    )
    st.session_state.setdefault(_FOLDER_KEY, str(_default_folder()))
    st.text_input("Reports folder", key=_FOLDER_KEY, help="Searched three levels deep for report folders.")
    folder = Path(st.session_state[_FOLDER_KEY].strip() or ".").expanduser()
    with shown_errors():
        _run_section(folder)
    st.subheader("Reports", divider="gray")
    with shown_errors():
        found = reports.find_reports(folder)
        if not found:
            st.info(f"No reports in {folder} yet.", icon=":material/folder_off:")
            return
        names = [str(p) for p in found]
        if st.session_state.get(_CHOSEN_KEY) not in names:
            st.session_state[_CHOSEN_KEY] = names[0]
        chosen = st.selectbox(
            "Report",
            names,
            format_func=lambda p: (
                f"{Path(p).name} — {datetime.fromtimestamp(Path(p).stat().st_mtime):%Y-%m-%d %H:%M}"
            ),
            key=_CHOSEN_KEY,
        )
        if chosen is not None:
            _report(Path(chosen))
