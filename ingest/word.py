"""Word documents (.docx): the body's headings, paragraphs, list items and tables, in order.

python-docx reads the file. A paragraph is a heading when its style is a heading style
(``Heading 2``, ``Title``) or its style gives it an outline level, as Word's navigation pane
decides; tables become Markdown rows. Headers, footers, footnotes, comments and text boxes are
not read. A file that is not a readable .docx raises ``LoadError`` with one line saying why, and
so does one that ``ingest/package.py`` refuses before python-docx opens it: a zip bomb, or a part
declaring a DTD (the Open Packaging Conventions forbid them, and entity attacks are made of them;
python-docx's parser would not resolve their entities either).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
import docx.opc.exceptions
import lxml.etree
from docx.document import Document as WordDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

from core.files import sha256_bytes
from ingest import blocks, package
from ingest.blocks import Block
from ingest.document import Document
from ingest.errors import LoadError

_HEADING_STYLE = re.compile(r"^heading (\d)$", re.I)
_PACKAGE = package.Rules(
    "Word file", b"<!DOCTYPE", "a DTD (<!DOCTYPE>), which Word files never hold", (".xml", ".rels")
)


def _open(data: bytes, rel: str) -> WordDocument:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        if data.startswith(b"PK"):
            raise LoadError(rel, "damaged Word file: its zip package is truncated or corrupt")
        raise LoadError(rel, "not a Word .docx file (not a zip package; old .doc files are not read)")
    package.check(data, rel, _PACKAGE)
    try:
        return docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise LoadError(rel, f"damaged Word file: {exc}") from exc
    except KeyError as exc:
        raise LoadError(rel, f"damaged Word file: a part is missing ({exc.args[0]})") from exc
    except (docx.opc.exceptions.PackageNotFoundError, lxml.etree.LxmlError, ValueError) as exc:
        raise LoadError(rel, f"damaged Word file: {type(exc).__name__}: {exc}") from exc


def _outline_level(paragraph: Paragraph) -> int | None:
    """The outline level (1-9) set on the paragraph or on its style or the styles it is based on."""
    found = paragraph._p.xpath("./w:pPr/w:outlineLvl/@w:val")
    style = paragraph.style
    while not found and style is not None:
        found = style.element.xpath("./w:pPr/w:outlineLvl/@w:val")
        style = style.base_style
    if found and str(found[0]).isdigit() and int(found[0]) < 9:
        return int(found[0]) + 1
    return None


def heading_level(paragraph: Paragraph) -> int | None:
    """The heading level of a paragraph (1 is the highest), or None for body text."""
    name = paragraph.style.name if paragraph.style is not None else ""
    if name and name.lower() == "title":
        return 1
    match = _HEADING_STYLE.match(name or "")
    return int(match.group(1)) if match else _outline_level(paragraph)


def _is_list_item(paragraph: Paragraph) -> bool:
    numbered = paragraph._p.xpath("./w:pPr/w:numPr")
    name = paragraph.style.name if paragraph.style is not None else ""
    return bool(numbered) or (name or "").lower().startswith("list")


def _paragraph(paragraph: Paragraph) -> Block | None:
    level = heading_level(paragraph)
    if level is not None:
        return blocks.heading(paragraph.text, level)
    return blocks.paragraph(paragraph.text, "- " if _is_list_item(paragraph) else "")


def _table(table: Table) -> Block | None:
    rows: list[list[str]] = []
    for row in table.rows:
        cells, seen = [], None
        for cell in row.cells:  # a merged cell is repeated once per column it spans
            cells.append("" if cell._tc is seen else cell.text)
            seen = cell._tc
        rows.append(cells)
    return blocks.table(rows, header=True)  # Word marks no header row reliably: the first one reads as it


def body_blocks(document: WordDocument) -> Iterator[Block | None]:
    """The blocks of the document's body, in order."""
    for item in document.iter_inner_content():
        yield _paragraph(item) if isinstance(item, Paragraph) else _table(item)


def load_docx(path: Path, rel: str, data: bytes) -> Document:
    """Read a Word document's body into a Document."""
    document = _open(data, rel)
    try:
        text, sections = blocks.layout(body_blocks(document))
    except (KeyError, ValueError, lxml.etree.LxmlError) as exc:
        raise LoadError(rel, f"damaged Word file: {type(exc).__name__}: {exc}") from exc
    if not text.strip():
        raise LoadError(rel, "no text (the document is empty)")
    title = (document.core_properties.title or "").strip() or None
    return Document(
        doc_id=sha256_bytes(data),
        path=rel,
        kind="docx",
        text=text,
        mtime=path.stat().st_mtime if path.exists() else 0.0,
        title=title,
        sections=sections,
    )
