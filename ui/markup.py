"""Turning text into Streamlit Markdown that shows it as text, and an answer's ``[S#]`` markers
as badges.

Document and model text must never become a Markdown image (a browser fetching an address a
document chose: a way to send data out), a link, HTML, LaTeX or a Streamlit directive (colours,
badges, ``:material/…:`` icons, emoji shortcodes). Three doors, and nothing else builds Markdown
from such text: ``escape`` for text shown as it is; ``code`` for a name in inline code;
``answer`` for an answer, which keeps longqa's own badges and the formatting a model writes on
purpose (bold and italics with ``*``, inline code, code blocks, lists, line breaks) and shows
everything else as text.

Streamlit's renderer finds web addresses, e-mail addresses, emoji shortcodes, ``:material_x:``
and ``:streamlit:`` in the text *after* parsing, so a backslash cannot stop them: they are
broken with an invisible word joiner instead. Code is never interpreted, so it is kept as it is
(except a ``mermaid`` block, which Streamlit would draw).
"""

from __future__ import annotations

import re

JOINER = "\u2060"  # invisible, keeps words together; breaks patterns found in rendered text

_SPECIAL = re.compile(r"([\\`*\[\]()#+!|<>~$&{}])")
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")  # one that may open or close emphasis
_DIRECTIVE = re.compile(r":(?=[A-Za-z])")  # :red[…], :blue-badge[…], :name, ::leaf, :::container
_LINE_START = re.compile(r"^(\s*)([-=])", re.MULTILINE)  # lists, rules, setext headings
_ORDERED = re.compile(r"^(\s*\d{1,9})([.)])", re.MULTILINE)
# found in rendered text: emoji (:x:, :100:, :+1:), icons, the logo, addresses
_SHORTCODE = re.compile(r":(?=(?:[\w+-]*[A-Za-z][\w+-]*|100|1234|[+-]1):|material[/_]|streamlit:)")
_ADDRESS = re.compile(r"(?i)(?<=https:)(?=//)|(?<=http:)(?=//)|(?<=www)(?=\.)|(?<=@)(?=[\w-])")
_MARKER = re.compile(r"\[S(\d+)\]")
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_INLINE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d{1,9}[.)])(\s+)")
_LANGUAGE = re.compile(r"[\w+#.-]{1,20}")


def _escape(text: str, emphasis: bool = False) -> str:
    if emphasis:  # ``*`` kept: bold and italics are all it can make
        return "*".join(_escape(part) for part in text.split("*"))
    # the patterns found in rendered text are broken first, on the text as it will be shown
    text = _ADDRESS.sub(JOINER, _SHORTCODE.sub(":" + JOINER, text))
    text = _SPECIAL.sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _DIRECTIVE.sub(r"\\:", text)
    text = _LINE_START.sub(r"\1\\\2", text)
    return _ORDERED.sub(r"\1\\\2", text)


def escape(text: str) -> str:
    """Plain text as Markdown that shows it as it is: no emphasis, link, image, HTML, LaTeX,
    list, heading, directive, icon, emoji or address link can come out of it."""
    return _escape(text)


def _fence_for(content: str, at_least: int = 1) -> str:
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    return "`" * max(at_least, longest + 1)


def code(text: str) -> str:
    """``text`` as inline code, whatever backticks it holds (a name cannot break out)."""
    text = " ".join(text.splitlines())
    if not text.strip():
        return escape(text)
    fence = _fence_for(text)
    pad = " " if text[0] in "` " or text[-1] in "` " else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _inline(line: str, known: set[int] | None) -> str:
    """One line outside code blocks: inline code kept, markers as badges, the rest as prose."""
    parts: list[str] = []
    at = 0
    for match in re.finditer(f"{_INLINE.pattern}|{_MARKER.pattern}", line):
        parts.append(_escape(line[at : match.start()], emphasis=True))
        if match.group(1):  # inline code, as written: its content is never interpreted
            parts.append(match.group(0))
        else:
            number = int(match.group(3))
            parts.append(
                f":blue-badge[S{number}]" if known is None or number in known else f"\\[S{number}\\]"
            )
        at = match.end()
    parts.append(_escape(line[at:], emphasis=True))
    return "".join(parts)


def _line(line: str, known: set[int] | None) -> str:
    item = _LIST_ITEM.match(line)
    if item is None:
        return _inline(line, known)
    return item.group(0) + _inline(line[item.end() :], known)


def _code_block(indent: str, language: str, lines: list[str]) -> list[str]:
    language = language.strip()
    if not _LANGUAGE.fullmatch(language) or language.lower() == "mermaid":
        language = ""  # an info string is a language name or nothing; mermaid would be drawn
    fence = _fence_for("\n".join(lines), at_least=3)
    return [f"{indent}{fence}{language}", *lines, f"{indent}{fence}"]


def _closes(line: str, fence: str) -> bool:
    closing = _FENCE.match(line)
    return bool(
        closing
        and closing.group(2)[0] == fence[0]
        and len(closing.group(2)) >= len(fence)
        and not closing.group(3).strip()
    )


def answer(text: str, known: set[int] | None = None) -> str:
    """An answer's text with its ``[S#]`` markers as blue badges (``known`` ones only, if given);
    its bold, italics, inline code, code blocks, lists and line breaks kept; the rest as text."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            out.append(_line(lines[i], known))
            i += 1
            continue
        indent, fence, info = opening.groups()
        if fence[0] == "`" and "`" in info:  # not a fence in CommonMark: a line of prose
            out.append(_line(lines[i], known))
            i += 1
            continue
        body: list[str] = []
        i += 1
        while i < len(lines) and not _closes(lines[i], fence):
            body.append(lines[i])
            i += 1
        i += 1  # past the closing fence
        out.extend(_code_block(indent, info, body))  # an unclosed block (still streaming) is closed
    return "\n".join(out)
