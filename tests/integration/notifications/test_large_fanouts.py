"""A question to a whole community is routed in parts on the bulk consumer (issue 12: one
fan-out was one handler call, holding every other alert and outliving ``ack_wait``): a part
that fails is retried alone, the parts done are not routed again, and every member gets one
inbox item; a personal alert is delivered while the parts still wait. Each part tells the
ledger in one record for all its members; a part redelivered to a restarted service after
its record was stored and before its inbox items were sent finds the record, and each
member gets one item, counted once against their day's budget."""

from __future__ import annotations

import asyncio
from collections import Counter
from zoneinfo import ZoneInfo

from services.notifications.bootstrap import build_app
from services.notifications.channels.inbox import InboxChannel
from services.notifications.delivery.fanout import fanout_stream
from services.notifications.domain.model import Dispatch, delivery_key
from services.notifications.handlers import audience
from services.notifications.settings import NotificationsSettings
from services.notifications.store.buckets import NotificationsStore
from shared.contracts.content import QuestionPostedV1
from shared.contracts.notifications import NotificationDeliveredV1, NotificationsRoutedV1
from tests import access
from tests.helpers import eventually, running, settings_for, settled
from tests.integration.notifications.conftest import Clock, Notifications

PART_SIZE = 10
MEMBERS = [f"m{k:02d}" for k in range(35)]  # four parts


class Crash(Exception):
    """Injected: a part fails here once."""


async def community(n) -> None:
    await n.member("bob")
    for member_id in MEMBERS:  # they follow its tag: for them, pushed at once
        await n.member(member_id, interests=("kubernetes",))
        await n.join(member_id)
        await n.prefer(member_id, quiet_hours=None)


async def told(n, cause: str) -> dict[str, int]:
    """Per member, how many inbox items the event gave them."""
    return {m: len([i for i in await n.inbox(m) if i.cause_id == cause]) for m in MEMBERS}


async def each_told_once(n, cause: str) -> None:
    """Once every member has the event's inbox item and all is done: one each."""

    async def everyone():
        counts = await told(n, cause)
        return counts if all(counts.values()) else None

    await eventually(everyone, what="every member told")
    await settled(n.nc, n.region)
    assert await told(n, cause) == dict.fromkeys(MEMBERS, 1)


async def test_a_part_that_fails_is_retried_alone_and_every_member_is_told_once(
    start_notifications, monkeypatch
):
    n = await start_notifications(fanout_part_size=PART_SIZE)
    await community(n)
    routed, original = Counter(), audience.route_part

    async def failing_once(part, deps):
        routed[part.number] += 1
        if part.number == 2 and routed[2] == 1:
            raise Crash("the service fails in the second part")
        await original(part, deps)

    monkeypatch.setattr(audience, "route_part", failing_once)
    cause = await n.question("bob", "Which CNI do you run?", tags=("kubernetes",))

    await each_told_once(n, cause)
    assert routed == {1: 1, 2: 2, 3: 1, 4: 1}  # only the failed part again
    parts = [s for s in await n.statuses(NotificationsRoutedV1.TYPE) if s["cause_id"] == cause]
    assert sorted((s["part"], s["recipients"]) for s in parts) == [
        (1, 10), (2, 10), (3, 10), (4, 5)]  # fmt: skip
    assert sum(o["count"] for s in parts for o in s["outcomes"] if o["action"] == "now") == 35
    delivered = await n.statuses(NotificationDeliveredV1.TYPE)
    assert [d for d in delivered if d["cause_id"] == cause] == [], "the parts' counts say it"


async def test_a_personal_alert_is_not_held_up_by_a_fan_out_waiting_in_parts(
    start_notifications, monkeypatch
):
    n = await start_notifications(fanout_part_size=PART_SIZE)
    await community(n)
    gate, started, original = asyncio.Event(), Counter(), audience.route_part

    async def held(part, deps):
        started[part.number] += 1
        await gate.wait()
        await original(part, deps)

    monkeypatch.setattr(audience, "route_part", held)
    cause = await n.question("bob", "Which CNI do you run?", tags=("kubernetes",))

    async def holding() -> bool:
        return sum(started.values()) > 0

    await eventually(holding, what="the bulk worker holds a part")

    answer = await n.answer("bob", "m00", "Which CNI do you run?")  # to bob, personal

    async def bob_told():
        return [i for i in await n.inbox("bob") if i.cause_id == answer]

    await eventually(bob_told, what="the answer in bob's inbox")
    js = n.nc.jetstream()
    consumer = await js.consumer_info(fanout_stream(n.region), "notifications-bulk")
    assert consumer.num_pending + consumer.num_ack_pending == 4  # no part routed yet
    assert set((await told(n, cause)).values()) == {0}

    gate.set()
    await eventually(lambda: _all_told(n, cause), what="the fan-out done")


async def _all_told(n, cause: str) -> bool:
    return set((await told(n, cause)).values()) == {1}


async def test_a_part_redelivered_after_a_crash_between_its_record_and_its_items_tells_each_once(
    start_notifications, nc, nats_url, region, monkeypatch
):
    crashed, held, real = asyncio.Event(), Counter(), InboxChannel.send

    async def send(channel: InboxChannel, dispatch: Dispatch) -> None:
        if dispatch.cause_type == QuestionPostedV1.TYPE and not crashed.is_set():
            held[dispatch.notification.recipient.member_id] += 1
            await crashed.wait()  # the service dies before this item is sent
            raise Crash("the service is gone")
        await real(channel, dispatch)

    monkeypatch.setattr(InboxChannel, "send", send)
    options = {"fanout_part_size": PART_SIZE, "ack_wait": 2.0}
    settings = settings_for(NotificationsSettings, region, nats_url, channels=["inbox"],
                            chores_interval=0.2, **options)  # fmt: skip
    store = NotificationsStore.for_region(region, access.KEYRING)
    first = build_app(settings, store, Clock())
    async with running(first):
        n = Notifications(nc, region, Clock(), store, first)
        await community(n)
        cause = await n.question("bob", "Which CNI do you run?", tags=("kubernetes",))

        async def records_stored_and_items_held() -> bool:
            return sum(held.values()) == 2 * PART_SIZE  # the two parts in hand, all held

        await eventually(records_stored_and_items_held, what="two parts' items held")
        records = [key async for key, _ in store.parts.items("part.*")]
        assert len(records) == 2
    crashed.set()  # and it is gone: nothing of the two parts' items was sent

    n = await start_notifications(**options)  # its memory from the buckets alone

    await each_told_once(n, cause)
    today = n.clock.now.astimezone(ZoneInfo("Europe/Berlin")).date().isoformat()
    assert {m: n.store.interruptions(m, today) for m in MEMBERS} == dict.fromkeys(MEMBERS, 1)
    parts = [held.value async for _, held in n.store.parts.items("part.*")]
    assert sorted(p.number for p in parts) == [1, 2, 3, 4]
    assert all(p.delivered_at for p in parts)
    assert sorted(len(p.sent) for p in parts) == [5, 10, 10, 10]
    decided = [await n.store.ledger.get(delivery_key(cause, m, "route")) for m in MEMBERS]
    assert decided == [None] * len(MEMBERS), "decided by the parts' records, not one by one"
    assert [entry async for entry in n.store.budget.items()] == []
