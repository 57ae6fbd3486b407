"""Running an evaluation: every question under every strategy, scored, resumable, reported.

Each (question, strategy) result is appended to ``DIR/results.jsonl`` as soon as it is scored, so
an interrupted run resumes where it stopped and repeats no model call. Questions are grouped by
their ``docs``; each group is ingested (incrementally) into ``DIR/indexes/``. The judge has a
caller of its own, so judging never counts as an answer's cost; it is calibrated once per judge
(``DIR/calibration.json``) and the report states both.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from agents.answer import Trace
from agents.backends import Backend
from agents.calls import Caller
from agents.corpus import Corpus
from agents.judge import Judge
from agents.orchestrator import Answerer, AskOptions
from agents.strategies.registry import StrategyName, strategy_name
from app import components, journal
from app.evaluation.calibration import Calibration, calibrate_judge
from app.evaluation.dataset import EvalItem, load_dataset
from app.evaluation.entailment import JudgeEntails
from app.evaluation.importers import convert
from app.evaluation.report import ReportMeta, write_report
from app.evaluation.scoring import QuestionResult, score
from app.records import problem
from app.settings import Settings
from ingest.errors import LongqaError

log = logging.getLogger(__name__)

RESULTS = "results.jsonl"
CALIBRATION = "calibration.json"

Progress = Callable[[str, int, int, str], None]
"""progress(stage, done, total, detail): stage is 'calibrate', 'ingest', 'warm' (a part of a
collection is read ahead), 'answer' (a pair starts) or 'done' (a pair finished: its id, strategy,
model seconds and ok, refused or error)."""

_RESULT = TypeAdapter(QuestionResult)
_CALIBRATION = TypeAdapter(Calibration)


def strategy_names(requested: list[str] | None) -> list[StrategyName]:
    """The canonical names of the strategies asked for by name or alias, once each, in order;
    every strategy when none is asked for."""
    return list(dict.fromkeys(strategy_name(name.strip()) for name in requested or list(StrategyName)))


def _parse_result(line: bytes) -> QuestionResult:
    try:
        return _RESULT.validate_json(line)
    except ValidationError as exc:
        raise ValueError(f"not an evaluation result: {problem(exc)}") from None


def read_results(path: Path) -> dict[tuple[str, str], QuestionResult]:
    """Finished results by (strategy, id).

    Every valid result is kept wherever it is; a line that is not a result is logged as a warning
    (file:line) and left in the file; only a torn last line (a killed run) is cut off.
    """
    read = journal.read(path, _parse_result)
    for number, reason in read.skipped:
        log.warning("%s:%d: %s; left in place and ignored", path, number, reason)
    return {(result.strategy, result.id): result for _, result in read.records}


def _append(
    path: Path, result: QuestionResult, progress: Progress | None = None, done: int = 0, total: int = 0
) -> None:
    """Append one scored result durably, then report it (one line per finished pair)."""
    journal.append(path, _RESULT.dump_json(result))
    if progress:
        status = f"error: {result.error}" if result.error else ("refused" if result.refused else "ok")
        progress(
            "done", done, total, f"{result.id} · {result.strategy} · {result.cost.seconds:.1f} s · {status}"
        )


def calibration_for(judge: Judge, out: Path, progress: Progress | None = None) -> Calibration:
    """The judge's calibration, measured once per judge spec and kept in ``out``."""
    path = out / CALIBRATION
    if path.exists():
        try:
            cached = _CALIBRATION.validate_json(path.read_bytes())
            if cached.judge == judge.spec:
                return cached
        except ValueError:
            log.warning("ignoring unreadable %s", path)
    if progress:
        progress("calibrate", 0, 1, f"calibrating the judge {judge.spec}")
    calibration = calibrate_judge(judge)
    out.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_CALIBRATION.dump_json(calibration, indent=2))
    return calibration


def _index_folder(out: Path, docs: tuple[Path, ...]) -> Path:
    key = "\n".join(sorted(str(p.resolve()) for p in docs))
    return out / "indexes" / hashlib.sha256(key.encode()).hexdigest()[:12]


