"""The default support judge: the claim's evidence found without the model, checked, then judged.

The embedded 1.5B model, asked "does the passage support the claim?" about a whole chunk, says yes
to almost anything (MODELS.md; accuracy 0.65 on the held-back calibration pairs). A careful reader
first finds the sentences that state the claim, checks that every number, option and name of the
claim is there, and only then asks. So does this judge (variant ``window+focus+cloze``):

1. ``agents.evidence.grounds.window``: the (at most three) sentences of the passage that restate the
   claim; none is a veto;
2. ``agents.evidence.claims.mismatches`` over those sentences: a number, identifier or name the claim
   states that they do not, or a negation only one side has, is a veto;
3. cloze: the claim with one fact blanked, filled by the model from those sentences; another fact
   of the same kind in the blank (1.1.9 for 1.1.15, BLOSUM50 for BLOSUM62) is a veto;
4. the yes/no (``agents.verify.judge.Judge``) over those sentences alone, at a threshold fitted on the
   development pairs of ``app/evaluation/judge_pairs.jsonl``.

``benchmarks/bench_judge.py`` measures every variant in ``VARIANTS`` on the held-back pairs
(``benchmarks/results/judge-default.json``). ``Observation`` holds what the model said about one
pair (each question asked once: ``Observer``); ``SupportJudge`` is one variant behind
``Judge.support``'s signature, its score rescaled so that its fitted threshold reads as ``SUPPORTED``.
All calls run at temperature 0.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from agents.answer import SUPPORTED
from agents.evidence.claims import Mismatch, blank, fills, mismatches
from agents.evidence.grounds import Grounds, focus_text, is_code, window
from agents.models.calls import Caller
from agents.prompts import CLOZE
from agents.verify.judge import Judge

CLOZE_TOKENS = 16


@dataclass
class Observation:
    """Everything the variants need about one (claim, passage): the model's answers, the evidence."""

    claim: str
    passage: str
    question: str | None = None
    p_passage: float | None = None  # the plain yes/no: P(yes) over the whole passage
    p_window: float | None = None  # P(yes) over the lexical window alone
    cloze_answer: str | None = None  # the model's fill of the claim's blanked fact, from the window
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def window(self) -> Grounds | None:
        return window(self.claim, self.passage, self.question)

    @property
    def cloze_ok(self) -> bool | None:
        """Whether the model, shown the window, filled the claim's blanked fact with the claim's own
        (None: no blank, or no usable fill)."""
        blanked = blank(self.claim, self.question)
        if blanked is None or self.cloze_answer is None:
            return None
        return fills(self.cloze_answer, blanked[1], blanked[2])


def vetoes(claim: str, evidence: Grounds | None) -> list[Mismatch] | None:
    """The checks' objections to ``claim`` on ``evidence``; None when there is no evidence at all."""
    if evidence is None:
        return None
    code = is_code(evidence.sentences) or bool(evidence.shown)
    return mismatches(claim, evidence.sentences, quote=evidence.quote, context=evidence.context, code=code)


Score = Callable[[Observation], float | None]


def _passes(claim: str, evidence: Grounds | None) -> bool:
    return vetoes(claim, evidence) == []


def _gated(ok: bool, p: float | None) -> float | None:
    return p if ok else 0.0


def _mean(*ps: float | None) -> float | None:
    return None if any(p is None for p in ps) else sum(p for p in ps if p is not None) / len(ps)


VARIANTS: dict[str, Score] = {
    # the plain yes/no over the whole passage
    "yesno": lambda o: o.p_passage,
    # the plain yes/no, vetoed by the checks on the sentences that best restate the claim
    "yesno+lexical": lambda o: _gated(_passes(o.claim, o.window), o.p_passage),
    # the lexical window's checks, then yes/no over the window alone
    "window+focus": lambda o: _gated(_passes(o.claim, o.window), o.p_window),
    # the lexical window's checks, then the mean of the yes/no over the window and over the passage
    "window+focus+yesno": lambda o: _gated(_passes(o.claim, o.window), _mean(o.p_window, o.p_passage)),
    # as window+focus, vetoed too when the model fills the claim's blanked fact otherwise (``CLOZE``)
    "window+focus+cloze": lambda o: _gated(
        _passes(o.claim, o.window) and o.cloze_ok is not False, o.p_window
    ),
}
"""Each variant's score for an observation: P(supported), or 0.0 where the checks veto, or None
where the model gave no usable answer. A threshold (fitted on labelled pairs) turns it into yes/no.
Measured and dropped (``benchmarks/results/judge-default.json``): a judge that must quote its
evidence (the embedded model mostly answers NONE or rewrites the claim: recall 0.50) and a stricter
yes/no wording (no better than ``window+focus``)."""

NEEDS: dict[str, tuple[str, ...]] = {
    "yesno": ("passage",),
    "yesno+lexical": ("passage",),
    "window+focus": ("window",),
    "window+focus+yesno": ("window", "passage"),
    "window+focus+cloze": ("window", "cloze"),
}
"""The model calls each variant needs: "passage" (yes/no over the passage), "window" (yes/no over
the lexical window), "cloze" (``CLOZE`` over the window)."""


