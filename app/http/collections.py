"""Collections and their documents over HTTP: list, create, delete; upload (multipart, with the
web UI's checks and caps), list and remove documents; read a collection ahead. Adding, removing
and reading ahead run as jobs (``app.http.jobs``): the request is answered 202 with the job.

An upload is checked whole before anything is saved (``intake.check_uploads``): one refused
file refuses the request (400, or 413 over a cap) and the collection stays as it was.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict

from app.http.jobs import Entry, describe
from app.http.state import Served, served
from app.services import assistant, intake
from app.services.collections import Collection, summary
from app.services.jobs import Job

router = APIRouter(tags=["collections"])
State = Annotated[Served, Depends(served)]


class NewCollection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


def _describe(collection: Collection, documents: bool = False) -> dict[str, Any]:
    held = summary(collection)
    shown: dict[str, Any] = {
        "name": collection.name,
        "ingested": collection.ingested,
        "takes_uploads": collection.files is not None,
        "documents": len(held.documents),
        "chunks": held.chunks,
        "tokens": held.tokens,
    }
    if documents:
        shown["documents"] = [dataclasses.asdict(d) for d in held.documents]
    return shown


def _accepted(entry: Entry) -> dict[str, Any]:
    return {"job": describe(entry), "poll": f"/jobs/{entry.id}"}


@router.get("/collections", summary="Every collection, with what it holds")
def list_collections(state: State) -> list[dict[str, Any]]:
    return [_describe(c) for c in state.store.all()]


@router.post("/collections", status_code=201, summary="A new, empty collection")
def create_collection(new: NewCollection, state: State) -> dict[str, Any]:
    return _describe(state.store.create(new.name))


@router.get("/collections/{name}", summary="One collection and its documents")
def get_collection(name: str, state: State) -> dict[str, Any]:
    return _describe(state.collection(name), documents=True)


@router.delete("/collections/{name}", summary="Delete a collection, its index and its uploads")
def delete_collection(name: str, state: State) -> dict[str, Any]:
    state.collection(name)
    state.jobs.check_idle(name)
    state.store.delete(name)
    return {"deleted": name}


@router.get("/collections/{name}/documents", summary="The documents of a collection")
def list_documents(name: str, state: State) -> list[dict[str, Any]]:
    return [dataclasses.asdict(d) for d in summary(state.collection(name)).documents]


@router.post(
    "/collections/{name}/documents",
    status_code=202,
    summary="Upload documents (or a .zip of a codebase) and ingest them, as a job",
)
async def upload_documents(
    name: str,
    state: State,
    files: Annotated[list[UploadFile], File(description="Documents, or a .zip of a codebase.")],
    warm: Annotated[bool, Form(description="Read the collection ahead once added.")] = False,
) -> dict[str, Any]:
    collection = state.collection(name)
    state.jobs.check_idle(collection.name)  # 409 before the files are even read
    settings = state.settings
    uploads = [(f.filename or "", await f.read()) for f in files]
    await run_in_threadpool(intake.check_uploads, settings, collection, uploads, state.limits)

    def work(job: Job[intake.Added]) -> intake.Added:
        added = intake.add_uploads(settings, collection, uploads, progress=job.progress, limits=state.limits)
        if warm and (added.count("ingested") or added.count("unchanged")):
            done = assistant.read_ahead(
                settings, collection, progress=lambda n, total, part: job.progress("warm", n, total, part)
            )
            added = dataclasses.replace(added, read_ahead=done)
        return added

    return _accepted(state.jobs.start("add", collection.name, work))


@router.delete(
    "/collections/{name}/documents/{path:path}",
    status_code=202,
    summary="Remove an uploaded document (or a zip's folder) and its chunks, as a job",
)
def remove_document(name: str, path: str, state: State) -> dict[str, Any]:
    collection = state.collection(name)
    settings = state.settings
    intake.document_path(collection, path)  # a path that is no document: 404 now, not in the job
    entry = state.jobs.start(
        "remove",
        collection.name,
        lambda job: intake.remove_document(settings, collection, path, progress=job.progress),
    )
    return _accepted(entry)


@router.post(
    "/collections/{name}/warm",
    status_code=202,
    summary="Read the collection ahead (longqa warm), so that even its first question reads only itself",
)
def warm_collection(name: str, state: State) -> dict[str, Any]:
    collection = state.collection(name)
    settings = state.settings
    entry = state.jobs.start(
        "warm",
        collection.name,
        lambda job: assistant.read_ahead(
            settings, collection, progress=lambda n, total, part: job.progress("warm", n, total, part)
        ),
    )
    return _accepted(entry)
