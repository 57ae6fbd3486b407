"""The UI's collections: names, create, list, delete, an index opened from elsewhere, and adding
documents to them (uploads and folders) with one outcome row per file."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from app.services import intake
from app.services.collections import CollectionError, Collections, check_name, summary
from app.services.uploads import Limits, TooLarge, UploadError
from app.settings import load_settings
from tests.conftest import EXAMPLES, FIXTURES


@pytest.mark.parametrize("name", ["examples", "My papers", "v1.2_final-draft", "  spaced   out  "])
def test_good_names_are_kept(name: str) -> None:
    assert check_name(name) == " ".join(name.split())


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "give the collection a name"),
        ("   ", "give the collection a name"),
        ("../etc", "not a usable name"),
        ("a/b", "not a usable name"),
        (".hidden", "not a usable name"),
        ("x" * 65, "at most 64 characters"),
        ("naïve\x00", "not a usable name"),
    ],
)
def test_bad_names_are_refused_with_the_reason(name: str, message: str) -> None:
    with pytest.raises(CollectionError, match=message):
        check_name(name)


def test_create_list_and_delete(tmp_path: Path) -> None:
    store = Collections(tmp_path / "collections")
    assert store.all() == []
    papers = store.create("Papers")
    store.create("code")
    assert [c.name for c in store.all()] == ["code", "Papers"]
    assert papers.files is not None and papers.files.is_dir() and not papers.ingested
    assert papers.index == tmp_path / "collections" / "Papers" / "index"
    with pytest.raises(CollectionError, match=r"(?i)'papers' already exists"):
        store.create("papers")
    store.delete("Papers")
    assert [c.name for c in store.all()] == ["code"] and not (tmp_path / "collections" / "Papers").exists()
    with pytest.raises(CollectionError, match="no collection named 'Papers'"):
        store.delete("Papers")


def test_an_opened_index_is_listed_first_and_never_deleted(tmp_path: Path) -> None:
    (tmp_path / "work" / "manuals" / "index").mkdir(parents=True)
    Collections(tmp_path / "collections").create("manuals")
    store = Collections(tmp_path / "collections", external=tmp_path / "work" / "manuals" / "index")
    with pytest.raises(CollectionError, match=r"(?i)'manuals' already exists"):
        store.create("Manuals")
    listed = store.all()
    assert [(c.name, c.external) for c in listed] == [("manuals (opened)", True), ("manuals", False)]
    assert listed[0].files is None
    with pytest.raises(CollectionError, match="is not deleted from here"):
        store.delete("manuals (opened)")
    assert (tmp_path / "work" / "manuals" / "index").is_dir()


def test_an_opened_index_inside_the_root_is_that_collection(tmp_path: Path) -> None:
    store = Collections(tmp_path / "collections")
    store.create("apple")
    examples = store.create("examples")
    opened = Collections(tmp_path / "collections", external=examples.index)
    assert [(c.name, c.external) for c in opened.all()] == [("examples", False), ("apple", False)]


def test_paths_inside_longqa_storage_are_recognised(tmp_path: Path) -> None:
    store = Collections(tmp_path / "collections", external=tmp_path / "elsewhere" / "index")
    assert store.inside(tmp_path / "collections" / "a" / "files")
    assert store.inside(tmp_path / "elsewhere" / "index")
    assert not store.inside(tmp_path / "docs")


@pytest.mark.slow
def test_uploads_are_ingested_and_unreadable_ones_reported_and_not_kept(tmp_path: Path) -> None:
    settings = load_settings()
    collection = Collections(tmp_path / "collections").create("mixed")
    assert summary(collection).documents == []
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(FIXTURES / "code" / "errors.go", "lib/errors.go")
        archive.writestr("lib/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(100))
    uploads = [
        ("codec.py", (FIXTURES / "code" / "codec.py").read_bytes()),
        ("broken.pdf", b"%PDF-1.4 truncated"),
        ("lib.zip", zipped.getvalue()),
        ("evil.zip", _zip_with("../x.py")),
    ]
    added = intake.add_uploads(settings, collection, uploads)
    rows = {r.path: (r.status, r.reason) for r in added.rows}
    assert rows["codec.py"][0] == "ingested" and rows["lib/errors.go"][0] == "ingested"
    assert rows["lib/logo.png"] == ("skipped", "binary file type (.png)")
    assert rows["broken.pdf"][0] == "failed" and "damaged or truncated" in rows["broken.pdf"][1]
    assert rows["broken.pdf"][1].endswith("(the upload was not kept)")
    assert rows["evil.zip"][0] == "refused" and "outside its folder" in rows["evil.zip"][1]
    assert collection.files is not None and not (collection.files / "broken.pdf").exists()
    assert [d.path for d in summary(collection).documents] == ["codec.py", "lib/errors.go"]

    again = intake.add_uploads(
        settings, collection, [("codec.py", (FIXTURES / "code" / "codec.py").read_bytes())]
    )
    assert [(r.path, r.status) for r in again.rows] == [("codec.py", "unchanged")]


def _zip_with(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, b"x = 1\n")
    return buffer.getvalue()


def test_a_folder_on_the_server_must_exist_and_not_be_longqa_storage(tmp_path: Path) -> None:
    settings = load_settings()
    store = Collections(tmp_path / "collections")
    collection = store.create("docs")
    with pytest.raises(Exception, match="no such file or folder on the server"):
        intake.add_folder(settings, store, collection, str(tmp_path / "missing"))
    with pytest.raises(Exception, match="where longqa keeps its collections"):
        intake.add_folder(settings, store, collection, str(tmp_path / "collections"))
    with pytest.raises(Exception, match="type the path of a folder"):
        intake.add_folder(settings, store, collection, "  ")


def test_an_opened_index_takes_no_uploads(tmp_path: Path) -> None:
    store = Collections(tmp_path / "collections", external=tmp_path / "ix")
    with pytest.raises(Exception, match="takes no uploads"):
        intake.add_uploads(load_settings(), store.all()[0], [("a.md", b"# A\n")])
    assert EXAMPLES.is_dir()


def test_deleting_a_collection_forgets_what_the_model_read_of_it(tmp_path: Path) -> None:
    from core.cache import cache_root

    store = Collections(tmp_path / "collections")
    papers, code = store.create("Papers"), store.create("code")
    prefixes = cache_root() / "prefixes"
    prefixes.mkdir(parents=True, exist_ok=True)
    for key, collection in (("a" * 40, papers), ("b" * 40, code)):
        (prefixes / f"{key}.state").write_bytes(b"state")
        (prefixes / f"{key}.json").write_text(
            json.dumps({"collection": str(collection.index.resolve()), "generation": "1"})
        )
    store.delete("Papers")
    assert sorted(p.name for p in prefixes.iterdir()) == [f"{'b' * 40}.json", f"{'b' * 40}.state"]


def test_an_upload_is_taken_out_with_its_chunks_and_put_back_when_the_ingest_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings()
    collection = Collections(tmp_path / "collections").create("code")
    uploads = [(n, (FIXTURES / "code" / n).read_bytes()) for n in ("codec.py", "errors.go")]
    intake.add_uploads(settings, collection, uploads)
    assert collection.files is not None
    for bad in ("", "../index", "files/../../code", "nothing.py"):
        with pytest.raises(intake.UnknownDocument):
            intake.document_path(collection, bad)

    def broken(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(intake, "ingest", broken)
    with pytest.raises(OSError):
        intake.remove_document(settings, collection, "codec.py")
    assert (collection.files / "codec.py").is_file()  # put back
    assert sorted(p.name for p in collection.folder.iterdir()) == ["files", "index"]
    monkeypatch.undo()

    removed = intake.remove_document(settings, collection, "codec.py")
    assert [(r.path, r.status) for r in removed.rows] == [("codec.py", "removed")]
    assert [d.path for d in summary(collection).documents] == ["errors.go"]
    last = intake.remove_document(settings, collection, "errors.go")  # files/ left empty
    assert [(r.path, r.status) for r in last.rows] == [("errors.go", "removed")]
    assert summary(collection).chunks == 0 and not (collection.files / "errors.go").exists()


def test_a_whole_add_is_refused_before_anything_is_saved(tmp_path: Path) -> None:
    settings = load_settings()
    collection = Collections(tmp_path / "collections").create("code")
    good = ("codec.py", (FIXTURES / "code" / "codec.py").read_bytes())
    with pytest.raises(UploadError, match="outside its folder"):
        intake.check_uploads(settings, collection, [good, ("evil.zip", _zip_with("../x.py"))])
    with pytest.raises(TooLarge, match="over the 1 KB limit"):
        intake.check_uploads(settings, collection, [good], Limits(file_bytes=1024))
    with pytest.raises(UploadError, match="no files in the upload"):
        intake.check_uploads(settings, collection, [])
    assert collection.files is not None and list(collection.files.iterdir()) == []
