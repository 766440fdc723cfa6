"""The slice's actors for tests: services in-process, and an outside world that uses plain
nats-py (as the HR directory, the intranet portal and a member's app would)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import Client

from services.content.bootstrap import build_app as build_content
from services.content.settings import ContentSettings
from services.matching.bootstrap import build_app as build_matching
from services.matching.settings import MatchingSettings
from services.membership.bootstrap import build_app as build_membership
from services.membership.settings import MembershipSettings
from services.notifications.bootstrap import build_app as build_notifications
from services.notifications.settings import NotificationsSettings
from shared.contracts.membership import MemberErasedV1
from shared.naming import Streams, ingest_subject
from shared.runtime import ServiceApp
from tests.helpers import (
    cloudevent,
    events_of_type,
    eventually,
    request,
    running,
    settings_for,
    settled,
)


def all_services(region: str, nats_url: str, **overrides: Any) -> list[ServiceApp]:
    return [
        build_membership(settings_for(MembershipSettings, region, nats_url, **overrides)),
        build_content(settings_for(ContentSettings, region, nats_url, **overrides)),
        build_matching(settings_for(MatchingSettings, region, nats_url, **overrides)),
        build_notifications(settings_for(NotificationsSettings, region, nats_url, **overrides)),
    ]


async def running_slice(region: str, nats_url: str) -> AsyncIterator[list[ServiceApp]]:
    apps = all_services(region, nats_url)
    async with running(*apps):
        yield apps


AROUND_THE_CLOCK = {"start": "00:00", "end": "23:59:59.999999", "days": [1, 2, 3, 4, 5, 6, 7]}


def hire_data(person_id: str, name: str, region: str, tz: str, skills: dict[str, str]) -> dict:
    return {
        "person_id": person_id,
        "display_name": name,
        "email": f"{person_id}@example.com",
        "region": region,
        "timezone": tz,
        "skills": [{"name": n, "level": lvl} for n, lvl in skills.items()],
    }


@dataclass
class World:
    """Everything outside Guild, speaking plain NATS."""

    nc: Client
    region: str
    ids: dict[str, str] = field(default_factory=dict)
    """The member id membership gave each HR person id hired (see :meth:`wait_for_members`)."""

    def id(self, person_id: str) -> str:
        """The member id of ``person_id``, hired and waited for."""
        return self.ids[person_id]

    async def publish(
        self, event_type: str, data: dict, *, event_id: str | None, msg_id: bool, source: str
    ) -> dict:
        """Publish an ingest event as another system would; ``msg_id=False`` leaves out the
        ``Nats-Msg-Id``, so that a re-sent event is stored twice and Guild must absorb it."""
        event = cloudevent(event_type, data, source=source, event_id=event_id)
        subject = ingest_subject(self.region, source.split("/")[1], event_type)
        headers = {"Nats-Msg-Id": event["id"]} if msg_id else None
        await self.nc.jetstream().publish(subject, json.dumps(event).encode(), headers=headers)
        return event

    async def erase(self, person_id: str, request_ref: str = "PRIV-1") -> list[dict]:
        """The HR directory asks for the person's erasure; waits for membership to finish
        (its ``member_erased``) and returns the erasure events."""
        member_id = self.ids[person_id]
        await self.publish(
            "guild.ingest.hr.erasure_requested.v1",
            {"person_id": person_id, "request_ref": request_ref},
            event_id=None,
            msg_id=True,
            source="/hr-directory",
        )

        async def erased() -> list[dict]:
            stored = await events_of_type(self.nc, Streams(self.region).events, MemberErasedV1.TYPE)
            return [e for e in stored if e["data"]["member"]["member_id"] == member_id]

        return await eventually(erased, what=f"{person_id}'s erasure")

    async def move(self, person_id: str, to_region: str, timezone: str | None = None) -> dict:
        """The HR directory of the person's home region: they move to ``to_region``."""
        data = {"person_id": person_id, "to_region": to_region}
        if timezone is not None:
            data["timezone"] = timezone
        return await self.publish(
            "guild.ingest.hr.person_moved.v1", data, event_id=None, msg_id=True,
            source="/hr-directory",
        )  # fmt: skip

    async def hire(self, data: dict, *, event_id: str | None = None, msg_id: bool = True) -> dict:
        return await self.publish(
            "guild.ingest.hr.person_hired.v1",
            data,
            event_id=event_id,
            msg_id=msg_id,
            source="/hr-directory",
        )

    async def ask(self, data: dict, *, event_id: str | None = None, msg_id: bool = True) -> dict:
        return await self.publish(
            "guild.ingest.content.question_asked.v1",
            data,
            event_id=event_id,
            msg_id=msg_id,
            source="/portal",
        )

    async def reply(self, kind: str, service: str, name: str, payload: dict) -> dict:
        """The whole reply: ``{"ok": ..., "result" or "error": ...}``."""
        return await request(self.nc, f"{kind}.{self.region}.{service}.{name}", payload)

    async def call(self, kind: str, service: str, name: str, payload: dict) -> dict:
        """The result of a request that must succeed."""
        reply = await self.reply(kind, service, name, payload)
        assert reply["ok"], reply
        return reply["result"]

    async def refused(self, kind: str, service: str, name: str, payload: dict) -> dict:
        """The error of a request that must be refused."""
        reply = await self.reply(kind, service, name, payload)
        assert not reply["ok"], reply
        return reply["error"]

    async def cmd(self, service: str, name: str, payload: dict) -> dict:
        return await self.call("cmd", service, name, payload)

    async def qry(self, service: str, name: str, payload: dict) -> dict:
        return await self.call("qry", service, name, payload)

    async def content_sees(self, viewer_id: str, community_id: str) -> None:
        """Until content has heard of the community, and of ``viewer_id`` being in it if it
        is private (content learns both from membership's events)."""

        async def visible() -> bool:
            reply = await self.reply(
                "qry",
                "content",
                "community_posts",
                {"viewer_id": viewer_id, "community_id": community_id},
            )
            return bool(reply["ok"])

        await eventually(visible, what=f"content to know {community_id} for {viewer_id}")

    async def member_of(self, person_id: str) -> str | None:
        """The member id membership gave the HR person, once they are registered."""
        subject = f"qry.{self.region}.membership.find_member"
        reply = await request(self.nc, subject, {"person_id": person_id})
        return reply["result"]["member_id"] if reply["ok"] else None

    async def wait_for_members(self, *person_ids: str) -> list[str]:
        """Until each HR person hired is a member; their member ids (kept in :attr:`ids`)."""
        for person_id in person_ids:
            self.ids[person_id] = await eventually(
                lambda p=person_id: self.member_of(p), what=f"member {person_id}"
            )
        return [self.ids[p] for p in person_ids]

    async def inbox(self, member_id: str) -> list[dict]:
        page = await self.call("qry", "notifications", "inbox", {"member_id": member_id})
        return page["items"]

    async def inbox_items(self, member_id: str, kind: str) -> list[dict]:
        return [item for item in await self.inbox(member_id) if item["kind"] == kind]

    async def at_work_around_the_clock(self, member_id: str) -> None:
        """So that who is alerted does not depend on the hour the tests run."""
        await self.call("cmd", "membership", "update_profile",
                        {"member_id": member_id, "working_hours": AROUND_THE_CLOCK})  # fmt: skip

    async def company(self) -> None:
        """A facilitator, two experts and a newcomer (HR ids fac, exp1, exp2 and asker; their
        member ids in :attr:`ids`); one community."""
        for data in (
            hire_data("fac", "Lena Vogel", "eu", "Europe/Berlin", {"kubernetes": "expert"}),
            hire_data("exp1", "Sam Lee", "us", "America/New_York", {"etcd": "expert"}),
            hire_data("exp2", "Wei Zhang", "apac", "Asia/Singapore", {"kubernetes": "advanced"}),
            hire_data("asker", "Ana Lima", "us", "America/Sao_Paulo", {"kubernetes": "expert"}),
        ):
            await self.hire(data)
        cast = await self.wait_for_members("fac", "exp1", "exp2", "asker")
        for member in cast:
            await self.at_work_around_the_clock(member)
        await self.call(
            "cmd",
            "membership",
            "create_community",
            {"actor_id": self.id("fac"), "community_id": "k8s", "name": "Kubernetes Operators"},
        )
        for member in cast:
            await self.call(
                "cmd", "membership", "join_community", {"community_id": "k8s", "member_id": member}
            )
        # Until matching has every profile change (their hours around the clock): a question
        # routed before would find exp2 outside Singapore's working hours, and hold them back.
        await settled(self.nc, self.region)


QUESTION = {
    "question_ref": "q-1",
    "community_id": "k8s",
    "asker_id": "asker",
    "title": "How do we rotate etcd certificates?",
    "text": "Our etcd certificates expire soon; what is the safe order?",
    "tags": ["kubernetes"],
}
