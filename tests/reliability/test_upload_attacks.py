"""Hostile uploads: names that are too long, clash, climb out or hide; zips that slip, link, lie,
explode or nest; a disk that fails on one file; an ingest that stops. Each one is refused or
renamed with its reason, nothing lands outside the collection's files folder, no temporary is left
behind, and the other files of the same upload are still saved and ingested."""

from __future__ import annotations

import errno
import io
import os
import stat
import struct
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pytest

from app import wiring
from app.services import intake, uploads
from app.services.collections import Collection, Collections
from app.services.uploads import MB, NAME_BYTES, Limits, UploadError, save_upload
from app.settings import load_settings
from tests.conftest import HashEmbedder

NOTE = "a different file of that name is already in this collection"


def make_zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def assert_contained(root: Path, files: Path) -> None:
    """Nothing but ``files`` (and the collection holding it) under ``root``; no temporary in it."""
    outside = [p for p in root.rglob("*") if not p.is_relative_to(files) and p not in files.parents]
    assert outside == [], outside
    hidden = [p.name for p in files.rglob(".*")]
    assert hidden == [], hidden


@pytest.fixture
def files(tmp_path: Path) -> Path:
    return tmp_path / "files"


@pytest.fixture
def collection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hash_embedder: HashEmbedder) -> Collection:
    monkeypatch.setattr(wiring, "embedder", lambda settings: hash_embedder)
    return Collections(tmp_path / "collections").create("attacks")


def add(collection: Collection, batch: list[tuple[str, bytes]]) -> dict[str, tuple[str, str]]:
    added = intake.add_uploads(load_settings(), collection, batch)
    return {row.path: (row.status, row.reason) for row in added.rows}


# ----------------------------------------------------------------- names
def test_a_300_character_name_is_shortened_keeping_its_suffix_and_staying_distinct(
    tmp_path: Path, files: Path
) -> None:
    first = save_upload("a" * 300 + "1.txt", b"one\n", files)
    second = save_upload("a" * 300 + "2.txt", b"two\n", files)
    assert first.path != second.path and first.new and second.new
    for saved, data in ((first, b"one\n"), (second, b"two\n")):
        assert saved.path.parent == files and saved.path.read_bytes() == data
        assert saved.path.name.endswith(".txt") and len(saved.path.name.encode()) <= NAME_BYTES
        assert saved.path.name.startswith("a" * 100)
    assert_contained(tmp_path, files)


@pytest.mark.parametrize("stem", ["é" * 300, "日本語" * 100, "🙂" * 100])
def test_a_long_multibyte_name_is_cut_on_a_character_boundary(tmp_path: Path, files: Path, stem: str) -> None:
    saved = save_upload(stem + ".md", b"# Title\n", files)
    name = saved.path.name
    assert len(name.encode()) <= NAME_BYTES and name.endswith(".md") and name.startswith(stem[:20])
    assert name.encode().decode("utf-8") == name and saved.path.read_bytes() == b"# Title\n"
    assert_contained(tmp_path, files)


def test_a_long_zip_name_and_long_entry_names_are_shortened(tmp_path: Path, files: Path) -> None:
    long_entry = "m" * 260 + ".py"
    saved = save_upload("z" * 300 + ".zip", make_zip([(long_entry, b"x = 1\n"), ("b.py", b"y = 2\n")]), files)
    assert len(saved.path.name.encode()) <= NAME_BYTES and saved.files == 2
    names = sorted(p.name for p in saved.path.iterdir())
    assert names[0] == "b.py" and names[1].endswith(".py") and len(names[1].encode()) <= NAME_BYTES
    assert_contained(tmp_path, files)


