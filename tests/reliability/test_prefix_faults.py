"""Prefix states and `longqa warm` under faults: truncated entries, entries saved by another model,
KV type, llama.cpp version or file format, junk in the cache folder, a read-only and a full cache
folder, a kill -9 in the middle of `longqa warm`, and nonsense prefix_cache_gb values. Each ends
in a transparent recomputation (the same answer as with no cache at all, one warning line) or in
one clear line, never in a crash, a hang or a wrong answer.

The real model is the tiny packaged one, over a prefix of about 300 tokens; the cases on files
alone call the cache directly.
"""

from __future__ import annotations

import functools
import json
import os
import struct
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agents.evidence.corpus import Corpus
from agents.models.backends import load_backend
from agents.models.gguf import PACKAGED, model_path
from agents.models.llamacpp import ChatLlamaCpp
from agents.models.prefix_cache import PrefixCache
from agents.orchestrator import Answerer, AskOptions
from agents.reading.router import reading
from agents.reading.warm import warm
from app import wiring
from app.settings import load_settings
from core.errors import LongqaError
from ingest.chunking import ChunkSettings
from retrieval.indexer import ingest
from retrieval.search import HybridSearcher
from retrieval.store import Index
from tests.agents.test_prefix_cache import WORDS, ask, chat
from tests.conftest import ROOT, HashEmbedder
from tests.reliability import test_disk_full, test_readonly
from tests.reliability.test_cli_errors import assert_one_line_error, cli
from tests.reliability.test_disk_full import fill

pytestmark = pytest.mark.slow

disk = test_disk_full.disk  # a 16 MiB tmpfs (skipped where none can be mounted)
readonly_view = test_readonly.readonly_view  # a read-only bind mount of a folder

DOCS = "<documents>\n" + " ".join(WORDS[:120]) + "\n</documents>\n\n"
OTHER_DOCS = "<documents>\n" + " ".join(WORDS[120:240]) + "\n</documents>\n\n"
QUESTION = "Which licence covers simplejson?"
HEADER = struct.Struct("<III")  # a llama.cpp session file opens with magic, version, token count
LOGGER = "agents.models.prefix_cache"


@functools.cache
def reference(docs: str) -> str:
    """The answer with no prefix cache at all: what every faulty cache must still give."""
    return ask(chat(None), QUESTION, docs)[0]


def header_size(data: bytes) -> int:
    return HEADER.size + 4 * HEADER.unpack_from(data)[2]


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelname == "WARNING"]


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A good cache folder's files (name -> bytes), holding the state of DOCS."""
    folder = tmp_path_factory.mktemp("stored") / "prefixes"
    text, metadata = ask(chat(PrefixCache(folder)), QUESTION, DOCS)
    assert metadata["prefix"]["stored_bytes"] > 0 and text == reference(DOCS)
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != ".lock"}


def entry_of(stored: dict[str, bytes]) -> str:
    (name,) = (name for name in stored if name.endswith(".state"))
    return name


@pytest.fixture
def folder(tmp_path: Path, stored: dict[str, bytes]) -> Path:
    """A copy of the good cache folder, for one test to damage."""
    folder = tmp_path / "prefixes"
    folder.mkdir()
    for name, data in stored.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def foreign_bodies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes | None]:
    """What follows the header in states saved by another model and with another KV type."""
    folder = tmp_path_factory.mktemp("foreign")
    bodies: dict[str, bytes | None] = {}
    for name, spec, kv_type in (("model", "small", "f16"), ("kv", "tiny", "q8_0")):
        try:
            path = str(model_path(spec))
        except LongqaError:  # the other packaged model is not installed
            bodies[name] = None
            continue
        model = ChatLlamaCpp(model_path=path, n_ctx=512, kv_type=kv_type, model_sha256=PACKAGED[spec].sha256)
        tokens = model.llama.tokenize(b"A few words of another prompt, read by another model.")
        model.llama.eval(tokens)
        assert PrefixCache(folder).store(model.llama._ctx.ctx, name, tokens)
        data = (folder / f"{name}.state").read_bytes()
        bodies[name] = data[header_size(data) :]
    return bodies


def _bump(data: bytes, at: int) -> bytes:
    """``data`` with the 32-bit number at byte ``at`` one more (a version, a token)."""
    (value,) = struct.unpack_from("<i", data, at)
    return data[:at] + struct.pack("<i", value + 1) + data[at + 4 :]


