"""Web pages (.html, .htm, .xhtml): the main content's headings, paragraphs, lists and tables.

lxml parses the page. The main content is the page's own ``<main>`` (or ``role="main"``, or its
``<article>``s); a page that marks none is handed to readability-lxml, and the part of the page
holding what it kept is read. Inside, navigation, headers and footers of the page, sidebars,
forms, scripts and hidden parts are left out. Measured on real documentation pages, this keeps
all of the main content, where trafilatura and readability alone drop parameter lists, headings
or code. The walk also reads e-book chapters (``ingest/epub.py``), whole. It never fetches
anything a page links to, and never expands an entity a page declares (lxml's HTML parser reads
no DTD, an XHTML page's included). libxml2's limits for huge documents are lifted, so that one
long text (a book in a ``<pre>``) is read whole, not dropped past 10 MB; the nesting it allows
then is refused past ``MAX_DEPTH``, which keeps the walk's recursion short.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import charset_normalizer
import lxml.etree
import lxml.html
import readability

from core.files import sha256_bytes
from ingest import blocks
from ingest.blocks import Block
from ingest.document import Document
from ingest.errors import LoadError
from ingest.textfile import looks_binary

logging.getLogger("readability").setLevel(logging.ERROR)  # its notes on weak pages are not ours

_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_SKIPPED = {
    *("script", "style", "noscript", "template", "head", "title", "meta", "link", "base"),
    *("nav", "aside", "form", "button", "select", "textarea", "input", "label", "dialog"),
    *("svg", "math", "canvas", "iframe", "frame", "frameset", "object", "embed", "audio", "video"),
    *("img", "picture", "map"),
}
_PAGE_PARTS = {"header", "footer"}  # left out unless they belong to an article or a section
_SECTIONING = {"main", "article", "section"}
_SKIPPED_ROLES = {"navigation", "complementary", "search", "menu", "menubar", "toolbar", "dialog"}
_PAGE_ROLES = {"banner", "contentinfo"}
_NAV_NAMES = re.compile(r"\b(nav|navbar|navigation|sidebar|menu|breadcrumbs?|toc|skip|pagination)\b", re.I)
_NAMED_PARTS = {"div", "ul", "ol", "dl", "section", "table", "tr", "td"}  # never inline text
_BLOCK_TAGS = {
    *("p", "div", "section", "article", "main", "blockquote", "figure", "figcaption", "address"),
    *("dl", "dt", "dd", "hr", "details", "summary", "center", "body", "caption", "td", "th", "tr"),
    *("li", "ul", "ol", "table", "pre", *(f"h{n}" for n in range(1, 7))),
}
_JUDGED = "//p|//pre|//li|//dd|//dt|//td|//th|//blockquote"
_MIN_JUDGED = 20  # shorter pieces ("Home", "Next") say nothing about where the content is
_WHITESPACE = re.compile(r"\s+")  # in flowing HTML text a newline is a space; <br> breaks lines
# libxml2's own limit without its huge-document option: real pages nest a few dozen levels, and
# the walk recurses about twice per level, well inside Python's 1,000 frames.
MAX_DEPTH = 256
_TOO_DEEP = lxml.etree.XPath("boolean(/" + "/".join(["*"] * (MAX_DEPTH + 1)) + ")")


def _flow(text: str | None) -> str:
    return _WHITESPACE.sub(" ", text) if text else ""


def parse(data: bytes, rel: str) -> lxml.html.HtmlElement:
    """The page's element tree (``LoadError`` for content that is not an HTML page)."""
    if looks_binary(data):
        raise LoadError(rel, "binary content, not an HTML page")
    parser = lxml.html.HTMLParser(
        encoding=_encoding(data), remove_comments=True, remove_pis=True, huge_tree=True, no_network=True
    )
    try:
        root = lxml.html.document_fromstring(data, parser=parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise LoadError(rel, f"cannot parse the HTML: {exc}") from exc
    if _TOO_DEEP(root):
        raise LoadError(rel, f"HTML nested more than {MAX_DEPTH} levels deep; not read")
    return root


def _encoding(data: bytes) -> str | None:
    """UTF-8 when it fits; else None (lxml follows the page's declaration); else a detected one."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if re.search(rb"<meta[^>]+charset|<\?xml[^>]+encoding", data[:4096], re.I):
        return None
    best = charset_normalizer.from_bytes(data).best()
    return best.encoding if best is not None else "latin-1"


def _is_page_part(el: lxml.html.HtmlElement) -> bool:
    return not any(a.tag in _SECTIONING for a in el.iterancestors() if isinstance(a.tag, str))


def skipped(el: lxml.html.HtmlElement, whole: bool = False) -> bool:
    """Whether an element is not content: navigation, hidden, a script; the page's header or
    footer too, unless the page is read ``whole`` (an e-book chapter's header holds its title)."""
    tag = el.tag
    if not isinstance(tag, str) or tag in _SKIPPED:
        return True
    role = (el.get("role") or "").lower()
    if role in _SKIPPED_ROLES:
        return True
    if not whole and (tag in _PAGE_PARTS or role in _PAGE_ROLES) and _is_page_part(el):
        return True
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    if "display:none" in (el.get("style") or "").replace(" ", "").lower():
        return True
    return tag in _NAMED_PARTS and _named_navigation(el)


def _named_navigation(el: lxml.html.HtmlElement) -> bool:
    """A part whose class says navigation, or whose id does and that is not a titled section
    (``<section id="navigation"><h2>Navigation</h2>`` is content about navigation)."""
    if _NAV_NAMES.search(el.get("class", "")):
        return True
    titled = any(child.tag in _HEADINGS for child in el)
    return not titled and bool(_NAV_NAMES.search(el.get("id", "")))


def text_of(el: lxml.html.HtmlElement, preformatted: bool = False, whole: bool = False) -> str:
    """The text of an element's content (what ``skipped`` leaves out is left out here too)."""
    keep = (lambda text: text or "") if preformatted else _flow
    pieces = [keep(el.text)]
    for child in el:
        if child.tag == "br":
            pieces.append("\n")
        elif not skipped(child, whole):
            spaced = not preformatted and child.tag in _BLOCK_TAGS  # "<li>a</li><li>b</li>": "a b"
            text = text_of(child, preformatted, whole)
            pieces.append(f" {text} " if spaced else text)
        pieces.append(keep(child.tail))
    return "".join(pieces)


def _common_ancestor(elements: list[lxml.html.HtmlElement]) -> lxml.html.HtmlElement:
    chains = [[*reversed(list(e.iterancestors())), e] for e in elements]
    common = chains[0][0]
    for level in zip(*chains):
        if any(el is not level[0] for el in level):
            break
        common = level[0]
    return common


def main_content(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """The element holding the page's main content (the body when nothing narrower is found)."""
    body = root.find("body")
    body = body if body is not None else root
    for path in ("//main", "//*[@role='main']"):
        found = [el for el in root.xpath(path) if el.get("hidden") is None]
        if found:
            return found[0]
    articles = root.xpath("//article")
    if articles:
        return _common_ancestor(articles)
    kept = _judged_text(root)
    found = [el for el in root.xpath(_JUDGED) if " ".join(el.text_content().split()) in kept]
    if not found:
        return body
    box = _common_ancestor(found)
    return box if box.tag not in ("html", "head") else body


def _judged_text(root: lxml.html.HtmlElement) -> set[str]:
    """The paragraphs readability keeps as the page's content, whitespace folded."""
    try:
        page = readability.Document(lxml.html.tostring(root, encoding="unicode"))
        summary = lxml.html.fragment_fromstring(page.summary(html_partial=True), create_parent="div")
        kept = summary.xpath(_JUDGED.replace("//", ".//"))
    except Exception:  # noqa: BLE001 - its choice is a refinement; without it the whole body is read
        return set()
    texts = {" ".join(el.text_content().split()) for el in kept}
    return {t for t in texts if len(t) >= _MIN_JUDGED}


class _Walk:
    """Blocks of an element's content, in reading order."""

    def __init__(self, whole: bool) -> None:
        self.whole = whole
        self.blocks: list[Block | None] = []
        self.pieces: list[str] = []
        self.prefix = ""
        self.depth = 0  # list nesting

    def flush(self) -> None:
        text = "".join(self.pieces)
        self.pieces = []
        if text.strip():
            self.blocks.append(blocks.paragraph(text, self.prefix))
            self.prefix = ""

    def add(self, block: Block | None) -> None:
        self.flush()
        self.blocks.append(block)

    def inline(self, el: lxml.html.HtmlElement) -> None:
        self.pieces.append(_flow(el.text))
        for child in el:
            self.visit(child)
            self.pieces.append(_flow(child.tail))

    def visit(self, el: lxml.html.HtmlElement) -> None:
        if skipped(el, self.whole):
            return
        tag = el.tag
        if tag in _HEADINGS:
            self.add(blocks.heading(text_of(el, whole=self.whole), _HEADINGS[tag]))
        elif tag == "pre":
            self.add(Block(blocks.preformatted(text_of(el, preformatted=True, whole=self.whole))))
        elif tag == "br":
            self.pieces.append("\n")
        elif tag == "table" and not _layout_table(el):
            self.flush()
            caption = el.find("caption")
            if caption is not None:
                self.add(blocks.paragraph(text_of(caption, whole=self.whole)))
            self.add(_table(el, self.whole))
        elif tag in ("ul", "ol", "menu"):
            self.list(el, ordered=tag == "ol")
        elif tag in _BLOCK_TAGS:
            self.flush()
            self.inline(el)
            self.flush()
        else:
            self.inline(el)

    def list(self, el: lxml.html.HtmlElement, ordered: bool) -> None:
        self.flush()
        self.depth += 1
        number = 0
        for child in el:
            if child.tag != "li":
                self.visit(child)
                continue
            if skipped(child, self.whole):
                continue
            number += 1
            self.flush()
            self.prefix = "  " * (self.depth - 1) + (f"{number}. " if ordered else "- ")
            self.inline(child)
            self.flush()
            self.prefix = ""
        self.depth -= 1


def _layout_table(table: lxml.html.HtmlElement) -> bool:
    """A table used to place parts of a page (it holds tables or headings), not data."""
    return bool(table.xpath(".//table|.//h1|.//h2|.//h3|.//h4|.//h5|.//h6"))


def _table(table: lxml.html.HtmlElement, whole: bool) -> Block | None:
    rows = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
    cells: list[list[str]] = []
    for row in rows:
        line: list[str] = []
        for cell in row.xpath("./td|./th"):
            line.append(text_of(cell, whole=whole) if not skipped(cell, whole) else "")
            span = cell.get("colspan", "1")
            line.extend([""] * (min(int(span), 50) - 1 if span.isdigit() and int(span) > 1 else 0))
        cells.append(line)
    first = rows[0] if rows else None
    header = first is not None and (
        first.getparent().tag == "thead" or all(c.tag == "th" for c in first.xpath("./td|./th"))
    )
    return blocks.table(cells, header)


def page_blocks(element: lxml.html.HtmlElement, whole: bool = False) -> list[Block | None]:
    """The blocks of everything under ``element`` that is content (``whole``: see ``skipped``)."""
    walk = _Walk(whole)
    walk.inline(element)
    walk.flush()
    return walk.blocks


def title_of(root: lxml.html.HtmlElement) -> str | None:
    title = " ".join((root.findtext(".//title") or "").split())
    return title or None


def load_html(path: Path, rel: str, data: bytes) -> Document:
    """Read a web page's main content into a Document."""
    root = parse(data, rel)
    try:
        text, sections = blocks.layout(page_blocks(main_content(root)))
    except RecursionError as exc:
        raise LoadError(rel, "HTML nested too deeply to read") from exc
    if not text.strip():
        raise LoadError(rel, "no text (the page has no readable content)")
    return Document(
        doc_id=sha256_bytes(data),
        path=rel,
        kind="html",
        text=text,
        mtime=path.stat().st_mtime if path.exists() else 0.0,
        title=title_of(root),
        sections=sections,
    )
