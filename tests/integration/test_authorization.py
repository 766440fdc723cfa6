"""What an intruder tried against an open Guild, tried again on the shipped permissions.

Each identity gets the credential its region's grants give it (the services' from what they
declare, the publishing systems' from the ingest contracts, as ``guild up`` issues them);
each forbidden action is refused by nats-server with a permissions violation, and nothing
changed (streams, messages, consumers as they were).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.api import ConsumerConfig

from services.content.bootstrap import build_app as build_content
from services.content.settings import ContentSettings
from services.matching.bootstrap import build_app as build_matching
from services.matching.settings import MatchingSettings
from services.membership.bootstrap import build_app as build_membership
from services.membership.settings import MembershipSettings
from services.notifications.bootstrap import build_app as build_notifications
from services.notifications.settings import NotificationsSettings
from shared import access
from shared.credentials import connection_options
from shared.messaging.provisioning import apply
from shared.naming import Streams
from shared.publishers import ACTS_FOR_MEMBERS, PUBLISHERS
from tests import access as test_access
from tests.helpers import cloudevent


def _body(event_type: str, data: dict[str, Any], source: str) -> bytes:
    return json.dumps(cloudevent(event_type, data, source=source)).encode()


pytestmark = pytest.mark.skipif(
    not test_access.enabled, reason="needs the suite's own authorizing nats-server"
)

REFUSAL_WAIT = 1.0
"""How long a refused request waits for an answer the server never sends (it sends the
permissions violation instead)."""


@dataclass
class Intruder:
    """A client of one identity, and the errors the server sent it."""

    nc: Client
    errors: list[str] = field(default_factory=list)

    async def refused(self, action: Callable[[], Awaitable[Any]]) -> str:
        """Run ``action``; it must get no answer, and the server must say why."""
        before = len(self.errors)
        with pytest.raises((TimeoutError, NatsError)):
            await asyncio.wait_for(action(), REFUSAL_WAIT)
        return await self._violation_since(before)

    async def refused_subscription(self, subject: str) -> str:
        """Subscribing to ``subject`` must be refused: the server says so (nats-py's subscribe
        itself returns before the server has answered)."""
        before = len(self.errors)
        await self.nc.subscribe(subject)
        await self.nc.flush()
        return await self._violation_since(before)

    async def _violation_since(self, before: int) -> str:
        for _ in range(100):
            if len(self.errors) > before:
                break
            await asyncio.sleep(0.02)
        violations = [e for e in self.errors[before:] if "permissions violation" in e.lower()]
        assert violations, f"no permissions violation reported; errors: {self.errors[before:]}"
        return violations[0]


@pytest.fixture
def nats_url(nats_server: Any) -> str:
    """A server of this module's own: the violations tried here stay out of the session
    server's log, which must show none (see ``tests/conftest.py``)."""
    return str(nats_server.url)


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await test_access.connect(nats_url, own_server=True)
    yield client
    await client.close()


@pytest.fixture
async def identities(nats_url: str, region: str, nc: Client) -> dict[str, Any]:
    """Every identity of the region with its credential, the region provisioned."""
    apps = [
        build_membership(MembershipSettings(region=region, nats_url=nats_url)),
        build_content(ContentSettings(region=region, nats_url=nats_url)),
        build_matching(MatchingSettings(region=region, nats_url=nats_url)),
        build_notifications(NotificationsSettings(region=region, nats_url=nats_url)),
    ]
    for app in apps:
        await apply(nc.jetstream(), app.topology)
    grants = access.region_grants(
        [app.grants() for app in apps], [access.operator(region), *access.publishers(region)]
    )
    return {g.identity: test_access.issue(g) for g in grants}


@pytest.fixture
async def as_identity(nats_url: str, identities: dict[str, Any]) -> AsyncIterator[Any]:
    clients: list[Client] = []

    async def connect(identity: str) -> Intruder:
        intruder = Intruder(nc=None)  # type: ignore[arg-type]

        async def note(error: Exception) -> None:
            intruder.errors.append(str(error))

        intruder.nc = await nats.connect(
            nats_url, error_cb=note, **connection_options(identities[identity])
        )
        clients.append(intruder.nc)
        return intruder

    yield connect
    for client in clients:
        await client.close()


async def test_an_anonymous_client_cannot_connect(nats_url: str) -> None:
    with pytest.raises(NatsError, match="Authorization Violation"):
        await nats.connect(nats_url, allow_reconnect=False, max_reconnect_attempts=0)


async def test_a_service_cannot_publish_another_services_event(
    as_identity: Any, nc: Client, region: str
) -> None:
    content = await as_identity("content")
    events = Streams(region).events
    before = (await nc.jetstream().stream_info(events)).state.messages
    forged = _body(
        "guild.membership.member_joined.v1",
        {"member_id": "m-intruder", "community_id": "c1", "role": "facilitator"},
        source=f"/guild/{region}/membership",
    )
    subject = f"evt.{region}.pub.membership.member_joined.v1"
    await content.refused(lambda: content.nc.jetstream().publish(subject, forged))
    forged_suggestion = f"evt.{region}.pub.matching.experts_suggested.v1"
    await content.refused(lambda: content.nc.jetstream().publish(forged_suggestion, b"{}"))
    operator = await as_identity("operator")  # replays dead letters through their service
    await operator.refused(lambda: operator.nc.jetstream().publish(subject, forged))
    contact = f"personal.{region}.membership.member_contact.v1.m-intruder"
    await operator.refused(lambda: operator.nc.jetstream().publish(contact, b"{}"))
    assert (await nc.jetstream().stream_info(events)).state.messages == before


