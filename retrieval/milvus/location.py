"""Where a Milvus index lives, read from an ``--index`` spec.

* ``milvus:FILE.db`` — Milvus Lite: the engine embedded in a local file, started by pymilvus
  in a process of its own; one process at a time may hold the file.
* ``milvus://HOST[:PORT]/NAME[?OPTIONS]`` — collection NAME on a Milvus server or cluster
  (port 19530 unless given). OPTIONS are pymilvus's connection settings: ``db`` (the database),
  ``secure=true`` (TLS), ``server_name``, ``server_pem_path``, ``ca_pem_path``,
  ``client_pem_path``, ``client_key_path`` (one-way or mutual TLS), and ``timeout`` (seconds a
  call, and its retries, may take). The token is never part of the spec (it would show in
  process lists and logs): it comes from the settings (``LONGQA_MILVUS_TOKEN``).

The spec often travels as a ``pathlib.Path`` (``--index`` and the settings are paths), which
folds ``//`` into ``/``: ``milvus:/HOST:PORT/NAME`` is read the same. A name ending in ``.db``
is a Lite file (a Milvus collection name cannot hold a dot), anything else a server's.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from retrieval.manifest import StoreError

PREFIX = "milvus:"
LITE_NAME = "longqa"
"""The collection of a Lite file (the file is the index; its name need not be a Milvus name)."""
DOCUMENTS_SUFFIX = "_documents"
DEFAULT_PORT = 19530
DEFAULT_TIMEOUT = 60.0
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,199}")
_LITE_FILE = re.compile(r"[A-Za-z0-9.\-_]{1,36}")  # what milvus-lite accepts as a file name
_FLAGS = ("secure",)
_PATHS = ("server_pem_path", "ca_pem_path", "client_pem_path", "client_key_path")
OPTIONS = ("db", *_FLAGS, "server_name", *_PATHS, "timeout")


@dataclass(frozen=True)
class MilvusLocation:
    """A parsed spec: what ``MilvusClient`` is given, and the two collections of the index."""

    spec: str
    """The spec as longqa shows it: ``milvus:/abs/file.db`` or ``milvus://host:port/name``."""
    uri: str
    name: str
    db_name: str = ""
    options: tuple[tuple[str, str | bool], ...] = ()
    timeout: float = DEFAULT_TIMEOUT

    @property
    def lite(self) -> bool:
        return not self.uri.startswith(("http://", "https://"))

    @property
    def documents(self) -> str:
        """The collection of documents (their text, pages and boxes) and the index's state."""
        return self.name + DOCUMENTS_SUFFIX

    @property
    def address(self) -> str:
        return self.uri.split("://", 1)[-1]


def is_milvus(location: str | Path) -> bool:
    """Whether an ``--index`` value names a Milvus index rather than a folder."""
    return str(location).startswith(PREFIX)


def parse(location: str | Path) -> MilvusLocation:
    """The location an ``--index milvus:…`` spec names; a StoreError saying what is wrong."""
    text = str(location)
    if not is_milvus(text):
        raise StoreError(f"{text}: not a Milvus index (those start with {PREFIX})")
    rest, _, query = text[len(PREFIX) :].partition("?")
    if rest.endswith(".db"):
        if query:
            raise StoreError(f"{text}: a Milvus Lite file takes no options (they are a server's)")
        return _lite(text, rest)
    return _server(text, rest.lstrip("/"), query)


def _lite(text: str, rest: str) -> MilvusLocation:
    if rest.startswith("//"):  # milvus://x.db: a file, said as a URL
        rest = rest[1:]
    path = Path(rest).expanduser().resolve()
    if not _LITE_FILE.fullmatch(path.name):
        raise StoreError(
            f"{text}: Milvus Lite needs a file name of at most 36 letters, digits, '.', '-' and '_'"
        )
    return MilvusLocation(spec=f"{PREFIX}{path}", uri=str(path), name=LITE_NAME)


def _server(text: str, rest: str, query: str) -> MilvusLocation:
    address, _, name = rest.partition("/")
    usage = "use milvus://HOST:PORT/COLLECTION or milvus:FILE.db"
    if not address or not name:
        raise StoreError(f"{text}: names no {'server' if not address else 'collection'}; {usage}")
    if not _NAME.fullmatch(name):
        raise StoreError(
            f"{text}: {name!r} is not a Milvus collection name (letters, digits and '_', "
            "not starting with a digit); a Milvus Lite file ends in .db"
        )
    host, _, port = address.rpartition(":") if ":" in address else (address, "", str(DEFAULT_PORT))
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise StoreError(f"{text}: {address!r} is not HOST:PORT; {usage}")
    values = dict(urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=False))
    unknown = sorted(set(values) - set(OPTIONS))
    if unknown:
        raise StoreError(f"{text}: unknown option {unknown[0]!r}; the options are {', '.join(OPTIONS)}")
    options: list[tuple[str, str | bool]] = []
    for key in _FLAGS:
        if key in values:
            if values[key].lower() not in ("true", "false", "1", "0"):
                raise StoreError(f"{text}: {key} is true or false, not {values[key]!r}")
            options.append((key, values[key].lower() in ("true", "1")))
    options += [(key, values[key]) for key in ("server_name", *_PATHS) if key in values]
    timeout = DEFAULT_TIMEOUT
    if "timeout" in values:
        try:
            timeout = float(values["timeout"])
        except ValueError:
            timeout = -1.0
        if not 0 < timeout < 1e6:
            raise StoreError(f"{text}: timeout is a number of seconds, not {values['timeout']!r}")
    secure = dict(options).get("secure", False) or any(key in values for key in _PATHS)
    spec = f"{PREFIX}//{host}:{port}/{name}" + (f"?{query}" if query else "")
    return MilvusLocation(
        spec=spec,
        uri=f"{'https' if secure else 'http'}://{host}:{port}",
        name=name,
        db_name=values.get("db", ""),
        options=tuple(options),
        timeout=timeout,
    )
