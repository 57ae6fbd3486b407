"""EM, F1 and the other answer metrics: SQuAD normalisation, markers, golds, refusals, evidence."""

from __future__ import annotations

import pytest

from app.evaluation.dataset import UNANSWERABLE, GoldEvidence
from app.evaluation.metrics import (
    CitedSpan,
    Cost,
    answer_contains,
    count_correct,
    evidence_hit,
    exact_match,
    f1,
    item_precision,
    listed_items,
    normalize_answer,
    normalize_path,
    refusal_correct,
    stated_count,
    strip_markers,
)
from ingest.document import Document


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("The Quick, brown fox!", "quick brown fox"),  # case, punctuation, article
        ("  an   apple\tand a pear\n", "apple and pear"),  # articles, whitespace
        ("U.S.A.", "usa"),
        ("theory of the atom", "theory of atom"),  # 'the' only as a word
        ("A", ""),
    ],
)
def test_normalize_answer_follows_squad(text: str, normalised: str) -> None:
    assert normalize_answer(text) == normalised


def test_markers_are_stripped_in_every_form() -> None:
    assert strip_markers("50 MB [S3]. Yes [S1][S2] and [S4, S5] or [ S6 ].") == "50 MB . Yes and or ."


@pytest.mark.parametrize(
    ("prediction", "golds", "expected"),
    [
        ("At least 50 MB [S1].", ["50 MB", "at least 50 MB"], 1.0),
        ("The BLOSUM50 matrix.", ["BLOSUM50 matrix"], 1.0),  # article and full stop
        ("blosum50", ["BLOSUM50"], 1.0),  # case
        ("50  MB", ["50 MB"], 1.0),  # whitespace
        ("You need at least 50 MB [S1].", ["50 MB"], 0.0),  # a sentence is not equal to its answer
        ("500 MB [S2]", ["50 MB"], 0.0),
    ],
)
def test_exact_match(prediction: str, golds: list[str], expected: float) -> None:
    assert exact_match(prediction, golds) == expected


def test_f1_is_the_best_token_f1_over_golds() -> None:
    # prediction tokens: at least 50 mb of disk (6); gold "50 MB": 2 in common -> P 1/3, R 1
    assert f1("At least 50 MB of disk [S1].", ["50 MB"]) == pytest.approx(0.5)
    # "at least 50 MB": 4 in common -> P 4/6, R 1 -> 0.8; the best gold wins
    assert f1("At least 50 MB of disk [S1].", ["50 MB", "at least 50 MB"]) == pytest.approx(0.8)
    assert f1("The documents do not say.", ["50 MB"]) == 0.0
    assert f1("[S1]", ["50 MB"]) == 0.0  # nothing left after the markers


def test_f1_counts_repeated_tokens_once_each() -> None:
    # pred: mb mb 50 (3); gold: 50 mb (2); common = min counts: 50 x1, mb x1 -> 2 -> P 2/3, R 1
    assert f1("MB MB 50", ["50 MB"]) == pytest.approx(0.8)


def test_unanswerable_golds_have_no_em_or_f1() -> None:
    assert exact_match("The documents do not say.", [UNANSWERABLE]) is None
    assert f1("50 MB", [UNANSWERABLE]) is None
    assert answer_contains("50 MB", [UNANSWERABLE]) is None


def test_contains_needs_whole_tokens() -> None:
    assert answer_contains("You need at least 50 MB of disk [S1].", ["50 MB"]) == 1.0
    assert answer_contains("You need 150 MB [S1].", ["50 MB"]) == 0.0


@pytest.mark.parametrize(
    ("refused", "golds", "correct"),
    [
        (True, [UNANSWERABLE], True),
        (False, [UNANSWERABLE], False),
        (False, ["50 MB"], True),
        (True, ["50 MB"], False),
    ],
)
def test_refusal_is_right_only_on_unanswerable_questions(
    refused: bool, golds: list[str], correct: bool
) -> None:
    assert refusal_correct(refused, golds) is correct


PDF = "gutenprint-users-manual.pdf"
CODE = "simplejson/simplejson/decoder.py"


def test_evidence_hit_on_a_pdf_needs_the_same_page() -> None:
    gold = [GoldEvidence(PDF, page=9, quote="at least 50 MB")]
    assert evidence_hit([CitedSpan(PDF, 9, 12, 14)], gold) == 1.0
    assert evidence_hit([CitedSpan(PDF, 10, 12, 14)], gold) == 0.0
    assert evidence_hit([CitedSpan(PDF, 10, 1, 3), CitedSpan(PDF, 9, 1, 2)], gold) == 1.0  # any citation