@pytest.mark.parametrize(
    ("name", "saved_as"),
    [
        ("../../x.txt", "x.txt"),
        ("/etc/passwd", "passwd"),
        ("C:\\x\\y.txt", "y.txt"),
        ("a/../../b.md", "b.md"),
    ],
)
def test_path_parts_of_a_name_are_dropped(tmp_path: Path, files: Path, name: str, saved_as: str) -> None:
    saved = save_upload(name, b"text\n", files)
    assert saved.path == files / saved_as and saved.path.read_bytes() == b"text\n"
    assert_contained(tmp_path, files)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("a\x00b.txt", "control characters"),
        ("bad\nname.txt", "control characters"),
        ("bell\x07.md", "control characters"),
        ("del\x7f.md", "control characters"),
        ("invoice\u202etxt.exe", "control characters"),  # shown as "invoiceexe.txt"
        (".", "not a usable file name"),
        ("..", "not a usable file name"),
        ("...", "not a usable file name"),
        (".env", "not a usable file name"),
        ("  ", "not a usable file name"),
        ("folder/", "not a usable file name"),
        ("../.bashrc", "not a usable file name"),
    ],
)
def test_control_characters_and_dot_names_are_refused(
    tmp_path: Path, files: Path, name: str, reason: str
) -> None:
    with pytest.raises(UploadError, match=reason):
        save_upload(name, b"x = 1\n", files)
    assert not files.exists() or tree(files) == {}
    assert_contained(tmp_path, files)


def test_nfc_and_nfd_spellings_of_a_name_are_one_name(tmp_path: Path, files: Path) -> None:
    nfc, nfd = unicodedata.normalize("NFC", "café.txt"), unicodedata.normalize("NFD", "café.txt")
    assert nfc != nfd
    first = save_upload(nfd, b"same\n", files)
    assert first.path == files / nfc  # saved in NFC
    again = save_upload(nfc, b"same\n", files)
    assert again.path == first.path and not again.new
    other = save_upload(nfd, b"different\n", files)
    assert other.path == files / unicodedata.normalize("NFC", "café (2).txt") and NOTE in other.note
    assert tree(files) == {nfc: b"same\n", unicodedata.normalize("NFC", "café (2).txt"): b"different\n"}
    assert_contained(tmp_path, files)


# ----------------------------------------------------------------- clashes
def test_names_that_clash_never_replace_each_other(tmp_path: Path, files: Path) -> None:
    save_upload("r.txt", b"first\n", files)
    second = save_upload("r.txt", b"second\n", files)
    assert second.path == files / "r (2).txt" and second.note == f"saved as r (2).txt: {NOTE}"
    same = save_upload("r.txt", b"second\n", files)  # the same as r (2).txt: the same file
    assert (
        same.path == files / "r (2).txt"
        and not same.new
        and same.note == "already in this collection as r (2).txt"
    )
    third = save_upload("r.txt", b"third\n", files)
    assert third.path == files / "r (3).txt"
    assert tree(files) == {"r.txt": b"first\n", "r (2).txt": b"second\n", "r (3).txt": b"third\n"}
    assert_contained(tmp_path, files)


def test_names_that_differ_only_in_case_clash_too(tmp_path: Path, files: Path) -> None:
    """A collection may be copied to a disk that ignores case: README.md and readme.md would be one."""
    save_upload("readme.md", b"# lower\n", files)
    same = save_upload("README.md", b"# lower\n", files)
    assert same.path == files / "readme.md" and not same.new
    assert same.note == "already in this collection as readme.md"
    other = save_upload("README.md", b"# upper\n", files)
    assert other.path == files / "README (2).md"
    assert (
        other.note
        == "saved as README (2).md: a different file named 'readme.md' is already in this collection"
    )
    assert tree(files) == {"readme.md": b"# lower\n", "README (2).md": b"# upper\n"}


def test_a_document_named_like_a_folder_is_saved_beside_it(tmp_path: Path, files: Path) -> None:
    (files / "notes").mkdir(parents=True)
    saved = save_upload("notes", b"plain text\n", files)
    assert saved.path == files / "notes (2)" and "a different folder of that name" in saved.note


