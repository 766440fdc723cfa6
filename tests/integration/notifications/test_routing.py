"""One message per event per member, at the right time: several reasons become one message
with a way to turn each off; quiet hours hold pushes until the window opens; digests go out
at the member's local time across a daylight-saving change; beyond the daily budget,
lower-priority items go to the digest; nothing is sent twice when an event comes again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time

import httpx
from standardwebhooks.webhooks import Webhook

from guild_cli.receivers import HttpReceiver
from services.notifications.domain.preferences import Action, Cadence, Watch, Window
from services.notifications.handlers.schedule import verdict_for
from shared.contracts.notifications import (
    NotificationDeferredV1,
    NotificationDigestedV1,
)
from tests.helpers import eventually, settled


async def test_one_event_for_three_reasons_is_one_message_listing_them_each_with_a_way_off(
    notifications,
):
    n = notifications
    await n.member("ana", interests=("kubernetes",))
    await n.member("bob")
    await n.join("ana")
    async with HttpReceiver() as receiver:
        hook = await n.webhook("ana", receiver.url + "/hook")
        cause = await n.question(
            "bob",
            "etcd certificates expire tomorrow",
            "@ana have you rotated them before?",
            tags=("kubernetes",),
        )
        (request,) = await receiver.wait_for(1)
        # the same event again (a redelivery or a replay) reaches nobody twice
        await n.question(
            "bob",
            "etcd certificates expire tomorrow",
            "@ana have you rotated them before?",
            tags=("kubernetes",),
            event_id=cause,
        )
        await n.question("bob", "a marker question", "@ana marker")
        await receiver.wait_for(2)
    Webhook(hook.secrets[0].secret).verify(request.body, request.headers)
    body = json.loads(request.body)
    assert body["data"]["reasons"] == [
        "bob mentioned you",
        "you follow kubernetes",
        "you are a member of Community c1",
    ]
    links = {link["label"]: link["url"] for link in body["data"]["links"]}
    assert next(iter(links)) == "Open the question"
    turn_off = {label: url for label, url in links.items() if label.startswith("Turn off")}
    assert list(turn_off) == [
        "Turn off: mentions of you",
        "Turn off: you follow kubernetes",
        "Turn off: you are a member of Community c1",
    ]
    assert [r.headers["webhook-id"] for r in receiver.requests].count(
        request.headers["webhook-id"]
    ) == 1
    inbox = [i for i in await n.inbox("ana") if i.cause_id == cause]
    assert len(inbox) == 1
    assert inbox[0].reason_keys == ["mention", "tag:kubernetes", "community:c1"]

    # following one link turns that reason off, and nothing else
    url = turn_off["Turn off: you follow kubernetes"]
    transport = httpx.ASGITransport(app=n.app.api)
    async with httpx.AsyncClient(transport=transport, base_url="http://guild") as client:
        assert (await client.get(url)).status_code == 200  # a form; changes nothing
        assert n.store.preferences_of("ana").reasons_off == frozenset()
        done = await client.post(url, content=b"List-Unsubscribe=One-Click")
    assert done.status_code == 200, done.text
    assert n.store.preferences_of("ana").reasons_off == {"tag:kubernetes"}


async def test_quiet_hours_hold_pushes_until_the_window_opens(notifications):
    n = notifications
    await n.member("ana")
    await n.member("uma", timezone="UTC")
    await n.prefer("uma", quiet_hours=Window(time(20), time(6, 58)))
    n.at(datetime(2026, 11, 25, 21, 30, tzinfo=UTC))  # 22:30 in Berlin: quiet hours
    async with HttpReceiver() as receiver:
        await n.webhook("ana", receiver.url + "/ana")
        await n.webhook("uma", receiver.url + "/uma")
        cause = await n.answer("ana", "bob", "How do we rotate etcd certificates?")
        await n.answer("uma", "bob", "A marker for the release chore")

        async def deferred():
            found = {s["recipient"]["member_id"]: s for s in
                     await n.statuses(NotificationDeferredV1.TYPE)}  # fmt: skip
            return found if len(found) == 2 else None

        statuses = await eventually(deferred, what="both pushes deferred")
        assert statuses["ana"]["why"] == "quiet hours"
        assert statuses["ana"]["until"] == "2026-11-26T07:00:00Z"  # 08:00 in Berlin
        assert statuses["uma"]["until"] == "2026-11-26T06:58:00Z"
        assert [i.cause_id for i in await n.inbox("ana")] == [cause]  # the inbox is silent

        n.at(datetime(2026, 11, 26, 6, 59, tzinfo=UTC))
        (first,) = await receiver.wait_for(1)
        assert first.path == "/uma"  # the chore ran at 06:59: not ana's time yet
        n.at(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
        _, held = await receiver.wait_for(2)
    assert held.path == "/ana"
    assert json.loads(held.body)["data"]["title"].endswith("How do we rotate etcd certificates?")

    async def released() -> bool:  # the chore forgets the held push after sending it
        return [key async for key, _ in n.store.held.items()] == []

    await eventually(released, what="the held push forgotten")


async def test_a_daily_digest_goes_out_at_eight_local_time_across_the_autumn_change(
    notifications,
):
    n = notifications
    await n.member("ana")
    await n.member("uma", timezone="UTC")
    await n.member("bob")
    for member in ("ana", "uma"):
        await n.join(member)
    await n.prefer("ana", watch=(("c1", Watch.DIGEST),), digest_at=time(8))
    await n.prefer("uma", watch=(("c1", Watch.DIGEST),), digest_at=time(6, 45))
    n.at(datetime(2026, 10, 24, 12, 0, tzinfo=UTC))  # Saturday, 14:00 in Berlin (CEST)
    cause = await n.question("bob", "Which CNI do you run?")

    assert await eventually(lambda: n.routed(cause), what="routed") == {
        ("digest", "you follow this community in your digest"): 2
    }
    ana_due, listed = await n.next_digest("ana")
    assert ana_due == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)  # Sunday 08:00 CET, not 06:00
    assert [i.title for i in listed] == ["New question in Community c1: Which CNI do you run?"]
    uma_due, _ = await n.next_digest("uma")
    assert uma_due == datetime(2026, 10, 25, 6, 45, tzinfo=UTC)
    assert not [i for i in await n.inbox("ana") if i.cause_id == cause]
    assert await n.statuses(NotificationDigestedV1.TYPE) == []  # nothing stored per member

    n.at(datetime(2026, 10, 25, 6, 59, tzinfo=UTC))  # 07:59 in Berlin after the change

    async def digest_of(member: str):
        return [i for i in await n.inbox(member) if i.kind == "digest"]

    await eventually(lambda: digest_of("uma"), what="uma's digest")
    assert await digest_of("ana") == []  # the chore ran at 06:59 UTC: not ana's time yet
    n.at(datetime(2026, 10, 25, 7, 0, tzinfo=UTC))
    (digest,) = await eventually(lambda: digest_of("ana"), what="ana's digest")
    assert digest.title == "Your digest: 1 item"
    assert "Which CNI do you run?" in digest.body
    assert await n.waiting("ana") == []  # the next one lists nothing yet
    await settled(n.nc, n.region)
    assert len(await digest_of("ana")) == 1  # sent once


async def test_beyond_the_daily_budget_lower_priority_items_go_to_the_digest(notifications):
    n = notifications
    await n.member("ana")
    await n.member("bob")
    await n.prefer("ana", daily_budget=2, digest=Cadence.DAILY, digest_at=time(17))
    async with HttpReceiver() as receiver:
        await n.webhook("ana", receiver.url + "/hook")
        answers = [await n.answer("ana", "bob", f"Question {k}") for k in range(3)]

        async def in_inbox():
            causes = {i.cause_id for i in await n.inbox("ana")}
            return set(answers) <= causes

        await eventually(in_inbox, what="all three in the inbox")
        mention = await n.question("bob", "urgent", "@ana can you look?")  # high priority
        pushed = await receiver.wait_for(3)

        async def overflowed():
            return [s for s in await n.statuses(NotificationDigestedV1.TYPE)
                    if s["recipient"]["member_id"] == "ana"]  # fmt: skip

        (status,) = await eventually(overflowed, what="one item kept for the digest")
        assert status["why"] == "over today's budget of 2"
        assert status["until"] == "2026-11-25T16:00:00Z"  # 17:00 in Berlin
        kinds = [json.loads(r.body)["data"]["kind"] for r in pushed]
        assert sorted(kinds) == ["answer", "answer", "mention"]
        assert status["cause_id"] in answers

        n.at(datetime(2026, 11, 25, 16, 0, tzinfo=UTC))
        *_, digest = await receiver.wait_for(4)
    sent = json.loads(digest.body)["data"]
    assert sent["kind"] == "digest"
    assert sent["title"] == "Your digest: 1 item"
    inbox = await n.inbox("ana")
    assert mention in {i.cause_id for i in inbox}


async def test_a_muted_community_sends_nothing_and_says_why(notifications):
    n = notifications
    await n.member("ana")
    await n.member("bob")
    await n.join("ana")
    await n.prefer("ana", watch=(("c1", Watch.MUTED),))
    cause = await n.question("bob", "Anyone on call tonight?")

    routed = await eventually(lambda: n.routed(cause), what="the notification routed")
    assert routed == {("suppress", "you muted this community"): 1}
    (bulletin,) = n.store.waiting.items.values()  # why she did not get it, computed
    _, verdict = verdict_for(n.store, "ana", bulletin)
    assert (verdict.action, verdict.why) == (Action.SUPPRESS, "you muted this community")
    assert [i for i in await n.inbox("ana") if i.cause_id == cause] == []
    assert await n.waiting("ana") == []


async def test_a_mention_the_member_turned_off_neither_interrupts_nor_is_listed(notifications):
    """She turned mentions off: a question of her community that mentions her reaches her as
    any question of her community would (her default watch keeps those for the digest), not
    as a high-priority mention pushed at once."""
    n = notifications
    await n.member("ana")
    await n.member("bob")
    await n.join("ana")
    await n.prefer("ana", reasons_off=frozenset({"mention"}))
    async with HttpReceiver() as receiver:
        await n.webhook("ana", receiver.url + "/hook")
        cause = await n.question("bob", "Rotating certificates?", "@ana have you done it?")

        routed = await eventually(lambda: n.routed(cause), what="kept for her digest")
        assert routed == {("digest", "you follow this community in your digest"): 1}
        (listed,) = await n.waiting("ana")
        assert listed.kind == "new_question"
        assert [r.key for r in listed.reasons] == ["community:c1"]
        assert "mention" not in listed.title
        marker = await n.question("bob", "a marker for her webhook", "@ana")  # still off
        assert not receiver.requests  # neither was pushed to her
    assert not [i for i in await n.inbox("ana") if i.cause_id in (cause, marker)]
