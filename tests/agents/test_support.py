"""Support judges that point at their evidence (``agents.verify.support``): the labelled pairs they are
measured on, the lexical checks, finding a quote, and each variant's calls against scripted models."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from agents.answer import Trace
from agents.evidence.claims import blank, fills, identifiers, mismatches, negated, numbers
from agents.evidence.grounds import Grounds, is_code, sentence_bounds, window
from agents.models.calls import Caller
from agents.prompts import CLOZE
from agents.verify.support import (
    DEFAULT_THRESHOLD,
    NEEDS,
    VARIANTS,
    Observation,
    Observer,
    SupportJudge,
    rescale,
    support_judge,
)
from tests.agents.fakes import is_cloze, is_yes_no, scripted

ROOT = Path(__file__).resolve().parents[2]
PAIRS = ROOT / "app" / "evaluation" / "judge_pairs.jsonl"

PASSAGE = (
    "Processor and memory requirements vary depending upon the printer and runtime options selected; it is "
    "suggested that you have at least 64 MB of memory for general purpose printing, 256 MB or more for high "
    "quality printing on a good printer, and 1 GB or more for large format printing at high resolution.\n"
    "You should have at least 50 MB of free disk space to compile and install Gutenprint. Disk space "
    "requirements for printing will vary depending upon how you use Gutenprint, but are generally modest "
    "except as noted below. We recommend a processor speed of at least 300 MHz.\n"
    "Note: This package will not work with any version of OS X 10.0, 10.1, or 10.2.\n"
    "If you do not wish to use readline, you may use --without-readline."
)


# ---------------------------------------------------------------- the labelled pairs


def _pairs() -> list[dict[str, Any]]:
    return [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_pairs_are_many_balanced_and_split_by_kind() -> None:
    pairs = _pairs()
    assert len(pairs) >= 130
    assert len({(p["claim"], p["passage"]) for p in pairs}) == len(pairs)
    assert all(p["question"] and p["claim"] and p["source"]["file"] for p in pairs)
    assert 0.4 <= sum(p["supported"] for p in pairs) / len(pairs) <= 0.6
    assert all((p["kind"] == "supported") == p["supported"] for p in pairs)
    splits = Counter(p["split"] for p in pairs)
    assert set(splits) == {"dev", "held"} and 0.5 <= splits["dev"] / len(pairs) <= 0.7
    kinds = {p["kind"] for p in pairs}
    assert {"number_changed", "option_changed", "negation", "neighbour_parameter"} <= kinds
    assert {"partly_supported", "support_elsewhere", "unrelated"} <= kinds
    for split in ("dev", "held"):
        assert {p["kind"] for p in pairs if p["split"] == split} == kinds  # every kind in both splits
    origins = Counter(p["origin"] for p in pairs)
    assert origins["judge_calibration.jsonl"] == 29 and origins["hand"] >= 80


def test_every_passage_is_a_chunk_or_less() -> None:
    # that each is real text of the examples, as indexed: tests/eval/test_calibration.py
    for pair in _pairs():
        words = len(pair["passage"].split())
        assert words >= 10 and (words <= 420 or pair["origin"] != "hand"), pair["claim"]


# ---------------------------------------------------------------- lexical facts


def test_numbers_are_canonical_and_names_keep_their_digits() -> None:
    assert numbers("about 700,000 cases, 0.900 and 1.5 GB") == {"700000", "0.9", "1.5"}
    assert numbers("three workarounds and BLOSUM62") == {"3"}
    assert numbers("fasta-36.3.4 on, -z 21") == {"21"} | numbers("36.3.4")
    assert numbers("Gutenprint 5.2.11") == {"5.2.11"}


def test_identifiers_are_flags_code_names_and_paths() -> None:
    found = identifiers(
        "Use --disable-shared or -S with use_decimal=True, BLOSUM62, json.OrderedDict, main() in "
        "/usr/lib/cups/filter and JSONDecodeError; plain words do not count."
    )
    assert {
        "--disable-shared",
        "-S",
        "use_decimal",
        "True",
        "BLOSUM62",
        "json.OrderedDict",
        "main()",
    } <= found
    assert {"/usr/lib/cups/filter", "JSONDecodeError"} <= found
    assert not found & {"Use", "plain", "words", "count"}


def test_negation_ignores_flags_asides_and_conditions() -> None:
    assert negated("This package will not work with OS X 10.2.")
    assert negated("It cannot update PPD files.") and negated("They don't.")
    assert not negated("Use --without-readline.")
    assert not negated("If you do not wish to use readline, you may use --without-readline.")
    assert not negated("It is the default (there are no other options).")
    assert negated("It is the default (there are no other options).", asides=True)


def test_a_supported_claim_passes_the_checks() -> None:
    assert mismatches("You need at least 50 MB of free disk space to compile Gutenprint.", PASSAGE) == []
    assert (
        mismatches(
            "Without readline, use --without-readline.", PASSAGE, quote="you may use --without-readline"
        )
        == []
    )


def test_a_changed_number_is_caught() -> None:
    assert [str(m) for m in mismatches("You need at least 500 MB of free disk space.", PASSAGE)] == [
        "number '500'"
    ]
    assert [m.kind for m in mismatches("There are four workarounds.", "There are three workarounds.")] == [
        "number"
    ]


def test_a_changed_option_or_code_name_is_caught() -> None:
    found = mismatches("If you do not wish to use readline, you may use --without-escputil.", PASSAGE)
    assert [(m.kind, m.term) for m in found] == [("identifier", "--without-escputil")]
    assert mismatches("Use -s here.", "Use -S here.")  # short flags are case-sensitive
    code = (
        "    def dump(obj, fp, skipkeys=False, ensure_ascii=True,\n             allow_nan=False, cls=None):"
    )
    assert [m.term for m in mismatches("dump has parse_float=Decimal.", code)] == ["parse_float"]


def test_a_negation_is_caught_both_ways() -> None:
    works = mismatches(
        "The package works with OS X 10.2.", PASSAGE, quote="This package will not work with OS X 10.2."
    )
    assert [str(m) for m in works] == ["negation 'evidence says no'"]
    said = mismatches(
        "Gutenprint does not need free disk space.", "You should have 50 MB of free disk space."
    )
    assert [str(m) for m in said] == ["negation 'claim says no'"]


def test_names_may_come_from_the_definition_or_the_sentence_referred_to() -> None:
    assert (
        mismatches(
            "JSONEncoder encodes None as null.", "| None | null |", context="class JSONEncoder(object):"
        )
        == []
    )
    assert mismatches("JSONEncoder encodes None as null.", "| None | null |") != []


# ---------------------------------------------------------------- finding evidence


def test_sentence_bounds_in_prose_and_code() -> None:
    start = PASSAGE.index("300 MHz")
    left, right = sentence_bounds(PASSAGE, start, start + 7, code=False)
    assert PASSAGE[left:right] == "We recommend a processor speed of at least 300 MHz."
    code = "def f(x):\n    return x * 25.4\n"
    assert is_code(code + "class A:\n    pass\n") and not is_code(PASSAGE)
    assert sentence_bounds(code, 18, 20, code=True) == (10, 29)


def test_the_window_is_the_sentence_that_restates_the_claim() -> None:
    found = window("A processor speed of at least 300 MHz is recommended.", PASSAGE)
    assert found is not None and found.sentences == "We recommend a processor speed of at least 300 MHz."
    assert (
        window("fastx3 is about 30% faster than fasty3.", PASSAGE) is None
    )  # the passage does not restate it


# ---------------------------------------------------------------- the variants' calls


def _answers(yes: dict[str, str], cloze: str = "?"):
    """A scripted model: a judge prompt gets ``yes[passage start]``, the cloze prompt ``cloze``."""

    def reply(messages: list[BaseMessage]) -> str:
        text = str(messages[-1].content)
        if is_cloze(messages):
            return cloze
        assert is_yes_no(messages)
        passage = text.split('"""\n', 1)[1]
        return next((answer for start, answer in yes.items() if passage.startswith(start)), "no")

    return reply


