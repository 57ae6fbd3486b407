"""JSON records checked by pydantic models, and what is wrong with one told in a single line.

Datasets, question files, answers, evaluation results and calibration pairs are JSON lines whose
shape is declared as a pydantic model. ``problem`` turns pydantic's ValidationError into the line
a user reads after ``file:line:`` (``evidence[0]: 'page' must be a positive integer``), in the
same words for every kind of record. This module reads no file: its callers know which one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import StringConstraints, ValidationError, ValidatorFunctionWrapHandler, WrapValidator

NonBlank = Annotated[str, StringConstraints(pattern=r"\S")]
"""A string with something in it besides spaces."""

_KINDS = {  # pydantic's error types for a JSON value of the wrong kind, in a user's words
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "dataclass_type": "must be a JSON object",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "int_type": "must be an integer",
    "float_type": "must be a number",
}
_UNKNOWN = ("extra_forbidden", "unexpected_keyword_argument")  # models and dataclasses say it apart


def says(message: str) -> WrapValidator:
    """For ``Annotated``: any problem with the value is told as ``message``, which names the field.

    One message a user understands (``'answers' must be a non-empty list of non-empty strings``)
    instead of pydantic's several about the parts of a value (a union's members, a list's items).
    """

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise ValueError(message) from None

    return WrapValidator(check)


def problem(exc: ValidationError, wording: Mapping[str, str] | None = None) -> str:
    """The first problem of ``exc`` in one line: where it is, then what is wrong.

    A message of ours (raised by a validator, or given to ``says``) names its own field and is
    only placed in its object (``evidence[0]: 'page' must be a positive integer``). ``wording``
    gives the whole line for an error type, for a kind of record that words one its own way.
    """
    errors = exc.errors(include_url=False)
    first = errors[0]
    kind, loc = first["type"], first["loc"]
    parent = _path(loc[:-1])
    if wording and kind in wording:
        return wording[kind]
    if kind == "json_invalid":
        return f"not valid JSON ({first['ctx']['error']})"
    if kind == "value_error":
        return f"{parent}: {first['ctx']['error']}" if parent else str(first["ctx"]["error"])
    if kind == "missing":
        return f"{parent} needs a {loc[-1]!r}" if parent else f"missing {loc[-1]!r}"
    if kind in _UNKNOWN:
        unknown = sorted(
            str(e["loc"][-1]) for e in errors if e["type"] in _UNKNOWN and e["loc"][:-1] == loc[:-1]
        )
        return f"{parent or 'a record'} has unknown key(s) {', '.join(unknown)}"
    if not loc:
        where = "a record"
    elif isinstance(loc[-1], int):
        where = _path(loc)
    else:
        where = f"{parent}: {loc[-1]!r}" if parent else repr(loc[-1])
    return f"{where} {_KINDS[kind]}" if kind in _KINDS else f"{where}: {first['msg']}"


def _path(loc: tuple[int | str, ...]) -> str:
    """``evidence[0]`` for ("evidence", 0), ``cost.seconds`` for ("cost", "seconds")."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def json_reason(exc: ValueError) -> str:
    """Why a line is not JSON, in a few words: the parser's message and column, or the first line
    of Python's own (a number too long to convert is a ValueError, not a JSONDecodeError)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
