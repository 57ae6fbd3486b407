"""How far the entailment judge can be trusted: its accuracy on hand-labelled pairs.

``judge_pairs.jsonl`` (beside this module) holds (question, claim, passage, supported?) pairs
written from real passages of ``examples/`` and from real answers longqa gave (each with its
``source``: file and page or lines, and its ``kind``), about 40% supported, with hard negatives:
a number or an option changed, a negation, a neighbouring parameter, a claim only partly
supported (which counts as not supported), a claim whose support sits in another chunk. Each
pair is in the ``dev`` part (to tune a judge on) or the ``held`` part (only ever scored): a
calibration scores the held part when the file has one, every pair otherwise. The judge's score
is read at the same threshold the metrics use; a judge that gives no usable answer counts as
saying "not supported". Each figure comes with its 95% Wilson interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, StrictBool, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from agents.verify.judge import Supports
from app.evaluation.dataset import GoldEvidence
from app.evaluation.entailment import THRESHOLD
from app.records import problem
from core.errors import LongqaError

FIXTURE = Path(__file__).with_name("judge_pairs.jsonl")

Scorer = Callable[[str, str, str | None], float | None]  # (claim, passage, question) -> P(yes)


@dataclass(frozen=True, config=ConfigDict(extra="ignore"))  # a note beside a pair is no error
class CalibrationPair:
    """A claim, the passage it is judged against, and whether a person found it supported."""

    claim: str
    passage: str
    supported: StrictBool  # true or false, not 1 or "yes"
    question: str | None = None
    source: GoldEvidence | None = None
    split: Literal["dev", "held"] | None = None  # tuned on, or only ever scored
    kind: str | None = None  # supported, number_changed, negation, ...


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
    # 95% Wilson intervals of accuracy, precision and recall (None where the figure is)
    accuracy_ci: tuple[float, float] | None = None
    precision_ci: tuple[float, float] | None = None
    recall_ci: tuple[float, float] | None = None

    def line(self) -> str:
        """One line for a report header."""

        def show(value: float | None, interval: tuple[float, float] | None) -> str:
            if value is None:
                return "n/a"
            return f"{value:.2f}" + (f" [{interval[0]:.2f}–{interval[1]:.2f}]" if interval else "")

        return (
            f"accuracy {show(self.accuracy, self.accuracy_ci)} on {self.n} hand-labelled pairs "
            f"({self.fixture}); precision {show(self.precision, self.precision_ci)}, "
            f"recall {show(self.recall, self.recall_ci)}, {self.unanswered} unanswered, "
            f"threshold {self.threshold:g}"
        )


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """The 95% Wilson score interval of k successes in n trials (None when n is 0)."""
    if n == 0:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


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
        accuracy_ci=wilson(hits, len(pairs)),
        precision_ci=wilson(true_yes, sum(said)),
        recall_ci=wilson(true_yes, sum(labels)),
    )


def held_back(pairs: Sequence[CalibrationPair]) -> list[CalibrationPair]:
    """The pairs a calibration scores: the held-back part where the file has one, else all."""
    held = [p for p in pairs if p.split == "held"]
    return held or list(pairs)


def calibrate_judge(judge: Supports, path: Path = FIXTURE) -> Calibration:
    """The calibration of a real judge on the held-back pairs of ``path`` (one short model call
    per pair)."""
    pairs = load_pairs(path)
    scored = held_back(pairs)
    name = Path(path).name + (", held-back part" if len(scored) < len(pairs) else "")
    return calibrate(judge.support, scored, judge=judge.name, fixture=name)
