"""Background jobs as the pages poll them: streamed text, stopping, and errors as one line."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from app.services.jobs import Job
from core.errors import LongqaError


def test_a_job_streams_text_then_gives_its_result() -> None:
    def work(job: Job[str]) -> str:
        job.status("reading")
        for piece in ("The ", "answer", "."):
            job.token(piece)
        job.progress("embed", 3, 4, "")
        return "done"

    job = Job(work)
    assert job.wait(10) and job.done
    assert (job.result, job.error, job.stopped) == ("done", None, False)
    assert job.text == "The answer." and job.last_status == "reading"
    assert job.last_progress is not None and (job.last_progress.done, job.last_progress.total) == (3, 4)
    assert job.first_token_seconds is not None and job.first_token_seconds <= job.seconds


def test_stopping_a_job_ends_its_work_at_the_next_report() -> None:
    started, reports = threading.Event(), []

    def work(job: Job[None]) -> None:
        started.set()
        while True:  # a model that never stops talking
            job.token("word ")
            reports.append(1)

    job = Job(work)
    assert started.wait(10)
    job.stop()
    assert job.wait(10)
    assert job.stopped and job.error is None and job.result is None
    count = len(reports)
    time.sleep(0.2)
    assert len(reports) == count  # the work really ended


def test_errors_become_one_line_and_unexpected_ones_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    def refused(job: Job[None]) -> None:
        raise LongqaError("the collection 'x' is empty: add documents to it in the sidebar first")

    def crashed(job: Job[None]) -> None:
        raise RuntimeError("disk on fire\n  at sector 7")

    expected = Job(refused)
    assert expected.wait(10) and expected.error == (
        "the collection 'x' is empty: add documents to it in the sidebar first"
    )
    with caplog.at_level(logging.ERROR, logger="longqa.ui"):
        unexpected = Job(crashed)
        assert unexpected.wait(10)
    assert unexpected.error == "unexpected error: RuntimeError: disk on fire (details in the server log)"
    assert "Traceback" in caplog.text


def test_a_job_nobody_watches_any_more_gives_up() -> None:
    def work(job: Job[None]) -> None:
        while True:
            time.sleep(0.01)
            job.token("word ")

    watched = Job(work, abandon_after=0.3)
    for _ in range(10):  # a page polling it
        watched.touch()
        time.sleep(0.1)
    assert not watched.done
    assert watched.wait(5) and watched.stopped  # the tab was closed: it stops by itself