def test_evidence_hit_on_code_needs_overlapping_lines() -> None:
    gold = [GoldEvidence(CODE, lines=(417, 420))]
    assert evidence_hit([CitedSpan(CODE, None, 406, 430)], gold) == 1.0  # contains
    assert evidence_hit([CitedSpan(CODE, None, 420, 425)], gold) == 1.0  # shares the last line
    assert evidence_hit([CitedSpan(CODE, None, 421, 430)], gold) == 0.0  # just after
    assert evidence_hit([CitedSpan(CODE, None, 400, 416)], gold) == 0.0  # just before


def test_evidence_hit_needs_the_same_file_after_normalising_paths() -> None:
    gold = [GoldEvidence(CODE, lines=(417, 420))]
    assert evidence_hit([CitedSpan("simplejson/simplejson/encoder.py", None, 417, 420)], gold) == 0.0
    assert evidence_hit([CitedSpan("./simplejson/simplejson/decoder.py", None, 418, 418)], gold) == 1.0
    assert evidence_hit([CitedSpan("simplejson\\simplejson\\decoder.py", None, 418, 418)], gold) == 1.0
    assert normalize_path("./a//b/") == "a/b"


def test_evidence_hit_is_undefined_without_gold_evidence_and_zero_without_citations() -> None:
    assert evidence_hit([CitedSpan(PDF, 9, 1, 2)], []) is None
    assert evidence_hit([], [GoldEvidence(PDF, page=9)]) == 0.0


def test_evidence_naming_only_a_file_is_hit_by_any_citation_of_it() -> None:
    assert evidence_hit([CitedSpan(PDF, 70, 1, 2)], [GoldEvidence(PDF)]) == 1.0


def test_a_retrieved_chunk_is_scored_as_a_citation_of_its_span() -> None:
    text = "\n".join(f"line {n}" for n in range(1, 500))
    retrieved = Document("d", CODE, "code", text).span(text.index("line 419"), text.index("line 425"))
    assert CitedSpan.of(retrieved) == CitedSpan(CODE, None, 419, 424)
    assert evidence_hit([CitedSpan.of(retrieved)], [GoldEvidence(CODE, lines=(417, 420))]) == 1.0


def test_span_and_cost_read_what_answer_to_dict_writes() -> None:
    span = {"path": PDF, "page": 9, "line_start": 3, "line_end": 5, "char_start": 0, "char_end": 9}
    assert CitedSpan.from_dict(span) == CitedSpan(PDF, 9, 3, 5)
    cost = Cost.from_dict({"calls": 2, "prompt_tokens": 100, "completion_tokens": 20, "seconds": 1.5})
    assert cost == Cost(2, 100, 20, 1.5) and cost.tokens == 120


@pytest.mark.parametrize(
    ("answer", "listed"),
    [
        ("2 options:\n- `-a` [S1]\n- --all [S2]", ["-a", "--all"]),  # bullets, punctuation kept
        ("1. Intro [S1]\n2) Usage [S1]\n\nBoth are chapters.", ["intro", "usage"]),  # numbered
        ("The guide names three: FASTA, GenBank; and EMBL [S2].", ["fasta", "genbank", "embl"]),
        ("The documents do not say.", []),  # no list at all
    ],
)
def test_the_items_an_answer_lists_are_its_bullets_or_the_run_after_its_colon(
    answer: str, listed: list[str]
) -> None:
    assert listed_items(answer) == listed


def test_item_precision_is_the_share_of_listed_items_that_are_gold() -> None:
    gold = ["-a", "--all", "-v"]
    assert item_precision("Options: -a, --all, -x [S1].", gold) == 2 / 3
    assert item_precision("Options: a [S1].", gold) == 0.0  # -a keeps its dash
    assert item_precision("Use -a [S1].", gold) is None  # lists nothing
    assert item_precision("Options: -a [S1].", []) is None  # no gold items


@pytest.mark.parametrize(
    ("answer", "short", "count"),
    [
        ("18 keyword parameters:\n- skipkeys [S3]", "18", 18),  # collect's form
        ("JSONEncoder.__init__ accepts eighteen keyword parameters [S3].", None, 18),  # a word
        ("It accepts 1.5 or 2 of them [S1].", None, 2),  # 1.5 is not a count
        ("Parameters:\n- indent [S1]\n- 2 [S2]", None, None),  # a number down the list is not one
        ("The documents do not say.", "", None),
    ],
)
def test_the_count_an_answer_states_is_its_first_number(
    answer: str, short: str | None, count: int | None
) -> None:
    assert stated_count(answer, short) == count


def test_count_accuracy_compares_the_stated_count_with_the_gold_items() -> None:
    assert count_correct("Three: a, b, c [S1].", None, ["a", "b", "c"]) == 1.0
    assert count_correct("4 items:\n- a [S1]", "4", ["a", "b", "c"]) == 0.0
    assert count_correct("Three [S1].", None, []) is None  # no gold items
