"""The evaluation runner: every (question, strategy) answered once, resumable, reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.messages import BaseMessage

from app.evaluation.runner import RESULTS, read_results, run_evaluation, strategy_names
from app.settings import Settings
from core.errors import LongqaError
from tests.agents.fakes import is_judge, scripted


def dataset(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "install.md").write_text(
        "# Installing\n\nYou need at least 50 MB of free disk space to install.\n"
    )
    (docs / "memory.md").write_text("# Memory\n\nFor ordinary printing, 64 MB of memory is enough.\n")
    records = [
        {
            "id": "disk",
            "question": "How much disk space?",
            "answers": ["50 MB"],
            "docs": "docs",
            "type": "lookup",
            "evidence": [{"file": "install.md", "lines": [3, 3]}],
        },
        {
            "id": "memory",
            "question": "How much memory?",
            "answers": ["64 MB"],
            "docs": "docs",
            "type": "lookup",
        },
        {
            "id": "price",
            "question": "What does it cost?",
            "answers": ["UNANSWERABLE"],
            "docs": "docs",
            "type": "unanswerable",
        },
    ]
    path = tmp_path / "eval.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def reply(messages: list[BaseMessage]) -> str:
    prompt = str(messages[-1].content)
    if is_judge(messages):
        return "yes"
    if "Copy, word for word" in prompt:
        return "NONE"
    if "cost" in prompt.split("Question:")[-1]:
        return "The documents do not say."
    return "At least 50 MB [S1]." if "disk" in prompt.split("Question:")[-1] else "64 MB [S1]."


def test_interrupted_evaluation_resumes_without_repeating_calls(tmp_path: Path) -> None:
    data, out = dataset(tmp_path), tmp_path / "report"
    settings = Settings(prefer="balanced")
    calls: list[int] = []

    def interrupting(messages: list[BaseMessage]) -> str:
        if not is_judge(messages):
            calls.append(1)
            if len(calls) == 4:
                raise KeyboardInterrupt
        return reply(messages)

    chat, backend = scripted(reply=interrupting)
    with pytest.raises(KeyboardInterrupt):
        run_evaluation(settings, data, out, strategies=["full", "baseline"], model=backend)
    assert len(read_results(out / RESULTS)) == 3  # three pairs finished; the fourth was interrupted

    counted: list[int] = []
    chat.reply = lambda m: (counted.append(1) if not is_judge(m) else None) or reply(m)
    folder = run_evaluation(settings, data, out, strategies=["full", "baseline"], model=backend)
    assert len(counted) == 3  # the three remaining pairs, none of the finished ones again
    results = read_results(out / RESULTS)
    assert sorted(results) == sorted(
        (s, q) for s in ("full_context", "baseline") for q in ("disk", "memory", "price")
    )
    assert len((out / RESULTS).read_text().splitlines()) == 6
    report = json.loads((folder / "report.json").read_text())
    assert report["meta"]["calibration"]["n"] >= 24 and report["meta"]["judge"].startswith(
        "test:scripted (window+focus+cloze"
    )
    price = next(q for q in report["questions"] if q["id"] == "price" and q["strategy"] == "full_context")
    assert price["metrics"]["refusal_correct"] is True
    assert {p.name for p in folder.iterdir()} >= {
        "report.json",
        "report.md",
        "accuracy_vs_tokens.png",
        "citation_quality.png",
        "calibration.json",
        RESULTS,
    }


def test_strategy_names_are_checked() -> None:
    assert strategy_names(["auto", "rag", "coa", "retrieve_reason"]) == [
        "auto",
        "retrieve_reason",
        "chain_of_agents",
    ]
    with pytest.raises(LongqaError, match="unknown strategy 'fast'"):
        strategy_names(["fast"])


def test_warm_is_skipped_with_a_reason_where_the_backend_keeps_no_prefixes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data, out = dataset(tmp_path), tmp_path / "report"
    _, backend = scripted(reply=reply)
    stages: list[str] = []
    run_evaluation(
        Settings(prefer="balanced"),
        data,
        out,
        strategies=["baseline"],
        model=backend,
        calibrate=False,
        warm=True,
        progress=lambda stage, *_: stages.append(stage),
    )
    assert "keeps no prefix states" in caplog.text  # said once, and the questions still answered
    assert len(read_results(out / RESULTS)) == 3 and stages.count("done") == 3
    report = json.loads((out / "report.json").read_text())
    assert any("read ahead" in note for note in report["meta"]["notes"])


def test_a_results_line_that_is_not_a_result_is_named_exactly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / RESULTS
    result = {"id": "a", "strategy": "full_context", "question": "a?", "type": None, "golds": ["x"]}
    bad_page = {**result, "gold_evidence": [{"file": "a.md", "page": 0}]}
    path.write_text("\n".join(json.dumps(r) for r in (result, {"id": "b"}, bad_page, [1])) + "\n")
    with caplog.at_level("WARNING"):
        assert list(read_results(path)) == [("full_context", "a")]
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}:2: not an evaluation result: missing 'strategy'; left in place and ignored",
        f"{path}:3: not an evaluation result: gold_evidence[0]: 'page' must be a positive integer; "
        "left in place and ignored",
        f"{path}:4: not an evaluation result: a record must be a JSON object; left in place and ignored",
    ]


def test_a_collection_nothing_of_which_can_be_ingested_fails_its_pairs_and_the_rest_are_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import wiring
    from tests.conftest import HashEmbedder

    monkeypatch.setattr(wiring, "embedder", lambda settings: HashEmbedder())
    data, out = dataset(tmp_path), tmp_path / "report"
    unreadable = tmp_path / "unreadable"
    unreadable.mkdir()
    (unreadable / "blob.bin").write_bytes(bytes(range(256)) * 4)
    lost = {"id": "lost", "question": "Anything?", "answers": ["x"], "docs": "unreadable"}
    data.write_text(data.read_text() + json.dumps(lost) + "\n")
    _, backend = scripted(reply=reply)
    calls: list[tuple[str, int, int]] = []

    run_evaluation(
        Settings(prefer="balanced"),
        data,
        out,
        strategies=["full", "baseline"],
        model=backend,
        calibrate=False,
        progress=lambda stage, done, total, detail: calls.append((stage, done, total)),
    )
    results = read_results(out / RESULTS)
    assert len(results) == 8
    reason = f"nothing in {unreadable} could be ingested"
    assert results[("full_context", "lost")].error == results[("baseline", "lost")].error == reason
    assert all(r.error is None for (_, qid), r in results.items() if qid != "lost")
    assert [c for c in calls if c[0] == "ingest"] == [("ingest", 0, 8), ("ingest", 6, 8)]
    assert [done for stage, done, _ in calls if stage == "done"] == list(range(1, 9))
    assert calls[-1] == ("answer", 8, 8)


def test_a_result_naming_a_file_that_is_not_utf8_is_kept_and_reads_back(tmp_path: Path) -> None:
    from app.evaluation.runner import _RESULT, _append

    path = tmp_path / RESULTS
    result = _RESULT.validate_python(
        {
            "id": "a",
            "strategy": "full_context",
            "question": "a?",
            "type": None,
            "golds": ["x"],
            "answer": "see caf\udce9.md [S1]",  # os.fsdecode's name for bytes that are not UTF-8
        }
    )
    _append(path, result)
    assert read_results(path) == {("full_context", "a"): result}