VARIANTS: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda data: b"",
    "header only": lambda data: data[: header_size(data)],
    "cut in half": lambda data: data[: len(data) // 2],
    "one byte short": lambda data: data[:-1],
    "another llama.cpp session version": lambda data: _bump(data, 4),
    "another file format (GGUF)": lambda data: b"GGUF" + data[4:],
    "the state of other tokens": lambda data: _bump(data, HEADER.size + 4 * 5),
}
FOREIGN = {"saved by another model": "model", "saved with a q8_0 KV cache": "kv"}
LOOKS_WHOLE = {"the state of other tokens"}  # only loading it tells: llama.cpp compares the tokens


@pytest.fixture
def damaged(
    request: pytest.FixtureRequest,
    folder: Path,
    stored: dict[str, bytes],
    foreign_bodies: dict[str, bytes | None],
) -> tuple[str, str]:
    """(key, variant): the good entry in ``folder`` replaced by the variant a test names."""
    name, variant = entry_of(stored), request.param
    data = stored[name]
    if variant in VARIANTS:
        (folder / name).write_bytes(VARIANTS[variant](data))
    elif (body := foreign_bodies[FOREIGN[variant]]) is not None:
        (folder / name).write_bytes(data[: header_size(data)] + body)
    else:
        pytest.skip("the other packaged model is not installed")
    return name.removesuffix(".state"), variant


@pytest.fixture(scope="module")
def model() -> ChatLlamaCpp:
    """A tiny model, whose llama.cpp context entries are loaded into."""
    return chat(None)


