"""Matching over a real nats-server, fed the events membership and content publish.

Matching learns only from events, so these tests publish those events as their owners would
(same contracts, same subjects, same envelope) and read what matching publishes. Matching's
clock is the test's, so working hours, budgets and escalation can be walked through; its
chores (escalation waves, mentoring, meeting rounds) run when the test says so.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nats.aio.client import Client

from services.matching.bootstrap import CHORES, build_app
from services.matching.handlers import Deps
from services.matching.settings import MatchingSettings
from services.matching.store.buckets import MatchingStore
from services.notifications.bootstrap import build_app as build_notifications
from services.notifications.settings import NotificationsSettings
from shared.contracts import content as c
from shared.contracts import membership as m
from shared.contracts.base import Contract
from shared.envelope import new_envelope, structured_body
from shared.naming import Service, Streams, source
from shared.runtime import ServiceApp
from tests.helpers import events_of_type, publish_raw, request, running, settings_for, settled
from tools.docs import example

WEDNESDAY_NOON_BERLIN = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
"""12:00 in Berlin, 06:00 in New York, 20:00 in Seoul."""

PLACES = {
    "eu": ("eu", "Europe/Berlin"),
    "us": ("us", "America/New_York"),
    "apac": ("apac", "Asia/Seoul"),
}


@dataclass
class Clock:
    now: datetime = WEDNESDAY_NOON_BERLIN

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Matching:
    """Matching (and notifications) running on the test's region, and the world around it."""

    nc: Client
    region: str
    clock: Clock
    app: ServiceApp
    deps: Deps
    revisions: dict[str, int] = field(default_factory=dict)

    @property
    def store(self) -> MatchingStore:
        return self.deps.store

    # ------------------------------------------------------------------ the world's events

    async def publish(self, data: Contract, owner: Service, key: str | None = None) -> None:
        envelope = new_envelope(
            event_id=str(uuid.uuid4()),
            source=source(self.region, owner),
            event_type=data.TYPE,
            data=data,
            region=self.region,
        )
        await publish_raw(
            self.nc,
            data.subject_in(self.region, key),
            structured_body(envelope),
            headers={"Nats-Msg-Id": envelope.id},
        )

    def profile(self, member_id: str, place: str = "eu", **fields: Any) -> dict[str, Any]:
        region, timezone = PLACES[place]
        return {
            **example(m.MemberProfile),
            "member_id": member_id,
            "home_region": self.region,
            "region": region,
            "timezone": timezone,
            "skills": [],
            **fields,
        }

    async def member(self, member_id: str, place: str = "eu", **fields: Any) -> dict[str, Any]:
        """Register (or update) a member homed in the test's region."""
        profile = self.profile(member_id, place, **fields)
        revision = self.revisions[member_id] = self.revisions.get(member_id, 0) + 1
        if revision == 1:
            event: Contract = m.MemberRegisteredV1(
                member=profile, revision=revision, registered_at=self.clock.now
            )
        else:
            event = m.MemberUpdatedV1.model_validate(
                {**example(m.MemberUpdatedV1), "member": profile, "revision": revision}
            )
        await self.publish(event, Service.MEMBERSHIP)
        return profile

    async def community(
        self, community_id: str, *, private: bool = False, facilitators: tuple[str, ...] = ()
    ) -> None:
        await self.publish(
            m.CommunityCreatedV1.model_validate(
                {
                    **example(m.CommunityCreatedV1),
                    "community_id": community_id,
                    "name": community_id.title(),
                    "visibility": "private" if private else "public",
                    "facilitators": [
                        {"member_id": f, "home_region": self.region} for f in facilitators
                    ],
                    "home_region": self.region,
                }
            ),
            Service.MEMBERSHIP,
        )

    async def join(self, member_id: str, community_id: str, profile: dict[str, Any]) -> None:
        await self.publish(
            m.MemberJoinedV1.model_validate(
                {
                    **example(m.MemberJoinedV1),
                    "community_id": community_id,
                    "community_name": community_id.title(),
                    "member": profile,
                    "facilitators": [],
                    "joined_at": self.clock.now,
                }
            ),
            Service.MEMBERSHIP,
        )

    def _post(
        self, post_id: str, kind: str, community_id: str, author: str, private: bool = False
    ) -> dict[str, Any]:
        return {
            "post_id": post_id,
            "kind": kind,
            "community_id": community_id,
            "community_name": community_id.title(),
            "visibility": "private" if private else "public",
            "author": {"member_id": author, "home_region": self.region},
        }

    async def question(
        self,
        question_id: str,
        asker: str,
        title: str,
        tags: list[str],
        community_id: str = "golang",
        private: bool = False,
    ) -> None:
        await self.publish(
            c.QuestionPostedV1(
                question_id=question_id,
                community_id=community_id,
                community_name=community_id.title(),
                visibility="private" if private else "public",
                asker={"member_id": asker, "home_region": self.region},
                title=title,
                text=title,
                tags=tags,
                posted_at=self.clock.now,
            ),
            Service.CONTENT,
        )

    async def answer(
        self,
        answer_id: str,
        question_id: str,
        author: str,
        title: str,
        tags: list[str],
        community_id: str = "golang",
    ) -> None:
        await self.publish(
            c.AnswerPostedV1(
                answer=self._post(answer_id, "answer", community_id, author),
                question_id=question_id,
                question_title=title,
                question_tags=tags,
                asker={"member_id": "someone", "home_region": self.region},
                first_answer=True,
                posted_at=self.clock.now,
            ),
            Service.CONTENT,
        )

    # ------------------------------------------------------------------ what matching did

    async def sweep(self) -> None:
        """Run matching's chores once, now (as its timer would)."""
        for chore in CHORES:
            await chore(self.deps)

    async def settled(self) -> None:
        await settled(self.nc, self.region)

    async def published(self, contract: type[Contract]) -> list[dict[str, Any]]:
        """The data of every ``contract`` event stored so far, oldest first."""
        await self.settled()
        streams = Streams(self.region)
        stream = streams.for_scope(contract.SCOPE)
        return [e["data"] for e in await events_of_type(self.nc, stream, contract.TYPE)]

    async def command(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A command to matching that must succeed: its result."""
        reply = await request(self.nc, f"cmd.{self.region}.matching.{name}", payload)
        assert reply["ok"], reply
        return reply["result"]

    async def refused(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        reply = await request(self.nc, f"cmd.{self.region}.matching.{name}", payload)
        assert not reply["ok"], reply
        return reply["error"]

    async def inbox(self, member_id: str) -> list[dict[str, Any]]:
        await self.settled()
        subject = f"qry.{self.region}.notifications.inbox"
        reply = await self.nc.request(
            subject, json.dumps({"member_id": member_id}).encode(), timeout=10
        )
        return json.loads(reply.data)["result"]["items"]


@pytest.fixture
def matching_settings() -> dict[str, Any]:
    """Overrides of matching's settings for a test (parametrize or override the fixture)."""
    return {}


@pytest.fixture
async def matching(
    nc: Client, nats_url: str, region: str, matching_settings: dict[str, Any]
) -> AsyncIterator[Matching]:
    clock = Clock()
    settings = settings_for(
        MatchingSettings, region, nats_url, chores_interval=3600, **matching_settings
    )
    store = MatchingStore.for_region(region)
    app = build_app(settings, store=store, clock=clock)
    notifications = build_notifications(settings_for(NotificationsSettings, region, nats_url))
    deps = Deps(
        store=store, events=app.events, region=region, clock=clock, policy=settings.policy()
    )
    async with running(app, notifications):
        harness = Matching(nc, region, clock, app, deps)
        await harness.settled()
        yield harness