async def test_a_service_cannot_read_personal_data_inboxes_or_anothers_bucket(
    as_identity: Any, region: str
) -> None:
    content = await as_identity("content")
    js = content.nc.jetstream()
    streams = Streams(region)
    for stream in (streams.personal, streams.inbox, streams.outbox):
        violation = await content.refused(
            lambda s=stream: js.pull_subscribe(">", stream=s, config=ConsumerConfig(name="peek"))
        )
        assert "CONSUMER.CREATE" in violation.upper()
        await content.refused(lambda s=stream: js.get_msg(s, seq=1))
    endpoints = f"notifications_endpoints_{region}"
    await content.refused(lambda: js.get_last_msg(f"KV_{endpoints}", f"$KV.{endpoints}.x"))
    await content.refused_subscription(f"personal.{region}.>")


async def test_no_service_can_manage_streams_purge_or_delete(
    as_identity: Any, nc: Client, region: str
) -> None:
    streams = Streams(region)
    admin = nc.jetstream()
    ack = await admin.publish(
        f"ingest.{region}.portal.content.question_asked.v1",
        _body("guild.ingest.content.question_asked.v1", {"x": 1}, source="/portal"),
    )
    for identity in ("content", "matching", "notifications"):
        intruder = await as_identity(identity)
        js = intruder.nc.jetstream()
        await intruder.refused(lambda js=js: js.purge_stream(streams.inbox))
        await intruder.refused(lambda js=js: js.delete_stream(streams.events))
        await intruder.refused(lambda js=js: js.delete_msg(ack.stream, ack.seq))
        await intruder.refused(lambda js=js: js.update_stream(name=streams.events, subjects=[">"]))
    assert (await admin.get_msg(ack.stream, seq=ack.seq)).data
    every_stream = set(streams.all(PUBLISHERS))
    assert {s.config.name for s in await admin.streams_info()} >= every_stream


async def test_a_service_cannot_take_another_services_messages(
    as_identity: Any, nc: Client, region: str
) -> None:
    content = await as_identity("content")
    js = content.nc.jetstream()
    events = Streams(region).events
    before = await nc.jetstream().consumer_info(events, "matching-content")
    stolen = await js.pull_subscribe_bind("matching-content", events)
    await content.refused(lambda: stolen.fetch(1, timeout=REFUSAL_WAIT / 2))
    await content.refused(
        lambda: js.add_consumer(events, ConsumerConfig(name="matching-content", filter_subject="x"))
    )
    await content.refused(lambda: js.delete_consumer(events, "matching-content"))
    after = await nc.jetstream().consumer_info(events, "matching-content")
    assert after.config.filter_subject == before.config.filter_subject
    assert after.config.filter_subjects == before.config.filter_subjects


async def test_nobody_reads_everyones_replies(as_identity: Any) -> None:
    for identity in ("content", "hr-directory", "operator"):
        intruder = await as_identity(identity)
        await intruder.refused_subscription("_INBOX.>")
        await intruder.refused_subscription(">")


async def test_a_publishing_system_publishes_only_its_own_ingest_subjects(
    as_identity: Any, nc: Client, region: str
) -> None:
    streams = Streams(region)
    hr = await as_identity("hr-directory")
    portal = await as_identity("portal")
    ingest = [streams.ingest_of(system) for system in PUBLISHERS]
    before = [(await nc.jetstream().stream_info(s)).state.messages for s in ingest]
    question = _body("guild.ingest.content.question_asked.v1", {}, source="/portal")
    hire = _body("guild.ingest.hr.person_hired.v1", {}, source="/hr-directory")
    await hr.refused(
        lambda: hr.nc.jetstream().publish(
            f"ingest.{region}.portal.content.question_asked.v1", question
        )
    )
    await portal.refused(
        lambda: portal.nc.jetstream().publish(
            f"ingest.{region}.hr-directory.hr.person_hired.v1", hire
        )
    )
    await portal.refused(
        lambda: portal.nc.jetstream().publish(f"evt.{region}.pub.content.question_posted.v1", b"{}")
    )
    assert [(await nc.jetstream().stream_info(s)).state.messages for s in ingest] == before
    ack = await hr.nc.jetstream().publish(f"ingest.{region}.hr-directory.hr.person_hired.v1", hire)
    assert ack.stream == streams.ingest_of("hr-directory")
    assert json.loads((await nc.jetstream().get_msg(ack.stream, seq=ack.seq)).data)


async def test_only_a_system_permitted_to_act_for_members_sends_their_requests(
    as_identity: Any, region: str
) -> None:
    """A command acting for another member, or a query reading a private community as a
    viewer it names itself, from any identity but the portal (which signs members in and
    speaks for them) and the operator: refused by the server, so no service ever sees it."""
    join = json.dumps({"community_id": "k8s", "member_id": "m-victim"}).encode()
    peek = json.dumps({"viewer_id": "m-insider", "community_id": "private-board"}).encode()
    acting = f"cmd.{region}.membership.join_community"
    reading = f"qry.{region}.content.community_posts"
    refused = [name for name in PUBLISHERS if name not in ACTS_FOR_MEMBERS]
    for identity in (*refused, "membership", "content", "matching", "notifications"):
        intruder = await as_identity(identity)
        for subject, body in ((acting, join), (reading, peek)):
            await intruder.refused(
                lambda nc=intruder.nc, s=subject, b=body: nc.request(s, b, timeout=REFUSAL_WAIT)
            )
    for identity in (*ACTS_FOR_MEMBERS, "operator"):
        permitted = await as_identity(identity)
        for subject, body in ((acting, join), (reading, peek)):
            await permitted.nc.publish(subject, body)
        await permitted.nc.flush()
        await asyncio.sleep(REFUSAL_WAIT / 2)
        assert not [e for e in permitted.errors if "permissions violation" in e.lower()]
