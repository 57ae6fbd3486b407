"""The evaluation report in a folder: ``report.json`` (every question's answer, citations,
judgments, metrics, cost, error), ``report.md`` (a header naming the dataset, model, judge and its
calibration, then tables per strategy and per strategy × question type, and the router against
each strategy alone) and two PNG plots.

Input is plain ``QuestionResult`` data, so a report can be written (and tested) without models.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.evaluation import plots
from app.evaluation.calibration import Calibration
from app.evaluation.scoring import QuestionResult
from app.evaluation.summary import ROUTER, Cell, Mean, RouterCheck, Summary, summarise

JSON_NAME = "report.json"
MARKDOWN_NAME = "report.md"
ACCURACY_PLOT = "accuracy_vs_tokens.png"
CITATION_PLOT = "citation_quality.png"


@dataclass(frozen=True)
class ReportMeta:
    """What the report header states."""

    dataset: str
    model: str
    judge: str
    calibration: Calibration | None = None
    date: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    notes: tuple[str, ...] = ()  # settings or remarks the runner wants stated


@dataclass(frozen=True)
class ReportFiles:
    json: Path
    markdown: Path
    plots: tuple[Path, ...]


def write_report(
    folder: Path, results: Sequence[QuestionResult], meta: ReportMeta, accuracy: str = "f1"
) -> ReportFiles:
    """Write report.json, report.md and the plots into ``folder``; ``accuracy`` is the metric
    plotted against tokens (``f1``, ``em``, ``contains`` or ``refusal``)."""
    folder.mkdir(parents=True, exist_ok=True)
    summary = summarise(results)
    pictures = (
        plots.accuracy_vs_tokens(summary.by_strategy, folder / ACCURACY_PLOT, accuracy),
        plots.citation_quality(summary.by_strategy, folder / CITATION_PLOT),
    )
    report_json = folder / JSON_NAME
    report_json.write_text(
        json.dumps(report_data(results, summary, meta), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    markdown = folder / MARKDOWN_NAME
    markdown.write_text(render_markdown(results, summary, meta), encoding="utf-8")
    return ReportFiles(report_json, markdown, pictures)


# ---------------------------------------------------------------- report.json


def report_data(results: Sequence[QuestionResult], summary: Summary, meta: ReportMeta) -> dict[str, Any]:
    return {
        "meta": {
            **asdict(meta),
            "calibration": asdict(meta.calibration) if meta.calibration else None,
        },
        "summary": {
            "by_strategy": [_cell_data(c) for c in summary.by_strategy],
            "by_type": [_cell_data(c) for c in summary.by_type],
            "router": asdict(summary.router) if summary.router else None,
        },
        "questions": [question_data(r) for r in results],
    }


def _cell_data(cell: Cell) -> dict[str, Any]:
    data = asdict(cell)
    data["tokens"] = cell.tokens
    return data


def question_data(result: QuestionResult) -> dict[str, Any]:
    """One question's full record: answer, citations, judgments, metrics, cost, error."""
    data = asdict(result)
    citation = data.pop("citation")
    data["metrics"] = {
        "em": data.pop("em"),
        "f1": data.pop("f1"),
        "contains": data.pop("contains"),
        "count_correct": data.pop("count_correct"),
        "item_recall": data.pop("item_recall"),
        "item_precision": data.pop("item_precision"),
        "refusal_correct": data.pop("refusal_correct"),
        "evidence_hit": data.pop("evidence_hit"),
        "citation_recall": citation["recall"] if citation else None,
        "citation_precision": citation["precision"] if citation else None,
    }
    data["judgments"] = (
        {"sentences": citation["sentences"], "judge_calls": citation["judge_calls"]} if citation else None
    )
    return data


# ---------------------------------------------------------------- report.md

_COLUMNS: tuple[tuple[str, Callable[[Cell], Mean | float | None], str], ...] = (
    ("right", lambda c: c.right, ".2f"),
    ("EM", lambda c: c.em, ".2f"),
    ("F1", lambda c: c.f1, ".2f"),
    ("gold in ans.", lambda c: c.contains, ".2f"),
    ("count acc.", lambda c: c.count, ".2f"),
    ("item recall", lambda c: c.item_recall, ".2f"),
    ("item precision", lambda c: c.item_precision, ".2f"),
    ("refusal acc.", lambda c: c.refusal, ".2f"),
    ("cit. recall", lambda c: c.citation_recall, ".2f"),
    ("cit. precision", lambda c: c.citation_precision, ".2f"),
    ("cit. F1", lambda c: c.citation_f1, ".2f"),
    ("evidence hit", lambda c: c.evidence_hit, ".2f"),
    ("avg calls", lambda c: c.calls, ".1f"),
    ("avg prompt tok.", lambda c: c.prompt_tokens, ".0f"),
    ("avg completion tok.", lambda c: c.completion_tokens, ".0f"),
    ("avg seconds", lambda c: c.seconds, ".2f"),
)


