"""The one door to pymilvus: importing it (the ``milvus`` extra, with a one-line hint when it is
missing), connecting to a Lite file or a server with errors that say what went wrong, the
schema of an index's two collections, and every call's failure as a StoreError.

Milvus Lite runs in a process of its own that pymilvus starts per file and keeps until this
process ends; here a file is given back (its process stopped, its lock released) once the last
index open on it in this process is closed, so that another process can take it.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from core.errors import reason_of
from retrieval.manifest import StoreError
from retrieval.milvus.location import MilvusLocation

INSTALL = "pip install 'longqa[milvus]'"
MAX_TEXT = 65_535
"""Bytes a Milvus VARCHAR holds."""
STATE_DIMENSION = 2
"""The documents collection's vector: Milvus wants one in every collection; nothing searches it."""
LITE_DENSE_INDEX = {"index_type": "FLAT", "metric_type": "IP", "params": {}}
"""Exact search in a Lite file: its IVF_FLAT found 87-90% of the exact top 10 at 100,000 chunks
whatever nlist and nprobe were (it keeps its own), FLAT all of it in 15 ms
(``benchmarks/results/scale.md``)."""
SERVER_DENSE_INDEX = {"index_type": "IVF_FLAT", "metric_type": "IP", "params": {"nlist": 1024}}
"""On a server, IVF as in the folder store (``retrieval.vectors``: HNSW loses its way in a
collection's tight clusters); per segment, so more lists than the folder store's 2 sqrt(n)
for a whole collection of that size. Not measured here: no Milvus server could be run."""
DENSE_SEARCH = {"metric_type": "IP", "params": {"nprobe": 64}}
LITE_HANDOVER = 5.0
"""Seconds to wait for a Lite file that another process is giving back (its engine stopping)."""
BM25_INDEX = {
    "index_type": "SPARSE_INVERTED_INDEX",
    "metric_type": "BM25",
    "params": {"bm25_k1": 1.5, "bm25_b": 0.75},  # bm25s's defaults, as the folder store has them
}

_T = TypeVar("_T")
_lite_users: dict[str, int] = {}
_lite_lock = threading.Lock()


def pymilvus(lite: bool = False) -> Any:
    """The pymilvus module (milvus-lite too, for a Lite file), or a StoreError naming the extra."""
    try:
        with warnings.catch_warnings():
            # milvus-lite 2.5 reads its version through pkg_resources, which warns on import
            warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
            import pymilvus as module

            if lite:
                import milvus_lite.server_manager  # noqa: F401 - pymilvus imports it when connecting
    except ImportError as exc:
        raise StoreError(f"a milvus: index needs pymilvus and milvus-lite, not installed: {INSTALL}") from exc
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)  # its failures become StoreErrors here
    return module


def connect(location: MilvusLocation, token: str | None = None) -> Any:
    """A ``MilvusClient`` for ``location``; a StoreError when the file or server cannot be used."""
    module = pymilvus(location.lite)
    if location.lite:
        with _lite_lock:  # held throughout: closing the probe's handle drops this process's locks
            if not _lite_users.get(location.uri):
                _check_lite(location)
            _lite_users[location.uri] = _lite_users.get(location.uri, 0) + 1
    try:
        return module.MilvusClient(
            uri=location.uri,
            token=token or "",
            db_name=location.db_name,
            timeout=location.timeout,
            **dict(location.options),
        )
    except Exception as exc:
        disconnect(location, None)
        raise StoreError(_connect_failure(location, exc)) from exc


def disconnect(location: MilvusLocation, client: Any) -> None:
    """Close ``client``; the last one of a Lite file in this process gives the file back."""
    if client is not None:
        with _suppressed():
            client.close()
    if not location.lite:
        return
    with _lite_lock:
        users = _lite_users.get(location.uri, 0) - 1
        if users > 0:
            _lite_users[location.uri] = users
            return
        _lite_users.pop(location.uri, None)
    with _suppressed():
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(location.uri)


