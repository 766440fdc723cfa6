"""A dead letter always fits in a NATS message: it keeps the original by reference (or a
verbatim copy, where the original's stream may drop it first) plus a bounded excerpt, so a
message close to max_payload is dead-lettered like any other and the consumer goes on."""

from __future__ import annotations

import pytest

from services.membership.bootstrap import build_app
from services.membership.settings import MembershipSettings
from shared.messaging.consumer import LETTER_LIMIT
from shared.messaging.publisher import JetStreamPublisher, PublishRefused
from shared.naming import Streams
from tests.helpers import (
    cloudevent,
    dead_letters,
    eventually,
    near_max_payload,
    publish_event,
    publish_raw,
    running,
    settings_for,
    stream_messages,
)
from tests.integration.test_dead_letters import hire, registered

HIRED = "guild.ingest.hr.person_hired.v1"


async def test_a_message_near_max_payload_is_dead_lettered_and_the_consumer_keeps_going(
    nc, nats_url, region
):
    body = near_max_payload(
        nc.max_payload, HIRED, hire("p-huge"), event_id="huge-1", pad="display_name"
    )
    assert len(body) > 1_040_000
    app = build_app(settings_for(MembershipSettings, region, nats_url))
    async with running(app):
        await publish_raw(nc, f"ingest.{region}.hr-directory.hr.person_hired.v1", body,
                          headers={"Nats-Msg-Id": "huge-1"})  # fmt: skip
        await publish_event(nc, f"ingest.{region}.hr-directory.hr.person_hired.v1",
                            cloudevent(HIRED, hire("p-after")))  # fmt: skip
        (letter,) = await eventually(lambda: dead_letters(nc, region), what="the dead letter")
        await eventually(lambda: registered(nc, region, "p-after"), what="the next hire")
        assert app.status()["ready"]
        assert app.connected
        stored = await stream_messages(nc, Streams(region).dead_letters)
    assert all(len(data) < LETTER_LIMIT for _, _, data in stored)
    assert letter.event_id == "huge-1"
    assert "data.display_name: String should have at most 200 characters" in letter.reason
    assert letter.body_truncated
    assert letter.body_size == len(body)
    assert letter.body.startswith('{"specversion"')
    kept = letter.original
    assert kept is not None
    assert kept.stream == Streams(region).dead_letter_originals
    copy = await nc.jetstream().get_msg(kept.stream, kept.sequence)
    assert copy.data == body  # verbatim, with its own headers
    assert (copy.headers or {}).get("Guild-Original-Msg-Id") == "huge-1"


async def test_an_original_its_stream_keeps_longer_than_the_letter_is_kept_by_reference(
    nc, nats_url, region
):
    settings = settings_for(MembershipSettings, region, nats_url, event_retention_days=365)
    app = build_app(settings)
    async with running(app):
        await publish_raw(nc, f"ingest.{region}.hr-directory.hr.person_hired.v1", b"not json",
                          headers={"Nats-Msg-Id": "bad-1"})  # fmt: skip
        (letter,) = await eventually(lambda: dead_letters(nc, region), what="the dead letter")
    assert letter.original is not None
    assert (letter.original.stream, letter.original.sequence) == (
        Streams(region).ingest_of("hr-directory"),
        letter.stream_sequence,
    )
    originals = await nc.jetstream().stream_info(Streams(region).dead_letter_originals)
    assert originals.state.messages == 0


async def test_a_publish_too_large_for_the_server_is_refused_and_the_connection_stays(
    nc, nats_url, region
):
    app = build_app(settings_for(MembershipSettings, region, nats_url))
    async with running(app):
        publisher: JetStreamPublisher = app.publisher
        body = b"x" * (nc.max_payload - 100)
        headers = {"big": "y" * 500}
        with pytest.raises(PublishRefused, match="max_payload"):
            await publisher.publish(body, f"dlq.{region}.membership.x",
                                    stream=Streams(region).dead_letters, msg_id="too-big",
                                    headers=headers)  # fmt: skip
        assert app.connected
        await publish_event(nc, f"ingest.{region}.hr-directory.hr.person_hired.v1",
                            cloudevent(HIRED, hire("p-still")))  # fmt: skip
        await eventually(lambda: registered(nc, region, "p-still"), what="the hire")
