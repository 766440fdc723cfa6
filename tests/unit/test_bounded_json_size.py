"""The JSON reader refuses no message a NATS server accepts: a server configured with a
max_payload above the default 1 MiB delivers larger valid messages, and they are read."""

from __future__ import annotations

import json

import pytest

from shared.bounded_json import UnreadableJson, load_json

MIB = 1024 * 1024


def test_a_valid_message_larger_than_the_default_max_payload_is_read():
    document = {"data": {"notes": "n" * (8 * MIB)}}
    assert load_json(json.dumps(document).encode()) == document


def test_input_larger_than_any_nats_message_is_refused():
    with pytest.raises(UnreadableJson, match="larger than"):
        load_json(b" " * (64 * MIB + 1))
