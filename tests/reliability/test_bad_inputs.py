"""A zoo of bad inputs, each ingested beside good files.

Every bad file ends skipped or failed with a one-line reason that says why (never "unexpected"),
or, where it is only odd (a minified bundle, a strange name, a deep folder), is ingested like any
other file. Either way the good files beside it are ingested and searchable, the ingest raises
nothing, the JSON report is valid UTF-8, and no two chunks of a document share a span.
"""

from __future__ import annotations

import io
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pypdf
import pytest
from PIL import Image

from ingest.chunking import ChunkSettings
from ingest.walk import DEFAULT_MAX_BYTES
from retrieval.indexer import ingest
from retrieval.store import Index
from tests.conftest import EXAMPLES, FIXTURES

GOOD = {
    "good/readme.md": "# Good notes\n\nThe lighthouse keeper is called quokkaalpha.\n",
    "good/tool.py": 'def helper():\n    """Returns a name."""\n    return "quokkabeta"\n',
}


@dataclass(frozen=True)
class Bad:
    """What must become of one file of the zoo."""

    status: str  # "skipped" or "failed" with ``reason``; "ingested" for files that are only odd
    reason: str = ""  # words the one-line reason must contain
    marker: str = ""  # a word of an ingested file's text that search must find


Zoo = Callable[[Path, Path], dict[str, Bad]]
"""Writes bad files into the corpus (first argument; the second is a folder outside it) and
says what must become of each, by the path the report shows."""


def empty(root: Path, outside: Path) -> dict[str, Bad]:
    (root / "empty.txt").write_bytes(b"")
    return {"empty.txt": Bad("skipped", "empty file")}


def random_bytes(root: Path, outside: Path) -> dict[str, Bad]:
    noise = random.Random(7)
    (root / "noise.py").write_bytes(noise.randbytes(4096))
    (root / "noise.txt").write_bytes(noise.randbytes(4096))
    return {"noise.py": Bad("skipped", "binary content"), "noise.txt": Bad("skipped", "binary content")}