Memory = dict[tuple[str, str, str, str], tuple[object, float]]
"""Answers already given: (kind "yesno" or "cloze", claim, passage, question) → (answer, seconds)."""


class Observer:
    """Asks one backend what the variants need about each pair. Every answer is kept in ``memory``
    (which a caller may fill from an earlier run) and asked at most once."""

    def __init__(self, caller: Caller, memory: Memory | None = None) -> None:
        self.caller = caller
        self.judge = Judge(caller)  # the plain yes/no; also asked about the evidence alone
        self.memory: Memory = {} if memory is None else memory
        self._lock = threading.Lock()

    @property
    def spec(self) -> str:
        return self.caller.backend.spec

    def _recall(self, key: tuple[str, str, str, str], ask: Callable[[], object]) -> tuple[object, float]:
        with self._lock:
            if key in self.memory:
                return self.memory[key]
        started = time.perf_counter()
        answer = ask()
        found = (answer, time.perf_counter() - started)
        with self._lock:
            self.memory[key] = found
        return found

    def p_yes(self, claim: str, passage: str, question: str | None = None) -> tuple[float | None, float]:
        """The plain yes/no (``JUDGE``): P(yes) that the passage supports the claim, and its seconds."""
        answer, seconds = self._recall(
            ("yesno", claim, passage, question or ""), lambda: self.judge.support(claim, passage, question)
        )
        return answer if isinstance(answer, float) else None, seconds

    def cloze(self, cloze: str, passage: str) -> tuple[str, float]:
        """The model's fill of the blank in ``cloze`` from ``passage`` (short evidence), and its seconds."""

        def ask() -> str:
            messages = CLOZE.format_messages(passage=passage, cloze=cloze)
            return self.caller.call("judge cloze", messages, max_tokens=CLOZE_TOKENS, temperature=0.0).text

        answer, seconds = self._recall(("cloze", cloze, passage, ""), ask)
        return str(answer), seconds

    def observe(
        self, claim: str, passage: str, question: str | None = None, needs: tuple[str, ...] = ()
    ) -> Observation:
        """The observation with the calls ``needs`` names: "passage" (yes/no over the passage),
        "window" (yes/no over the lexical window, when it passes the checks), "cloze" (the blanked
        fact filled from that window)."""
        seen = Observation(claim, passage, question)
        if "passage" in needs:
            seen.p_passage, seen.seconds["passage"] = self.p_yes(claim, passage, question)
        lexical = seen.window if {"window", "cloze"} & set(needs) else None
        if lexical is not None and _passes(claim, lexical):
            shown = focus_text(lexical)
            blanked = blank(claim, question) if "cloze" in needs else None
            if blanked is not None:
                seen.cloze_answer, seen.seconds["cloze"] = self.cloze(blanked[0], shown)
            if "window" in needs:
                seen.p_window, seen.seconds["window"] = self.p_yes(claim, shown, question)
        return seen


def rescale(score: float | None, threshold: float) -> float | None:
    """A score mapped so that ``threshold`` lands on ``SUPPORTED`` (0 and 1 stay put): a judge fitted
    at any threshold then reads right wherever the product compares its score with ``SUPPORTED``."""
    if score is None:
        return None
    if not 0.0 < threshold < 1.0:
        return score
    if score < threshold:
        return SUPPORTED * score / threshold
    return SUPPORTED + (1.0 - SUPPORTED) * (score - threshold) / (1.0 - threshold)


DEFAULT_VARIANT = "window+focus+cloze"
DEFAULT_THRESHOLD = 0.5544
FITTED_ON = "llamacpp:default"
"""The variant with the best accuracy on the dev pairs of ``judge_pairs.jsonl`` with the embedded
default model, and its P(yes) threshold fitted there (``benchmarks/bench_judge.py``)."""


class SupportJudge:
    """One variant behind ``Judge.support``'s signature: P(supported) rescaled so that the variant's
    fitted threshold reads as ``SUPPORTED``, 0.0 where the checks veto, None where the model gave
    no answer."""

    def __init__(
        self, caller: Caller, variant: str = DEFAULT_VARIANT, threshold: float = DEFAULT_THRESHOLD
    ) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"unknown support judge variant {variant!r}: one of {', '.join(VARIANTS)}")
        self.observer = Observer(caller)
        self.variant = variant
        self.threshold = threshold

    @property
    def spec(self) -> str:
        return self.observer.spec

    @property
    def name(self) -> str:
        return f"{self.spec} ({self.variant}, yes from P {self.threshold:g})"

    def observation(self, claim: str, passage: str, question: str | None = None) -> Observation:
        return self.observer.observe(claim, passage, question, NEEDS[self.variant])

    def support(self, claim: str, passage: str, question: str | None = None) -> float | None:
        seen = self.observation(claim, passage, question)
        return rescale(VARIANTS[self.variant](seen), self.threshold)


def support_judge(caller: Caller) -> SupportJudge:
    """The default judge over ``caller``'s backend: the fitted threshold for the embedded default
    model it was fitted on, ``SUPPORTED`` (P(yes) as it comes) for any other model (``--judge SPEC``)."""
    fitted = caller.backend.spec == FITTED_ON
    return SupportJudge(caller, threshold=DEFAULT_THRESHOLD if fitted else SUPPORTED)
