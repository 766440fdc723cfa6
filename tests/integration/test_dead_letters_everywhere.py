"""Every consumer of every service dead-letters what it cannot read, and keeps going; a
transient failure is retried with delays before it is given up; a message no handler ever
settles (a crash or a hang) is dead-lettered from JetStream's advisory."""

from __future__ import annotations

import asyncio

from shared.contracts.ingest import QuestionAskedV1
from shared.envelope import Envelope
from shared.ids import derived_id
from shared.runtime import ServiceApp
from shared.settings import GuildSettings
from tests.helpers import (
    cloudevent,
    content_ingest_app,
    dead_letters,
    eventually,
    publish_event,
    publish_raw,
    request,
    running,
    settings_for,
)
from tests.slice import QUESTION, hire_data


def concrete(filter_subject: str, region: str) -> str:
    """A subject the filter matches: any region -> this one, any key -> 'm1'."""
    tokens = filter_subject.split(".")
    tokens[1] = region if tokens[1] == "*" else tokens[1]
    return ".".join("m1" if t == "*" else "x" if t == ">" else t for t in tokens)


async def test_every_consumer_dead_letters_garbage_and_keeps_working(services, world, nc, region):
    consumers = [
        spec
        for app in services
        for spec in app.topology.consumers
        if not spec.durable.endswith("unsettled")
    ]
    assert len(consumers) == 14  # content reads three publishers' streams
    for spec in consumers:
        for n, subject in enumerate(spec.filter_subjects):
            await publish_raw(
                nc,
                concrete(subject, region),
                b"\xff\xfe not even UTF-8",
                headers={"Nats-Msg-Id": f"garbage-{spec.durable}-{n}"},
            )
    expected = sum(len(spec.filter_subjects) for spec in consumers)

    async def all_letters():  # a subject several consumers read gives a letter from each
        letters = await dead_letters(nc, region)
        every_consumer = {d.consumer for d in letters} >= {spec.durable for spec in consumers}
        return letters if len(letters) >= expected and every_consumer else None

    letters = await eventually(all_letters, what=f"{expected} dead letters")
    assert {letter.consumer for letter in letters} == {spec.durable for spec in consumers}
    assert [d.reason for d in letters if "body is not JSON" not in d.reason] == []
    assert all(letter.body_encoding == "base64" for letter in letters)

    await world.company()  # and the services still do their work
    await world.ask({**QUESTION, "asker_id": world.id("asker")})
    await eventually(lambda: world.inbox_items(world.id("exp2"), "question_for_you"))


async def test_a_transient_failure_is_retried_then_dead_lettered_with_the_last_error(
    services, world, nc, region
):
    await world.ask({**QUESTION, "community_id": "never-created", "question_ref": "lost"})

    async def letter():
        return [d for d in await dead_letters(nc, region) if d.consumer == "content-ingest-portal"]

    (found,) = await eventually(letter, what="dead letter after retries")
    assert found.deliveries == 6
    assert found.reason == (
        "failed on all 6 deliveries; last error: "
        "CommunityNotKnownYet: community 'never-created' is not known"
    )


async def test_a_transient_failure_that_clears_up_is_processed(nats_url, nc, region):
    from tests.slice import World, all_services

    apps = all_services(
        region, nats_url, retry_first_delay=0.3, retry_max_delay=0.5, retry_max_deliver=8
    )
    world = World(nc, region)
    async with running(*apps):
        for person in ("fac", "asker"):
            await world.hire(hire_data(person, person.title(), "eu", "Europe/Berlin", {}))
        fac, asker = await world.wait_for_members("fac", "asker")
        asked = await world.ask(
            {**QUESTION, "asker_id": asker, "community_id": "later", "question_ref": "early"}
        )
        await world.call(
            "cmd",
            "membership",
            "create_community",
            {"actor_id": fac, "community_id": "later", "name": "Later"},
        )
        post_id = derived_id("question", asked["source"], "early")

        async def posted():
            reply = await request(
                nc, f"qry.{region}.content.get_post", {"viewer_id": fac, "post_id": post_id}
            )
            return reply["ok"]

        await eventually(posted, what="question stored once its community was known")
    assert await dead_letters(nc, region) == []


async def hang(event: Envelope[QuestionAskedV1], deps: None) -> None:
    await asyncio.sleep(60)


def hanging_replica(settings: GuildSettings) -> ServiceApp:
    return content_ingest_app(settings, "hanging", {QuestionAskedV1: hang})


async def test_a_message_no_handler_ever_settles_is_dead_lettered(nats_url, nc, region):
    """Replicas whose handler hangs (as one that crashes its process would): in-progress acks
    keep each delivery until the handler's time limit, when it is cancelled and left unsettled;
    it times out (ack_wait), until JetStream gives up on the next fetch and says so in an
    advisory, which becomes a dead letter."""
    settings = settings_for(
        GuildSettings, region, nats_url, ack_wait=1.0, retry_max_deliver=2, handler_time_limit=1.5
    )
    async with running(*(hanging_replica(settings) for _ in range(3))):
        event = cloudevent(QuestionAskedV1.TYPE, QUESTION, event_id="stuck")
        await publish_event(nc, f"ingest.{region}.portal.content.question_asked.v1", event)

        async def letter():
            return await dead_letters(nc, region)

        (found,) = await eventually(letter, what="dead letter from the advisory")
    assert found.consumer == "content-hanging"
    assert found.event_id == "stuck"
    assert found.deliveries == 2
    assert "never settled" in found.reason
