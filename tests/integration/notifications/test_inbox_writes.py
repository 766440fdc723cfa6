"""Inbox items are written straight through nats-py's ``publish_async``
(:meth:`~shared.messaging.publisher.JetStreamPublisher.store`, many PubAcks in flight): still
once per notification id, and a PubAck that never comes is waited for ``ack_timeout`` and the
item sent again with the same ``Nats-Msg-Id`` (stored once)."""

from __future__ import annotations

import asyncio

from shared.naming import Streams, inbox_subject


async def stored_on(n, subject: str) -> int:
    js = n.nc.jetstream()
    info = await js.stream_info(Streams(n.region).inbox, subjects_filter=subject)
    return sum((info.state.subjects or {}).values())


async def test_an_item_stored_twice_with_one_id_is_kept_once(notifications):
    n = notifications
    publisher, subject = n.app.publisher, inbox_subject(n.region, "ana")
    stream = Streams(n.region).inbox
    first = await publisher.store(b"{}", subject, stream=stream, msg_id="item-1")
    again = await publisher.store(b"{}", subject, stream=stream, msg_id="item-1")
    assert not first.duplicate
    assert again.duplicate
    assert again.seq == first.seq
    assert await stored_on(n, subject) == 1


async def test_a_lost_pub_ack_is_sent_again_with_the_same_id_and_stored_once(
    notifications, monkeypatch
):
    n = notifications
    publisher, subject = n.app.publisher, inbox_subject(n.region, "ana")
    monkeypatch.setattr(publisher, "ack_timeout", 0.2)
    js = publisher.jetstream()
    publisher._bulk = js
    real, attempts = js.publish_async, []

    async def losing_the_first_ack(*args, **kwargs):
        attempts.append(args)
        sent = await real(*args, **kwargs)
        return sent if len(attempts) > 1 else asyncio.get_running_loop().create_future()

    monkeypatch.setattr(js, "publish_async", losing_the_first_ack)
    ack = await publisher.store(b"{}", subject, stream=Streams(n.region).inbox, msg_id="item-2")
    assert len(attempts) == 2
    assert ack.duplicate, "the first was stored; its PubAck was lost"
    assert await stored_on(n, subject) == 1
