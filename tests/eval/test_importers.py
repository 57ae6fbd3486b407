"""Importers of public formats, each on a tiny fixture written from its documented schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.evaluation.dataset import load_dataset
from app.evaluation.importers import FORMATS, convert
from core.errors import LongqaError

FIXTURES = Path(__file__).parent / "fixtures"


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_longbench_maps_input_answers_and_context(tmp_path: Path) -> None:
    dataset = convert("longbench", FIXTURES / "longbench" / "hotpotqa.jsonl", tmp_path / "out")
    items = load_dataset(dataset)
    assert [i.id for i in items] == [
        "4f1c0e2b9d7a3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8",
        "9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f3021",
    ]
    first = items[0]
    assert first.question == "Which river flows through the town where the Harbour Museum stands?"
    assert first.answers == ("Orle", "the river Orle") and first.type == "hotpotqa"
    assert first.docs == ((tmp_path / "out" / "docs" / f"{first.id}.txt").resolve(),)
    assert first.docs[0].read_text().startswith("Passage 1:\nHarbour Museum\n")
    assert first.extra["source"] == {
        "format": "longbench",
        "length": 38,
        "dataset": "hotpotqa",
        "language": "en",
        "all_classes": None,
    }


def test_longbench_tasks_without_a_question_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LongqaError, match=r"no question with answers to import \(1 with no question\)"):
        convert("longbench", FIXTURES / "longbench" / "gov_report.jsonl", tmp_path)


def test_longbench_cite_maps_query_and_answer_list(tmp_path: Path) -> None:
    items = load_dataset(
        convert("longbench-cite", FIXTURES / "longbench_cite" / "LongBench-Cite.json", tmp_path)
    )
    assert [(i.id, i.type) for i in items] == [("0", "multifieldqa_en"), ("1", "longbench-chat")]
    assert items[0].question == "What is the maximum load of the north crane?"
    assert items[0].answers == ("40 tonnes",)
    assert "Its maximum load is 40 tonnes." in items[0].docs[0].read_text()
    assert "few_shot_scores" not in items[1].extra["source"]


def test_l_citeeval_joins_chunks_and_accepts_every_answer_form(tmp_path: Path) -> None:
    items = load_dataset(convert("l-citeeval", FIXTURES / "l_citeeval" / "hotpotqa.json", tmp_path))
    assert [(i.id, i.answers, i.type) for i in items] == [
        ("hotpotqa-1", ("Ada Penrose",), "hotpotqa"),
        ("hotpotqa-2", ("green",), "hotpotqa"),  # a string answer
        ("hotpotqa-3", ("3",), "hotpotqa"),  # a number
    ]
    assert items[0].docs[0].read_text() == (
        "The lighthouse at Cape Marl was designed by Ada Penrose and completed in 1874.\n\n"
        "Cape Marl is a headland on the western coast, known for its strong currents."
    )
    # {title, text} chunks: the title once, then the text
    assert items[1].docs[0].read_text() == (
        "Cape Marl Light\nThe lantern room is painted green.\n\nMarl Bay\nMarl Bay lies north of the cape."
    )
    assert items[2].extra["source"] == {
        "format": "l-citeeval",
        "task": "hotpotqa",
        "id": 3,
        "length": 12,
        "hardness": "hard",
    }


def test_every_format_reads_json_lines_as_well_as_a_json_list(tmp_path: Path) -> None:
    source = tmp_path / "hotpotqa.jsonl"
    data = json.loads((FIXTURES / "l_citeeval" / "hotpotqa.json").read_text())
    source.write_text("".join(json.dumps(r) + "\n" for r in data))
    assert len(records(convert("l-citeeval", source, tmp_path / "out"))) == 3


def test_unknown_formats_and_broken_records_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(
        LongqaError, match="unknown dataset format 'squad': use longbench, longbench-cite, l-citeeval"
    ):
        convert("squad", FIXTURES / "longbench" / "hotpotqa.jsonl", tmp_path)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"input": "q?", "answers": ["a"], "context": "c"}\n')
    with pytest.raises(LongqaError, match=r"broken.jsonl:1: missing '_id' for format longbench"):
        convert("longbench", broken, tmp_path)
    assert set(FORMATS) == {"longbench", "longbench-cite", "l-citeeval"}


def test_a_repeated_id_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "twice.jsonl"
    record = json.loads((FIXTURES / "longbench" / "hotpotqa.jsonl").read_text().splitlines()[0])
    source.write_text(json.dumps(record) + "\n" + json.dumps(record) + "\n")
    with pytest.raises(LongqaError, match=r"twice.jsonl:2: id '4f1c.*' appears twice"):
        convert("longbench", source, tmp_path / "out")