def test_yesno_variants_read_todays_judge_over_the_passage() -> None:
    chat, backend = scripted(reply=_answers({"Processor": "yes"}))
    observer = Observer(Caller(backend, Trace()))
    seen = observer.observe(
        "We recommend a processor speed of at least 300 MHz.", PASSAGE, None, ("passage", "window")
    )
    assert seen.p_passage == 1.0 and seen.p_window == 0.0  # the window alone got "no"
    assert VARIANTS["yesno"](seen) == 1.0 and VARIANTS["yesno+lexical"](seen) == 1.0
    assert VARIANTS["window+focus"](seen) == 0.0
    assert [str(m[-1].content).split('"""\n')[1][:12] for m in chat.prompts] == [
        "Processor an",
        "We recommend",
    ]
    vetoed = observer.observe(
        "We recommend a processor speed of at least 400 MHz.", PASSAGE, None, ("passage",)
    )
    assert VARIANTS["yesno+lexical"](vetoed) == 0.0  # no window restates 400 MHz


def test_a_blank_hides_the_first_fact_the_question_does_not_state() -> None:
    assert blank("Gutenprint 5.2 requires CUPS 1.1.15 or higher.", "What does Gutenprint 5.2 require?") == (
        "Gutenprint 5.2 requires CUPS ___ or higher.",
        "number",
        "1.1.15",
    )
    assert blank("There are four workarounds.") == ("There are ___ workarounds.", "number", "4")
    assert blank("The FASTA programs score with BLOSUM62.") == (
        "The FASTA programs score with ___.",
        "identifier",
        "BLOSUM62",
    )
    assert blank("It is fast.") is None
    assert fills("CUPS 1.1.9", "number", "1.1.15") is False and fills('"1.1.15"', "number", "1.1.15") is True
    assert fills("blosum62", "identifier", "BLOSUM62") is True and fills("NONE", "number", "4") is None


