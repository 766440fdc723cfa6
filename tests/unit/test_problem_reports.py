"""An RPC error reply and a dead letter report a validation failure the same way: the same
number of problems, each clipped by the same rule."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from shared.bounded_json import MAX_PROBLEMS, clip
from shared.messaging.consumer import describe_failure
from shared.messaging.rpc import _validation_details

Many = type("Many", (BaseModel,), {"__annotations__": {f"f{n}": int for n in range(40)}})


def many_problems() -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Many.model_validate({})
    return caught.value


def test_rpc_and_dead_letters_report_as_many_problems():
    error = many_problems()
    _, reason = describe_failure(error, None)  # type: ignore[arg-type]
    assert len(_validation_details(error)) == MAX_PROBLEMS
    assert reason.count("Field required") == MAX_PROBLEMS


def test_one_clip_bounds_the_json_text_of_any_string():
    assert len(clip("\x00" * 1000, 200).encode()) * 6 <= 200
    assert clip("short", 200) == "short"