def run_evaluation(
    settings: Settings,
    dataset: Path,
    out: Path,
    strategies: list[str] | None = None,
    limit: int | None = None,
    format: str | None = None,
    calibrate: bool = True,
    progress: Progress | None = None,
    model: Backend | None = None,
    judge_model: Backend | None = None,
    warm: bool = False,
) -> Path:
    """Answer and score every question of ``dataset`` under each strategy; write the report in ``out``.

    ``model`` and ``judge_model`` default to the backends the settings name. With ``warm``, each
    collection is read ahead (``longqa warm``) before its first question, so that answers are
    timed as a user who warmed the collection would see them; the warming is reported, not
    counted in any answer's cost.
    """
    out.mkdir(parents=True, exist_ok=True)
    if format:
        dataset = convert(format, dataset, out / "imported")
    items = load_dataset(dataset)[: limit or None]
    if not items:
        raise LongqaError(f"{dataset}: no questions")
    names = strategy_names(strategies)
    model = model or components.backend(settings)
    judge_backend = judge_model or (components.backend(settings, settings.judge) if settings.judge else model)
    judge = Judge(Caller(judge_backend, Trace()))
    calibration = calibration_for(judge, out, progress) if calibrate else None
    done = read_results(out / RESULTS)
    total = len(items) * len(names)
    count = sum(1 for item in items for name in names if (name, item.id) in done)
    groups: dict[tuple[Path, ...], list[EvalItem]] = {}
    for item in items:
        if any((name, item.id) not in done for name in names):
            groups.setdefault(item.docs, []).append(item)
    options = AskOptions(prefer=settings.prefer, k=settings.k, verify=False)
    for docs, group in groups.items():
        folder = _index_folder(out, docs)
        if progress:
            progress("ingest", count, total, ", ".join(p.name for p in docs))
        report = components.ingest_paths(settings, list(docs), folder)
        if not report.usable:
            reason = f"nothing in {', '.join(str(p) for p in docs)} could be ingested"
            for item in group:
                for name in names:
                    if (name, item.id) not in done:
                        done[(name, item.id)] = result = score(item, name, None, error=reason)
                        count += 1
                        _append(out / RESULTS, result, progress, count, total)
            continue
        with components.open_index(settings, folder) as index:
            answerer = Answerer(Corpus(index, components.searcher(settings, index)), model, options=options)
            if warm:
                _warm(answerer, progress, count, total)
            for item in group:
                for name in names:
                    if (name, item.id) in done:
                        continue
                    if progress:
                        progress("answer", count, total, f"{item.id} · {name}")
                    done[(name, item.id)] = result = _answer_and_score(answerer, judge, item, name, options)
                    count += 1
                    _append(out / RESULTS, result, progress, count, total)
    if progress:
        progress("answer", total, total, "writing the report")
    results = [done[(name, item.id)] for name in names for item in items]
    notes = (
        f"strategies: {', '.join(names)}; preference {settings.prefer}; k {settings.k}"
        + ("; collections read ahead (longqa warm) before their first question" if warm else ""),
        f"chunking {settings.chunk_tokens} tokens; answers verified by the judge below, not during answering",
    )
    meta = ReportMeta(
        str(dataset), f"{model.spec} ({model.description})", judge.spec, calibration, notes=notes
    )
    write_report(out, results, meta)
    return out


def _warm(answerer: Answerer, progress: Progress | None, done: int, total: int) -> None:
    """Read a collection ahead of time where the backend can keep what it read; say so where not."""
    from agents.warm import warm

    def tick(part: int, parts: int, what: str) -> None:
        if progress:
            progress("warm", done, total, f"{part + 1 if part < parts else parts}/{parts} {what}")

    try:
        report = warm(answerer.corpus, answerer.backend, tick)
    except LongqaError as exc:
        log.warning("not warmed: %s", exc)
        return
    log.info(
        "warmed: %d tokens read, %d bytes stored, %.0f s",
        report.prefilled,
        report.stored_bytes,
        report.seconds,
    )


def _answer_and_score(
    answerer: Answerer, judge: Judge, item: EvalItem, name: str, options: AskOptions
) -> QuestionResult:
    try:
        answer = answerer.ask(item.question, options=replace(options, strategy=name))
    except LongqaError as exc:
        return score(item, name, None, error=str(exc))
    except Exception as exc:  # one failing question must not stop the evaluation
        log.debug("question %s failed", item.id, exc_info=True)
        return score(item, name, None, error=f"unexpected {type(exc).__name__}: {exc}")
    try:
        return score(item, name, answer, JudgeEntails(judge, item.question))
    except LongqaError as exc:
        return score(item, name, None, error=f"judging failed: {exc}")