def test_the_cloze_variant_vetoes_a_fact_the_model_fills_otherwise() -> None:
    def reply(messages: list[BaseMessage]) -> str:
        text = str(messages[-1].content)
        if "Sentence with a blank:" in text:
            return "300" if "___ MHz" in text else "?"
        return "yes"

    chat, backend = scripted(reply=reply)
    observer = Observer(Caller(backend, Trace()))
    needs = NEEDS["window+focus+cloze"]
    good = observer.observe("We recommend a processor speed of at least 300 MHz.", PASSAGE, None, needs)
    assert good.cloze_ok is True and VARIANTS["window+focus+cloze"](good) == 1.0
    assert "Sentence with a blank: We recommend a processor speed of at least ___ MHz." in chat.texts()[0]
    chat.reply = lambda m: "256 MB" if "Sentence with a blank:" in str(m[-1].content) else "yes"
    bad = observer.observe(
        "For high quality printing, at least 64 MB of memory is suggested.", PASSAGE, None, needs
    )
    assert bad.cloze_ok is False and VARIANTS["window+focus+cloze"](bad) == 0.0
    assert VARIANTS["window+focus"](bad) == 1.0  # without the cloze, the yes/no alone said yes


def test_an_unusable_answer_is_none_not_yes() -> None:
    _chat, backend = scripted(reply=lambda m: "perhaps")
    seen = Observer(Caller(backend, Trace())).observe("We recommend 300 MHz.", PASSAGE, None, ("passage",))
    assert seen.p_passage is None and VARIANTS["yesno"](seen) is None


