"""The evaluation dataset of DESIGN.md §8: one question a line, with gold answers and evidence.

A record: ``id``, ``question``, ``answers`` (acceptable short answers, or ``["UNANSWERABLE"]``),
``docs`` (a folder or files, relative to the dataset file's folder or absolute), optional
``evidence`` (``file`` relative to the docs root, ``page`` or ``lines`` ``[a, b]``, ``quote``) and
optional ``type`` and, for a question about many items, optional ``items`` (the gold items, as
the documents write them; the count is their number). Other top-level keys are kept in
``extra`` (importers record their source there). A bad record stops loading with one line
naming ``file:line`` and what is wrong.

Relative ``docs`` are looked up in the dataset file's folder first, then in each folder above it
(nearest first), so a dataset kept inside its own corpus folder can name that folder
(``examples/eval.jsonl`` says ``"docs": "examples"``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.dataclasses import dataclass as pydantic_dataclass

from app.records import NonBlank, json_reason, problem, says
from core.errors import LongqaError

UNANSWERABLE = "UNANSWERABLE"


def _ordered(lines: tuple[int, int]) -> tuple[int, int]:
    if not 1 <= lines[0] <= lines[1]:
        raise ValueError("lines out of order")  # worded by ``says`` on the field
    return lines


@pydantic_dataclass(frozen=True, config=ConfigDict(extra="forbid"))  # a misspelt key is an error
class GoldEvidence:
    """Where a gold answer is written: a file (relative to the docs root), a page or lines."""

    file: Annotated[NonBlank, says("'file' must be a non-empty string")]
    page: Annotated[int, Field(strict=True, gt=0), says("'page' must be a positive integer")] | None = None
    lines: (
        Annotated[
            tuple[StrictInt, StrictInt],
            AfterValidator(_ordered),
            says("'lines' must be [first, last] with 1 <= first <= last"),
        ]
        | None
    ) = None
    quote: str = ""


_EVIDENCE = TypeAdapter(GoldEvidence)


@dataclass(frozen=True)
class EvalItem:
    """One evaluation question with its gold answers, documents and evidence."""

    id: str
    question: str
    answers: tuple[str, ...]
    docs: tuple[Path, ...]  # resolved: absolute folders or files
    evidence: tuple[GoldEvidence, ...] = ()
    type: str | None = None
    items: tuple[str, ...] = ()  # a question about many items: every gold item
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def unanswerable(self) -> bool:
        return self.answers == (UNANSWERABLE,)

    @property
    def docs_root(self) -> Path:
        """The folder evidence ``file`` paths are relative to: the docs folder, or the files' folder."""
        if len(self.docs) == 1 and self.docs[0].is_dir():
            return self.docs[0]
        return self.docs[0].parent


def _not_mixed(answers: list[str]) -> list[str]:
    if UNANSWERABLE in answers and len(answers) > 1:
        raise ValueError(f"'answers' mixes {UNANSWERABLE} with other answers")
    return answers


class _Record(BaseModel):
    """A dataset line as written; ``load_dataset`` validates it with the dataset's folder as ``base``."""

    model_config = ConfigDict(extra="allow")  # kept in EvalItem.extra: importers record their source there

    id: Annotated[NonBlank | StrictInt, says("'id' must be a non-empty string")]
    question: Annotated[NonBlank, says("'question' must be a non-empty string")]
    answers: Annotated[
        list[NonBlank],
        Field(min_length=1),
        says("'answers' must be a non-empty list of non-empty strings"),
        AfterValidator(_not_mixed),
    ]
    docs: Annotated[
        list[NonBlank],
        BeforeValidator(lambda docs: [docs] if isinstance(docs, str) else docs),  # one folder (or file)
        Field(min_length=1),
        says("'docs' must be a folder or a non-empty list of files"),
    ]
    evidence: list[GoldEvidence] | None = None
    type: str | None = None
    items: Annotated[list[NonBlank] | None, says("'items' must be a list of non-empty strings")] = None

    @field_validator("docs")
    @classmethod
    def _found(cls, docs: list[str], info: ValidationInfo) -> list[str]:
        """Absolute names: relative ones are looked up in ``base``, then each folder above it."""
        base: Path = (info.context or {})["base"]  # the dataset's folder, given by load_dataset
        return [str(_resolve(name, base)) for name in docs]

    def item(self) -> EvalItem:
        """The question this line describes, its whitespace made single spaces."""
        return EvalItem(
            id=str(self.id),
            question=" ".join(self.question.split()),
            answers=tuple(self.answers),
            docs=tuple(Path(name) for name in self.docs),
            evidence=tuple(self.evidence or ()),
            type=self.type,
            items=tuple(self.items or ()),
            extra=self.model_extra or {},
        )


def load_dataset(path: Path) -> list[EvalItem]:
    """Every record of a dataset JSONL file, checked; ids must be unique."""
    path = Path(path)
    if not path.is_file():
        raise LongqaError(f"{path}: no such dataset file")
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    base = path.resolve().parent
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = _Record.model_validate(json.loads(line), context={"base": base}).item()
        except ValidationError as exc:
            raise LongqaError(f"{path}:{number}: {problem(exc)}") from None
        except ValueError as exc:  # not JSON
            raise LongqaError(f"{path}:{number}: not JSON ({json_reason(exc)})") from None
        if item.id in seen:
            raise LongqaError(f"{path}:{number}: id {item.id!r} already used on line {seen[item.id]}")
        seen[item.id] = number
        items.append(item)
    if not items:
        raise LongqaError(f"{path}: no questions in the dataset")
    return items


def _resolve(name: str, base: Path) -> Path:
    given = Path(name).expanduser()
    if given.is_absolute():
        if not given.exists():
            raise ValueError(f"docs {name!r} not found")
        return given
    for folder in (base, *base.parents):
        if (folder / given).exists():
            return (folder / given).resolve()
    raise ValueError(f"docs {name!r} not found in {base} or any folder above it")


def item_record(item: EvalItem, base: Path | None = None) -> dict[str, Any]:
    """The JSON record of an item (``docs`` relative to ``base`` where they lie under it)."""

    def show(path: Path) -> str:
        if base is not None and path.is_relative_to(base):
            return path.relative_to(base).as_posix() or "."
        return str(path)

    record: dict[str, Any] = {
        "id": item.id,
        "question": item.question,
        "answers": list(item.answers),
        "docs": show(item.docs[0]) if len(item.docs) == 1 else [show(d) for d in item.docs],
    }
    if item.evidence:
        record["evidence"] = [
            _EVIDENCE.dump_python(e, mode="json", exclude_defaults=True) for e in item.evidence
        ]
    if item.type is not None:
        record["type"] = item.type
    if item.items:
        record["items"] = list(item.items)
    return {**record, **item.extra}
