"""The judge's calibration: the hand-labelled fixture, and agreement computed from a scripted judge."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.answer import Trace
from agents.models.calls import Caller
from agents.verify.judge import Judge
from app.evaluation.calibration import (
    FIXTURE,
    CalibrationPair,
    calibrate,
    calibrate_judge,
    held_back,
    load_pairs,
    wilson,
)
from app.evaluation.entailment import JudgeEntails
from core.errors import LongqaError
from ingest.pipeline import load_document
from tests.agents.fakes import scripted
from tests.conftest import EXAMPLES


def test_the_fixture_is_balanced_and_large_enough() -> None:
    pairs = load_pairs()
    assert len(pairs) >= 24
    supported = sum(p.supported for p in pairs)
    assert 0.4 <= supported / len(pairs) <= 0.6
    assert all(p.question and p.source for p in pairs)
    assert len({(p.claim, p.passage) for p in pairs}) == len(pairs)


def test_every_passage_is_real_text_from_the_examples() -> None:
    pages: dict[tuple[str, int], str] = {}
    for pair in load_pairs():
        assert pair.source is not None
        path = EXAMPLES / pair.source.file
        if pair.source.page is not None:
            key = (pair.source.file, pair.source.page)
            if key not in pages:
                page_text = load_document(path, pair.source.file).page_text(pair.source.page)
                pages[key] = " ".join(page_text.split())
            assert " ".join(pair.passage.split()) in pages[key], pair.claim  # as indexed, spacing aside
        else:
            assert pair.source.lines is not None
            first, last = pair.source.lines
            lines = path.read_text(encoding="utf-8").split("\n")[first - 1 : last]
            assert pair.passage.split() == "\n".join(lines).split(), pair.claim  # spacing aside


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"claim": "c", "passage": "p"}', "missing 'supported'"),
        ('{"claim": "c", "passage": "p", "supported": 1}', "'supported' must be true or false"),
        ('{"claim": "c", "passage": 5, "supported": true}', "'passage' must be a string"),
        (
            '{"claim": "c", "passage": "p", "supported": true, "source": {"file": "a.pdf", "page": 0}}',
            "source: 'page' must be a positive integer",
        ),
        ('{"claim": "c", "passage": "p", "supported": true, "source": {"page": 2}}', "source needs a 'file'"),
        ("{oops", "not valid JSON (key must be a string at line 1 column 2)"),
    ],
)
def test_a_bad_calibration_pair_is_named_exactly(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"claim": "c", "passage": "p", "supported": true, "note": "kept aside"}\n' + line + "\n")
    with pytest.raises(LongqaError) as error:
        load_pairs(path)
    assert str(error.value) == f"{path}:2: not a calibration pair: {message}"


PAIRS = [
    CalibrationPair("c1", "p", True),
    CalibrationPair("c2", "p", True),
    CalibrationPair("c3", "p", True),
    CalibrationPair("c4", "p", False),
    CalibrationPair("c5", "p", False, question="q5"),
]


def test_calibration_compares_thresholded_scores_with_labels() -> None:
    scores = {"c1": 0.9, "c2": 0.5, "c3": None, "c4": 0.7, "c5": 0.1}  # c3 unanswered, c4 wrong
    asked: list[tuple[str, str, str | None]] = []

    def scorer(claim: str, passage: str, question: str | None) -> float | None:
        asked.append((claim, passage, question))
        return scores[claim]

    calibration = calibrate(scorer, PAIRS, judge="test:scripted")
    assert calibration.n == 5 and calibration.unanswered == 1
    assert calibration.accuracy == pytest.approx(3 / 5)  # c1, c2, c5 right
    assert calibration.precision == pytest.approx(2 / 3)  # said yes to c1, c2, c4
    assert calibration.recall == pytest.approx(2 / 3)  # of c1, c2, c3
    assert asked[-1] == ("c5", "p", "q5")
    assert calibration.line() == (
        "accuracy 0.60 [0.23–0.88] on 5 hand-labelled pairs (judge_pairs.jsonl); precision 0.67 "
        "[0.21–0.94], recall 0.67 [0.21–0.94], 1 unanswered, threshold 0.5"
    )


def test_a_judge_that_never_says_yes_has_no_precision() -> None:
    calibration = calibrate(lambda c, p, q: 0.0, PAIRS)
    assert calibration.precision is None and calibration.recall == 0.0
    assert calibration.accuracy == pytest.approx(2 / 5)


def test_a_perfect_judge_on_the_fixture_scores_one() -> None:
    pairs = load_pairs(FIXTURE)
    labels = {(p.claim, p.passage): p.supported for p in pairs}
    calibration = calibrate(lambda c, p, q: float(labels[(c, p)]), pairs)
    assert (calibration.accuracy, calibration.precision, calibration.recall) == (1.0, 1.0, 1.0)


def test_judge_entails_reads_the_real_judge_at_the_threshold_with_the_question() -> None:
    answers = {"yes claim": "yes", "no claim": "no", "odd claim": "perhaps"}
    chat, backend = scripted(reply=lambda m: answers[str(m[-1].content).split("Claim: ")[1].split("\n")[0]])
    entails = JudgeEntails(Judge(Caller(backend, Trace())), question="What is asked?")
    assert entails("yes claim", "passage") is True
    assert entails("no claim", "passage") is False
    assert entails("odd claim", "passage") is False and entails.unanswered == 1  # no usable answer
    assert all("The claim answers the question: What is asked?" in text for text in chat.texts())


def test_the_fixture_has_a_development_part_and_a_held_back_part_of_every_kind() -> None:
    pairs = load_pairs()
    assert len(pairs) >= 120 and {p.split for p in pairs} == {"dev", "held"}
    held = held_back(pairs)
    assert 0.3 <= len(held) / len(pairs) <= 0.5 and all(p.split == "held" for p in held)
    for split in ("dev", "held"):
        part = [p for p in pairs if p.split == split]
        kinds = {p.kind for p in part}
        assert {"supported", "number_changed", "option_changed", "negation", "partly_supported"} <= kinds
        assert 0.3 <= sum(p.supported for p in part) / len(part) <= 0.6


def test_wilson_intervals() -> None:
    assert wilson(0, 0) is None
    assert wilson(9, 10) == pytest.approx((0.5958, 0.9821), abs=1e-4)
    low, high = wilson(90, 100)  # type: ignore[misc]
    assert low < 0.9 < high and high - low < 0.13


def test_calibrate_judge_scores_only_the_held_back_part() -> None:
    _chat, backend = scripted(reply=lambda m: "yes")
    calibration = calibrate_judge(Judge(Caller(backend, Trace())))
    pairs = held_back(load_pairs())
    assert calibration.fixture == "judge_pairs.jsonl, held-back part"
    assert calibration.judge == "test:scripted (yes/no)" and calibration.n == len(pairs)
    assert calibration.accuracy == pytest.approx(sum(p.supported for p in pairs) / len(pairs))
    assert calibration.recall == 1.0
