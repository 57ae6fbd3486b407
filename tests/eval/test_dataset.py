"""Loading evaluation datasets: the sample set, docs resolution, one-line errors naming file:line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from app.evaluation.dataset import UNANSWERABLE, GoldEvidence, item_record, load_dataset
from core.errors import LongqaError
from tests.conftest import EXAMPLES


def test_the_sample_dataset_loads_with_its_docs_and_evidence() -> None:
    items = load_dataset(EXAMPLES / "eval.jsonl")
    examples = EXAMPLES.resolve()
    assert len(items) == 94
    assert Counter(item.type for item in items) == {
        "lookup": 19,
        "multi_hop": 10,
        "aggregate": 42,
        "code": 12,
        "unanswerable": 11,
    }
    whole = [item for item in items if item.docs == (examples,)]  # "examples", found one folder up
    single = [item for item in items if item.docs != (examples,)]
    assert [item.id for item in whole] == [f"e{n:02}" for n in [*range(1, 36), *range(64, 75)]]
    assert all(item.docs_root == examples for item in whole)
    for item in single:  # one existing file under examples/, evidence relative to its folder
        (doc,) = item.docs
        assert doc.is_file() and doc.is_relative_to(examples), item.id
        assert item.docs_root == doc.parent, item.id
        assert all(evidence.file == doc.name for evidence in item.evidence), item.id
    simplejson = examples / "simplejson"
    fasta = [item for item in single if item.docs == (examples / "fasta_guide.pdf",)]
    assert [item.id for item in single if item.docs[0].is_relative_to(simplejson)] == [
        f"e{n}" for n in [*range(36, 55), *range(85, 95)]
    ]
    assert [item.id for item in fasta] == [f"e{n}" for n in [*range(55, 64), *range(75, 85)]]
    fasta_types = {"lookup": 3, "multi_hop": 2, "aggregate": 12, "unanswerable": 2}
    assert Counter(item.type for item in fasta) == fasta_types
    assert all(item.evidence for item in items if not item.unanswerable)
    for item in items:
        assert all((item.docs_root / evidence.file).is_file() for evidence in item.evidence), item.id
        assert all(evidence.page or evidence.lines for evidence in item.evidence), item.id
    unanswerable = [item for item in items if item.unanswerable]
    assert len(unanswerable) == 11
    assert all(item.type == "unanswerable" and not item.evidence for item in unanswerable)
    e01 = items[0]
    assert e01.id == "e01" and e01.type == "lookup" and e01.answers == ("50 MB", "at least 50 MB")
    assert e01.evidence[0] == GoldEvidence(
        "gutenprint-users-manual.pdf",
        page=9,
        quote="You should have at least 50 MB of free disk space to compile and install Gutenprint.",
    )
    e14 = next(item for item in items if item.id == "e14")
    assert e14.evidence[0].lines == (417, 420) and e14.evidence[0].page is None


def write(tmp_path: Path, *records: object) -> Path:
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "docs" / "a.txt").write_text("text")
    path = tmp_path / "set.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


GOOD = {"id": "q1", "question": "What?", "answers": ["x"], "docs": "docs"}


def test_docs_resolve_against_the_dataset_folder_and_extra_fields_are_kept(tmp_path: Path) -> None:
    (item,) = load_dataset(write(tmp_path, {**GOOD, "docs": ["docs/a.txt"], "source": {"format": "x"}}))
    assert item.docs == ((tmp_path / "docs" / "a.txt").resolve(),)
    assert item.docs_root == (tmp_path / "docs").resolve()
    assert item.extra == {"source": {"format": "x"}}
    assert item_record(item, tmp_path.resolve()) == {**GOOD, "docs": "docs/a.txt", "source": {"format": "x"}}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "not JSON (Expecting property name enclosed in double quotes at column 2)"),
        (
            '{"id": 1' + "0" * 5000 + "}",
            "not JSON (Exceeds the limit (4300 digits) for integer string conversion: value has 5001 "
            "digits; use sys.set_int_max_str_digits() to increase the limit)",
        ),
        ([1, 2], "a record must be a JSON object"),
        ({k: v for k, v in GOOD.items() if k != "answers"}, "missing 'answers'"),
        ({**GOOD, "id": True}, "'id' must be a non-empty string"),
        ({**GOOD, "question": "  "}, "'question' must be a non-empty string"),
        ({**GOOD, "answers": "x"}, "'answers' must be a non-empty list of non-empty strings"),
        ({**GOOD, "answers": []}, "'answers' must be a non-empty list of non-empty strings"),
        ({**GOOD, "answers": ["x", 3]}, "'answers' must be a non-empty list of non-empty strings"),
        ({**GOOD, "answers": [UNANSWERABLE, "x"]}, "'answers' mixes UNANSWERABLE with other answers"),
        ({**GOOD, "docs": "nowhere"}, "docs 'nowhere' not found in {base} or any folder above it"),
        ({**GOOD, "docs": 5}, "'docs' must be a folder or a non-empty list of files"),
        ({**GOOD, "docs": ["docs", " "]}, "'docs' must be a folder or a non-empty list of files"),
        ({**GOOD, "id": "q0"}, "id 'q0' already used on line 1"),
        ({**GOOD, "evidence": {"file": "a.txt"}}, "'evidence' must be a list"),
        ({**GOOD, "evidence": ["a.txt"]}, "evidence[0] must be a JSON object"),
        ({**GOOD, "evidence": [{"page": 3}]}, "evidence[0] needs a 'file'"),
        (
            {**GOOD, "evidence": [{"file": "a.txt", "lines": [9, 3]}]},
            "evidence[0]: 'lines' must be [first, last] with 1 <= first <= last",
        ),
        (
            {**GOOD, "evidence": [{"file": "a.txt", "lines": [3]}]},
            "evidence[0]: 'lines' must be [first, last] with 1 <= first <= last",
        ),
        (
            {**GOOD, "evidence": [{"file": "a.txt", "page": 0}]},
            "evidence[0]: 'page' must be a positive integer",
        ),
        (
            {**GOOD, "evidence": [{"file": "a.txt", "page": "3"}]},
            "evidence[0]: 'page' must be a positive integer",
        ),
        ({**GOOD, "evidence": [{"file": "a.txt", "quote": 3}]}, "evidence[0]: 'quote' must be a string"),
        ({**GOOD, "evidence": [{"file": "a.txt", "line": [1, 2]}]}, "evidence[0] has unknown key(s) line"),
        (
            {**GOOD, "evidence": [{"file": "a.txt"}, {"file": "a.txt", "pg": 1, "line": 2}]},
            "evidence[1] has unknown key(s) line, pg",
        ),
        ({**GOOD, "type": 3}, "'type' must be a string"),
        ({**GOOD, "items": ["a", ""]}, "'items' must be a list of non-empty strings"),
        ({**GOOD, "items": "a"}, "'items' must be a list of non-empty strings"),
    ],
)
def test_a_bad_record_is_named_by_file_and_line(tmp_path: Path, bad: object, message: str) -> None:
    path = write(tmp_path, {**GOOD, "id": "q0"}, bad)
    with pytest.raises(LongqaError) as error:
        load_dataset(path)
    assert str(error.value) == f"{path}:2: {message.format(base=tmp_path.resolve())}"


def test_evidence_may_give_both_a_page_and_lines(tmp_path: Path) -> None:
    evidence = {"file": "a.txt", "page": 2, "lines": [1, 3], "quote": "text"}
    (item,) = load_dataset(write(tmp_path, {**GOOD, "evidence": [evidence]}))
    assert item.evidence == (GoldEvidence("a.txt", page=2, lines=(1, 3), quote="text"),)
    assert item_record(item)["evidence"] == [evidence]


def test_a_question_about_many_items_keeps_its_gold_items(tmp_path: Path) -> None:
    record = {**GOOD, "answers": ["3", "three"], "items": ["red", "green", "blue"], "type": "aggregate"}
    (item,) = load_dataset(write(tmp_path, record))
    assert item.items == ("red", "green", "blue")
    assert item_record(item)["items"] == ["red", "green", "blue"]


def test_a_missing_or_empty_dataset_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LongqaError, match="no such dataset file"):
        load_dataset(tmp_path / "none.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(LongqaError, match="no questions"):
        load_dataset(tmp_path / "empty.jsonl")