def _check_lite(location: MilvusLocation) -> None:
    path = Path(location.uri)
    if not path.parent.is_dir():
        raise StoreError(f"{location.spec}: no folder {path.parent} to hold the Milvus Lite file")
    if path.exists() and not path.is_file():
        raise StoreError(f"{location.spec}: is a folder, not a Milvus Lite file")
    lock = path.parent / f".{path.name}.lock"  # milvus-lite's own lock, held while a process has it
    if not lock.exists():
        return
    deadline = time.monotonic() + LITE_HANDOVER
    while True:
        try:
            with lock.open("a") as handle:
                fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.lockf(handle, fcntl.LOCK_UN)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise StoreError(
                    f"{location.spec}: another process has this Milvus Lite file open (a Lite file "
                    "serves one process at a time; for several, point them at a Milvus server)"
                ) from None
            time.sleep(0.2)  # a process that just ended may still be giving it back
        except OSError as exc:
            raise StoreError(f"{location.spec}: cannot be opened ({reason_of(exc)})") from exc


def _connect_failure(location: MilvusLocation, exc: Exception) -> str:
    reason = _reason(exc)
    if location.lite:
        return f"{location.spec}: Milvus Lite could not open the file ({reason})"
    if "illegal connection params or server unavailable" in reason or "Fail connecting" in reason:
        return f"{location.spec}: cannot reach the Milvus server at {location.address} (is it running?)"
    return f"{location.spec}: the Milvus server at {location.address} refused the connection ({reason})"


def _reason(exc: BaseException) -> str:
    """A Milvus error's own message, without pymilvus's wrapping."""
    message = getattr(exc, "message", None)
    return " ".join(str(message).split()) if message else reason_of(exc)


def call(location: MilvusLocation, doing: str, action: Callable[[], _T]) -> _T:
    """``action()``, a failure of it a one-line StoreError: '<spec>: cannot <doing> (<reason>)'."""
    try:
        return action()
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"{location.spec}: cannot {doing} ({_reason(exc)})") from exc


@contextmanager
def _suppressed() -> Iterator[None]:
    try:
        yield
    except Exception:
        logging.getLogger(__name__).debug("closing", exc_info=True)


def create_collections(client: Any, location: MilvusLocation, dimension: int) -> None:
    """The chunks collection (dense and BM25 vectors, text, span) and the documents collection
    (documents in pieces, and the index's state), both read at strong consistency."""
    module = pymilvus()
    types, schema = module.DataType, client.create_schema(auto_id=False)
    schema.add_field("id", types.INT64, is_primary=True)
    schema.add_field("gen", types.INT64)
    schema.add_field("version", types.INT64)
    schema.add_field("text", types.VARCHAR, max_length=MAX_TEXT)
    schema.add_field("terms", types.VARCHAR, max_length=MAX_TEXT, enable_analyzer=True)
    schema.add_field("meta", types.JSON)
    schema.add_field("sparse", types.SPARSE_FLOAT_VECTOR)
    schema.add_field("dense", types.FLOAT_VECTOR, dim=dimension)
    schema.add_function(
        module.Function(
            name="bm25",
            function_type=module.FunctionType.BM25,
            input_field_names=["terms"],
            output_field_names=["sparse"],
        )
    )
    indexes = client.prepare_index_params()
    indexes.add_index(field_name="dense", **(LITE_DENSE_INDEX if location.lite else SERVER_DENSE_INDEX))
    indexes.add_index(field_name="sparse", **BM25_INDEX)
    client.create_collection(location.name, schema=schema, index_params=indexes, consistency_level="Strong")

    schema = client.create_schema(auto_id=False)
    schema.add_field("key", types.VARCHAR, is_primary=True, max_length=128)
    schema.add_field("kind", types.VARCHAR, max_length=16)
    schema.add_field("gen", types.INT64)
    schema.add_field("version", types.INT64)
    schema.add_field("path_key", types.VARCHAR, max_length=64)
    schema.add_field("part", types.INT64)
    schema.add_field("parts", types.INT64)
    schema.add_field("info", types.VARCHAR, max_length=MAX_TEXT)
    schema.add_field("data", types.VARCHAR, max_length=MAX_TEXT)
    schema.add_field("state", types.FLOAT_VECTOR, dim=STATE_DIMENSION)
    indexes = client.prepare_index_params()
    indexes.add_index(field_name="state", index_type="FLAT", metric_type="L2")
    client.create_collection(
        location.documents, schema=schema, index_params=indexes, consistency_level="Strong"
    )


def query_all(
    client: Any, collection: str, where: str, fields: list[str], batch: int = 2000
) -> Iterator[dict]:
    """Every row matching ``where`` (past the 16,384 rows one query may return)."""
    iterator = client.query_iterator(collection, batch_size=batch, filter=where, output_fields=fields)
    try:
        while rows := iterator.next():
            yield from rows
    finally:
        iterator.close()
