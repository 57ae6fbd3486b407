"""The entailment judge evaluation uses: a support judge (P(supported) from the model) read at a
threshold, with the question shown beside the claim as the product shows it.

A judge that gives no usable answer (None) counts as "not entailed"; such answers are counted so
the report can say how many there were.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.verify.judge import Supports

THRESHOLD = 0.5


@dataclass
class JudgeEntails:
    """``Entails`` over a real judge for one question: P(supported) >= threshold."""

    judge: Supports
    question: str | None = None
    threshold: float = THRESHOLD
    unanswered: int = 0

    def __call__(self, claim: str, passage: str) -> bool:
        score = self.judge.support(claim, passage, self.question)
        if score is None:
            self.unanswered += 1
            return False
        return score >= self.threshold
