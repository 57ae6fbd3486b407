"""Uploads into a collection: documents saved as they came, zips unpacked safely or refused whole."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from app.services.uploads import MB, Limits, UploadError, extract_zip, save_upload
from tests.conftest import EXAMPLES, FIXTURES


def make_zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def nothing_written(files: Path) -> bool:
    return not files.exists() or not any(files.iterdir())


def test_a_document_is_saved_as_uploaded(tmp_path: Path) -> None:
    data = (EXAMPLES / "fasta_guide.pdf").read_bytes()
    saved = save_upload("fasta_guide.pdf", data, tmp_path / "files")
    assert saved.path == tmp_path / "files" / "fasta_guide.pdf" and saved.path.read_bytes() == data
    code = (FIXTURES / "code" / "codec.py").read_bytes()
    assert save_upload("../../codec.py", code, tmp_path / "files").path == tmp_path / "files" / "codec.py"


def test_a_document_over_the_size_cap_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(UploadError, match=r"big\.txt: 2\.0 MB is over the 1\.0 MB limit for one document"):
        save_upload("big.txt", b"x" * (2 * MB), tmp_path / "files", Limits(file_bytes=MB))
    assert nothing_written(tmp_path / "files")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.py", b"", "empty.py: the file is empty"),
        (
            "photo.png",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64),
            r"photo.png: unsupported file type",
        ),
        ("tool.py", b"\x00\x01\x02binary", "tool.py: binary content where text was expected"),
        (".env", b"SECRET=1", r"'\.env': not a usable file name"),
    ],
)
def test_empty_binary_and_hidden_uploads_are_refused(
    tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    with pytest.raises(UploadError, match=message):
        save_upload(name, data, tmp_path / "files")


def test_a_zip_of_a_codebase_unpacks_into_its_top_folder(tmp_path: Path) -> None:
    data = make_zip(
        [
            ("project-main/src/codec.py", (FIXTURES / "code" / "codec.py").read_bytes()),
            ("project-main/README.md", b"# Project\n"),
            ("__MACOSX/project-main/._README.md", b"junk"),
            ("project-main/.DS_Store", b"junk"),
        ]
    )
    saved = save_upload("project.zip", data, tmp_path / "files")
    assert saved.path == tmp_path / "files" / "project-main" and saved.files == 2
    assert sorted(p.relative_to(saved.path).as_posix() for p in saved.path.rglob("*") if p.is_file()) == [
        "README.md",
        "src/codec.py",
    ]
    assert [p.name for p in (tmp_path / "files").iterdir()] == ["project-main"]  # no staging left


def test_a_zip_without_one_top_folder_unpacks_into_a_folder_named_after_it(tmp_path: Path) -> None:
    saved = extract_zip("notes.zip", make_zip([("a.md", b"# A\n"), ("b/c.md", b"# C\n")]), tmp_path)
    assert saved.path == tmp_path / "notes" and (tmp_path / "notes" / "b" / "c.md").read_bytes() == b"# C\n"


def test_a_different_zip_of_the_same_folder_is_unpacked_beside_it_never_over_it(tmp_path: Path) -> None:
    first = extract_zip("p.zip", make_zip([("p/old.py", b"x = 1\n")]), tmp_path)
    second = extract_zip("p.zip", make_zip([("p/new.py", b"y = 2\n")]), tmp_path)
    assert first.path == tmp_path / "p" and [f.name for f in first.path.iterdir()] == ["old.py"]
    assert second.path == tmp_path / "p (2)" and [f.name for f in second.path.iterdir()] == ["new.py"]
    assert second.new and second.note.startswith("saved as p (2): a different folder of that name")
    again = extract_zip("p.zip", make_zip([("p/new.py", b"y = 2\n")]), tmp_path)
    assert again.path == tmp_path / "p (2)" and not again.new  # the same folder: nothing written
    assert sorted(f.name for f in tmp_path.iterdir()) == ["p", "p (2)"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("../escape.py", r"evil\.zip: entry '\.\./escape\.py' would be written outside its folder"),
        ("src/../../escape.py", "would be written outside its folder"),
        ("..\\windows.py", "would be written outside its folder"),
        ("/etc/cron.d/job", r"entry '/etc/cron\.d/job' has an absolute path"),
        ("C:/Windows/evil.dll", "has an absolute path"),
    ],
)
def test_a_zip_entry_that_would_escape_is_refused_and_nothing_is_written(
    tmp_path: Path, entry: str, message: str
) -> None:
    data = make_zip([("ok.py", b"x = 1\n"), (entry, b"pwned")])
    with pytest.raises(UploadError, match=message):
        extract_zip("evil.zip", data, tmp_path / "files")
    assert nothing_written(tmp_path / "files") and not (tmp_path / "escape.py").exists()


def test_a_symbolic_link_entry_is_refused(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("project/passwd")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    data = make_zip([("project/ok.py", b"x = 1\n"), (link, b"/etc/passwd")])
    with pytest.raises(UploadError, match=r"links\.zip: entry 'project/passwd' is a symbolic link; refused"):
        extract_zip("links.zip", data, tmp_path / "files")
    assert nothing_written(tmp_path / "files")


def test_a_zip_bomb_is_refused_by_its_total_uncompressed_size(tmp_path: Path) -> None:
    data = make_zip([(f"layer{i}.txt", bytes(4 * MB)) for i in range(4)])  # 16 MB of zeros, ~16 KB zipped
    assert len(data) < 100_000
    with pytest.raises(
        UploadError, match=r"bomb\.zip: unpacks to 16\.0 MB, over the 10\.0 MB limit .*zip bomb"
    ):
        extract_zip("bomb.zip", data, tmp_path / "files", Limits(unzipped_bytes=10 * MB))
    assert nothing_written(tmp_path / "files")


def _lie_about_size(data: bytes, name: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size an entry declares, in its local and central headers."""
    raw = bytearray(data)
    local = raw.index(b"PK\x03\x04")
    assert raw[local + 30 : local + 30 + len(name)] == name
    struct.pack_into("<I", raw, local + 22, size)
    central = raw.index(b"PK\x01\x02")
    struct.pack_into("<I", raw, central + 24, size)
    return bytes(raw)


