"""Judging whether a passage supports a claim, with a yes/no call to a generative model.

No NLI model ships offline here (MODELS.md), so support is judged the way LongBench-Cite does it
with a large model: one short prompt, one token. Where the backend returns the first token's
probabilities the score is P(yes) / (P(yes) + P(no)); otherwise the answer's word decides
(1.0 or 0.0).
"""

from __future__ import annotations

import math
import threading
from typing import Protocol

from agents.models.calls import Caller
from agents.prompts import JUDGE

_YES = {"yes", "y", "true", "supported"}
_NO = {"no", "n", "false", "unsupported", "not"}


def yes_probability(top_logprobs: list[dict], text: str) -> float | None:
    """P(yes) from first-token alternatives, else from the answer's first word; None if neither."""
    yes = sum(math.exp(t["logprob"]) for t in top_logprobs if str(t["token"]).strip().lower() in _YES)
    no = sum(math.exp(t["logprob"]) for t in top_logprobs if str(t["token"]).strip().lower() in _NO)
    if yes + no > 0:
        return yes / (yes + no)
    words = text.strip().lower().split()
    if not words:
        return None
    first = words[0].strip(".,!:;\"'")
    if first in _YES:
        return 1.0
    if first in _NO:
        return 0.0
    return None


class Supports(Protocol):
    """A support judge: ``Judge`` (the plain yes/no) or ``agents.verify.support.SupportJudge``
    (the default)."""

    @property
    def spec(self) -> str: ...

    @property
    def name(self) -> str:
        """The backend and how it judges, as reports and calibrations name the judge."""
        ...

    def support(self, claim: str, passage: str, question: str | None = None) -> float | None: ...


class Judge:
    """Scores claims against passages with one backend; results are cached per pair."""

    def __init__(self, caller: Caller) -> None:
        self.caller = caller
        self._cache: dict[tuple[str, str, str], float | None] = {}
        self._lock = threading.Lock()

    @property
    def spec(self) -> str:
        return self.caller.backend.spec

    @property
    def name(self) -> str:
        return f"{self.spec} (yes/no)"

    def support(self, claim: str, passage: str, question: str | None = None) -> float | None:
        """P(the passage supports the claim), or None when the judge gave no usable answer.

        A short answer sentence is often unclear alone ("It is 64 MB."); the question it answers,
        when given, is shown with it.
        """
        context = f"The claim answers the question: {question}\n\n" if question else ""
        key = (claim, passage, context)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        passage = self._fit(claim, passage, context)
        result = self.caller.call(
            "judge",
            JUDGE.format_messages(passage=passage, claim=claim, context=context),
            max_tokens=1,
            logprobs=True,
            top_logprobs=10,
        )
        score = yes_probability(result.facts.top_logprobs, result.text)
        with self._lock:
            self._cache[key] = score
        return score

    def _fit(self, claim: str, passage: str, context: str) -> str:
        """Cut the passage (from its end) until the judge prompt fits the window."""
        backend = self.caller.backend
        limit = backend.context_window - 16

        def size(text: str) -> int:
            return backend.count_prompt(JUDGE.format_messages(passage=text, claim=claim, context=context))

        while passage and size(passage) > limit:
            passage = passage[: int(len(passage) * 0.8)]
        return passage
