"""One question reaches a person once, even when they hear of it for two events: as a member
of its community (or a follower of its tags, or mentioned in it: ``question_posted``) and as
an expert matching picked (``experts_suggested``). The most pressing of the two is the one
they get: a routed alert takes the place of a digest item; what already reached their inbox
is not followed by a second message. Either order of the two events (issue 12: before, a
routed alert now and the same question again in the digest, or two messages at once)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from shared.contracts import matching as x
from shared.contracts.notifications import NotificationSuppressedV1
from shared.naming import Service
from tests.helpers import eventually, settled
from tools.docs import example

TITLE = "Pods cannot reach the API after the upgrade"


def experts_suggested(n, question_id: str, expert: str) -> x.ExpertsSuggestedV1:
    return x.ExpertsSuggestedV1.model_validate({
        **example(x.ExpertsSuggestedV1), "question_id": question_id, "community_id": "c1",
        "asker_id": "bob", "title": TITLE,
        "suggestions": [{"member": n.ref(expert), "score": 0.9,
                         "reasons": ["answered 6 questions on kubernetes, 2 accepted"]}],
    })  # fmt: skip


async def about(n, member: str, *causes: str) -> list:
    """Her inbox items caused by these events (of one question)."""
    return [i for i in await n.inbox(member) if i.cause_id in causes]


async def digest_entries(n, member: str) -> list:
    """What her next digest lists (from the question kept once for all, and her own items)."""
    own = [entry async for entry in n.store.digest.items(f"{member}.>")]
    return own + await n.waiting(member)


async def question_and_member(n, *, follows_tag: bool = False) -> tuple[str, str]:
    """ana is in c1 (her default watch: what is for her now, the rest in her digest); bob
    asks there. The question's id and its event's."""
    await n.member("ana", interests=("kubernetes",) if follows_tag else ())
    await n.member("bob")
    await n.join("ana")
    question_id = f"q-{follows_tag}"
    posted = await n.question("bob", TITLE, tags=("kubernetes",), question_id=question_id)
    return question_id, posted


async def test_a_routed_alert_takes_the_place_of_the_digest_item_of_the_same_question(
    notifications,
):
    n = notifications
    question_id, posted = await question_and_member(n)
    await eventually(lambda: digest_entries(n, "ana"), what="kept for her digest")

    routed = await n.publish(experts_suggested(n, question_id, "ana"), Service.MATCHING)

    (item,) = await eventually(lambda: about(n, "ana", routed), what="the routed alert")
    assert item.kind == "question_for_you"
    await settled(n.nc, n.region)
    assert await digest_entries(n, "ana") == []  # not told again in her digest
    assert len(await about(n, "ana", posted, routed)) == 1


async def test_after_the_question_reached_her_the_routed_alert_is_not_sent_again(notifications):
    n = notifications
    question_id, posted = await question_and_member(n, follows_tag=True)  # for her, now
    (first,) = await eventually(lambda: about(n, "ana", posted), what="told at once")
    assert first.kind == "new_question"

    suggested = await n.publish(experts_suggested(n, question_id, "ana"), Service.MATCHING)

    async def suppressed():
        found = [s for s in await n.statuses(NotificationSuppressedV1.TYPE)
                 if s["cause_id"] == suggested]  # fmt: skip
        return found or None

    (status,) = await eventually(suppressed, what="the second one suppressed")
    assert status["why"] == "you were told of this question already"
    assert [i.kind for i in await about(n, "ana", posted, suggested)] == ["new_question"]
    today = n.clock.now.astimezone(ZoneInfo("Europe/Berlin")).date().isoformat()
    assert n.store.interruptions("ana", today) == 1  # the second one did not count one more


async def test_routed_first_then_posted_reaches_her_once(notifications):
    n = notifications
    await n.member("ana", interests=("kubernetes",))
    await n.member("bob")
    await n.join("ana")
    question_id = "q-routed-first"
    routed = await n.publish(experts_suggested(n, question_id, "ana"), Service.MATCHING)
    (item,) = await eventually(lambda: about(n, "ana", routed), what="the routed alert")
    assert item.kind == "question_for_you"

    posted = await n.question("bob", TITLE, tags=("kubernetes",), question_id=question_id)

    await settled(n.nc, n.region)
    assert [i.kind for i in await about(n, "ana", routed, posted)] == ["question_for_you"]
    assert await digest_entries(n, "ana") == []