def truncated_pdf(root: Path, outside: Path) -> dict[str, Bad]:
    data = (EXAMPLES / "fasta_guide.pdf").read_bytes()
    (root / "truncated.pdf").write_bytes(data[: len(data) // 2])
    return {"truncated.pdf": Bad("failed", "damaged or truncated PDF")}


def encrypted_pdf(root: Path, outside: Path) -> dict[str, Bad]:
    writer = pypdf.PdfWriter(clone_from=EXAMPLES / "fasta_guide.pdf")
    writer.encrypt("a user password")
    buffer = io.BytesIO()
    writer.write(buffer)
    (root / "locked.pdf").write_bytes(buffer.getvalue())
    return {"locked.pdf": Bad("failed", "encrypted PDF")}


def image_only_pdf(root: Path, outside: Path) -> dict[str, Bad]:
    Image.new("RGB", (300, 200), "navy").save(root / "scan.pdf")
    return {"scan.pdf": Bad("failed", "no text layer")}


def huge_sparse_file(root: Path, outside: Path) -> dict[str, Bad]:
    with (root / "huge.txt").open("wb") as handle:
        handle.write(b"a sparse file\n")
    os.truncate(root / "huge.txt", DEFAULT_MAX_BYTES + 1)
    return {"huge.txt": Bad("skipped", "size cap")}


def binary_as_source(root: Path, outside: Path) -> dict[str, Bad]:
    (root / "module.py").write_bytes(b"import os\n\x00\x00\x00\x01\x02" + bytes(range(256)) * 8)
    return {"module.py": Bad("skipped", "binary content")}


def invalid_utf8_text(root: Path, outside: Path) -> dict[str, Bad]:
    """Not UTF-8 is not binary: a legacy encoding is detected and the text indexed."""
    (root / "legacy.txt").write_bytes(b"Caf\xe9 au lait for quokkalegacy, stray \xff\xfe bytes.\n" * 20)
    return {"legacy.txt": Bad("ingested", marker="quokkalegacy")}


def minified_js(root: Path, outside: Path) -> dict[str, Bad]:
    (root / "app.min.js").write_text("const quokkamin = () => 1; const b = () => 2;\n")
    return {"app.min.js": Bad("ingested", marker="quokkamin")}


def minified_bundle(root: Path, outside: Path) -> dict[str, Bad]:
    source = (FIXTURES / "code" / "yocto_queue.js").read_text()
    code = " ".join(line.strip() for line in source.splitlines() if not line.strip().startswith("//"))
    unit = code.replace("export default ", "") + "const a=()=>1;const b=()=>2;function c(x){return x+1}"
    bundle = "function quokkabundle(){return 1}" + "".join(
        unit.replace("Queue", f"Queue{i}") for i in range(1_000_000 // len(unit))
    )
    (root / "vendor.bundle.js").write_text(bundle)
    return {"vendor.bundle.js": Bad("ingested", marker="quokkabundle")}


def c_one_liner(root: Path, outside: Path) -> dict[str, Bad]:
    (root / "one.c").write_text("int quokkac(){return 1;} int b(){return 2;}")
    return {"one.c": Bad("ingested", marker="quokkac")}


def symlink_loop(root: Path, outside: Path) -> dict[str, Bad]:
    os.symlink(root / "loop2", root / "loop1")
    os.symlink(root / "loop1", root / "loop2")
    return {"loop1": Bad("skipped", "symbolic link loop"), "loop2": Bad("skipped", "symbolic link loop")}


def symlink_escape(root: Path, outside: Path) -> dict[str, Bad]:
    (outside / "secret.txt").write_text("the password is quokkasecret\n")
    os.symlink(outside / "secret.txt", root / "notes.txt")
    os.symlink("good/readme.md", root / "good-link.md")  # a link that stays inside is read
    return {
        "notes.txt": Bad("skipped", "symbolic link to a file outside the folder (not followed)"),
        "good-link.md": Bad("ingested", marker="quokkaalpha"),
    }


def symlink_to_folder(root: Path, outside: Path) -> dict[str, Bad]:
    os.symlink(root / "good", root / "mirror")
    os.symlink(outside, root / "elsewhere")
    reason = "symbolic link to a folder (not followed)"
    return {"mirror/": Bad("skipped", reason), "elsewhere/": Bad("skipped", reason)}


ODD_NAMES = {  # name on disk -> path the report shows
    "with  two spaces.txt": "with  two spaces.txt",
    "ünïcødé ☃ 名前.md": "ünïcødé ☃ 名前.md",
    "l" * 196 + ".txt": "l" * 196 + ".txt",
    "-rf --leading-dash.txt": "-rf --leading-dash.txt",
    "new\nline.txt": "new\\nline.txt",
}


def odd_names(root: Path, outside: Path) -> dict[str, Bad]:
    expected = {}
    for n, (name, shown) in enumerate(ODD_NAMES.items()):
        (root / name).write_text(f"An oddly named file holds quokkaodd{n}.\n")
        expected[shown] = Bad("ingested", marker=f"quokkaodd{n}")
    return expected


def deep_folders(root: Path, outside: Path) -> dict[str, Bad]:
    folder = root.joinpath(*(f"level{i:02d}" for i in range(60)))
    folder.mkdir(parents=True)
    (folder / "deep.txt").write_text("At the bottom lies quokkadeep.\n")
    return {folder.relative_to(root).as_posix() + "/deep.txt": Bad("ingested", marker="quokkadeep")}


def non_utf8_name(root: Path, outside: Path) -> dict[str, Bad]:
    with open(os.fsencode(root) + b"/caf\xe9 menu.txt", "wb") as handle:
        handle.write(b"Coffee, tea and quokkalatin.\n")
    return {"caf\\xe9 menu.txt": Bad("ingested", marker="quokkalatin")}


ZOO = [
    empty,
    random_bytes,
    truncated_pdf,
    encrypted_pdf,
    image_only_pdf,
    huge_sparse_file,
    binary_as_source,
    invalid_utf8_text,
    minified_js,
    minified_bundle,
    c_one_liner,
    symlink_loop,
    symlink_escape,
    symlink_to_folder,
    odd_names,
    deep_folders,
    non_utf8_name,
]


@pytest.mark.parametrize("zoo", ZOO, ids=lambda z: z.__name__)
def test_bad_inputs_are_reported_in_one_line_and_good_files_are_ingested(
    zoo: Zoo, tmp_path: Path, hash_embedder
) -> None:
    root, outside = tmp_path / "corpus", tmp_path / "outside"
    outside.mkdir()
    for rel, text in GOOD.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    expected = zoo(root, outside)
    folder = tmp_path / "index"

    report = ingest([root], folder, hash_embedder, ChunkSettings())

    json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")  # no surrogates: valid UTF-8
    outcomes = {f.path: f for f in report.files}
    assert set(outcomes) == set(GOOD) | set(expected), sorted(outcomes)
    for outcome in report.files:
        assert "\n" not in outcome.path and "\n" not in outcome.reason, outcome
        assert "unexpected" not in outcome.reason.lower(), outcome
    for rel in GOOD:
        assert outcomes[rel].status == "ingested", outcomes[rel]
    for rel, bad in expected.items():
        outcome = outcomes[rel]
        assert outcome.status == bad.status, outcome
        if bad.status != "ingested":
            assert bad.reason in outcome.reason and outcome.reason.strip(), outcome

    with Index.open(folder) as index:
        indexed = {d.path for d in index.documents()}
        assert indexed == {rel for rel, o in outcomes.items() if o.status == "ingested"}
        chunks = index.all_chunks()
        markers = ["quokkaalpha", "quokkabeta"] + [b.marker for b in expected.values() if b.marker]
        for marker in markers:
            hits = index.chunks([row for row, _ in index.lexical_search(marker, 5)])
            assert any(marker in c.text for c in hits.values()), marker
        assert not any("quokkasecret" in c.text for c in chunks)
    by_document: dict[str, list[tuple[int | None, int, int]]] = {}
    for chunk in chunks:
        by_document.setdefault(chunk.span.path, []).append(
            (chunk.span.page, chunk.span.char_start, chunk.span.char_end)
        )
    for path, spans in by_document.items():
        assert len(spans) == len(set(spans)), f"{path}: two chunks share a span"