def test_clashing_names_in_one_upload_are_all_kept_and_ingested(collection: Collection) -> None:
    rows = add(
        collection, [("r.txt", b"first text\n"), ("r.txt", b"second text\n"), ("R.TXT", b"first text\n")]
    )
    assert rows["r.txt"][0] == "ingested"
    assert rows["r (2).txt"] == ("ingested", f"saved as r (2).txt: {NOTE}")
    assert collection.files is not None
    assert tree(collection.files) == {"r.txt": b"first text\n", "r (2).txt": b"second text\n"}
    later = add(collection, [("r.txt", b"third text\n"), ("r.txt", b"second text\n")])
    assert later["r (3).txt"] == ("ingested", f"saved as r (3).txt: {NOTE}")
    assert later["r (2).txt"] == ("unchanged", "already in this collection as r (2).txt")


# ----------------------------------------------------------------- zips
@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("../../escape.py", "would be written outside its folder"),
        ("/etc/cron.d/job", "has an absolute path"),
        ("C:\\Windows\\evil.dll", "has an absolute path"),
        ("ok/\x01.py", "control characters"),
    ],
)
def test_a_zip_that_slips_is_refused_and_the_rest_of_the_upload_is_ingested(
    tmp_path: Path, collection: Collection, entry: str, reason: str
) -> None:
    rows = add(
        collection,
        [("good.md", b"# Good\n\nkept\n"), ("evil.zip", make_zip([("a.py", b"x = 1\n"), (entry, b"pwned")]))],
    )
    assert rows["evil.zip"][0] == "refused" and reason in rows["evil.zip"][1]
    assert rows["good.md"][0] == "ingested"
    assert collection.files is not None and tree(collection.files) == {"good.md": b"# Good\n\nkept\n"}
    assert not list(tmp_path.rglob("escape.py")) and not list(tmp_path.rglob("job"))


def test_a_symbolic_link_entry_is_refused(tmp_path: Path, files: Path) -> None:
    link = zipfile.ZipInfo("project/passwd")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with pytest.raises(UploadError, match=r"links\.zip: entry 'project/passwd' is a symbolic link; refused"):
        save_upload("links.zip", make_zip([("project/ok.py", b"x = 1\n"), (link, b"/etc/passwd")]), files)
    assert not files.exists() or tree(files) == {}
    assert_contained(tmp_path, files)


def test_a_zip_bomb_is_refused_by_its_declared_size(tmp_path: Path, files: Path) -> None:
    data = make_zip([(f"layer{i}.txt", bytes(4 * MB)) for i in range(4)])
    with pytest.raises(
        UploadError, match=r"bomb\.zip: unpacks to 16\.0 MB, over the 10\.0 MB limit .*zip bomb"
    ):
        save_upload("bomb.zip", data, files, Limits(unzipped_bytes=10 * MB))
    assert not files.exists() or tree(files) == {}
    assert_contained(tmp_path, files)


