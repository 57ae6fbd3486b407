"""Running an evaluation: every question under every strategy, scored, resumable, reported.

Each (question, strategy) result is appended to ``DIR/results.jsonl`` as soon as it is scored, so
an interrupted run resumes where it stopped and repeats no model call. Questions are grouped by
their ``docs``; each group is ingested (incrementally) into ``DIR/indexes/``. The judge has a
caller of its own, so judging never counts as an answer's cost; it is calibrated once per judge
(``DIR/calibration.json``) and the report states both.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from agents.answer import Trace
from agents.evidence.corpus import Corpus
from agents.models.backends import Backend
from agents.models.calls import Caller
from agents.orchestrator import Answerer, AskOptions
from agents.reading.strategies.registry import StrategyName, strategy_name
from agents.verify.judge import Supports
from agents.verify.support import support_judge
from app import journal, wiring
from app.evaluation.calibration import FIXTURE, Calibration, calibrate_judge
from app.evaluation.dataset import EvalItem, load_dataset
from app.evaluation.entailment import JudgeEntails
from app.evaluation.importers import convert
from app.evaluation.report import ReportMeta, write_report
from app.evaluation.scoring import QuestionResult, score
from app.records import problem
from app.settings import Settings
from core.errors import LongqaError

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
        # json.loads, not validate_json: a file name that is not UTF-8 is written as an escaped lone
        # surrogate, which Python's parser reads back and pydantic's refuses
        return _RESULT.validate_python(json.loads(line))
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
    journal.append(path, _RESULT.dump_python(result, mode="json"))
    if progress:
        progress(
            "done",
            done,
            total,
            f"{result.id} · {result.strategy} · {result.cost.seconds:.1f} s · {_verdict(result)}",
        )


def _verdict(result: QuestionResult) -> str:
    """A finished pair in a word or two: its error, or whether it answered (gold in the answer)
    or refused, and whether that was right."""
    if result.error:
        return f"error: {result.error}"
    if result.contains is None:  # an unanswerable question
        right = result.refusal_correct
        return f"{'refused' if result.refused else 'answered'} ({'right' if right else 'wrong'})"
    if result.refused:
        return "refused (wrong)"
    return "correct" if result.contains else "not correct"


def calibration_for(
    judge: Supports, out: Path, progress: Progress | None = None, pairs: Path = FIXTURE
) -> Calibration:
    """The judge's calibration on ``pairs``, measured once per judge (its backend and how it
    judges) and pairs file and kept in ``out``."""
    path = out / CALIBRATION
    if path.exists():
        try:
            cached = _CALIBRATION.validate_json(path.read_bytes())
            if cached.judge == judge.name and cached.fixture.split(",")[0] == pairs.name:
                return cached
        except ValueError:
            log.warning("ignoring unreadable %s", path)
    if progress:
        progress("calibrate", 0, 1, f"calibrating the judge {judge.name}")
    calibration = calibrate_judge(judge, pairs)
    out.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_CALIBRATION.dump_json(calibration, indent=2))
    return calibration


def index_folder(out: Path, docs: tuple[Path, ...]) -> Path:
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
    model = model or wiring.backend(settings)
    judge_backend = judge_model or (wiring.backend(settings, settings.judge) if settings.judge else model)
    judge = support_judge(Caller(judge_backend, Trace()))
    calibration = calibration_for(judge, out, progress) if calibrate else None
    options = AskOptions(prefer=settings.prefer, k=settings.k, verify=False)
    answering = _Answering(model, judge, options, warm)
    ledger = _Ledger(out / RESULTS, strategy_names(strategies), items, progress)
    for docs, group in _by_docs(ledger.unfinished(items)).items():
        _evaluate_group(settings, index_folder(out, docs), docs, group, ledger, answering)
    ledger.tell("answer", "writing the report", done=ledger.total)
    notes = (
        f"strategies: {', '.join(ledger.names)}; preference {settings.prefer}; k {settings.k}"
        + ("; collections read ahead (longqa warm) before their first question" if warm else ""),
        f"chunking {settings.chunk_tokens} tokens; answers verified by the judge below, not during answering",
    )
    meta = ReportMeta(
        str(dataset), f"{model.spec} ({model.description})", judge.name, calibration, notes=notes
    )
    write_report(out, ledger.in_order(items), meta)
    return out


@dataclass(frozen=True)
class _Answering:
    """What answers and scores each pair: the model, the judge (a caller of its own, so judging
    never counts as an answer's cost), the options all strategies share, and whether each
    collection is read ahead first."""

    model: Backend
    judge: Supports
    options: AskOptions
    warm: bool


class _Ledger:
    """The pairs of one evaluation done so far: those ``results.jsonl`` already held (so a rerun
    repeats no model call) and each new one, appended as soon as it is scored; and the count of
    finished pairs that every progress report carries."""

    def __init__(
        self, path: Path, names: list[StrategyName], items: list[EvalItem], progress: Progress | None
    ) -> None:
        self.path = path
        self.names = names
        self.progress = progress
        self.results = read_results(path)
        self.total = len(items) * len(names)
        self.count = sum(1 for item in items for name in names if (name, item.id) in self.results)

    def unfinished(self, items: list[EvalItem]) -> list[EvalItem]:
        """The questions some strategy has not answered yet, in dataset order."""
        return [item for item in items if any((name, item.id) not in self.results for name in self.names)]

    def pending(self, group: list[EvalItem]) -> Iterator[tuple[EvalItem, StrategyName]]:
        """The pairs of ``group`` still to do, question by question (checked as they come)."""
        for item in group:
            for name in self.names:
                if (name, item.id) not in self.results:
                    yield item, name

    def add(self, result: QuestionResult) -> None:
        """Keep a scored result, durably, and report it."""
        self.results[(result.strategy, result.id)] = result
        self.count += 1
        _append(self.path, result, self.progress, self.count, self.total)

    def tell(self, stage: str, detail: str, done: int | None = None) -> None:
        if self.progress:
            self.progress(stage, self.count if done is None else done, self.total, detail)

    def in_order(self, items: list[EvalItem]) -> list[QuestionResult]:
        """Every result of the run, strategy by strategy, each in dataset order: the report's order."""
        return [self.results[(name, item.id)] for name in self.names for item in items]


def _by_docs(items: list[EvalItem]) -> dict[tuple[Path, ...], list[EvalItem]]:
    """Questions grouped by the documents they are asked of, so each collection is ingested once."""
    groups: dict[tuple[Path, ...], list[EvalItem]] = {}
    for item in items:
        groups.setdefault(item.docs, []).append(item)
    return groups


def _evaluate_group(
    settings: Settings,
    folder: Path,
    docs: tuple[Path, ...],
    group: list[EvalItem],
    ledger: _Ledger,
    answering: _Answering,
) -> None:
    """Ingest one collection into ``folder``, read it ahead if asked, then answer and score its
    pending pairs; when nothing in it can be ingested, each pending pair records that error."""
    ledger.tell("ingest", ", ".join(p.name for p in docs))
    try:
        wiring.ingest_docs(settings, list(docs), folder)
    except wiring.NothingIngested as exc:
        for item, name in ledger.pending(group):
            ledger.add(score(item, name, None, error=str(exc)))
        return
    with wiring.open_index(settings, folder) as index:
        corpus = Corpus(index, wiring.searcher(settings, index))
        answerer = Answerer(corpus, answering.model, options=answering.options)
        if answering.warm:
            _warm(answerer, ledger.progress, ledger.count, ledger.total)
        for item, name in ledger.pending(group):
            ledger.tell("answer", f"{item.id} · {name}")
            ledger.add(_answer_and_score(answerer, answering.judge, item, name, answering.options))


def _warm(answerer: Answerer, progress: Progress | None, done: int, total: int) -> None:
    """Read a collection ahead of time where the backend can keep what it read; say so where not."""
    from agents.reading.warm import warm

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
    answerer: Answerer, judge: Supports, item: EvalItem, name: str, options: AskOptions
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
