"""After a member is erased, nothing notifications holds for other members quotes them: the
inbox item "X joined ...", the push held for quiet hours, the digest item and the message
waiting in the outbox are rewritten to speak of a former member, and the old bytes go."""

from __future__ import annotations

from datetime import time

from services.notifications.domain.erasure import FORMER_MEMBER
from services.notifications.domain.model import Contact
from services.notifications.domain.preferences import Window
from shared.contracts import membership as m
from shared.contracts.notifications import InboxItem
from shared.naming import Service, Streams, inbox_subject, query_subject
from shared.storage import scan, walk
from tests.helpers import eventually, request
from tools.docs import example

NAME, EMAIL = "Zdenka Quibbleworth", "zdenka.quibbleworth@example.com"


async def test_what_others_were_told_about_an_erased_member_no_longer_quotes_them(notifications):
    n = notifications
    for member in ("lena", "uma", "ana", "zq"):
        await n.member(member)
    await n.store.contacts.put("zq", Contact("zq", NAME, EMAIL, 1))
    await n.prefer("lena", quiet_hours=Window(time(0), time(23, 59)))  # pushes held
    await n.prefer("uma", daily_budget=0)  # to the digest
    await n.prefer("ana", quiet_hours=None)
    await n.webhook("ana", "http://127.0.0.1:9/never-answers")  # stays in the outbox
    await n.publish(joined("zq", facilitators=("lena", "uma", "ana"), n=n), Service.MEMBERSHIP)

    await eventually(lambda: _all_told(n), what="the facilitators told who joined")
    assert await stored_quotes(n), "the test must first find what it then expects rewritten"

    erased = m.MemberErasedV1(member=n.ref("zq"), erased_at=n.clock.now, request_ref="PRIV-1")
    await n.publish(erased, Service.MEMBERSHIP)

    await eventually(lambda: _none(stored_quotes(n)), what="no record quoting zq")
    (item,) = [i for i in await n.inbox("lena") if i.kind == "member_joined"]
    assert item.title.startswith(f"{FORMER_MEMBER} joined")
    # their own inbox goes after the quotes are rewritten (the erasure's last step)
    await eventually(lambda: _none(n.inbox("zq")), what="zq's own inbox erased")


def joined(member_id: str, *, facilitators: tuple[str, ...], n) -> m.MemberJoinedV1:
    profile = {**example(m.MemberProfile), **n.ref(member_id), "region": n.region,
               "timezone": "Europe/Berlin"}  # fmt: skip
    return m.MemberJoinedV1.model_validate({
        **example(m.MemberJoinedV1), "community_id": "c1", "community_name": "Go",
        "member": profile, "facilitators": [n.ref(f) for f in facilitators],
        "joined_at": n.clock.now,
    })  # fmt: skip


async def _all_told(n) -> bool:
    inboxes = [await n.inbox(member) for member in ("lena", "uma", "ana")]
    told = all(any(NAME in item.title for item in inbox) for inbox in inboxes)
    held = [key async for key, _ in n.store.held.items("lena.*")]
    digest = [key async for key, _ in n.store.digest.items("uma.*")]
    return told and bool(held) and bool(digest) and bool(await _outbox(n))


async def _outbox(n) -> list[bytes]:
    js = n.nc.jetstream()  # the suite's own (admin) client: the service may read less
    return [data async for *_, data in walk(js, Streams(n.region).outbox)]


async def stored_quotes(n) -> list[str]:
    """Every stored message (each revision, for buckets) of the inbox, the outbox, the held,
    digest, bulletins and ledger buckets that holds the name or the e-mail address."""
    js, streams = n.nc.jetstream(), Streams(n.region)
    found = [(streams.outbox, data) for data in await _outbox(n)]
    for stream in (streams.inbox, *(f"KV_{kv.bucket}" for kv in
                   (n.store.held, n.store.digest, n.store.bulletins, n.store.ledger))):  # fmt: skip
        found += [(stream, data) async for *_, data in scan(js, stream)]
    return [
        f"{stream}: {data[:80]!r}"
        for stream, data in found
        if NAME.encode() in data or EMAIL.encode() in data
    ]


async def _none(probe) -> bool:
    return not await probe