@pytest.mark.parametrize("damaged", [*VARIANTS, *FOREIGN], indirect=True)
def test_a_truncated_or_foreign_entry_is_never_loaded_nor_counted(
    damaged: tuple[str, str],
    folder: Path,
    stored: dict[str, bytes],
    model: ChatLlamaCpp,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key, variant = damaged
    cache = PrefixCache(folder)
    if variant not in LOOKS_WHOLE:  # else warm would call it stored, the router count it as loaded
        assert not cache.has(key) and cache.size(key) == 0
    data = stored[f"{key}.state"]
    tokens = list(struct.unpack_from(f"<{HEADER.unpack_from(data)[2]}i", data, HEADER.size))
    assert not cache.load(model.llama._ctx.ctx, key, tokens)
    assert not (folder / f"{key}.state").exists()  # removed: the next store writes it whole
    assert len(warnings(caplog)) == 1 and key in warnings(caplog)[0], warnings(caplog)


@pytest.mark.parametrize(
    "damaged", ["cut in half", "the state of other tokens", "saved by another model"], indirect=True
)
def test_after_a_truncated_or_foreign_entry_the_answer_is_the_one_without_a_cache(
    damaged: tuple[str, str], folder: Path, stored: dict[str, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    key, _ = damaged
    cache = PrefixCache(folder)
    text, metadata = ask(chat(cache), QUESTION, DOCS)
    assert text == reference(DOCS)
    assert metadata["prefix"]["loaded_tokens"] == 0
    assert metadata["prefix"]["computed_tokens"] == metadata["prefix"]["prefix_tokens"] > 256
    assert cache.size(key) == len(stored[f"{key}.state"])  # stored again, whole
    assert len(warnings(caplog)) == 1, warnings(caplog)
    _, again = ask(chat(cache), QUESTION, DOCS)
    assert again["prefix"]["loaded_tokens"] == again["prefix"]["prefix_tokens"]


def _junk(folder: Path, outside: Path) -> dict[str, bytes | None]:
    """What no prefix cache writes, made in ``folder``: name -> bytes (None: not a file)."""
    before = set(os.listdir(folder))
    (folder / "notes.txt").write_text("someone's notes\n")
    (folder / "list.json").write_text("[1, 2, 3]")
    (folder / "null.json").write_text("null")
    (folder / "binary.json").write_bytes(b"\xff\xfe\x00junk")
    (folder / "folder.state").mkdir()
    (folder / "folder.json").mkdir()
    (folder / "pipe.json").unlink(missing_ok=True)
    os.mkfifo(folder / "pipe.json")  # reading it would wait for a writer forever
    (folder / "link.state").symlink_to(outside)
    (folder / "dangling.state").symlink_to(folder / "nowhere")
    return {
        p.name: (p.read_bytes() if p.is_file() and p.name != "pipe.json" else None)
        for p in folder.iterdir()
        if p.name not in before
    }


@pytest.mark.timeout(120)
def test_junk_in_the_cache_folder_is_left_alone_and_breaks_nothing(
    folder: Path, stored: dict[str, bytes], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_text("not the cache's to delete\n")
    junk = _junk(folder, outside)
    cache = PrefixCache(folder)
    assert cache.stats().entries == 1
    text, metadata = ask(chat(cache), QUESTION, DOCS)  # loads the good entry beside the junk
    assert text == reference(DOCS) and metadata["prefix"]["loaded_tokens"] > 256

    text, metadata = ask(chat(cache), QUESTION, OTHER_DOCS, tag="c@2")  # a store: tags, evicts
    assert text == reference(OTHER_DOCS) and metadata["prefix"]["stored_bytes"] > 0
    assert cache.stats().entries == 1  # generation 2 of the collection replaced generation 1
    assert cache.invalidate("c") == 1 and cache.stats().entries == 0
    cache.max_bytes = 0
    cache.evict()
    assert outside.read_text() == "not the cache's to delete\n"
    for name, data in junk.items():  # none of it is the cache's
        assert (folder / name).exists() or (folder / name).is_symlink(), name
        assert data is None or (folder / name).read_bytes() == data, name
    assert warnings(caplog) == []


@pytest.fixture
def corpus(tmp_path: Path) -> Iterator[Corpus]:
    """Three short documents: a full_context prefix of about 550 tokens (13 MB of state) and one
    chain-of-agents segment of about 450 (10 MB)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "install.md").write_text("# Installing\n\nYou need at least 50 MB of free disk space.\n")
    (docs / "memory.md").write_text("# Memory\n\nFor ordinary printing, 64 MB of memory is enough.\n")
    (docs / "examples.md").write_text("# About the examples\n\n" + " ".join(WORDS[:130]) + "\n")
    ingest([docs], tmp_path / "ix", HashEmbedder(), ChunkSettings())
    with Index.open(tmp_path / "ix") as index:
        yield Corpus(index, HybridSearcher(index, HashEmbedder()))


def tiny(cache: PrefixCache | None):
    return load_backend("llamacpp:tiny", context_window=2048, answer_tokens=64, prefix_cache=cache)


@pytest.fixture
def readonly(folder: Path, readonly_view: Callable[[Path], Path]) -> Path:
    """The good cache folder, read-only."""
    return readonly_view(folder)


def test_a_read_only_cache_folder_is_read_and_never_an_error(
    readonly: Path, folder: Path, stored: dict[str, bytes], corpus: Corpus, caplog: pytest.LogCaptureFixture
) -> None:
    for target in (readonly, readonly / "missing"):  # warm says so before it reads anything
        with pytest.raises(LongqaError, match=r"^the prefix cache folder .* cannot be written \(") as caught:
            warm(corpus, tiny(PrefixCache(target)))
        assert str(target) in str(caught.value) and "\n" not in str(caught.value)
    cache = PrefixCache(readonly)
    text, metadata = ask(chat(cache), QUESTION, DOCS)
    assert text == reference(DOCS) and metadata["prefix"]["loaded_tokens"] > 256

    text, metadata = ask(chat(cache), QUESTION, OTHER_DOCS)  # not stored: one line says why
    assert text == reference(OTHER_DOCS) and metadata["prefix"]["stored_bytes"] == 0
    assert len(warnings(caplog)) == 1 and "Read-only file system" in warnings(caplog)[0], warnings(caplog)

    name = entry_of(stored)
    (folder / name).write_bytes(stored[name][:1000])  # damaged where it can be written
    caplog.clear()
    model = chat(cache)
    text, metadata = ask(model, QUESTION, DOCS)  # cannot be removed here: recomputed
    assert text == reference(DOCS) and metadata["prefix"]["computed_tokens"] > 256
    assert len(warnings(caplog)) == 2, warnings(caplog)  # damaged; could not store

    caplog.clear()
    tokens = list(model.llama.input_ids[: model.llama.n_tokens])  # what its context holds
    assert PrefixCache(readonly / "missing").store(model.llama._ctx.ctx, "k", tokens) == 0  # no folder
    assert len(warnings(caplog)) == 1 and "Read-only file system" in warnings(caplog)[0], warnings(caplog)


def test_a_full_cache_folder_stores_nothing_and_answers_right(
    disk: Path, corpus: Corpus, caplog: pytest.LogCaptureFixture
) -> None:
    cache = PrefixCache(disk / "prefixes")
    filler = fill(disk)
    with pytest.raises(LongqaError, match=r"^the prefix cache folder .* cannot be written \(.*space"):
        warm(corpus, tiny(cache))
    text, metadata = ask(chat(cache), QUESTION, DOCS)
    assert text == reference(DOCS) and metadata["prefix"]["stored_bytes"] == 0
    assert len(warnings(caplog)) == 1 and "space" in warnings(caplog)[0], warnings(caplog)

    filler.unlink()
    report = warm(corpus, tiny(cache))  # room for the first state; the disk fills up in the second
    assert [p.status for p in report.parts] == ["stored", "not stored"]
    assert report.prefilled == sum(p.tokens for p in report.parts) > 0
    assert sum(p.stat().st_size for p in (disk / "prefixes").glob("*.state")) == report.stored_bytes
    assert [p.name for p in (disk / "prefixes").iterdir() if ".tmp-" in p.name] == []
    assert "space" in warnings(caplog)[-1], warnings(caplog)


WARM = textwrap.dedent("""
    import os, sys, time
    import llama_cpp
    from app import wiring
    from app.cli import run
    from tests.conftest import HashEmbedder

    wiring.embedder = lambda settings: HashEmbedder()
    save, saves = llama_cpp.llama_state_save_file, []

    def save_then_hang(ctx, path, tokens, count):
        ok = save(ctx, path, tokens, count)
        saves.append(path)
        if len(saves) == int(sys.argv[2]):  # killed while writing this state: half of it written
            os.truncate(path, os.path.getsize(path) // 2)
            print("writing", flush=True)
            time.sleep(600)
        return ok

    llama_cpp.llama_state_save_file = save_then_hang
    sys.exit(run(["warm", "--index", sys.argv[1], "--json"]))
""")


def test_a_warm_killed_while_writing_is_completed_by_the_next_and_answers_right(
    corpus: Corpus, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LONGQA_CONFIG"}
    env |= {"PYTHONPATH": str(ROOT), "LONGQA_MODEL": "llamacpp:tiny", "LONGQA_CONTEXT_WINDOW": "2048"}
    env |= {"LONGQA_ANSWER_TOKENS": "64", "LONGQA_CACHE_DIR": str(tmp_path / "cache")}
    prefixes = tmp_path / "cache" / "prefixes"

    def run_warm(hang_at: int) -> subprocess.Popen[str]:
        command = [sys.executable, "-c", WARM, str(tmp_path / "ix"), str(hang_at)]
        return subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)

    with run_warm(2) as killed:  # killed while the second state is being written
        assert killed.stdout is not None and killed.stdout.readline() == "writing\n"
        killed.kill()
    assert len(list(prefixes.glob("*.state"))) == 1 and [p for p in prefixes.iterdir() if ".tmp-" in p.name]

    rerun = run_warm(0)
    out, _ = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, out
    statuses = [part["status"] for part in json.loads(out)["parts"]]
    assert statuses == ["already stored", "stored"], statuses
    assert [p.name for p in prefixes.iterdir() if ".tmp-" in p.name] == []

    cache = PrefixCache(prefixes)
    warmed = reading("How much disk space?", corpus, tiny(cache)).prefixes
    assert all(p.cached_tokens > 0 for name in ("full_context", "chain_of_agents") for p in warmed[name])
    options = AskOptions(strategy="full", verify=False)
    answer = Answerer(corpus, tiny(cache), options=options).ask("How much disk space is needed?")
    assert answer.trace.calls[0].cached_tokens > 256
    cold = Answerer(corpus, tiny(None), options=options).ask("How much disk space is needed?")
    assert answer.text == cold.text


NONSENSE = ("abc", "-1", "1e999", "", "nan", "inf", "1e300")
SIZES: dict[str, float | None] = {**dict.fromkeys(NONSENSE), "0": 0.0, "0.5": 0.5, "1e5": 1e5}


@pytest.mark.parametrize("value", SIZES)
def test_a_nonsense_prefix_cache_size_is_one_line_and_a_sensible_one_is_kept(
    value: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LONGQA_CONFIG", raising=False)
    monkeypatch.setattr(wiring, "embedder", lambda settings: HashEmbedder())
    monkeypatch.setenv("LONGQA_PREFIX_CACHE_GB", value)
    if SIZES[value] is not None:
        assert load_settings().prefix_cache_gb == SIZES[value]
        return
    with pytest.raises(LongqaError, match=r"^setting prefix_cache_gb = ") as caught:
        load_settings()
    assert "\n" not in str(caught.value)
    for command in (["warm", "--index", "ix"], ["ask", "What?", "--index", "ix"]):
        status, _, stderr = cli(capsys, *command)
        assert_one_line_error(status, stderr, "prefix_cache_gb")
