"""What one question stores is bounded by the members it is pushed to now, not by the size of
its community (issue 12: every question stored a decision, a digest item and a
``notification_digested`` event per member). Counted over every stream and bucket of the
region, for communities of 30 and of 300 members of whom the same three are pushed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.notifications.domain.preferences import Watch
from services.notifications.domain.waiting import DigestEntry
from shared.contracts import matching as x
from shared.contracts.notifications import NotificationsRoutedV1
from shared.naming import Service
from tests.helpers import eventually, settled
from tools.docs import example

PUSHED = ("k0", "k1", "k2")
"""Follow the question's tag: it is for them, pushed at once."""
PER_PUSHED, PER_EVENT = 8, 6
"""At most this much is stored per member pushed, and per event whatever its audience."""


async def stored(n) -> int:
    """Messages stored in every stream of the region (buckets are streams too)."""
    js = n.nc.jetstream()
    return sum(info.state.messages for info in await js.streams_info()
               if (info.config.name or "").lower().endswith(f"_{n.region}"))  # fmt: skip


async def community_of(n, size: int) -> list[str]:
    """``size`` members of c1 homed here (the PUSHED first), each known to notifications."""
    members = [*PUSHED, *(f"m{k:04d}" for k in range(size - len(PUSHED)))]
    await n.community(members, lambda member_id: ("kubernetes",) if member_id in PUSHED else ())
    return members


@pytest.mark.parametrize("size", [30, 300])
async def test_one_question_stores_per_member_pushed_not_per_member(notifications, size):
    n = notifications
    members = await community_of(n, size)
    await n.member("bob")
    await settled(n.nc, n.region, deadline=120)
    before = await stored(n)

    cause = await n.question("bob", "Which CNI do you run?", tags=("kubernetes",))

    routed = await eventually(lambda: n.routed(cause), what="the question routed")
    assert routed == {
        ("now", ""): len(PUSHED),
        ("digest", "you follow this community in your digest"): size - 3,
    }
    (event,) = [e for e in await n.statuses(NotificationsRoutedV1.TYPE) if e["cause_id"] == cause]
    assert event["recipients"] == size  # one event however many recipients
    await settled(n.nc, n.region)
    added = await stored(n) - before
    assert added <= PER_PUSHED * len(PUSHED) + PER_EVENT, f"{added} messages for one question"

    # the members it waits for see it in their digest; those it was pushed to do not
    digesting = members[len(PUSHED) :]
    for member_id in (digesting[0], digesting[-1]):
        (listed,) = await n.waiting(member_id)
        assert listed.title == "New question in Community c1: Which CNI do you run?"
    assert [await n.waiting(member_id) for member_id in PUSHED] == [[]] * len(PUSHED)


async def test_told_once_across_the_digest_and_a_push(notifications):
    """A member the question waited for in the digest, then picked by matching: the routed
    alert reaches her now, and her digest no longer lists it; the digest goes to the others."""
    n = notifications
    ana, uma = "m0000", "m0001"
    await community_of(n, len(PUSHED) + 2)
    await n.member("bob")
    await n.prefer(uma, watch=(("c1", Watch.DIGEST),))
    question_id = "q-told-once"
    cause = await n.question("bob", "Which CNI?", tags=("kubernetes",), question_id=question_id)
    await eventually(lambda: n.routed(cause), what="routed")
    assert len(await n.waiting(ana)) == 1

    suggested = x.ExpertsSuggestedV1.model_validate({
        **example(x.ExpertsSuggestedV1), "question_id": question_id, "community_id": "c1",
        "asker_id": "bob", "title": "Which CNI?",
        "suggestions": [{"member": n.ref(ana), "score": 0.9, "reasons": ["knows CNI"]}],
    })  # fmt: skip
    routed = await n.publish(suggested, Service.MATCHING)

    async def alerted():
        return [i for i in await n.inbox(ana) if i.cause_id == routed]

    (alert,) = await eventually(alerted, what="the routed alert")
    assert alert.kind == "question_for_you"
    assert await n.waiting(ana) == []

    n.at(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))  # 09:00 in Berlin: the daily digest

    async def digest_of(member_id: str):
        return [i for i in await n.inbox(member_id) if i.kind == "digest"]

    (digest,) = await eventually(lambda: digest_of(uma), what="uma's digest")
    assert "Which CNI?" in digest.body
    await settled(n.nc, n.region)
    assert await digest_of(ana) == []  # the only item was told her at once
    assert [i.cause_id for i in await n.inbox(ana)].count(cause) == 0


async def test_a_digest_item_stored_per_member_before_bulletins_is_still_sent(notifications):
    """Upgrade: digest items kept per member by the earlier design are listed beside the
    bulletins in the member's next digest, then deleted."""
    n = notifications
    await n.member("ana")
    await n.member("bob")
    await n.join("ana")
    old = DigestEntry(due=datetime(2026, 11, 26, 8, 0, tzinfo=UTC), kind="new_question",
                      title="New question in Community c1: Kept the old way?",
                      reasons=("you are a member of Community c1",), at=n.clock.now,
                      why="you follow this community in your digest")  # fmt: skip
    await n.store.digest.put("ana.0123456789abcdef0123456789abcdef", old)
    await n.question("bob", "Kept the new way?")
    await eventually(lambda: n.waiting("ana"), what="the question kept for her digest")

    n.at(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))  # 09:00 in Berlin

    async def digest():
        return [i for i in await n.inbox("ana") if i.kind == "digest"]

    (sent,) = await eventually(digest, what="her digest")
    assert sent.title == "Your digest: 2 items"
    assert "Kept the old way?" in sent.body
    assert "Kept the new way?" in sent.body

    async def drained() -> bool:  # deleted once the digest is sent
        return [key async for key, _ in n.store.digest.items("ana.*")] == []

    await eventually(drained, what="her old digest item deleted")
