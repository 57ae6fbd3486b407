"""The folder walk: ignore files, pruned folders, size cap, binaries, links."""

from __future__ import annotations

import os
from pathlib import Path

from ingest.walk import Found, Skipped, walk


def outcome(root: Path, **kwargs) -> tuple[set[str], dict[str, str]]:
    items = list(walk([root], **kwargs))
    found = {i.rel for i in items if isinstance(i, Found)}
    skipped = {i.rel: i.reason for i in items if isinstance(i, Skipped)}
    return found, skipped


def test_gitignore_rules_nested_and_negated(tmp_path: Path) -> None:
    (tmp_path / "src" / "gen").mkdir(parents=True)
    (tmp_path / ".gitignore").write_text("*.log\n!keep.log\nbuild/\n")
    (tmp_path / "src" / ".gitignore").write_text("gen/\n")
    for rel in ("a.py", "debug.log", "keep.log", "build/out.py", "src/b.py", "src/gen/c.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    found, skipped = outcome(tmp_path)
    assert found == {"a.py", "keep.log", "src/b.py"}
    assert skipped["debug.log"] == "ignored by an ignore file"
    assert skipped["build/"] == "ignored by an ignore file"
    assert skipped["src/gen/"] == "ignored by an ignore file"


def test_longqaignore_hides_files_from_longqa_only(tmp_path: Path) -> None:
    (tmp_path / ".longqaignore").write_text("answers.jsonl\n")
    (tmp_path / "answers.jsonl").write_text('{"a": 1}\n')
    (tmp_path / "doc.md").write_text("# Doc\n")
    found, skipped = outcome(tmp_path)
    assert found == {"doc.md"} and "answers.jsonl" in skipped


def test_vcs_environments_and_dependencies_are_pruned(tmp_path: Path) -> None:
    for rel in (
        ".git/config",
        "node_modules/x/index.js",
        "env/pyvenv.cfg",
        "env/lib/site.py",
        "__pycache__/m.py",
        "app.py",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    found, skipped = outcome(tmp_path)
    assert found == {"app.py"}
    assert skipped[".git/"] == "version-control metadata"
    assert skipped["node_modules/"] == "installed JavaScript packages"
    assert skipped["env/"] == "Python virtual environment"


def test_size_cap_binaries_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("a" * 3000)
    (tmp_path / "small.txt").write_text("a" * 10)
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (tmp_path / "data.txt").write_bytes(bytes(range(256)))
    (tmp_path / "nothing.md").write_text("")
    found, skipped = outcome(tmp_path, max_bytes=1000)
    assert found == {"small.txt"}
    assert skipped["big.txt"].startswith("larger than the")
    assert skipped["image.png"] == "binary file type (.png)"
    assert skipped["data.txt"] == "binary content"
    assert skipped["nothing.md"] == "empty file"


def test_symlink_loops_and_folder_links_are_reported_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.py").write_text("x = 1\n")
    os.symlink(tmp_path, tmp_path / "real" / "up")  # a folder link back up: a cycle if followed
    os.symlink(tmp_path / "loop2", tmp_path / "loop1")
    os.symlink(tmp_path / "loop1", tmp_path / "loop2")
    os.symlink(tmp_path / "missing", tmp_path / "dangling.py")
    found, skipped = outcome(tmp_path)
    assert found == {"real/a.py"}
    assert skipped["real/up/"] == "symbolic link to a folder (not followed)"
    assert skipped["loop1"] == "symbolic link loop"
    assert skipped["dangling.py"] == "broken symbolic link"


def test_several_roots_are_prefixed_by_name(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "README.md").write_text(f"# {name}\n")
    items = list(walk([tmp_path / "one", tmp_path / "two"]))
    assert {i.rel for i in items if isinstance(i, Found)} == {"one/README.md", "two/README.md"}


def test_links_to_files_outside_the_folder_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not for the index\n")
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / "doc.md").write_text("# Doc\n")
    os.symlink(outside / "secret.txt", root / "notes.txt")
    os.symlink("../../outside/secret.txt", root / "sub" / "relative.txt")
    os.symlink("../doc.md", root / "sub" / "alias.md")  # stays inside: kept
    found, skipped = outcome(root)
    assert found == {"doc.md", "sub/alias.md"}
    reason = "symbolic link to a file outside the folder (not followed)"
    assert skipped == {"notes.txt": reason, "sub/relative.txt": reason}


def test_a_link_named_directly_is_taken_as_given(tmp_path: Path) -> None:
    (tmp_path / "target.txt").write_text("named on the command line\n")
    (tmp_path / "folder").mkdir()
    os.symlink(tmp_path / "target.txt", tmp_path / "folder" / "link.txt")
    items = list(walk([tmp_path / "folder" / "link.txt"]))
    assert [(type(i).__name__, i.rel) for i in items] == [("Found", "link.txt")]


def test_names_that_are_not_utf8_are_cited_as_text(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path)
    os.mkdir(folder + b"/d\xe9p\xf4t")
    with open(folder + b"/d\xe9p\xf4t/caf\xe9.txt", "wb") as handle:
        handle.write(b"latin-1 name\n")
    (tmp_path / "new\nline.txt").write_text("a newline in the name\n")
    items = [i for i in walk([tmp_path]) if isinstance(i, Found)]
    assert sorted(i.rel for i in items) == ["d\\xe9p\\xf4t/caf\\xe9.txt", "new\\nline.txt"]
    for item in items:
        item.rel.encode("utf-8")  # valid text: no surrogate escapes left
        assert item.path.read_bytes()  # the real name still reads the file
