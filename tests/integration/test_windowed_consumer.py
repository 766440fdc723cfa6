"""Guild's pull loop (shared.messaging.window) on a real nats-server: a slow message does not
hold up the others, never more than the window run at once, a handler running past ack_wait
is delivered once (in-progress acks), and a stop cancels what is still in hand and hands it
back (nak) to the next replica."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

from nats.aio.client import Client
from nats.js.api import ConsumerInfo

from guild_cli.nats_server import EmbeddedNats
from guild_cli.receivers import free_port
from shared.contracts.ingest import QuestionAskedV1
from shared.envelope import Envelope
from shared.messaging.window import FETCH_TIMEOUT
from shared.naming import Streams
from shared.runtime import ServiceApp
from shared.settings import GuildSettings
from tests import access
from tests.helpers import (
    cloudevent,
    content_ingest_app,
    dead_letters,
    eventually,
    publish_event,
    running,
    settings_for,
)
from tests.slice import QUESTION


class Handlers:
    """A reaction that counts its calls and how many run at once, and holds the events whose
    id is in ``held`` until :attr:`release` is set."""

    def __init__(self, held: frozenset[str] = frozenset(), hold_all: bool = False) -> None:
        self.held, self.hold_all = held, hold_all
        self.release = asyncio.Event()
        self.calls: Counter[str] = Counter()
        self.done: set[str] = set()
        self.running = self.most_at_once = 0

    async def when_question_asked_take_note(
        self, event: Envelope[QuestionAskedV1], deps: None
    ) -> None:
        self.calls[event.id] += 1
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            if self.hold_all or event.id in self.held:
                await self.release.wait()
            self.done.add(event.id)
        finally:
            self.running -= 1


def replica(settings: GuildSettings, handlers: Handlers, purpose: str = "window") -> ServiceApp:
    reactions: dict[type[Any], Any] = {QuestionAskedV1: handlers.when_question_asked_take_note}
    return content_ingest_app(settings, purpose, reactions)


async def ask(nc: Client, region: str, *event_ids: str) -> None:
    for event_id in event_ids:
        event = cloudevent(QuestionAskedV1.TYPE, QUESTION, event_id=event_id)
        await publish_event(nc, f"ingest.{region}.portal.content.question_asked.v1", event)


async def consumer(nc: Client, region: str, purpose: str = "window") -> ConsumerInfo:
    return await nc.jetstream().consumer_info(
        Streams(region).ingest_of("portal"), f"content-{purpose}"
    )


async def test_a_blocked_message_does_not_hold_up_the_others(nc, nats_url, region):
    handlers = Handlers(held=frozenset({"slow"}))
    others = [f"q{i}" for i in range(30)]
    async with running(replica(settings_for(GuildSettings, region, nats_url), handlers)):
        await ask(nc, region, "slow", *others)

        async def others_acked() -> bool:
            info = await consumer(nc, region)
            return info.num_pending == 0 and info.num_ack_pending == 1

        await eventually(others_acked, what="every other message acked")
        assert handlers.done == set(others)
        assert (await consumer(nc, region)).ack_floor.stream_seq == 0  # "slow" is first
        handlers.release.set()

        async def all_acked() -> bool:
            return (await consumer(nc, region)).num_ack_pending == 0

        await eventually(all_acked, what="the slow message acked")
    assert handlers.done == {"slow", *others}
    assert set(handlers.calls.values()) == {1}


async def test_never_more_handlers_run_at_once_than_the_window(nc, nats_url, region):
    handlers = Handlers(hold_all=True)
    settings = settings_for(GuildSettings, region, nats_url, consumer_window=4)
    events = [f"q{i}" for i in range(20)]
    async with running(replica(settings, handlers)):
        await ask(nc, region, *events)

        async def window_full() -> bool:
            return handlers.running == 4 and (await consumer(nc, region)).num_ack_pending == 4

        await eventually(window_full, what="four handlers running")
        assert handlers.most_at_once == 4
        handlers.release.set()

        async def all_done() -> bool:
            return handlers.done == set(events)

        await eventually(all_done, what="every message handled")
    assert handlers.most_at_once == 4


async def test_a_handler_running_past_ack_wait_is_delivered_once(nc, nats_url, region):
    ack_wait = 2.0
    handlers = Handlers(held=frozenset({"long"}))
    settings = settings_for(GuildSettings, region, nats_url, ack_wait=ack_wait)
    async with running(replica(settings, handlers)):
        await ask(nc, region, "long")
        await eventually(lambda: holds(handlers.calls["long"] == 1), what="the handler started")
        await asyncio.sleep(3 * ack_wait)  # the handler runs past ack_wait, three times over
        handlers.release.set()

        async def acked() -> ConsumerInfo | None:
            info = await consumer(nc, region)
            return info if info.ack_floor.stream_seq == 1 and info.num_ack_pending == 0 else None

        info = await eventually(acked, what="the long message acked")
    assert handlers.calls["long"] == 1
    assert info.delivered.consumer_seq == 1  # delivered once: never redelivered
    assert info.num_redelivered == 0


async def test_a_stop_cancels_the_handlers_in_hand_and_the_next_replica_gets_them(
    nc, nats_url, region
):
    settings = settings_for(GuildSettings, region, nats_url, ack_wait=2.0)
    first = Handlers(hold_all=True)
    async with running(replica(settings, first)):
        await ask(nc, region, "a", "b", "c")
        await eventually(lambda: holds(first.running == 3), what="three handlers running")
    assert first.running == 0  # cancelled by the stop,
    assert first.done == set()  # not finished
    second = Handlers()
    async with running(replica(settings, second)):

        async def all_done() -> bool:
            return second.done == {"a", "b", "c"}

        await eventually(all_done, what="the next replica handled them")
    assert await dead_letters(nc, region) == []


async def test_an_idle_consumer_waits_quietly_and_takes_the_next_message(
    nc, nats_url, region, caplog
):
    handlers = Handlers()
    with caplog.at_level(logging.WARNING, logger="guild.consume"):
        async with running(replica(settings_for(GuildSettings, region, nats_url), handlers)):
            await ask(nc, region, "before")
            await eventually(lambda: holds(handlers.done == {"before"}), what="the first")
            await asyncio.sleep(3 * FETCH_TIMEOUT)  # idle: fetches that find nothing
            await ask(nc, region, "after")
            await eventually(lambda: holds(handlers.done == {"before", "after"}), what="next")
    assert [r.getMessage() for r in caplog.records if r.name == "guild.consume"] == []


async def test_the_loop_carries_on_across_a_nats_restart(tmp_path, region):
    server = EmbeddedNats(
        tmp_path / "nats", port=free_port(), die_with_parent=True, authority=access.AUTHORITY
    ).start()
    try:
        nc = await access.connect(
            server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2, own_server=True
        )
        handlers = Handlers(held=frozenset({"held"}))
        async with running(replica(settings_for(GuildSettings, region, server.url), handlers)):
            await ask(nc, region, "held", "before")
            await eventually(lambda: holds(handlers.done == {"before"}), what="the first")
            server.stop()  # fetches fail while it is away; the held handler carries on
            server.start()
            handlers.release.set()
            await eventually(lambda: accepted(nc, region, "after"), what="JetStream back")

            async def all_settled() -> bool:
                info = await consumer(nc, region)
                return handlers.done == {"held", "before", "after"} and info.num_pending == 0

            await eventually(all_settled, deadline=30, what="every message handled")
        await nc.close()
    finally:
        server.stop()


async def accepted(nc: Client, region: str, event_id: str) -> bool:
    """Published (with its PubAck), or not yet: NATS is coming back."""
    try:
        await ask(nc, region, event_id)
    except Exception:
        return False
    return True


async def holds(value: bool) -> bool:
    """A probe for ``eventually`` of a condition on this process's own state."""
    return value
