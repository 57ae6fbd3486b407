"""Line starts and the line of an offset: the one way every span, chunker and view counts lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ingest.lines import line_of, line_starts


def test_lines_start_at_zero_and_after_each_newline() -> None:
    assert line_starts("") == [0]
    assert line_starts("ab\n\ncd\n") == [0, 3, 4, 7]  # the empty line and the empty last line count


def test_a_newline_belongs_to_the_line_it_ends() -> None:
    starts = line_starts("ab\n\ncd")
    assert [line_of(starts, offset) for offset in range(7)] == [0, 0, 0, 1, 2, 2, 2]


@given(st.text(alphabet="ab\n", max_size=40))
def test_line_starts_agree_with_split_and_line_of_counts_newlines_before(text: str) -> None:
    starts = line_starts(text)
    lines = text.split("\n")
    assert [text[start : start + len(line)] for start, line in zip(starts, lines, strict=True)] == lines
    for offset in range(len(text) + 1):
        assert line_of(starts, offset) == text.count("\n", 0, offset)
