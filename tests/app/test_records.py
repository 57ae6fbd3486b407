"""What is wrong with a JSON record, told in one line whatever kind of record it is."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from app.records import problem, says


class _Cost(BaseModel):
    seconds: float


class _Result(BaseModel):
    id: Annotated[str, says("'id' must be a string")]
    cost: _Cost
    parts: list[_Cost] = []


def line_for(data: object) -> str:
    with pytest.raises(ValidationError) as error:
        _Result.model_validate(data)
    return problem(error.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("text", "a record must be a JSON object"),
        ({"cost": {"seconds": 1}}, "missing 'id'"),
        ({"id": 5, "cost": {"seconds": 1}}, "'id' must be a string"),
        ({"id": "a", "cost": {}}, "cost needs a 'seconds'"),
        ({"id": "a", "cost": {"seconds": 1}, "parts": {}}, "'parts' must be a list"),
        (
            {"id": "a", "cost": {"seconds": 1}, "parts": [{"seconds": []}]},
            "parts[0]: 'seconds' must be a number",
        ),
        (  # pydantic's own words where we have none, after where they apply
            {"id": "a", "cost": {"seconds": "soon"}},
            "cost: 'seconds': Input should be a valid number, unable to parse string as a number",
        ),
    ],
)
def test_the_first_problem_says_where_and_what(data: object, message: str) -> None:
    assert line_for(data) == message


def test_a_kind_of_record_may_word_an_error_type_its_own_way() -> None:
    with pytest.raises(ValidationError) as error:
        _Result.model_validate({"cost": {"seconds": 1}})
    assert problem(error.value, {"missing": "a result without an 'id'"}) == "a result without an 'id'"
