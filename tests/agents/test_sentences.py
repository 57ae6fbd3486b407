"""The one sentence splitter and the one grounding algorithm (``agents.evidence.sentences``), and that
the quote a user sees, the sentences the judge reads and the sentences its checks bind facts to are
cut by it alike."""

from __future__ import annotations

from agents.evidence.citations import ground, narrow
from agents.evidence.claims import mismatches, negated, numbers
from agents.evidence.grounds import window
from agents.evidence.sentences import best_window, headings, sentence_bounds, units
from ingest.document import Document, make_chunk

PROSE = (
    "Memory\n"
    "For ordinary printing, 64 MB is enough; high resolutions need more (up to 256 MB.) "
    'Is that "a lot?" It is not.\n'
    "\n"
    "Options\n"
    "--disable-shared\n"
    "Builds static libraries only.\n"
    "● Fast: quick output.\n"
    "● Best: slow output.\n"
    "It is built and installed by default, and\n"
    "Next to it comes\n"
    "Escputil."
)


def _texts(text: str, code: bool = False) -> list[str]:
    return [text[a:b] for a, b in units(text, code)]


def test_prose_is_cut_into_sentences_headings_and_bullets() -> None:
    assert _texts(PROSE) == [
        "Memory",
        "For ordinary printing, 64 MB is enough;",
        "high resolutions need more (up to 256 MB.)",  # the closing bracket stays with its sentence
        'Is that "a lot?"',
        "It is not.",
        "Options",
        "--disable-shared",
        "Builds static libraries only.",
        "● Fast: quick output.",
        "● Best: slow output.",
        "It is built and installed by default, and\nNext to it comes\nEscputil.",
    ]
    # a short line inside a sentence ("Next to it comes") is no heading
    assert [PROSE[a:b] for a, b in headings(PROSE)] == ["Memory", "Options", "--disable-shared"]


def test_code_is_cut_into_its_non_blank_lines() -> None:
    source = "def f(x):\n\n    return x; # done.\n"
    assert _texts(source, code=True) == ["def f(x):", "    return x; # done."]


def test_sentence_bounds_give_the_white_space_after_a_sentence_to_it() -> None:
    start = PROSE.index("Is that")
    assert sentence_bounds(PROSE, start + 3, start + 5) == (start, start + len('Is that "a lot?"'))
    assert sentence_bounds(PROSE, start - 1, start)[0] == PROSE.index("high resolutions")


def test_the_quote_and_the_judges_sentences_are_the_same_units() -> None:
    doc = Document(doc_id="d", path="guide.md", kind="text", text=PROSE)
    chunk = make_chunk(doc, 0, len(PROSE), 0, 100)
    claim = "High resolutions need up to 256 MB."
    start, end = narrow(claim, chunk, code=False)
    judged = window(claim, PROSE)
    assert (
        judged is not None
        and PROSE[start:end] == judged.sentences == "high resolutions need more (up to 256 MB.)"
    )
    found = ground(claim, chunk, code=False, question="What do high resolutions need?")
    assert found is not None and PROSE[found[0][0] : found[0][1]] == judged.sentences
    edges = {edge for span in units(PROSE) for edge in span}
    assert {start, end} <= edges


def test_the_checks_bind_a_fact_to_the_splitters_sentence() -> None:
    # "; we recommend" starts a sentence of its own: 1.1.15 is bound to "recommend", not "requires"
    evidence = "Gutenprint requires CUPS 1.1.9 or higher; we recommend use of 1.1.15 or above."
    assert [str(m) for m in mismatches("Gutenprint requires CUPS 1.1.15.", evidence)] == ["binding '1.1.15'"]


SOURCE = "Printing needs 64 MB. Scanning needs 128 MB. Copying needs 64 MB and a scanner. It does not fax."


def test_a_window_must_hold_the_claims_own_terms_and_every_number() -> None:
    spans = units(SOURCE)
    found = best_window("Printing needs 64 MB.", SOURCE, spans, size=2, numbers=numbers)
    assert found is not None and SOURCE[found.start : found.end] == "Printing needs 64 MB."
    assert (found.units, found.own, found.all) == (1, 1.0, 1.0)
    assert best_window("Printing needs 32 MB.", SOURCE, spans, size=2, numbers=numbers) is None
    assert best_window("Printing needs 32 MB.", SOURCE, spans, size=2, grounded=0.5) is not None
    assert best_window("Faxing takes paper.", SOURCE, spans, size=2) is None  # an invention


def test_the_questions_words_and_light_words_are_not_the_claims_own() -> None:
    spans = units(SOURCE)
    claim = "Scanning uses 128 MB of memory."
    assert best_window(claim, SOURCE, spans, size=2) is None  # "uses", "memory" are not there
    found = best_window(claim, SOURCE, spans, size=2, question="How much memory?", light=frozenset({"use"}))
    assert found is not None and SOURCE[found.start : found.end] == "Scanning needs 128 MB."


def test_an_extra_unit_costs_a_little_and_tight_windows_pay_it_against_the_claim() -> None:
    spans = units(SOURCE)
    claim = "Copying needs a scanner, paper, toner and ink, and does not fax."  # "fax": 1 of 7 terms
    loose = best_window(claim, SOURCE, spans, size=2, grounded=0.0, grounded_all=0.0)
    tight = best_window(claim, SOURCE, spans, size=2, grounded=0.0, grounded_all=0.0, tight=True)
    assert loose is not None and SOURCE[loose.start : loose.end].endswith("It does not fax.")
    assert tight is not None and SOURCE[tight.start : tight.end] == "Copying needs 64 MB and a scanner."


def test_where_windows_tie_the_one_saying_no_as_the_claim_does_wins() -> None:
    text = "The tool works offline. The tool does not work offline."
    spans = units(text)
    plain = best_window("The tool works offline.", text, spans, size=1, negated=negated)
    said = best_window("The tool does not work offline.", text, spans, size=1, negated=negated)
    assert plain is not None and text[plain.start : plain.end] == "The tool works offline."
    assert said is not None and text[said.start : said.end] == "The tool does not work offline."