def _show(value: Mean | float | None, spec: str) -> str:
    """``0.62 (29)``: a mean and its count; a bare number for derived figures; – for none."""
    if isinstance(value, Mean):
        number = "–" if value.value is None else format(value.value, spec)
        return f"{number} ({value.n})"
    return "–" if value is None else format(value, spec)


def _table(cells: Sequence[Cell], with_type: bool) -> list[str]:
    head = ["strategy", *(["type"] if with_type else []), *(name for name, _, _ in _COLUMNS), "n", "errors"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cell in cells:
        row = [cell.strategy, *([cell.type or "(none)"] if with_type else [])]
        row += [_show(pick(cell), spec) for _, pick, spec in _COLUMNS]
        row += [str(cell.questions), str(cell.errors)]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _router_section(check: RouterCheck | None) -> list[str]:
    """How ``auto`` did against each strategy alone, and per choice it made, by ``right``."""
    if check is None or not check.questions:
        return []
    best, best_right = check.best
    names = list(check.right)
    head = ["auto chose", "questions", *(f"{name} right" for name in names)]
    lines = [
        "## The router against each strategy alone",
        "",
        f"Over the {check.questions} questions every strategy was asked, {ROUTER} was right on "
        f"{check.right[ROUTER]}; the best strategy alone, {best}, on {best_right}; some strategy "
        f"alone on {check.any_right} (what a router that always chose well would score). Per "
        f"choice {ROUTER} made, how many of those questions each strategy got right:",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for choice in check.choices:
        row = [choice.chosen, str(choice.questions), *(str(choice.right[name]) for name in names)]
        lines.append("| " + " | ".join(row) + " |")
    return [*lines, ""]


def render_markdown(results: Sequence[QuestionResult], summary: Summary, meta: ReportMeta) -> str:
    calibration = meta.calibration.line() if meta.calibration else "not calibrated"
    refused = ", ".join(f"{c.strategy} {c.refused}" for c in summary.by_strategy)
    lines = [
        "# longqa evaluation",
        "",
        f"- Dataset: {meta.dataset} ({len({r.id for r in results})} questions)",
        f"- Model: {meta.model}",
        f"- Judge: {meta.judge}; calibration: {calibration}",
        f"- Date: {meta.date}",
        f"- Strategies: {', '.join(c.strategy for c in summary.by_strategy)}",
        *(f"- {note}" for note in meta.notes),
        "",
        "Each figure is a mean with, in brackets, the number of questions behind it. Right: a gold "
        "answer appears in the answer (answerable questions) or the answer refuses exactly when the "
        "documents do not say (unanswerable ones), over every answered question; a question about "
        "many items is right when the answer states their count or names three quarters of them "
        "(count accuracy: the first number of the short answer, or else of the answer's first line, "
        "is the number of gold items; item recall: the share of the gold items the answer names; "
        "item precision: the share of "
        "the items an answer lists that are gold items, over the answers that list some). EM (the short "
        "answer equals a gold answer, normalised as SQuAD does) and F1 (their word overlap) score "
        "the short answer, the key value or phrase picked out of the answer; gold in answer (a "
        "gold answer appears in the whole answer, as whole words; not a DESIGN metric) the whole "
        "answer. All three are over answerable questions; refusal accuracy over every answered "
        "question; citation recall and precision (ALCE, judged by the judge above) over answers "
        "that were not refused; evidence hit over questions with gold evidence; cost over answered "
        "questions. Citation F1 is 2PR/(P+R) of the means. Questions that failed are counted as errors only.",
        "",
        f"Refused answers left out of the citation metrics: {refused or 'none'}.",
        "",
        "## Per strategy",
        "",
        *_table(summary.by_strategy, with_type=False),
        "",
        "## Per strategy and question type",
        "",
        *_table(summary.by_type, with_type=True),
        "",
        *_router_section(summary.router),
        "## Plots",
        "",
        f"![accuracy vs tokens]({ACCURACY_PLOT})",
        "",
        f"![citation precision and recall]({CITATION_PLOT})",
        "",
    ]
    failed = [r for r in results if r.failed]
    if failed:
        lines += ["## Errors", "", *(f"- {r.strategy} / {r.id}: {r.error}" for r in failed), ""]
    return "\n".join(lines)
