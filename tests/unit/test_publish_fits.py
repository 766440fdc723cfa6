"""A message is refused before it is sent when body and headers exceed the server's
max_payload, measured exactly near the limit; far below it the check takes a cheaper bound,
which must never let a message through that does not fit."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shared.messaging.publisher import JetStreamPublisher, PublishRefused, message_size

LIMIT = 64 * 1024


def publisher() -> JetStreamPublisher:
    broker = SimpleNamespace(connection=SimpleNamespace(max_payload=LIMIT))
    return JetStreamPublisher(broker)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["x", "é", "😀"])
@pytest.mark.parametrize("header_chars", [10, 500, 2_000, 20_000])
def test_exactly_at_the_limit_fits_and_one_byte_more_is_refused(value, header_chars):
    headers = {"Nats-Msg-Id": "m-1", "ce-note": value * header_chars}
    room = LIMIT - message_size(b"", headers)
    if room < 0:
        with pytest.raises(PublishRefused):
            publisher()._check_fits(b"", headers, "events.eu.x")
        return
    publisher()._check_fits(b"b" * room, headers, "events.eu.x")
    with pytest.raises(PublishRefused, match=f"{LIMIT + 1} bytes"):
        publisher()._check_fits(b"b" * (room + 1), headers, "events.eu.x")


def test_a_small_message_far_below_the_limit_fits():
    publisher()._check_fits(b"{}", {"Nats-Msg-Id": "m-1"}, "events.eu.x")
