"""Code chunking with tree-sitter on real files of eight languages, and odd source files."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest

from core.files import sha256_bytes
from ingest.chunking import ChunkSettings
from ingest.code import chunk_code
from ingest.document import Chunk, Document
from ingest.errors import SkipFile
from ingest.formats import FORMATS
from ingest.pipeline import chunk_document, load_document, read_file
from ingest.tokens import count_tokens
from tests.conftest import FIXTURES

CODE = FIXTURES / "code"

# (file, language, qualified names that must each head a chunk)
CASES = [
    ("codec.py", "python", {"Codec", "IncrementalEncoder._buffer_encode", "search_function"}),
    ("yocto_queue.js", "javascript", {"Node", "Queue"}),
    (
        "immerClass.ts",
        "typescript",
        {"ProducersFns", "Immer.constructor", "Immer.createDraft", "createProxy"},
    ),
    ("errors.go", "go", {"New", "fundamental.Format", "withStack.Cause", "Cause"}),
    ("fnv.rs", "rust", {"FnvHasher", "test.fnv1a"}),
    ("HtmlWriter.java", "java", {"HtmlWriter.write", "HtmlWriter.close"}),
    ("murmurhash3.c", "c", {"murmurhash3_x86_32", "murmurhash3_x64_128"}),
    ("jp_platform.cpp", "cpp", {"LinuxPlatformAdapter.loadLibrary", "JPPlatformAdapter.getAdapter"}),
]


@pytest.mark.parametrize(("name", "language", "expected"), CASES)
def test_chunks_follow_definitions_with_qualified_names(name: str, language: str, expected: set[str]) -> None:
    loaded = read_file(CODE / name, name, ChunkSettings())
    doc = loaded.document
    assert doc.language == language
    names = {c.section for c in loaded.chunks}
    assert expected <= names, names
    lines = doc.text.split("\n")
    for chunk in loaded.chunks:
        assert doc.text[chunk.span.char_start : chunk.span.char_end] == chunk.text
        first = lines[chunk.span.line_start - 1]
        assert chunk.text.startswith(first.strip()[:20])
        assert chunk.span.label == f"{name}:{chunk.span.line_start}-{chunk.span.line_end}" or (
            chunk.span.line_start == chunk.span.line_end
        )


def test_definition_chunk_covers_exactly_the_function() -> None:
    loaded = read_file(CODE / "errors.go", "errors.go", ChunkSettings())
    new = next(c for c in loaded.chunks if c.section == "New")
    assert "func New(message string) error {" in new.text
    assert new.text.rstrip().endswith("}")
    assert "func Errorf" not in new.text


def test_every_nonblank_line_is_in_some_chunk() -> None:
    for name, _, _ in CASES:
        loaded = read_file(CODE / name, name, ChunkSettings())
        covered: set[int] = set()
        for chunk in loaded.chunks:
            covered.update(range(chunk.span.line_start, chunk.span.line_end + 1))
        lines = loaded.document.text.split("\n")
        missing = [i + 1 for i, line in enumerate(lines) if line.strip() and i + 1 not in covered]
        assert not missing, (name, missing[:10])


def test_large_definitions_are_split_by_lines_within_budget() -> None:
    settings = ChunkSettings(tokens=120, overlap=16)
    loaded = read_file(CODE / "murmurhash3.c", "murmurhash3.c", settings)
    parts = [c for c in loaded.chunks if c.section == "murmurhash3_x86_128"]
    assert len(parts) >= 3
    assert all(c.n_tokens <= 140 for c in loaded.chunks)
    assert parts == sorted(parts, key=lambda c: c.span.line_start)


def test_latin1_source_is_decoded_not_refused() -> None:
    raw = (CODE / "latin1.py").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    doc = load_document(CODE / "latin1.py", "latin1.py")
    assert "Révision" in doc.text and "Résumé" in doc.text


def test_binary_named_py_is_skipped(tmp_path: Path) -> None:
    fake = tmp_path / "module.py"
    fake.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    with pytest.raises(SkipFile, match=r"module\.py: binary content"):
        load_document(fake, "module.py")


def test_language_without_grammar_uses_line_windows(tmp_path: Path) -> None:
    script = tmp_path / "deploy.rb"
    script.write_text("".join(f"puts 'step {i}'\n" for i in range(400)))
    loaded = read_file(script, "deploy.rb", ChunkSettings(tokens=100, overlap=10))
    assert loaded.document.language == "ruby"
    assert len(loaded.chunks) > 5 and all(c.section is None for c in loaded.chunks)
    starts = [c.span.line_start for c in loaded.chunks]
    assert starts == sorted(starts) and loaded.chunks[-1].span.line_end == 400


def test_crlf_source_keeps_line_numbers(tmp_path: Path) -> None:
    source = tmp_path / "win.py"
    source.write_bytes(b"import os\r\n\r\n\r\ndef f():\r\n    return os.sep\r\n")
    loaded = read_file(source, "win.py", ChunkSettings())
    f = next(c for c in loaded.chunks if c.section == "f")
    assert (f.span.line_start, f.span.line_end) == (4, 5)


def code_document(text: str, language: str, name: str) -> Document:
    return Document(doc_id=sha256_bytes(text.encode()), path=name, kind="code", text=text, language=language)


def assert_rows_claimed_once(chunks: list[Chunk], text: str) -> None:
    """Distinct spans, every non-blank line covered, and pieces of different definitions apart."""
    spans = [(c.span.char_start, c.span.char_end) for c in chunks]
    assert len(spans) == len(set(spans)), "two chunks share a span"
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    covered = {line for c in chunks for line in range(c.span.line_start, c.span.line_end + 1)}
    lines = text.split("\n")
    assert all(i + 1 in covered for i, line in enumerate(lines) if line.strip())
    for before, after in itertools.pairwise(chunks):
        if before.section != after.section:
            assert after.span.line_start > before.span.line_end, (before.label, after.label)


SHARED_LINES = [
    ("javascript", "two.js", "const a = () => 1; const b = () => 2;\n"),
    ("javascript", "mixed.js", "function f(x){return x+1} var g=function(){return 3}; const h=()=>f(g());\n"),
    ("c", "one.c", "int a(){return 1;} int b(){return 2;} struct s { int x; };\n"),
    ("javascript", "class.js", "class A { m() { return 1; } n() { return 2; } o() { return 3; } }\n" * 3),
    (
        "javascript",
        "tail.js",
        "function a() {\n  return 1;\n} function b() {\n  return 2;\n}\nconst c = () => 3;\n",
    ),
    ("cpp", "ns.cpp", 'int a() { return 1; } extern "C" { int b() { return 2; } }\nint c() { return 3; }\n'),
]


@pytest.mark.parametrize(("language", "name", "text"), SHARED_LINES, ids=[c[1] for c in SHARED_LINES])
@pytest.mark.parametrize("budget", [16, 384])
def test_definitions_sharing_rows_are_planned_once(language: str, name: str, text: str, budget: int) -> None:
    doc = code_document(text, language, name)
    chunks = chunk_code(doc, ChunkSettings(tokens=budget, overlap=budget // 8))
    assert chunks
    assert_rows_claimed_once(chunks, text)


def test_a_one_line_bundle_is_chunked_once_not_per_definition() -> None:
    text = "".join(f"const f{i} = (x) => x + {i};" for i in range(2000))
    chunks = chunk_code(code_document(text, "javascript", "bundle.min.js"), ChunkSettings())
    assert_rows_claimed_once(chunks, text)
    assert sum(len(c.text) for c in chunks) < 1.5 * len(text)  # windows overlap a little, no more


def minified_bundle(size: int) -> str:
    """Real code with its newlines and line comments removed, repeated to ``size`` characters."""
    source = (CODE / "yocto_queue.js").read_text()
    code = " ".join(line.strip() for line in source.splitlines() if not line.strip().startswith("//"))
    unit = code.replace("export default ", "") + "const a=()=>1;const b=()=>2;function c(x){return x+1}"
    return "".join(unit.replace("Queue", f"Queue{i}") for i in range(size // len(unit) + 1))[:size]


def test_minified_bundle_chunking_grows_linearly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Characters handed to the tokenizer grow with the file, not with the file times its
    definitions (30 KB once made 35,000 duplicate chunks and took seconds; 5 MB took hours)."""
    counted = [0]

    def counting(text: str) -> int:
        counted[0] += len(text)
        return count_tokens(text)

    monkeypatch.setattr("ingest.code.count_tokens", counting)
    monkeypatch.setattr("ingest.chunking.count_tokens", counting)
    work, sizes = [], []
    for size in (30_000, 120_000):
        text = minified_bundle(size)
        counted[0] = 0
        chunks = chunk_code(code_document(text, "javascript", "bundle.min.js"), ChunkSettings())
        assert_rows_claimed_once(chunks, text)
        work.append(counted[0])
        sizes.append(len(chunks))
    assert work[1] < 5 * work[0], work
    assert 3 * sizes[0] <= sizes[1] <= 5 * sizes[0], sizes


def test_deeply_nested_classes_stay_linear() -> None:
    text = "".join(" " * i + f"class C{i}:\n" + " " * (i + 1) + f"x{i} = {i}\n" for i in range(300))
    chunks = chunk_code(code_document(text, "python", "deep.py"), ChunkSettings(tokens=16, overlap=2))
    assert_rows_claimed_once(chunks, text)
    assert {"C0", "C0.C1.C2"} <= {c.section for c in chunks}


def test_repeated_spans_never_leave_chunk_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last guard: whatever a chunker returns, one chunk per span, ordinals 0, 1, 2, …"""
    doc = code_document("def f():\n    return 1\n\n\ndef g():\n    return 2\n", "python", "m.py")
    real = chunk_code(doc, ChunkSettings())
    assert len(real) == 2
    repeating = dataclasses.replace(FORMATS["code"], chunk=lambda d, s: [real[0], real[0], real[1], real[0]])
    monkeypatch.setitem(FORMATS, "code", repeating)
    chunks = chunk_document(doc, ChunkSettings())
    assert [c.chunk_id for c in chunks] == [real[0].chunk_id, real[1].chunk_id]
    assert [c.ordinal for c in chunks] == [0, 1]
