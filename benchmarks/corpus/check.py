"""Check every gold answer of the corpus against the documents' text, and write the two splits.

    python benchmarks/corpus/check.py            check questions/*.jsonl, write tune.jsonl, test.jsonl
    python benchmarks/corpus/check.py --dump zoo a document as longqa reads it, page and line numbered
    python benchmarks/corpus/check.py --only zoo check one document's questions, write nothing

Each document's questions are in ``questions/<name>.jsonl`` (the dataset format of
app/evaluation/dataset.py, ``docs`` naming the document's folder under ``.longqa/corpus``). The
document is read by longqa's own loaders, so a quote is checked against the very text an answer
cites. A quote must be found (whitespace and PDF line-end hyphens aside) on its ``page`` for a
PDF, and inside its ``lines`` where they are given; where they are not, the lines it was found
on are written into the split files, so evidence hits are scored by line for every kind. Every
gold ``items`` entry of an aggregate question must occur in the document. Any failure is one
line naming the question, and nothing is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from build import DOCUMENTS, ROOT  # beside this file

from ingest.document import Document
from ingest.errors import LoadError
from ingest.pipeline import load_document

HERE = Path(__file__).resolve().parent
CORPUS = ROOT / ".longqa" / "corpus"
TYPES = {"lookup", "multi_hop", "aggregate", "code", "unanswerable"}


def squash(text: str) -> tuple[str, list[int]]:
    """``text`` with hyphenation marks dropped and whitespace runs made one space, lowercased,
    and for each character kept the offset it came from."""
    kept: list[str] = []
    where: list[int] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\ufffe":  # a word hyphenated at a line end: joined again
            i += 1
            while i < len(text) and text[i] in "\r\n":
                i += 1
            continue
        if char.isspace():
            if kept and kept[-1] != " ":
                kept.append(" ")
                where.append(i)
        else:
            kept.append(char.lower())
            where.append(i)
        i += 1
    return "".join(kept), where


def documents(name: str) -> list[Document]:
    folder = CORPUS / name
    if not folder.is_dir():
        raise SystemExit(f"{folder}: not built (make corpus)")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    read = []
    for path in files:
        try:
            read.append(load_document(path, path.relative_to(folder).as_posix()))
        except LoadError:  # py.typed and the like: not indexed either
            continue
    return read


def dump(name: str) -> None:
    for doc in documents(name):
        for page in range(1, doc.pages + 1):
            text = doc.page_text(page) if doc.kind == "pdf" else doc.text
            where = f"p.{page} " if doc.kind == "pdf" else ""
            for number, line in enumerate(text.splitlines(), 1):
                print(f"{doc.path} {where}l.{number}: {line}")


def find(quote: str, doc: Document, page: int | None) -> tuple[int, int] | None:
    """The lines (counted as the document's spans count them) where ``quote`` is, or None."""
    text, where = squash(doc.text)
    needle, _ = squash(quote)
    start = 0
    while (at := text.find(needle, start)) >= 0:
        span = doc.span(where[at], where[at + len(needle) - 1] + 1)
        if page is None or span.page == page:
            return span.line_start, span.line_end
        start = at + 1
    return None


def check(record: dict, docs: dict[str, Document], problems: list[str]) -> dict:
    qid = record.get("id", "?")
    kind = record.get("type")
    if kind not in TYPES:
        problems.append(f"{qid}: type {kind!r} is not one of {sorted(TYPES)}")
    evidence = []
    for gold in record.get("evidence", []):
        doc = docs.get(gold.get("file", ""))
        if doc is None:
            problems.append(f"{qid}: evidence file {gold.get('file')!r} is not in the document")
            continue
        if doc.kind == "pdf" and "page" not in gold:
            problems.append(f"{qid}: evidence in a PDF needs its page")
            continue
        lines = find(gold.get("quote", ""), doc, gold.get("page"))
        if not gold.get("quote") or lines is None:
            problems.append(
                f"{qid}: quote not found in {gold.get('file')} "
                f"{'p.' + str(gold['page']) if 'page' in gold else ''}: {gold.get('quote')!r}"
            )
            continue
        if "lines" in gold and not (gold["lines"][0] <= lines[0] and lines[1] <= gold["lines"][1]):
            problems.append(f"{qid}: quote found on lines {list(lines)}, outside {gold['lines']}")
        evidence.append(gold if "lines" in gold else {**gold, "lines": list(lines)})
    if kind == "unanswerable":
        if record.get("answers") != ["UNANSWERABLE"]:
            problems.append(f'{qid}: an unanswerable question\'s answers must be ["UNANSWERABLE"]')
    elif not evidence:
        problems.append(f"{qid}: an answerable question needs gold evidence")
    whole = " ".join(squash(d.text)[0] for d in docs.values())
    for item in record.get("items", []):
        if squash(item)[0] not in whole:
            problems.append(f"{qid}: item {item!r} is not in the document")
    if kind == "aggregate" and not record.get("items"):
        problems.append(f"{qid}: an aggregate question needs its gold items")
    return {**record, "evidence": evidence} if evidence else record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dump", metavar="NAME", help="print a document as longqa reads it")
    parser.add_argument(
        "--only", metavar="NAME", action="append", help="check these documents, write nothing"
    )
    args = parser.parse_args()
    if args.dump:
        dump(args.dump)
        return 0
    problems: list[str] = []
    splits: dict[str, list[dict]] = {"tune": [], "test": []}
    seen: set[str] = set()
    for doc in DOCUMENTS:
        if args.only and doc.name not in args.only:
            continue
        source = HERE / "questions" / f"{doc.name}.jsonl"
        if not source.exists():
            problems.append(f"{source.name}: no questions")
            continue
        docs = {d.path: d for d in documents(doc.name)}
        for number, line in enumerate(source.read_text().splitlines(), 1):
            if not line.strip():
                continue
            record = json.loads(line)
            if record.get("docs") != f".longqa/corpus/{doc.name}":
                problems.append(f"{source.name}:{number}: docs must be .longqa/corpus/{doc.name}")
            if record.get("id") in seen:
                problems.append(f"{source.name}:{number}: id {record.get('id')!r} used twice")
            seen.add(record.get("id"))
            splits[doc.split].append({**check(record, docs, problems), "split": doc.split})
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    if args.only:
        print("ok:", {split: len(records) for split, records in splits.items()})
        return 0
    for split, records in splits.items():
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        (HERE / f"{split}.jsonl").write_text(lines)
        print(split, len(records), dict(Counter(r["type"] for r in records)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
