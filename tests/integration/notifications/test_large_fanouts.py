"""A question to a whole community is routed in parts on the bulk consumer (issue 12: one
fan-out was one handler call, holding every other alert and outliving ``ack_wait``): a part
that fails is retried alone, the parts done are not routed again, and every member gets one
inbox item; a personal alert is delivered while the parts still wait."""

from __future__ import annotations

import asyncio
from collections import Counter

from services.notifications.delivery.fanout import fanout_stream
from services.notifications.handlers import audience
from shared.contracts.notifications import NotificationDeliveredV1, NotificationsRoutedV1
from tests.helpers import eventually, settled

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

    async def everyone():
        counts = await told(n, cause)
        return counts if all(counts.values()) else None

    await eventually(everyone, what="every member told")
    await settled(n.nc, n.region)
    assert await told(n, cause) == dict.fromkeys(MEMBERS, 1)
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
