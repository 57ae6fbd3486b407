"""Citation parsing, quote location and narrowing to exact sub-spans."""

from __future__ import annotations

import pytest

from agents.evidence.blocks import Evidence
from agents.evidence.citations import cite, ground, is_refusal, locate, narrow, parse_markers
from ingest.document import Chunk, Document, make_chunk

TEXT = (
    "Installation\n"
    "You need at least 50 MB of free disk space to compile and install the\n"
    "package. A C compiler is required.\n"
    "\n"
    "Memory\n"
    "For ordinary printing, 64 MB of memory is enough. High resolutions need\n"
    "more, up to 256 MB.\n"
)


def evidence_with(n: int) -> Evidence:
    evidence = Evidence()
    doc = Document(doc_id="d", path="guide.md", kind="text", text=TEXT)
    for i in range(n):
        evidence.marker(make_chunk(doc, 0, len(TEXT) - 1, i, 10))
        doc = Document(doc_id=f"d{i}", path=f"g{i}.md", kind="text", text=TEXT)
    return evidence


@pytest.mark.parametrize(
    ("answer", "expected", "unknown"),
    [
        (
            "It needs 50 MB [S1]. Memory is 64 MB [S2].",
            [("It needs 50 MB.", [1]), ("Memory is 64 MB.", [2])],
            0,
        ),
        ("Both apply [S1][S2].", [("Both apply.", [1, 2])], 0),
        ("Both apply [S1, S2] [S2].", [("Both apply.", [1, 2])], 0),
        (
            "It needs 50 MB. [S1] Memory is 64 MB. [S2]",
            [("It needs 50 MB.", [1]), ("Memory is 64 MB.", [2])],
            0,
        ),
        ("Unknown source [S9] and a real one [S1].", [("Unknown source and a real one.", [1])], 1),
        ("No markers at all.", [("No markers at all.", [])], 0),
        ("Index with `data[S1]` as shown [S2].", [("Index with `data[S1]` as shown.", [2])], 0),
        (
            "```\nrow[S1] = 2\n```\nThat sets the row [S1].",
            [("``` row[S1] = 2 ```", []), ("That sets the row.", [1])],
            0,
        ),
    ],
)
def test_marker_parsing(answer: str, expected: list, unknown: int) -> None:
    parsed = parse_markers(answer, evidence_with(2))
    assert [(s.text, s.markers) for s in parsed.sentences] == expected
    assert parsed.unknown == unknown


@pytest.mark.parametrize(
    ("answer", "refused"),
    [
        ("The documents do not say.", True),
        ("The documents do not say [S2].", True),
        ("The document does not mention the price.", True),
        ("This information is not specified in the documents.", True),
        ("", True),
        ("It needs 50 MB [S1].", False),
        ("The tool cannot be found on Windows, it runs on Linux only [S1]. " * 6, False),
    ],
)
def test_refusals_are_recognised(answer: str, refused: bool) -> None:
    assert is_refusal(answer) is refused


def test_locate_tolerates_line_breaks_case_and_quotes() -> None:
    start, end = locate("“You need at least 50 MB of free disk space to compile”", TEXT) or (0, 0)
    assert TEXT[start:end] == "You need at least 50 MB of free disk space to compile"
    start, end = locate("and install the package", TEXT) or (0, 0)
    assert TEXT[start:end] == "and install the\npackage"


def test_locate_refuses_what_is_not_there() -> None:
    assert locate("You need at least 500 GB of RAM to run the installer", TEXT) is None
    assert locate("short", TEXT) is None


def test_narrowing_picks_the_supporting_sentence_and_round_trips() -> None:
    doc = Document(doc_id="d", path="guide.md", kind="text", text=TEXT)
    chunk: Chunk = make_chunk(doc, 0, len(TEXT) - 1, 0, 40)
    start, end = narrow("Ordinary printing needs 64 MB of memory.", chunk, code=False)
    assert chunk.text[start:end] == "For ordinary printing, 64 MB of memory is enough."
    evidence = Evidence()
    marker = evidence.marker(chunk)
    sentence = parse_markers(f"Ordinary printing needs 64 MB of memory [S{marker}].", evidence).sentences[0]
    citation = cite(sentence, marker, chunk, doc)
    assert doc.text[citation.span.char_start : citation.span.char_end] == citation.quote
    assert citation.quote == "For ordinary printing, 64 MB of memory is enough."
    assert (citation.span.line_start, citation.span.line_end) == (6, 6)


def test_narrowing_in_code_picks_lines() -> None:
    source = (
        "def area(r):\n    pi = 3.14159\n    return pi * r * r\n\n\n"
        "def perimeter(r):\n    return 2 * 3.14159 * r\n"
    )
    doc = Document(doc_id="c", path="geo.py", kind="code", text=source, language="python")
    chunk = make_chunk(doc, 0, len(source) - 1, 0, 40)
    start, end = narrow("perimeter returns 2 * pi * r", chunk, code=True)
    assert "def perimeter(r):" in chunk.text[start:end]
    assert "def area" not in chunk.text[start:end]


@pytest.mark.parametrize(
    ("claim", "question", "expected"),
    [
        # the question's words restated around the fact: what the claim adds must be in the source
        ("Ordinary printing uses 64 MB of memory.", "How much memory for ordinary printing?", "For ordinary"),
        ("Compiling and installing takes 50 MB of free disk space.", "How much disk space?", "You need"),
        # an invention: its own terms and numbers are not there
        ("Printing needs 2 GB of memory.", "How much memory for printing?", None),
        ("High resolutions need 512 MB.", "What do high resolutions need?", None),
    ],
)
def test_ground_replaces_a_paraphrase_by_its_source_sentences(
    claim: str, question: str, expected: str | None
) -> None:
    doc = Document(doc_id="d", path="guide.md", kind="text", text=TEXT)
    chunk = make_chunk(doc, 0, len(TEXT) - 1, 0, 60)
    found = ground(claim, chunk, code=False, question=question)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        (start, end), (own, _) = found
        assert chunk.text[start:end].startswith(expected) and own >= 0.75
