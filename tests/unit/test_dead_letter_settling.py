"""A dead-lettered message is terminated only where that cannot lose it: an original whose
stream drops it once settled (work queue, interest) and whose copy was refused stays in its
stream, nak'd for later, so the letter's reference still finds it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest
from nats.aio.msg import Msg
from nats.js.api import PubAck, RetentionPolicy, StreamConfig

from shared.envelope import MalformedEvent
from shared.messaging.consumer import DeadLetterOffice, StreamRetention, settler, settling
from shared.messaging.publisher import PublishRefused
from shared.naming import Service, Streams

REGION = "eu"
DAY = 86400.0


class RecordingClient:
    """Stands for the NATS connection a message settles through: records each ack reply."""

    def __init__(self) -> None:
        self.settled: list[bytes] = []

    async def publish(self, _subject: str, payload: bytes = b"", **_: Any) -> None:
        self.settled.append(payload)


class RefusingCopies:
    """A publisher that stores dead letters and refuses every copy of an original (too
    large with its headers)."""

    def __init__(self) -> None:
        self.letters: list[bytes] = []

    async def publish(self, body: bytes, subject: str, *, stream: str, msg_id: str,
                      headers: Mapping[str, str] | None = None) -> PubAck:  # fmt: skip
        if stream == Streams(REGION).dead_letter_originals:
            raise PublishRefused("larger than the server's max_payload")
        self.letters.append(body)
        return PubAck(stream=stream, seq=len(self.letters))


class KnownRetention(StreamRetention):
    def __init__(self, configs: dict[str, StreamConfig]) -> None:
        super().__init__(lambda: None, Streams(REGION).dead_letters)  # type: ignore[arg-type,return-value]
        self._configs = configs


def delivered(client: RecordingClient, stream: str) -> Msg:
    reply = f"$JS.ACK.{stream}.worker.1.42.42.1700000000000000000.0"
    return Msg(client, subject="outbox.eu.m-1", reply=reply, data=b"not json",  # type: ignore[arg-type]
               headers={"Nats-Msg-Id": "p-1"})  # fmt: skip


def retention(stream: str, policy: RetentionPolicy) -> KnownRetention:
    return KnownRetention({
        stream: StreamConfig(name=stream, retention=policy, max_age=7 * DAY),
        Streams(REGION).dead_letters: StreamConfig(retention=RetentionPolicy.LIMITS,
                                                   max_age=90 * DAY),
    })  # fmt: skip


async def dead_letter(
    stream: str, policy: RetentionPolicy
) -> tuple[RecordingClient, RefusingCopies]:
    client, publisher = RecordingClient(), RefusingCopies()
    office = DeadLetterOffice(publisher, region=REGION, service=Service.NOTIFICATIONS,  # type: ignore[arg-type]
                              retention=retention(stream, policy))  # fmt: skip
    middleware = settling(settler(office, []))(delivered(client, stream), context=None)  # type: ignore[arg-type]
    error = MalformedEvent("not a CloudEvent")
    assert await middleware.after_processed(MalformedEvent, error, None)
    return client, publisher


@pytest.mark.parametrize("policy", [RetentionPolicy.WORK_QUEUE, RetentionPolicy.INTEREST])
async def test_an_original_whose_copy_was_refused_is_not_terminated_from_a_work_queue(
    policy, caplog
):
    with caplog.at_level(logging.WARNING, logger="guild.consume"):
        client, publisher = await dead_letter("OUTBOX_EU", policy)
    assert len(publisher.letters) == 1  # the letter refers to it where it is
    (settled,) = client.settled
    assert settled.startswith(b"-NAK")  # left in its stream, for later
    assert "left in its stream" in caplog.text


async def test_an_original_a_limits_stream_keeps_is_terminated_even_when_not_copied():
    client, publisher = await dead_letter("INGEST_EU", RetentionPolicy.LIMITS)
    assert len(publisher.letters) == 1
    assert client.settled == [b"+TERM"]