def test_the_support_judge_rescales_its_threshold_to_one_half() -> None:
    assert rescale(0.8, 0.8) == 0.5 and rescale(0.0, 0.8) == 0.0 and rescale(1.0, 0.8) == 1.0
    assert rescale(0.4, 0.8) == pytest.approx(0.25) and rescale(None, 0.8) is None
    chat, backend = scripted(reply=_answers({"": "yes"}, cloze="50 MB"))
    judge = SupportJudge(Caller(backend, Trace()), "window+focus+cloze", threshold=0.9)
    assert judge.spec == "test:scripted"
    assert judge.support("You need at least 50 MB of free disk space.", PASSAGE) == 1.0
    asked = len(chat.prompts)
    assert judge.support("You need at least 60 MB of free disk space.", PASSAGE) == 0.0
    assert len(chat.prompts) == asked  # vetoed by the checks: the model is not asked
    with pytest.raises(ValueError, match="unknown support judge variant"):
        SupportJudge(Caller(backend, Trace()), "guess")


def test_the_default_judge_uses_its_fitted_threshold_only_for_the_model_it_was_fitted_on() -> None:
    _chat, backend = scripted(reply=_answers({"": "yes"}))
    assert support_judge(Caller(backend, Trace())).threshold == 0.5  # another model: P(yes) as it comes
    backend.spec = "llamacpp:default"
    judge = support_judge(Caller(backend, Trace()))
    assert judge.threshold == DEFAULT_THRESHOLD and judge.variant == "window+focus+cloze"


def test_every_variant_scores_an_observation_it_has_what_it_needs_for() -> None:
    evidence = "You should have at least 50 MB of free disk space to compile and install Gutenprint."
    seen = Observation(
        "You need at least 50 MB of free disk space.",
        PASSAGE,
        p_passage=0.7,
        p_window=0.8,
    )
    scores = {name: score(seen) for name, score in VARIANTS.items()}
    assert scores == {
        "yesno": 0.7,
        "yesno+lexical": 0.7,
        "window+focus": 0.8,
        "window+focus+yesno": pytest.approx(0.75),
        "window+focus+cloze": 0.8,
    }
    assert set(NEEDS) == set(VARIANTS)
    assert isinstance(seen.window, Grounds) and seen.window.sentences == evidence
    assert CLOZE.format_messages(passage="p", cloze="c ___")[0].type == "system"


# ---------------------------------------------------------------- the benchmark's arithmetic


def _bench():
    spec = importlib.util.spec_from_file_location("bench_judge", ROOT / "benchmarks" / "bench_judge.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_fits_its_threshold_and_wilson_intervals() -> None:
    bench = _bench()
    assert bench.wilson(9, 10) == [0.596, 0.982]
    assert bench.wilson(0, 0) is None
    threshold = bench.fit_threshold([0.9, 0.8, 0.6, 0.3, None], [True, True, False, False, False])
    assert 0.6 < threshold < 0.8
    m = bench.metrics([True, False, True], [True, False, False])
    assert (m["accuracy"]["value"], m["precision"]["value"], m["recall"]["value"]) == (0.667, 0.5, 1.0)


# ---------------------------------------------------------------- a real model


@pytest.mark.slow
def test_the_tiny_model_through_every_call() -> None:
    from agents.models.backends import load_backend

    backend = load_backend("llamacpp:tiny", context_window=2048, answer_tokens=128)
    observer = Observer(Caller(backend, Trace()))
    needs = ("passage", "window", "cloze")
    good = observer.observe(
        "We recommend a processor speed of at least 300 MHz.", PASSAGE, "Which processor speed?", needs
    )
    bad = observer.observe(
        "We recommend a processor speed of at least 900 MHz.", PASSAGE, "Which processor speed?", needs
    )
    for seen in (good, bad):
        assert seen.p_passage is None or 0.0 <= seen.p_passage <= 1.0
        assert "passage" in seen.seconds
    assert "cloze" in good.seconds and good.cloze_answer is not None
    assert all(VARIANTS[v](bad) == 0.0 for v in ("window+focus", "window+focus+cloze", "yesno+lexical"))
    assert good.p_window is not None  # the window restates it, so the model was asked about it alone
