"""An ingest event speaks for the system that published it, and for nobody else.

Each publishing system connects with its own credential (as ``guild up`` issues them) and may
publish only on its own subjects; Guild checks that the event's ``source`` is that system's,
and each system's events have a stream of their own, so a ``Nats-Msg-Id`` one system reuses
cannot suppress another's event.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import nats
import pytest
from nats.aio.client import Client

from shared import access
from shared.contracts.content import QuestionPostedV1
from shared.contracts.ingest import PersonHiredV1, QuestionAskedV1
from shared.credentials import connection_options
from shared.naming import Streams, ingest_subject
from tests import access as test_access
from tests.helpers import cloudevent, dead_letters, events_of_type, eventually, settled
from tests.slice import QUESTION, hire_data

pytestmark = pytest.mark.skipif(
    not test_access.enabled, reason="needs the suite's own authorizing nats-server"
)

Speaker = Callable[[str], Awaitable[Client]]


@pytest.fixture
async def speak_as(nats_url: str, region: str) -> AsyncIterator[Speaker]:
    """Connect as a publishing system of ``region``, with the credential its grants give it."""
    clients: list[Client] = []

    async def connect(system: str) -> Client:
        credentials = test_access.issue(access.publishing_system(system, region))
        clients.append(await nats.connect(nats_url, **connection_options(credentials)))
        return clients[-1]

    yield connect
    for client in clients:
        await client.close()


async def _publish(
    nc: Client, system: str, region: str, event: dict[str, Any], msg_id: str | None = None
) -> Any:
    subject = ingest_subject(region, system, event["type"])
    headers = {"Nats-Msg-Id": msg_id or event["id"]}
    return await nc.jetstream().publish(subject, json.dumps(event).encode(), headers=headers)


async def test_an_event_whose_source_is_another_systems_is_dead_lettered_with_the_reason(
    services: Any, world: Any, nc: Client, region: str, speak_as: Speaker
) -> None:
    await world.company()
    portal = await speak_as("portal")
    forged = cloudevent(
        QuestionAskedV1.TYPE,
        {**QUESTION, "question_ref": "forged", "asker_id": world.id("asker")},
        source="/hr-directory",
    )
    await _publish(portal, "portal", region, forged)

    async def letter() -> Any:
        return next((d for d in await dead_letters(nc, region) if d.event_id == forged["id"]), None)

    found = await eventually(letter, what="the forged event's dead letter")
    assert found.consumer == "content-ingest-portal"
    assert "source '/hr-directory' does not belong to portal" in found.reason
    await settled(nc, region)
    assert await events_of_type(nc, Streams(region).events, QuestionPostedV1.TYPE) == []

    own = cloudevent(
        QuestionAskedV1.TYPE,
        {**QUESTION, "question_ref": "own", "asker_id": world.id("asker")},
        source="/portal/eu-intranet",
    )
    await _publish(portal, "portal", region, own)
    await eventually(
        lambda: events_of_type(nc, Streams(region).events, QuestionPostedV1.TYPE),
        what="the portal's own question posted",
    )


async def test_a_nats_msg_id_reused_by_another_publisher_suppresses_nothing(
    services: Any, world: Any, nc: Client, region: str, speak_as: Speaker
) -> None:
    await world.company()
    hr, portal = await speak_as("hr-directory"), await speak_as("portal")
    reused = "0b9a7c55-same-id-from-two-systems"
    hire = cloudevent(
        PersonHiredV1.TYPE,
        hire_data("late", "Kofi Mensah", "eu", "Africa/Accra", {"kubernetes": "expert"}),
        source="/hr-directory",
        event_id=reused,
    )
    question = cloudevent(
        QuestionAskedV1.TYPE,
        {**QUESTION, "question_ref": "reused-id", "asker_id": world.id("asker")},
        source="/portal",
        event_id=reused,
    )
    hired = await _publish(hr, "hr-directory", region, hire)
    asked = await _publish(portal, "portal", region, question)
    assert not hired.duplicate
    assert not asked.duplicate
    assert (hired.stream, asked.stream) == (
        Streams(region).ingest_of("hr-directory"),
        Streams(region).ingest_of("portal"),
    )
    again = await _publish(portal, "portal", region, question)
    assert again.duplicate  # within one publisher, a re-sent event is still stored once

    await world.wait_for_members("late")
    posted = await eventually(
        lambda: events_of_type(nc, Streams(region).events, QuestionPostedV1.TYPE),
        what="the portal's question posted",
    )
    assert [p["data"]["title"] for p in posted] == [QUESTION["title"]]
