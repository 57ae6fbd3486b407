"""How far the entailment judge can be trusted: its accuracy on hand-labelled pairs.

``judge_calibration.jsonl`` (beside this module) holds (question, claim, passage, supported?)
pairs written from real passages of ``examples/`` (each with its ``source``: file and page or
lines), about half supported, with hard negatives: a number changed, a negation, a claim about a
neighbouring option, a claim only partly supported (which counts as not supported). The judge's
score is read at the same threshold the metrics use; a judge that gives no usable answer counts as
saying "not supported".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ConfigDict, StrictBool, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from agents.judge import Judge
from app.evaluation.dataset import GoldEvidence
from app.evaluation.entailment import THRESHOLD
from app.records import problem
from core.errors import LongqaError

FIXTURE = Path(__file__).with_name("judge_calibration.jsonl")

Scorer = Callable[[str, str, str | None], float | None]  # (claim, passage, question) -> P(yes)


@dataclass(frozen=True, config=ConfigDict(extra="ignore"))  # a note beside a pair is no error
class CalibrationPair:
    """A claim, the passage it is judged against, and whether a person found it supported."""

    claim: str
    passage: str
    supported: StrictBool  # true or false, not 1 or "yes"
    question: str | None = None
    source: GoldEvidence | None = None


@dataclass(frozen=True, config=ConfigDict(extra="ignore"))  # read back from a run's calibration.json
class Calibration:
    """The judge's agreement with the hand labels."""

    judge: str
    fixture: str
    n: int
    accuracy: float
    precision: float | None  # of its "supported" answers, how many were labelled supported
    recall: float | None  # of the pairs labelled supported, how many it said were
    unanswered: int
    threshold: float
    scores: tuple[float | None, ...]

    def line(self) -> str:
        """One line for a report header."""

        def show(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.2f}"

        return (
            f"accuracy {self.accuracy:.2f} on {self.n} hand-labelled pairs ({self.fixture}); "
            f"precision {show(self.precision)}, recall {show(self.recall)}, "
            f"{self.unanswered} unanswered, threshold {self.threshold:g}"
        )


_PAIR = TypeAdapter(CalibrationPair)


def load_pairs(path: Path = FIXTURE) -> list[CalibrationPair]:
    """The labelled pairs of a calibration JSONL file."""
    pairs: list[CalibrationPair] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            pairs.append(_PAIR.validate_json(line))
        except ValidationError as exc:
            raise LongqaError(f"{path}:{number}: not a calibration pair: {problem(exc)}") from None
    return pairs


def calibrate(
    scorer: Scorer,
    pairs: Sequence[CalibrationPair],
    judge: str = "",
    fixture: str = FIXTURE.name,
    threshold: float = THRESHOLD,
) -> Calibration:
    """Ask the judge about every pair and compare its answers with the labels."""
    if not pairs:
        raise LongqaError("no calibration pairs to judge")
    scores = tuple(scorer(p.claim, p.passage, p.question) for p in pairs)
    said = [s is not None and s >= threshold for s in scores]
    labels = [p.supported for p in pairs]
    hits = sum(s == t for s, t in zip(said, labels))
    true_yes = sum(s and t for s, t in zip(said, labels))
    return Calibration(
        judge=judge,
        fixture=fixture,
        n=len(pairs),
        accuracy=hits / len(pairs),
        precision=true_yes / sum(said) if any(said) else None,
        recall=true_yes / sum(labels) if any(labels) else None,
        unanswered=sum(s is None for s in scores),
        threshold=threshold,
        scores=scores,
    )


def calibrate_judge(judge: Judge, path: Path = FIXTURE) -> Calibration:
    """The calibration of a real judge on the fixture (one short model call per pair)."""
    return calibrate(judge.support, load_pairs(path), judge=judge.spec, fixture=Path(path).name)
