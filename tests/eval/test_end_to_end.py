"""A small evaluation run end to end with scripted models: a dataset file, two strategies answering
over a real (tiny) index, the judge calibrated and judging citations, and the report folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

from langchain_core.messages import BaseMessage

from agents.answer import Trace
from agents.evidence.corpus import Corpus
from agents.models.calls import Caller
from agents.orchestrator import Answerer, AskOptions
from agents.prompts import REFUSAL
from agents.verify.judge import Judge
from app.evaluation.calibration import calibrate_judge
from app.evaluation.dataset import load_dataset
from app.evaluation.entailment import JudgeEntails
from app.evaluation.report import ReportMeta, write_report
from app.evaluation.scoring import QuestionResult, score
from ingest.chunking import ChunkSettings
from retrieval.indexer import ingest
from retrieval.search import HybridSearcher
from retrieval.store import Index
from tests.agents.fakes import is_judge, scripted
from tests.conftest import HashEmbedder

DATASET = [
    {
        "id": "disk",
        "question": "How much free disk space is needed to compile and install the package?",
        "answers": ["at least 50 MB", "50 MB"],
        "docs": "docs",
        "evidence": [{"file": "install.md", "lines": [3, 3], "quote": "at least 50 MB"}],
        "type": "lookup",
    },
    {
        "id": "memory",
        "question": "How much memory is enough for ordinary printing?",
        "answers": ["64 MB"],
        "docs": "docs",
        "evidence": [{"file": "memory.md", "lines": [3, 3]}],
        "type": "lookup",
    },
    {
        "id": "paper",
        "question": "What is the default paper size?",
        "answers": ["UNANSWERABLE"],
        "docs": "docs",
    },
    {"id": "broken", "question": "Which compiler is required?", "answers": ["GCC"], "docs": "docs"},
]

# What the scripted model answers, by question: (the text, the file whose block it cites).
ANSWERS = {
    "How much free disk space": ("At least 50 MB [S{m}].", "install.md"),
    "How much memory": ("64 MB of memory is enough [S{m}].", "install.md"),  # cites the wrong file
    "default paper size": (REFUSAL, ""),
}
BLOCK = re.compile(r"\[S(\d+)\] (\S+)")


def judge_reply(prompt: str) -> str:
    """Supported when every size the claim names is in the passage ('yes'/'no', no logprobs)."""
    passage = prompt.split('"""')[1]
    claim = prompt.split("Claim: ")[1].split("\n")[0]
    sizes = re.findall(r"\d+ MB|\d+\.\d+|\d+%", claim)
    return "yes" if sizes and all(s in passage for s in sizes) else "no"


def reply(messages: list[BaseMessage]) -> str:
    prompt = str(messages[-1].content)
    if is_judge(messages):
        return judge_reply(prompt)
    if "Which compiler" in prompt:
        raise RuntimeError("the model fell over")
    if "Notes gathered by readers" in prompt:  # the Chain-of-Agents manager repeats the notes
        return prompt.split("<documents>\n")[1].split("\n</documents>")[0]
    text, cited = next(v for k, v in ANSWERS.items() if k in prompt)
    markers = [n for n, path in BLOCK.findall(prompt) if path.startswith(cited)] if cited else []
    return text.format(m=markers[0] if markers else 0)


def test_an_evaluation_run_writes_a_full_report(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "install.md").write_text(
        "# Installing\n\nYou need at least 50 MB of free disk space to compile and install the package.\n"
    )
    (docs / "memory.md").write_text("# Memory\n\nFor ordinary printing, 64 MB of memory is enough.\n")
    dataset = tmp_path / "eval.jsonl"
    dataset.write_text("".join(json.dumps(r) + "\n" for r in DATASET))
    items = load_dataset(dataset)

    _chat, backend = scripted(reply=reply)
    judge = Judge(Caller(backend, Trace()))
    calibration = calibrate_judge(judge)
    embedder = HashEmbedder()
    ingest([items[0].docs[0]], tmp_path / "index", embedder, ChunkSettings(tokens=64, overlap=8))
    results: list[QuestionResult] = []
    with Index.open(tmp_path / "index") as index:
        answerer = Answerer(Corpus(index, HybridSearcher(index, embedder)), backend)
        for strategy in ("full_context", "chain_of_agents"):
            for item in items:
                options = AskOptions(strategy=strategy, verify=False)
                try:
                    answer = answerer.ask(item.question, options=options)
                except Exception as exc:  # noqa: BLE001 - the runner records any failure and goes on
                    results.append(score(item, strategy, None, error=str(exc)))
                    continue
                results.append(score(item, strategy, answer, JudgeEntails(judge, item.question)))

    meta = ReportMeta(str(dataset), backend.spec, judge.spec, calibration)
    files = write_report(tmp_path / "report", results, meta)

    assert sorted(p.name for p in files.json.parent.iterdir()) == [
        "accuracy_vs_tokens.png",
        "citation_quality.png",
        "report.json",
        "report.md",
    ]
    data = json.loads(files.json.read_text())
    by_id = {(q["strategy"], q["id"]): q for q in data["questions"]}
    disk = by_id[("full_context", "disk")]
    assert disk["metrics"] == {
        "em": 1.0,
        "f1": 1.0,
        "contains": 1.0,
        "count_correct": None,
        "item_recall": None,
        "item_precision": None,
        "refusal_correct": True,
        "evidence_hit": 1.0,
        "citation_recall": 1.0,
        "citation_precision": 1.0,
    }
    assert disk["citations"][0]["span"]["path"] == "install.md"
    memory = by_id[("chain_of_agents", "memory")]
    assert memory["metrics"]["citation_recall"] == 0.0 and memory["metrics"]["evidence_hit"] == 0.0
    assert memory["judgments"]["sentences"][0]["entailed"] is False
    assert by_id[("full_context", "paper")]["metrics"]["refusal_correct"] is True
    assert "the model fell over" in by_id[("chain_of_agents", "broken")]["error"]
    assert data["meta"]["calibration"]["n"] >= 24
    cells = {c["strategy"]: c for c in data["summary"]["by_strategy"]}
    assert set(cells) == {"full_context", "chain_of_agents"}
    assert cells["full_context"]["errors"] == 1 and cells["full_context"]["refused"] == 1
    assert cells["full_context"]["citation_recall"] == {"value": 0.5, "n": 2}
    assert cells["chain_of_agents"]["calls"]["value"] > cells["full_context"]["calls"]["value"]
    text = files.markdown.read_text()
    assert f"- Judge: {judge.spec}; calibration: accuracy" in text
    row = next(line for line in text.splitlines() if line.startswith("| full_context |"))
    assert row.split(" | ")[2] == "0.50 (2)"  # EM, after the strategy and right