def test_a_zip_that_lies_about_its_sizes_is_stopped_while_unpacking(tmp_path: Path) -> None:
    data = _lie_about_size(make_zip([("small.txt", bytes(3 * MB))]), b"small.txt", 100)
    with pytest.raises(UploadError, match=r"liar\.zip: "):
        extract_zip("liar.zip", data, tmp_path / "files")
    assert nothing_written(tmp_path / "files")


def test_too_many_entries_are_refused(tmp_path: Path) -> None:
    data = make_zip([(f"f{i}.txt", b"x") for i in range(6)])
    with pytest.raises(UploadError, match=r"many\.zip: 6 entries, over the limit of 5"):
        extract_zip("many.zip", data, tmp_path / "files", Limits(entries=5))


def test_an_entry_over_the_per_file_cap_is_left_out_and_reported(tmp_path: Path) -> None:
    data = make_zip([("p/big.csv", bytes(2 * MB)), ("p/small.py", b"x = 1\n")])
    saved = extract_zip("p.zip", data, tmp_path, Limits(file_bytes=MB))
    assert saved.files == 1 and not (tmp_path / "p" / "big.csv").exists()
    assert saved.left_out == [("p/big.csv", "larger than the 1.0 MB limit for one file")]


def test_a_password_protected_entry_is_refused(tmp_path: Path) -> None:
    raw = bytearray(make_zip([("secret.txt", b"x")]))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set the "encrypted" flag bit
        at = raw.index(signature) + offset
        raw[at] |= 0x1
    with pytest.raises(UploadError, match=r"'secret\.txt' is password-protected"):
        extract_zip("locked.zip", bytes(raw), tmp_path)
    assert nothing_written(tmp_path)


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"PK\x03\x04 not really", "not a valid zip file"), (make_zip([]), "the zip holds no files")],
)
def test_a_corrupt_or_empty_zip_is_refused(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(UploadError, match=message):
        save_upload("broken.zip", data, tmp_path / "files")


def test_a_zip_over_the_upload_cap_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UploadError, match=r"huge\.zip: .* over the 1\.0 MB limit for a zip"):
        extract_zip(
            "huge.zip", make_zip([("a.bin", bytes(2 * MB))]) + bytes(2 * MB), tmp_path, Limits(zip_bytes=MB)
        )
