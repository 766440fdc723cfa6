"""Notifications over a real nats-server, on the test's clock, fed the events membership and
content publish, delivering to real local receivers (loopback allowed for them).

The release of held pushes and the digests run every 0.2 s of real time against the test's
clock, so a test moves the clock and waits for what the member gets."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nats.aio.client import Client

from services.notifications.bootstrap import build_app
from services.notifications.domain.endpoints import Endpoint, EndpointKind, new_signing_secret
from services.notifications.domain.model import Notification
from services.notifications.domain.preferences import Preferences
from services.notifications.handlers.schedule import next_digest_of
from services.notifications.settings import NotificationsSettings
from services.notifications.store.buckets import NotificationsStore
from shared.contracts import content as c
from shared.contracts import membership as m
from shared.contracts.base import Contract
from shared.contracts.notifications import InboxItem, NotificationsRoutedV1
from shared.envelope import new_envelope, structured_body
from shared.naming import Service, Streams, source
from shared.runtime import ServiceApp
from tests import access
from tests.helpers import events_of_type, eventually, publish_raw, running, settings_for
from tools.docs import example

NOON_BERLIN = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = NOON_BERLIN

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Notifications:
    """The notifications service on the test's region and clock, and the world around it."""

    nc: Client
    region: str
    clock: Clock
    store: NotificationsStore
    app: ServiceApp
    revisions: dict[str, int] = field(default_factory=dict)

    async def publish(
        self, data: Contract, owner: Service, event_id: str | None = None, key: str | None = None
    ) -> str:
        envelope = new_envelope(
            event_id=event_id or str(uuid.uuid4()),
            source=source(self.region, owner),
            event_type=data.TYPE,
            data=data,
            region=self.region,
        )
        await publish_raw(self.nc, data.subject_in(self.region, key), structured_body(envelope),
                          headers={"Nats-Msg-Id": f"{envelope.id}-{uuid.uuid4()}"})  # fmt: skip
        return envelope.id

    def ref(self, member_id: str) -> dict[str, str]:
        return {"member_id": member_id, "home_region": self.region}

    async def member(
        self, member_id: str, timezone: str = "Europe/Berlin", interests: tuple[str, ...] = ()
    ) -> None:
        """A member homed here, known to notifications once this returns."""
        profile = {**example(m.MemberProfile), **self.ref(member_id), "region": self.region,
                   "timezone": timezone, "interests": list(interests)}  # fmt: skip
        revision = self.revisions[member_id] = self.revisions.get(member_id, 0) + 1
        registered = m.MemberRegisteredV1(member=profile, revision=revision,
                                          registered_at=self.clock.now)  # fmt: skip
        await self.publish(registered, Service.MEMBERSHIP)

        async def known() -> bool:
            person = self.store.people.get(member_id)
            return person is not None and person.revision == revision

        await eventually(known, what=f"{member_id} known to notifications")

    async def contact(self, member_id: str, person_id: str) -> None:
        """Membership's contact of the member, naming their HR person id (by which sign-in
        names them); known to the member API once this returns."""
        revision = self.revisions[member_id] = self.revisions.get(member_id, 0) + 1
        contact = m.MemberContactV1(member_id=member_id, person_id=person_id, revision=revision,
                                    display_name=member_id.title(),
                                    email=f"{member_id}@example.com")  # fmt: skip
        await self.publish(contact, Service.MEMBERSHIP, key=member_id)

        async def known() -> bool:
            return self.store.sign_ins.member_of(person_id) == member_id

        await eventually(known, what=f"{person_id} signs in as {member_id}")

    async def join(self, member_id: str, community_id: str = "c1") -> None:
        person = self.store.people.get(member_id)
        assert person is not None, "register the member first"
        profile = {**example(m.MemberProfile), **self.ref(member_id), "region": self.region,
                   "timezone": person.timezone, "interests": list(person.interests)}  # fmt: skip
        joined = m.MemberJoinedV1.model_validate({
            **example(m.MemberJoinedV1), "community_id": community_id,
            "community_name": f"Community {community_id}", "member": profile,
            "facilitators": [], "joined_at": self.clock.now,
        })  # fmt: skip
        await self.publish(joined, Service.MEMBERSHIP)

        async def in_community() -> bool:
            now = self.store.people.get(member_id)
            return now is not None and community_id in now.communities

        await eventually(in_community, what=f"{member_id} in {community_id}")

    async def community(
        self,
        members: list[str],
        follows: Callable[[str], tuple[str, ...]] = lambda _: (),
        community_id: str = "c1",
    ) -> None:
        """Many members homed here, each following the tags ``follows`` gives, all joining
        ``community_id``: their events published at once, known to notifications once this
        returns."""
        for member_id in members:
            interests = list(follows(member_id))
            profile = {**example(m.MemberProfile), **self.ref(member_id), "region": self.region,
                       "timezone": "Europe/Berlin", "interests": interests}  # fmt: skip
            await self.publish(m.MemberRegisteredV1(member=profile, revision=1,
                                                    registered_at=self.clock.now),
                               Service.MEMBERSHIP)  # fmt: skip
            await self.publish(m.MemberJoinedV1.model_validate({
                **example(m.MemberJoinedV1), "community_id": community_id,
                "community_name": f"Community {community_id}", "member": profile,
                "facilitators": [], "joined_at": self.clock.now,
            }), Service.MEMBERSHIP)  # fmt: skip
        expected = len(set(members) | self.store.people.by_community.get(community_id, set()))

        async def all_in() -> bool:
            return len(self.store.people.by_community.get(community_id, ())) == expected

        await eventually(all_in, deadline=900, what=f"{len(members)} members in {community_id}")

    async def question(self, asker: str, title: str, text: str = "", tags: tuple[str, ...] = (),
                       community_id: str = "c1", event_id: str | None = None,
                       question_id: str | None = None) -> str:  # fmt: skip
        posted = c.QuestionPostedV1(
            question_id=question_id or str(uuid.uuid4()), community_id=community_id,
            community_name=f"Community {community_id}", visibility="public",
            asker=self.ref(asker), title=title, text=text or title, tags=list(tags),
            posted_at=self.clock.now,
        )  # fmt: skip
        return await self.publish(posted, Service.CONTENT, event_id)

    async def answer(self, asker: str, answerer: str, title: str) -> str:
        answered = c.AnswerPostedV1.model_validate({
            **example(c.AnswerPostedV1), "asker": self.ref(asker), "question_title": title,
            "answer": {**example(c.PostRef), "author": self.ref(answerer)},
        })  # fmt: skip
        return await self.publish(answered, Service.CONTENT)

    async def webhook(self, member_id: str, url: str) -> Endpoint:
        endpoint = Endpoint(endpoint_id=f"hook-{member_id}", kind=EndpointKind.WEBHOOK,
                            address=url, secrets=(new_signing_secret(self.clock.now),))  # fmt: skip
        await self.store.save_endpoint(member_id, endpoint)
        return endpoint

    async def prefer(self, member_id: str, **changes: Any) -> None:
        await self.store.save_preferences(member_id, replace(Preferences(), **changes))

    async def inbox(self, member_id: str) -> list[InboxItem]:
        return [item for _, item in await self.store.inbox_items(member_id)]

    async def next_digest(self, member_id: str) -> tuple[datetime, list[Notification]]:
        """When the member's next digest is due and what it lists so far."""
        found = await next_digest_of(self.store, member_id, self.clock.now)
        assert found is not None, f"{member_id} has no digest"
        due, listed = found
        return due, [notification for _, notification in listed]

    async def waiting(self, member_id: str) -> list[Notification]:
        """What the member's next digest lists so far."""
        return (await self.next_digest(member_id))[1]

    async def routed(self, cause_id: str) -> dict[tuple[str, str], int] | None:
        """How many of the event's recipients came to each (action, why); None until said."""
        found = [s for s in await self.statuses(NotificationsRoutedV1.TYPE)
                 if s["cause_id"] == cause_id]  # fmt: skip
        if not found:
            return None
        return {(o["action"], o["why"]): o["count"] for s in found for o in s["outcomes"]}

    async def statuses(self, event_type: str) -> list[dict[str, Any]]:
        return [e["data"] for e in
                await events_of_type(self.nc, Streams(self.region).events, event_type)]  # fmt: skip

    def at(self, moment: datetime) -> None:
        self.clock.now = moment

    def advance(self, **delta: float) -> None:
        self.clock.now += timedelta(**delta)


@pytest.fixture
async def start_notifications(
    nc: Client, nats_url: str, region: str
) -> AsyncIterator[Callable[..., Awaitable[Notifications]]]:
    """Starts notifications with the test's settings (overrides on top); stops it after."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Notifications:
            clock = Clock()
            settings = settings_for(
                NotificationsSettings, region, nats_url, **{
                    "allow_loopback_receivers": True, "delivery_first_retry": 0.2,
                    "delivery_max_retry": 0.5, "chores_interval": 0.2, "channels": ["inbox"],
                    **overrides,
                },
            )  # fmt: skip
            store = NotificationsStore.for_region(region, access.KEYRING)
            app = build_app(settings, store, clock)
            await stack.enter_async_context(running(app))
            return Notifications(nc, region, clock, store, app)

        yield start


@pytest.fixture
async def notifications(
    start_notifications: Callable[..., Awaitable[Notifications]],
) -> Notifications:
    return await start_notifications()