async def test_a_question_kept_for_digests_neither_quotes_nor_names_an_erased_member(
    notifications,
):
    """A question zq asked, and one that mentions zq, each kept once for the digests of the
    community: after zq's erasure neither quotes zq's name nor holds zq's id; the digest
    still lists them."""
    n = notifications
    for member in ("uma", "bob", "zq"):
        await n.member(member)
        await n.join(member)
    await n.store.contacts.put("zq", Contact("zq", NAME, EMAIL, 1))
    asked = await n.question("zq", "Which CNI do you run?")
    mentioning = await n.question("bob", "Rotating certificates?", "@zq did it last year")
    for cause in (asked, mentioning):
        await eventually(lambda cause=cause: n.routed(cause), what="kept for the digests")
    kept = list(n.store.waiting.items.values())
    assert any(b.asker == NAME for b in kept)
    assert any("zq" in b.mentions for b in kept)

    erased = m.MemberErasedV1(member=n.ref("zq"), erased_at=n.clock.now, request_ref="PRIV-1")
    await n.publish(erased, Service.MEMBERSHIP)

    async def forgotten() -> bool:
        stored = [
            data async for *_, data in scan(n.nc.jetstream(), f"KV_{n.store.bulletins.bucket}")
        ]
        return not any(NAME.encode() in d or b'"zq"' in d for d in stored)

    await eventually(forgotten, what="no bulletin quoting or naming zq")
    titles = sorted(i.title for i in await n.waiting("uma"))
    assert titles == ["New question in Community c1: Rotating certificates?",
                      "New question in Community c1: Which CNI do you run?"]  # fmt: skip


async def test_dead_letters_of_failed_deliveries_neither_hold_nor_quote_an_erased_member(
    start_notifications,
):
    n = await start_notifications(delivery_attempts=2)
    for member in ("ana", "zq"):
        await n.member(member)
        await n.prefer(member, quiet_hours=None)
        await n.webhook(member, "http://127.0.0.1:9/never-answers")
    await n.store.contacts.put("zq", Contact("zq", NAME, EMAIL, 1))
    await n.publish(joined("zq", facilitators=("ana", "zq"), n=n), Service.MEMBERSHIP)

    async def both_dead_lettered() -> bool:
        found = await dead_letter_traces(n, "zq")
        kinds = {kind for kind, what in found if what != "zq"}
        return {"letter", "original"} <= kinds and any(what == "zq" for _, what in found)

    await eventually(both_dead_lettered, what="failed deliveries dead-lettered, with originals")

    erased = m.MemberErasedV1(member=n.ref("zq"), erased_at=n.clock.now, request_ref="PRIV-1")
    await n.publish(erased, Service.MEMBERSHIP)

    await eventually(lambda: _none(dead_letter_traces(n)), what="no dead letter quoting zq")
    assert await dead_letter_traces(n, "zq") == []


async def dead_letter_traces(n, member_id: str | None = None) -> list[tuple[str, str]]:
    """(letter or original, what) for each dead letter, and each copy of a dead-lettered
    original, that holds the name or the e-mail address (or, given, the member's id)."""
    js, streams = n.nc.jetstream(), Streams(n.region)
    searched = [NAME, EMAIL] + ([f'"{member_id}"', f".{member_id}."] if member_id else [])
    found = []
    for kind, stream in (
        ("letter", streams.dead_letters),
        ("original", streams.dead_letter_originals),
    ):
        async for *_, subject, headers, data in scan(js, stream):
            held = data + subject.encode() + str(headers).encode()
            found += [(kind, s.strip('".')) for s in searched if s.encode() in held]
    return found


async def test_rewriting_a_full_inbox_keeps_every_item_in_its_place(notifications):
    n = notifications
    js, limit = n.nc.jetstream(), 1_000  # the INBOX stream keeps this many items per member
    await n.member("lena")
    await n.store.contacts.put("zq", Contact("zq", NAME, EMAIL, 1))
    subject = inbox_subject(n.region, "lena")
    for number in range(limit):
        title = f"{NAME} joined Go" if number == limit // 2 else f"item {number}"
        await js.publish(subject, inbox_item(n, f"n{number}", title).model_dump_json().encode())
    before = await inbox_page(n, "lena")

    erased = m.MemberErasedV1(member=n.ref("zq"), erased_at=n.clock.now, request_ref="PRIV-1")
    await n.publish(erased, Service.MEMBERSHIP)

    await eventually(lambda: _none(stored_quotes(n)), what="no record quoting zq")
    items = await n.inbox("lena")
    assert [i.notification_id for i in items] == [f"n{number}" for number in range(limit)]
    assert items[limit // 2].title == f"{FORMER_MEMBER} joined Go"
    after = await inbox_page(n, "lena")
    assert [e["notification_id"] for e in after["items"]] == [
        e["notification_id"] for e in before["items"]
    ]
    assert after["next_before"] == before["next_before"]


def inbox_item(n, notification_id: str, title: str) -> InboxItem:
    return InboxItem(notification_id=notification_id, member_id="lena", kind="member_joined",
                     title=title, body=title, reasons=["you facilitate Go"], cause_id="e1",
                     created_at=n.clock.now)  # fmt: skip


async def inbox_page(n, member_id: str) -> dict:
    """The first page of the member's inbox, newest first, as the inbox query answers."""
    reply = await request(n.nc, query_subject(n.region, Service.NOTIFICATIONS, "inbox"),
                          {"member_id": member_id, "limit": 200})  # fmt: skip
    assert reply["ok"], reply
    return reply["result"]
