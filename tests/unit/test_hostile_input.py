"""Hostile input is refused with a reason before it can hurt the reader: nesting and size are
bounded before parsing, and what CloudEvents does not allow is not read as an event."""

from __future__ import annotations

import json

import pytest

from shared.bounded_json import UnreadableJson, load_json
from shared.contracts.base import Request
from shared.envelope import MalformedEvent, identify, read_cloudevent
from shared.messaging.rpc import _parse
from tests.helpers import DEEPLY_NESTED
from tests.unit.test_envelope import EVENT

NESTED = b'{"specversion":"1.0","id":"n","source":"/t","type":"t","data":' + DEEPLY_NESTED + b"}"


def structured(**changes: object) -> bytes:
    return json.dumps({**EVENT, **changes}).encode()


def test_bounded_reader_refuses_deep_nesting_with_a_reason_before_parsing():
    with pytest.raises(UnreadableJson, match="nested deeper than 64"):
        load_json(NESTED, max_depth=64)


def test_bounded_reader_counts_brackets_inside_strings_as_text():
    text = json.dumps({"a": "[" * 500 + "{" * 500}).encode()
    assert load_json(text, max_depth=3) == {"a": "[" * 500 + "{" * 500}


def test_bounded_reader_refuses_nan_and_infinity_and_oversized_input():
    with pytest.raises(UnreadableJson, match="NaN"):
        load_json(b'{"x": NaN}')
    with pytest.raises(UnreadableJson, match="Infinity"):
        load_json(b"[-Infinity]")
    with pytest.raises(UnreadableJson, match="larger than 10 bytes"):
        load_json(b'"0123456789abc"', max_bytes=10)


def test_bounded_reader_is_a_value_error_that_says_it_is_not_json():
    with pytest.raises(ValueError, match="not JSON"):
        load_json(b"\xff\xfe")


def test_a_deeply_nested_structured_event_is_malformed_not_a_recursion_error():
    with pytest.raises(MalformedEvent, match="nested deeper"):
        read_cloudevent(NESTED, None)


def test_a_deeply_nested_binary_event_is_malformed_not_a_recursion_error():
    headers = {"ce-specversion": "1.0", "ce-id": "n", "ce-source": "/t", "ce-type": "t"}
    with pytest.raises(MalformedEvent, match="nested deeper"):
        read_cloudevent(DEEPLY_NESTED, headers)


def test_identify_survives_deep_nesting():
    assert identify(NESTED, {"Nats-Msg-Id": "m-1"}) == ("m-1", None)


def test_a_deeply_nested_request_gets_an_invalid_json_reply_with_a_reason():
    reply = _parse(DEEPLY_NESTED, Request)
    assert isinstance(reply, dict)
    assert reply["error"]["code"] == "invalid_json"
    assert "nested deeper" in reply["error"]["message"]


def test_nan_in_an_event_is_refused():
    with pytest.raises(MalformedEvent, match="NaN"):
        read_cloudevent(structured().replace(b'"p1"', b"NaN"), None)


def test_a_structured_event_with_non_json_datacontenttype_is_refused():
    with pytest.raises(MalformedEvent, match="datacontenttype 'text/plain'"):
        read_cloudevent(structured(datacontenttype="text/plain"), None)


@pytest.mark.parametrize("name", ["Region", "my_ext", "ext-1", "é"])
def test_extension_names_outside_lowercase_alphanumerics_are_refused(name):
    with pytest.raises(MalformedEvent, match="attribute name"):
        read_cloudevent(structured(**{name: "x"}), None)


def test_binary_extension_names_outside_lowercase_alphanumerics_are_refused():
    headers = {"ce-specversion": "1.0", "ce-id": "i", "ce-source": "/s", "ce-type": "t",
               "ce-my_ext": "x"}  # fmt: skip
    with pytest.raises(MalformedEvent, match="attribute name"):
        read_cloudevent(b"{}", headers)


def test_cloudevents_content_type_means_structured_even_with_ce_headers():
    headers = {"Content-Type": "application/cloudevents+json; charset=utf-8",
               "ce-specversion": "1.0", "ce-id": "other", "ce-type": "x"}  # fmt: skip
    assert read_cloudevent(structured(), headers) == EVENT


def test_a_time_without_a_timezone_is_refused():
    from pydantic import ValidationError

    from shared.envelope import Envelope

    with pytest.raises(ValidationError, match="timezone"):
        Envelope[dict].model_validate({**EVENT, "time": "2026-03-01T10:00:00"})
