"""The web UI driven like a user with Streamlit's AppTest: create a collection, upload, ask, open
a citation and see its highlighted source; and every error a user can cause or meet as one line,
never a traceback. The model is scripted, but goes through the real Answerer and a real index."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest

import app.services.assistant
import app.services.reports
from app.services.collections import ENV_INDEX, Collections
from app.services.intake import add_uploads
from app.settings import load_settings
from app.wiring import ingest_paths
from tests.ui.conftest import add_folder, added_table, ask, create, errors, no_traceback, shown, upload
from tests.ui.documents import CODE, CODE_QUESTION, QUESTION

pytestmark = pytest.mark.slow  # real embeddings


def chips(at) -> dict[int, str]:
    """The citation chips of the last answer: marker → label."""
    pills = at.pills[-1]
    return {int(re.match(r"S(\d+)", label).group(1)): label for label in pills.options}


def test_create_upload_ask_then_open_a_pdf_citation_shows_the_highlighted_page(ui, intro_pdf: Path) -> None:
    at = ui()
    no_traceback(at)
    assert any("Create a collection" in i.value for i in at.info)

    at = create(at, "Manual")
    assert at.sidebar.selectbox[0].value == "Manual"
    assert any("Collection 'Manual' created" in s.value for s in at.success)

    at = upload(at, ("fasta_intro.pdf", intro_pdf.read_bytes()))
    no_traceback(at)
    assert any("Added 1 uploaded file" in s.value and "1 ingested" in s.value for s in at.success)
    [row] = added_table(at)
    assert row["file"] == "fasta_intro.pdf" and row["outcome"] == "ingested" and row["chunks"] >= 1
    assert any("1 document ·" in c.value for c in at.sidebar.caption)

    at = ask(at, QUESTION)
    no_traceback(at)
    assert not errors(at)
    [user, assistant] = at.chat_message
    assert user.markdown[0].value == "What does version 3 of the FASTA packages contain?"
    assert "Version 3 of the FASTA packages contains many programs" in assistant.markdown[0].value
    assert re.search(r":blue-badge\[S\d+\]", assistant.markdown[0].value)
    assert any("first words after" in c.value for c in assistant.caption)
    [(marker, label)] = chips(at).items()
    assert label == f"S{marker} · fasta_intro.pdf p.1 l.7-9 ✓"

    at.pills[-1].set_value(marker)
    at = at.run()
    no_traceback(at)
    [image] = at.image
    assert image.captions == ["fasta_intro.pdf — page 1 of 2; the cited text is highlighted"]
    quotes = [m.value for m in at.markdown if m.value.startswith("> ")]
    assert quotes == [
        "> Version 3 of the FASTA packages contains many programs for searching DNA and protein databases "
        "and for evaluating statistical significance from randomly shuffled sequences."
    ]
    assert any("supported · 1.00" in m.value for m in at.markdown)

    trace = next(e for e in at.expander if e.label == "How this answer was made")
    assert "Read everything at once" in trace.markdown[0].value
    calls = trace.dataframe[-1].value
    assert list(calls["role"]) == ["answer", "judge", "short"] and calls["prompt tokens"].min() > 0


def test_a_code_citation_shows_numbered_lines_with_the_cited_ones_marked(
    ui, root: Path, tmp_path: Path
) -> None:
    code = tmp_path / "src"
    code.mkdir()
    shutil.copy(CODE, code / "errors.go")
    at = create(ui(), "Go code")
    at = add_folder(at, str(code))
    no_traceback(at)
    assert [(r["file"], r["outcome"]) for r in added_table(at)] == [("errors.go", "ingested")]

    at = ask(at, CODE_QUESTION)
    no_traceback(at)
    marker, label = next(iter(chips(at).items()))
    assert re.fullmatch(rf"S{marker} · errors\.go:\d+(-\d+)? ✓", label)
    at.pills[-1].set_value(marker)
    at = at.run()
    no_traceback(at)
    [source] = [h.value for h in at.get("html")]
    assert 'class="cited"' in source and "<mark" in source
    lines = re.findall(r"<tr( class=\"cited\")?[^>]*><td[^>]*>(\d+)</td>", source)
    cited = [int(n) for flag, n in lines if flag]
    span = re.search(r":(\d+)(?:-(\d+))?", label)
    first, last = int(span.group(1)), int(span.group(2) or span.group(1))
    assert cited == list(range(first, last + 1))
    assert any("errors.go · lines" in c.value for c in at.caption)

    at.toggle(key=next(t.key for t in at.toggle if t.key and t.key.startswith("whole-"))).set_value(True)
    at = at.run()
    [whole] = [h.value for h in at.get("html")]
    assert whole.count("<tr") == len(CODE.read_text().split("\n"))


def test_unsafe_and_unreadable_uploads_are_refused_or_reported_one_line_each(ui, intro_pdf: Path) -> None:
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../../outside.py", "x = 1\n")
    at = create(ui(), "Mixed")
    at = upload(
        at,
        ("evil.zip", evil.getvalue()),
        ("broken.pdf", b"%PDF-1.4 this is not really a PDF"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(64)),
        ("fasta_intro.pdf", intro_pdf.read_bytes()),
    )
    no_traceback(at)
    lines = errors(at)
    assert any(
        line.startswith("evil.zip: entry '../../outside.py' would be written outside") for line in lines
    )
    assert any(line.startswith("photo.png: unsupported file type") for line in lines)
    assert any(line.startswith("broken.pdf: damaged or truncated PDF") for line in lines)
    assert all("\n" not in line and "Traceback" not in line for line in lines)
    outcomes = {r["file"]: r["outcome"] for r in added_table(at)}
    assert outcomes == {
        "evil.zip": "refused",
        "photo.png": "refused",
        "broken.pdf": "failed",
        "fasta_intro.pdf": "ingested",
    }
    assert any("1 ingested" in s.value for s in at.success)


def test_asking_an_empty_collection_is_one_line(ui) -> None:
    at = create(ui(), "Empty")
    assert any("This collection is empty" in i.value for i in at.info)
    at = ask(at, "What is in here?")
    no_traceback(at)
    assert errors(at) == ["the collection 'Empty' is empty: add documents to it first"]


def test_a_question_too_long_is_refused_with_one_line(ui, root: Path, intro_pdf: Path) -> None:
    _ready(root, "Manual", intro_pdf)
    at = ask(ui(), "why " * 600)
    no_traceback(at)
    [line] = errors(at)
    assert line.startswith("the question is 2,399 characters long; keep it under 2,000")


def test_a_model_server_that_is_down_is_one_line(ui, root: Path, intro_pdf: Path, unused_port: int) -> None:
    _ready(root, "Manual", intro_pdf)
    at = ui(scripted_model=False)
    at.text_input(key="setting.model").set_value(f"openai:http://127.0.0.1:{unused_port}/v1")
    at = ask(at.run(), QUESTION)
    no_traceback(at)
    [line] = errors(at)
    assert line.startswith(f"cannot reach the model server at http://127.0.0.1:{unused_port}/v1/models")
    assert "connection refused" in line


def test_an_unexpected_failure_is_one_line_and_logged(ui, root, intro_pdf, monkeypatch, caplog) -> None:
    _ready(root, "Manual", intro_pdf)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app.services.assistant, "ask", broken)
    at = ask(ui(), QUESTION)
    no_traceback(at)
    assert errors(at) == ["unexpected error: RuntimeError: disk on fire (details in the server log)"]
    assert "disk on fire" in caplog.text and "Traceback" in caplog.text


def test_bad_names_and_folders_are_one_line_each(ui, root: Path) -> None:
    at = create(ui(), "../escape")
    assert errors(at) == [
        "'../escape' is not a usable name: use letters, digits, spaces, '.', '-' and '_', "
        "starting with a letter or digit"
    ]
    at = create(at, "Docs")
    at = add_folder(at, str(root.parent / "no-such-folder"))
    assert errors(at) == [f"{root.parent / 'no-such-folder'}: no such file or folder on the server"]
    at = add_folder(at, str(root))
    assert errors(at) == [
        f"{root.resolve()} is where longqa keeps its collections; choose a folder of documents"
    ]
    no_traceback(at)


def test_deleting_a_collection_removes_it_and_its_files(ui, root: Path, intro_pdf: Path) -> None:
    _ready(root, "Old", intro_pdf)
    Collections(root).create("Keep")
    at = ui()
    assert at.sidebar.selectbox[0].options == ["Keep", "Old"]
    at.sidebar.selectbox[0].set_value("Old")
    at = at.run()
    at.button(key="delete-collection").click()
    at = at.run()
    no_traceback(at)
    assert any("Collection 'Old' deleted" in s.value for s in at.success)
    assert at.sidebar.selectbox[0].options == ["Keep"] and not (root / "Old").exists()


def test_an_opened_index_is_a_collection_to_ask_but_not_to_delete(
    ui, root, intro_pdf, tmp_path, monkeypatch
) -> None:
    elsewhere = _ready(tmp_path / "work", "manuals", intro_pdf)
    monkeypatch.setenv(ENV_INDEX, str(elsewhere.index))
    at = ui()
    assert at.sidebar.selectbox[0].value == "manuals"
    assert any("Opened from" in c.value for c in at.sidebar.caption)
    at = ask(at, QUESTION)
    no_traceback(at)
    assert chips(at)


def test_a_milvus_index_opens_as_a_collection_to_ask_and_cite(
    ui, root, intro_pdf, tmp_path, monkeypatch
) -> None:
    spec = f"milvus:{tmp_path / 'manuals.db'}"
    assert ingest_paths(load_settings(), [intro_pdf], Path(spec)).count("ingested") == 1
    monkeypatch.setenv(ENV_INDEX, spec)
    at = ui()
    no_traceback(at)
    assert at.sidebar.selectbox[0].value == "manuals.db"
    assert any("Opened from" in c.value and spec in shown(c.value) for c in at.sidebar.caption)
    assert any("1 document ·" in c.value for c in at.sidebar.caption)
    at = ask(at, QUESTION)
    no_traceback(at)
    [(marker, label)] = chips(at).items()
    assert label == f"S{marker} · fasta_intro.pdf p.1 l.7-9 ✓"
    at.pills[-1].set_value(marker)
    at = at.run()
    no_traceback(at)
    [image] = at.image  # the page, rendered from the file the Milvus index names as its source
    assert image.captions == ["fasta_intro.pdf — page 1 of 2; the cited text is highlighted"]


def test_the_evaluation_page_shows_the_reports_made(ui, root: Path) -> None:
    report = root.parent / "eval" / "2026-11-24-rag"
    report.mkdir(parents=True)
    (report / "report.md").write_text(
        "# Evaluation\n\n| strategy | EM | F1 |\n|---|---|---|\n| rag | 0.50 | 0.62 |\n\n![F1](f1.png)\n"
    )
    (report / "report.json").write_text(json.dumps({"metrics": {"rag": {"em": 0.5}}}))
    from PIL import Image

    Image.new("RGB", (40, 20), "white").save(report / "f1.png")
    at = ui()
    at.sidebar.segmented_control[0].set_value("evaluation")
    at = at.run()
    no_traceback(at)
    tables = [m.value for m in at.markdown if "| rag | 0.50 | 0.62 |" in m.value]
    assert tables and "![F1]" not in tables[0]
    [image] = at.image
    assert image.captions == ["f1"]


def _ready(root: Path, name: str, pdf: Path):
    """A collection with the two-page PDF in it, made without the UI."""
    collection = Collections(root).create(name)
    added = add_uploads(load_settings(), collection, [(pdf.name, pdf.read_bytes())])
    assert added.count("ingested") == 1
    return collection


def test_an_evaluation_runs_from_the_page_and_its_report_is_shown(ui, root: Path, intro_pdf: Path) -> None:
    docs = intro_pdf.parent
    dataset = root.parent / "qa.jsonl"
    dataset.write_text(
        json.dumps({"id": "q1", "question": QUESTION, "answers": ["many programs"], "docs": str(docs)}) + "\n"
    )
    at = ui()
    at.sidebar.segmented_control[0].set_value("evaluation")
    at = at.run()
    at.text_input(key="eval.dataset").set_value(str(dataset))
    at.multiselect(key="eval.strategies").set_value(["full"])
    at = at.run()
    next(b for b in at.button if b.label == "Run").click()
    at = at.run()
    no_traceback(at)
    assert not errors(at)
    report = root.parent / "eval" / "qa"
    assert any(f"Report written to {report}" in s.value for s in at.success)
    assert (report / "report.md").is_file() and (report / "report.json").is_file()
    assert at.selectbox(key="eval.report").value == str(report)
    assert any("|" in m.value and "full_context" in m.value for m in at.markdown)
    assert len(at.image) >= 2  # the accuracy and citation plots


def test_reading_ahead_after_adding_reports_what_it_did(ui, intro_pdf: Path) -> None:
    at = create(ui(), "Manual")
    at.checkbox(key="read_ahead").check()
    at = upload(at.run(), ("fasta_intro.pdf", intro_pdf.read_bytes()))
    no_traceback(at)
    assert any("1 ingested" in s.value for s in at.success)  # the documents were added all the same
    # the scripted model keeps no prefix states: reading ahead says so in one line, not an error
    assert any(
        c.value.startswith("Not read ahead") and "keeps no prefix states" in c.value for c in at.caption
    )
    assert not errors(at)
