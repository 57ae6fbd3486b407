"""The prefix cache with a real llama.cpp model (the tiny packaged one, so the suite stays fast):
a stored prefix is loaded instead of read again, bounded in size, invalidated when its collection
changes, and a damaged entry is recomputed, never a crash — also with two processes at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from agents.models.gguf import PACKAGED, model_path
from agents.models.llamacpp import ChatLlamaCpp
from agents.models.prefix_cache import PrefixCache

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WORDS = (ROOT / "examples" / "README.md").read_text().split()
DOCS = "<documents>\n" + " ".join(WORDS[:420]) + "\n</documents>\n\n"


def messages(question: str, docs: str = DOCS) -> list:
    return [SystemMessage("You answer from the documents."), HumanMessage(f"{docs}Question: {question}")]


def chat(cache: PrefixCache | None) -> ChatLlamaCpp:
    return ChatLlamaCpp(
        model_path=str(model_path("tiny")),
        n_ctx=2048,
        max_tokens=12,
        prefix_cache=cache,
        model_sha256=PACKAGED["tiny"].sha256,
    )


def ask(model: ChatLlamaCpp, question: str, docs: str = DOCS, tag: str = "c@1") -> tuple[str, dict]:
    text, metadata = "", {}
    for chunk in model.stream(messages(question, docs), max_tokens=12, cache_prefix=docs, cache_tag=tag):
        text += str(chunk.content)
        metadata.update(chunk.response_metadata)
    return text, metadata


def test_a_stored_prefix_is_loaded_by_a_new_model_and_answers_the_same(tmp_path: Path) -> None:
    cache = PrefixCache(tmp_path / "prefixes")
    first_text, first = ask(chat(cache), "Which licence covers simplejson?")
    assert first["prefix"]["computed_tokens"] > 300 and first["prefix"]["stored_bytes"] > 0
    assert cache.stats().entries == 1

    fresh = chat(cache)  # as after a restart: nothing in memory
    text, again = ask(fresh, "Which licence covers simplejson?")
    assert again["prefix"]["loaded_tokens"] == first["prefix"]["prefix_tokens"]
    assert again["prefix"]["computed_tokens"] == 0 and again["usage"]["cached_tokens"] > 300
    assert text == first_text  # the loaded state is the state it was computed as
    _, next_question = ask(fresh, "How many pages has the FASTA guide?")
    assert next_question["prefix"]["memory_tokens"] == first["prefix"]["prefix_tokens"]

    plain_text = "".join(
        str(c.content) for c in chat(None).stream(messages("Which licence covers simplejson?"), max_tokens=12)
    )
    assert plain_text == first_text


def test_a_damaged_entry_is_recomputed_not_a_crash(tmp_path: Path) -> None:
    cache = PrefixCache(tmp_path / "prefixes")
    ask(chat(cache), "Which licence covers simplejson?")
    (entry,) = (tmp_path / "prefixes").glob("*.state")
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 3])  # truncated, as by a full disk or a kill
    text, metadata = ask(chat(cache), "Which licence covers simplejson?")
    assert text and metadata["prefix"]["loaded_tokens"] == 0 and metadata["prefix"]["computed_tokens"] > 300
    assert entry.stat().st_size == len(data)  # stored again, whole
    entry.write_bytes(b"not a llama.cpp session file at all" * 10)
    _, metadata = ask(chat(cache), "Which licence covers simplejson?")
    assert metadata["prefix"]["computed_tokens"] > 300


def test_least_recently_used_entries_go_first_past_the_size_bound(tmp_path: Path) -> None:
    cache = PrefixCache(tmp_path / "prefixes")
    model = chat(cache)
    body = " ".join(WORDS[:400])
    documents = [f"<documents>\nDocument {name}.\n{body}\n</documents>\n\n" for name in "ABC"]  # one size
    ask(model, "What is this?", documents[0], tag="a@1")
    one = cache.stats().bytes
    cache.max_bytes = int(one * 2.5)  # room for two entries
    ask(model, "What is this?", documents[1], tag="b@1")
    ask(chat(cache), "What is this?", documents[0], tag="a@1")  # a hit: the first is used again
    ask(model, "What is this?", documents[2], tag="c@1")
    assert cache.stats().entries == 2
    _, metadata = ask(chat(cache), "What is this?", documents[0], tag="a@1")
    assert metadata["prefix"]["loaded_tokens"] > 0  # the recently used one was kept
    _, metadata = ask(chat(cache), "What is this?", documents[1], tag="b@1")
    assert metadata["prefix"]["loaded_tokens"] == 0  # the least recently used one went


def test_a_new_generation_of_a_collection_drops_its_old_entries(tmp_path: Path) -> None:
    cache = PrefixCache(tmp_path / "prefixes")
    model = chat(cache)
    ask(model, "What is this?", tag="/idx/examples@3")
    changed = "<documents>\n" + " ".join(WORDS[:400]) + " and one more line\n</documents>\n\n"
    ask(model, "What is this?", changed, tag="/idx/examples@4")  # re-ingested: generation 4
    assert cache.stats().entries == 1
    _, metadata = ask(chat(cache), "What is this?", changed, tag="/idx/examples@4")
    assert metadata["prefix"]["loaded_tokens"] > 0
    assert cache.invalidate("/idx/examples") == 1 and cache.stats().entries == 0


def test_two_processes_share_the_cache(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from pathlib import Path
        from agents.models.prefix_cache import PrefixCache
        from test_prefix_cache import ask, chat
        cache = PrefixCache(Path({str(tmp_path / "prefixes")!r}))
        text, metadata = ask(chat(cache), "Which licence covers simplejson?")
        print(repr(text), metadata["prefix"]["computed_tokens"], metadata["prefix"]["loaded_tokens"])
        """
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=600)[0].strip() for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    assert outputs[0].rsplit(" ", 2)[0] == outputs[1].rsplit(" ", 2)[0]  # the same answer
    assert not [p for p in (tmp_path / "prefixes").iterdir() if ".tmp-" in p.name]
    _, metadata = ask(chat(PrefixCache(tmp_path / "prefixes")), "Which licence covers simplejson?")
    assert metadata["prefix"]["loaded_tokens"] > 300
