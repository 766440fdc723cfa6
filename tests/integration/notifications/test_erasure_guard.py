"""Nothing reaches an erased member: not from an event that comes after their erasure, nor
from a delivery that was in flight while the erasure ran (the erasure marks them erased
before it erases; a delivery looks at the mark again once its writes are confirmed)."""

from __future__ import annotations

import asyncio

import pytest

from services.notifications.channels.inbox import InboxChannel
from services.notifications.domain.erasure import FORMER_MEMBER
from services.notifications.domain.model import ERASED, Contact, Dispatch, delivery_key
from shared.contracts import membership as m
from shared.naming import Service
from tests.helpers import eventually
from tests.integration.notifications.test_erasure import EMAIL, NAME, joined


class HeldInbox:
    """The inbox channel, holding zq's items until released (a delivery in flight)."""

    def __init__(self) -> None:
        self.reached, self.release, self.sent = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self.send = InboxChannel.send

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = self.send

        async def send(channel: InboxChannel, dispatch: Dispatch) -> None:
            if dispatch.notification.recipient.member_id == "zq":
                self.reached.set()
                await self.release.wait()
            await real(channel, dispatch)
            if dispatch.notification.recipient.member_id == "zq":
                self.sent.set()

        monkeypatch.setattr(InboxChannel, "send", send)


async def test_a_delivery_in_flight_while_the_member_is_erased_leaves_nothing_in_their_inbox(
    notifications, monkeypatch
):
    n, inbox = notifications, HeldInbox()
    inbox.install(monkeypatch)
    for member in ("lena", "zq"):
        await n.member(member)
    await n.store.contacts.put("zq", Contact("zq", NAME, EMAIL, 1))
    await n.publish(joined("zq", facilitators=("lena",), n=n), Service.MEMBERSHIP)
    await asyncio.wait_for(inbox.reached.wait(), 30)  # zq's welcome is being delivered

    forget, forgotten = n.store.forget, asyncio.Event()

    async def watched_forget(member_id: str) -> None:
        await forget(member_id)
        forgotten.set()

    n.store.forget = watched_forget  # type: ignore[method-assign]
    erased = m.MemberErasedV1(member=n.ref("zq"), erased_at=n.clock.now, request_ref="PRIV-1")
    await n.publish(erased, Service.MEMBERSHIP)
    await asyncio.wait_for(forgotten.wait(), 30)  # the erasure is done; the delivery is not

    inbox.release.set()
    await asyncio.wait_for(inbox.sent.wait(), 30)  # the welcome landed after the erasure
    await eventually(lambda: _empty(n, "zq"), what="zq's late welcome erased again")
    assert any(i.kind == "member_joined" for i in await n.inbox("lena"))


async def test_an_event_naming_an_erased_member_that_comes_after_the_erasure_tells_them_nothing(
    notifications,
):
    n = notifications
    for member in ("lena", "zq"):
        await n.member(member)
    await n.store.contacts.put("zq", Contact("zq", NAME, EMAIL, 1))
    erased = m.MemberErasedV1(member=n.ref("zq"), erased_at=n.clock.now, request_ref="PRIV-1")
    await n.publish(erased, Service.MEMBERSHIP)
    await eventually(lambda: _forgotten(n, "zq"), what="zq marked erased and forgotten")

    late = await n.publish(joined("zq", facilitators=("lena",), n=n), Service.MEMBERSHIP)

    await eventually(lambda: n.routed(late), what="the late join routed")
    assert (await n.routed(late)).get(("suppress", ERASED)) == 1
    (told,) = [i for i in await n.inbox("lena") if i.kind == "member_joined"]
    assert told.title.startswith(f"{FORMER_MEMBER} joined"), "the late event names no one"
    assert await n.inbox("zq") == []
    assert n.store.people.get("zq") is None, "a late event brings no profile back"
    welcome = delivery_key(late, "zq", "route")
    assert await n.store.ledger.get(welcome) is None, "no decision stored for zq"


async def _forgotten(n, member_id: str) -> bool:
    return n.store.is_erased(member_id) and n.store.people.get(member_id) is None


async def _empty(n, member_id: str) -> bool:
    return await n.inbox(member_id) == []
