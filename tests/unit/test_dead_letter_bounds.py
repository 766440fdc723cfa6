"""A dead letter is bounded whatever the original, and keeps the original by reference only
where the original's stream keeps it at least as long as the letter."""

from __future__ import annotations

import json

import pytest
from nats.js.api import RetentionPolicy, StreamConfig

from shared.messaging.consumer import (
    LETTER_LIMIT,
    DeadLetter,
    KeptOriginal,
    StoredOriginal,
    bounded_letter,
    keeps_as_long,
)

DAY = 86400.0
LETTERS = StreamConfig(name="DLQ", retention=RetentionPolicy.LIMITS, max_age=90 * DAY)


def letter_of(original: StoredOriginal, reason: str = "why") -> DeadLetter:
    return bounded_letter(original, service="membership", consumer="membership-hr",
                          stream="INGEST_EU", sequence=7, deliveries=1, reason=reason,
                          error_type="ValidationError",
                          kept=KeptOriginal(stream="INGEST_EU", sequence=7,
                                            copied=False))  # fmt: skip


@pytest.mark.parametrize(
    "data",
    [
        b"x" * 1_047_000,
        b"\x00" * 1_047_000,  # JSON escapes each as \u0000: six times the size
        b"\xff" * 1_047_000,  # not UTF-8: base64
        json.dumps({"id": "i" * 500_000, "type": "t" * 500_000}).encode(),
    ],
)
def test_a_dead_letter_of_a_huge_hostile_message_stays_small(data):
    headers = {f"h{i}": "v" * 10_000 for i in range(100)}
    letter = letter_of(StoredOriginal("ingest.eu." + "s" * 10_000, headers, data), "r" * 100_000)
    assert len(letter.model_dump_json().encode()) < LETTER_LIMIT
    assert letter.body_truncated
    assert letter.headers_truncated
    assert letter.body_size == len(data)
    with pytest.raises(ValueError, match="excerpt"):
        letter.original_body()


def test_a_small_message_is_held_whole():
    letter = letter_of(StoredOriginal("ingest.eu.x", {"a": "b"}, b"small"))
    assert not letter.body_truncated
    assert letter.original_body() == b"small"
    assert letter.headers == {"a": "b"}


@pytest.mark.parametrize(
    ("stream", "kept"),
    [
        (StreamConfig(retention=RetentionPolicy.LIMITS, max_age=365 * DAY), True),
        (StreamConfig(retention=RetentionPolicy.LIMITS, max_age=0), True),
        (StreamConfig(retention=RetentionPolicy.LIMITS, max_age=30 * DAY), False),
        (StreamConfig(retention=RetentionPolicy.WORK_QUEUE, max_age=0), False),
        (StreamConfig(retention=RetentionPolicy.INTEREST, max_age=0), False),
        (StreamConfig(retention=RetentionPolicy.LIMITS, max_msgs_per_subject=1000), False),
        (StreamConfig(retention=RetentionPolicy.LIMITS, max_bytes=10**9), False),
    ],
)
def test_only_a_stream_that_keeps_a_message_as_long_as_its_letter_is_referred_to(stream, kept):
    assert keeps_as_long(stream, LETTERS) is kept
