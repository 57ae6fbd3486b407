"""Ingests and read-aheads as jobs: one thread each (``app.services.jobs.Job``), polled at
``GET /jobs/{id}`` for their progress and, at the end, their outcome or one-line error.

One job at a time writes to a collection: a second add, removal or read-ahead while one runs is
refused (409) before anything is saved, and so is deleting the collection. Finished jobs are kept
for a while (the last ``KEEP``) so that a client that polls late still reads the outcome.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from app.services.jobs import Job
from core.errors import LongqaError

KEEP = 200


class Busy(LongqaError):
    """A collection that a running job is writing to."""


class UnknownJob(LongqaError):
    """No job of that id (or it finished long ago)."""


@dataclass(frozen=True)
class Entry:
    """A job, what kind it is and which collection it works on."""

    id: str
    kind: str  # add, remove, warm
    collection: str
    job: Job[Any]


class Board:
    """The server's jobs, at most one running per collection."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._lock = threading.Lock()
        self._count = itertools.count(1)

    def start(self, kind: str, collection: str, work: Callable[[Job[Any]], Any]) -> Entry:
        """Start ``work`` as a job on ``collection``; Busy when a job works on it already."""
        with self._lock:
            self._refuse_busy(collection)
            job_id = f"{next(self._count)}-{secrets.token_hex(4)}"
            entry = Entry(job_id, kind, collection, Job(work, label=kind))
            self._entries[job_id] = entry
            done = [k for k, e in self._entries.items() if e.job.done]
            for old in done[: max(0, len(self._entries) - KEEP)]:
                del self._entries[old]
            return entry

    def _refuse_busy(self, collection: str) -> None:
        for entry in self._entries.values():
            if entry.collection == collection and not entry.job.done:
                raise Busy(
                    f"an ingest into {collection!r} is already running (job {entry.id}): "
                    "wait for it to end, or stop it"
                )

    def check_idle(self, collection: str) -> None:
        """Busy when a job works on ``collection`` (before it is deleted)."""
        with self._lock:
            self._refuse_busy(collection)

    def get(self, job_id: str) -> Entry:
        with self._lock:
            entry = self._entries.get(job_id)
        if entry is None:
            raise UnknownJob(f"no job {job_id!r}")
        return entry

    def all(self) -> list[Entry]:
        with self._lock:
            return list(self._entries.values())

    def stop_all(self, grace: float) -> None:
        """Stop every running job, waiting at most ``grace`` seconds in all (the server is going)."""
        running = [e.job for e in self.all() if not e.job.done]
        for job in running:
            job.stop()
        deadline = time.monotonic() + grace
        for job in running:
            job.wait(max(0.0, deadline - time.monotonic()))


def _plain(value: Any) -> Any:
    """A job's result as JSON: dataclasses as dicts, the rest as it is."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def describe(entry: Entry) -> dict[str, Any]:
    """A job as ``GET /jobs/{id}`` shows it."""
    job = entry.job
    state = "running"
    if job.done:
        state = "stopped" if job.stopped else "failed" if job.error else "done"
    progress = job.last_progress
    return {
        "id": entry.id,
        "kind": entry.kind,
        "collection": entry.collection,
        "state": state,
        "seconds": round(job.seconds, 3),
        "status": job.last_status,
        "progress": dataclasses.asdict(progress) if progress else None,
        "result": _plain(job.result) if job.done else None,
        "error": job.error,
    }


def board(request: Request) -> Board:
    jobs: Board = request.app.state.served.jobs
    return jobs


Jobs = Annotated[Board, Depends(board)]
router = APIRouter(tags=["jobs"])


@router.get("/jobs", summary="Every job kept, running or finished")
def list_jobs(jobs: Jobs) -> list[dict[str, Any]]:
    return [describe(e) for e in jobs.all()]


@router.get("/jobs/{job_id}", summary="A job's progress, then its outcome or its error")
def get_job(job_id: str, jobs: Jobs) -> dict[str, Any]:
    return describe(jobs.get(job_id))


@router.delete("/jobs/{job_id}", summary="Stop a running job (what it wrote is rolled back)")
def stop_job(job_id: str, jobs: Jobs) -> dict[str, Any]:
    entry = jobs.get(job_id)
    entry.job.stop()
    entry.job.wait(5.0)
    return describe(entry)