def _lie_about_size(data: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size the first entry declares, in its local and central headers."""
    raw = bytearray(data)
    struct.pack_into("<I", raw, raw.index(b"PK\x03\x04") + 22, size)
    struct.pack_into("<I", raw, raw.index(b"PK\x01\x02") + 24, size)
    return bytes(raw)


def test_an_entry_that_lies_about_its_size_is_stopped_and_leaves_nothing(tmp_path: Path, files: Path) -> None:
    save_upload("kept.md", b"# Kept\n", files)
    # zipfile reads no further than the declared size and then finds the CRC wrong; the copy loop
    # counts the bytes as well, in case a reader ever trusts the stream instead
    data = _lie_about_size(make_zip([("liar/small.txt", bytes(3 * MB)), ("liar/b.txt", b"b\n")]), 100)
    with pytest.raises(UploadError, match=r"liar\.zip: (damaged zip file|entry) .*'liar/small\.txt'"):
        save_upload("liar.zip", data, files)
    assert tree(files) == {"kept.md": b"# Kept\n"}
    assert_contained(tmp_path, files)


def test_a_password_zip_is_refused(tmp_path: Path, files: Path) -> None:
    raw = bytearray(make_zip([("secret.txt", b"x")]))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        raw[raw.index(signature) + offset] |= 0x1
    with pytest.raises(UploadError, match=r"locked\.zip: entry 'secret\.txt' is password-protected; refused"):
        save_upload("locked.zip", bytes(raw), files)
    assert_contained(tmp_path, files)


def test_a_zip_inside_a_zip_is_left_out_not_unpacked(tmp_path: Path, files: Path) -> None:
    inner = make_zip([(f"bomb{i}.txt", bytes(MB)) for i in range(3)])
    saved = save_upload("outer.zip", make_zip([("p/inner.zip", inner), ("p/a.py", b"x = 1\n")]), files)
    assert tree(files) == {"p/a.py": b"x = 1\n"} and saved.files == 1
    assert saved.left_out == [("p/inner.zip", "a zip inside a zip is not unpacked: upload it on its own")]
    assert_contained(tmp_path, files)


def test_a_zip_naming_one_file_twice_is_refused(tmp_path: Path, files: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("p/a.py", b"x = 1\n")
        archive.writestr("p/a.py", b"import os; os.system('pwned')\n")
    with pytest.raises(UploadError, match=r"twice\.zip: entries 'p/a\.py' and 'p/a\.py' are the same file"):
        save_upload("twice.zip", buffer.getvalue(), files)
    assert_contained(tmp_path, files)


def test_a_zip_whose_entries_clash_as_file_and_folder_is_refused_naming_the_entry(
    tmp_path: Path, files: Path
) -> None:
    data = make_zip([("p/a", b"a file\n"), ("p/a/b.py", b"x = 1\n")])
    with pytest.raises(UploadError, match=r"clash\.zip: cannot unpack it at entry 'p/a/b\.py'"):
        save_upload("clash.zip", data, files)
    assert not files.exists() or tree(files) == {}
    assert_contained(tmp_path, files)


def test_a_zip_whose_folder_clashes_is_unpacked_beside_it(tmp_path: Path, files: Path) -> None:
    save_upload("one.zip", make_zip([("lib/a.py", b"a = 1\n")]), files)
    other = save_upload("two.zip", make_zip([("lib/a.py", b"a = 2\n")]), files)
    assert other.path == files / "lib (2)" and other.note.startswith("saved as lib (2): a different folder")
    same = save_upload("three.zip", make_zip([("lib/a.py", b"a = 2\n")]), files)
    assert same.path == files / "lib (2)" and not same.new
    bigger = save_upload("four.zip", make_zip([("lib/a.py", b"a = 1\n"), ("lib/b.py", b"b = 1\n")]), files)
    assert bigger.path == files / "lib (3)"  # more files than lib/ holds: a different folder
    (files / "docs").write_text("a file, not a folder\n")
    beside = save_upload("docs.zip", make_zip([("x.md", b"# X\n")]), files)
    assert beside.path == files / "docs (2)" and "a different file of that name" in beside.note
    assert tree(files) == {
        "lib/a.py": b"a = 1\n",
        "lib (2)/a.py": b"a = 2\n",
        "lib (3)/a.py": b"a = 1\n",
        "lib (3)/b.py": b"b = 1\n",
        "docs": b"a file, not a folder\n",
        "docs (2)/x.md": b"# X\n",
    }
    assert_contained(tmp_path, files)


def test_a_renamed_zip_folder_says_so_on_its_rows(collection: Collection) -> None:
    add(collection, [("a.zip", make_zip([("lib/a.py", b"a = 1\n")]))])
    rows = add(collection, [("b.zip", make_zip([("lib/a.py", b"a = 2\n")]))])
    assert rows == {
        "lib (2)/a.py": (
            "ingested",
            "saved as lib (2): a different folder of that name is already in this collection",
        )
    }


# ----------------------------------------------------------------- failures
def test_a_disk_error_on_one_file_refuses_that_file_only(
    collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = uploads.atomic_write

    def full_disk(target: Path, data: bytes | str) -> None:
        if target.name == "b.md":
            raise OSError(errno.ENOSPC, "No space left on device")
        real(target, data)

    monkeypatch.setattr(uploads, "atomic_write", full_disk)
    rows = add(
        collection, [("a.md", b"# A\n\nalpha\n"), ("b.md", b"# B\n\nbeta\n"), ("c.md", b"# C\n\ngamma\n")]
    )
    assert rows["b.md"] == ("refused", "cannot save it: No space left on device")
    assert rows["a.md"][0] == rows["c.md"][0] == "ingested"
    assert collection.files is not None and sorted(tree(collection.files)) == ["a.md", "c.md"]


class PoisonedEmbedder(HashEmbedder):
    """Raises on one text, as a model can on an input it chokes on: the whole ingest stops."""

    def embed(self, texts: list[str]) -> np.ndarray:
        if any("POISON" in text for text in texts):
            raise RuntimeError("CUDA error: device-side assert triggered")
        return super().embed(texts)


def test_an_upload_that_stops_the_ingest_is_taken_back_and_later_adds_work(
    collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wiring, "embedder", lambda settings: PoisonedEmbedder())
    assert add(collection, [("before.md", b"# Before\n\nkept\n")]) == {"before.md": ("ingested", "")}
    rows = add(
        collection,
        [
            ("before.md", b"# Before\n\nkept\n"),
            ("good.md", b"# Good\n\nfine\n"),
            ("bad.md", b"# Bad\n\nPOISON\n"),
            ("code.zip", make_zip([("lib/x.py", b"x = 1\n")])),
        ],
    )
    stopped = "the ingest stopped: RuntimeError: CUDA error: device-side assert triggered"
    assert rows == {
        "before.md": ("failed", stopped),  # it was there before: kept
        "good.md": ("failed", stopped + " (the upload was not kept)"),
        "bad.md": ("failed", stopped + " (the upload was not kept)"),
        "lib": ("failed", stopped + " (the upload was not kept)"),
    }
    assert collection.files is not None and tree(collection.files) == {"before.md": b"# Before\n\nkept\n"}
    assert add(collection, [("after.md", b"# After\n\nworks\n")]) == {"after.md": ("ingested", "")}


def test_a_file_that_cannot_be_read_is_not_kept_but_an_unchanged_one_is(collection: Collection) -> None:
    rows = add(collection, [("broken.pdf", b"%PDF-1.4 truncated"), ("ok.md", b"# OK\n\nfine\n")])
    assert rows["broken.pdf"][0] == "failed" and rows["broken.pdf"][1].endswith("(the upload was not kept)")
    assert rows["ok.md"][0] == "ingested"
    assert collection.files is not None and sorted(tree(collection.files)) == ["ok.md"]
    assert add(collection, [("OK.md", b"# OK\n\nfine\n")]) == {
        "ok.md": ("unchanged", "already in this collection as ok.md")
    }


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def test_temporaries_left_by_a_killed_server_are_removed_at_the_next_upload(
    tmp_path: Path, files: Path
) -> None:
    dead = _dead_pid()
    files.mkdir()
    (files / f".a.md.tmp-{dead}-0123abcd").write_bytes(b"half a file")
    (files / f".proj.tmp-{dead}-89abcdef" / "src").mkdir(parents=True)
    (files / f".proj.tmp-{dead}-89abcdef" / "src" / "half.py").write_bytes(b"x =")
    (files / ".old.md.part-0badc0de").write_bytes(b"from before ingest.files")
    live = files / f".b.md.tmp-{os.getpid()}-fedcba98"  # another upload, still writing
    live.write_bytes(b"in progress")
    save_upload("new.md", b"# New\n", files)
    assert sorted(p.name for p in files.iterdir()) == sorted([live.name, "new.md"])
    save_upload("code.zip", make_zip([("src/a.py", b"x = 1\n")]), files)
    live.unlink()
    assert tree(files) == {"new.md": b"# New\n", "src/a.py": b"x = 1\n"}
    assert_contained(tmp_path, files)
