"""Hostile input never takes a service down: a message just under max_payload and a body
nested 10,000 levels deep, on an ingest, an event and a request-reply subject of each of the
four services (each its own process), are dead-lettered with a reason or answered with an
error that says why; every service stays ready; and the valid messages right after are
processed."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from shared.messaging.consumer import LETTER_LIMIT
from shared.naming import Streams
from tests import access
from tests.e2e.test_standalone_services import SERVICES, free_port, ready, start_service
from tests.helpers import (
    DEEPLY_NESTED,
    FAST_RETRIES,
    dead_letters,
    eventually,
    near_max_payload,
    request,
    stream_messages,
)
from tests.slice import QUESTION, World


def stored_subjects(region: str) -> dict[str, tuple[str, str]]:
    """subject -> (the consumer that must dead-letter what arrives on it, the event type)."""
    r = region
    return {
        f"ingest.{r}.hr-directory.hr.person_hired.v1":
            ("membership-ingest-hr-directory", "guild.ingest.hr.person_hired.v1"),
        f"evt.{r}.pub.content.skill_suggested.v1":
            ("membership-suggestions", "guild.content.skill_suggested.v1"),
        f"ingest.{r}.portal.content.question_asked.v1":
            ("content-ingest-portal", "guild.ingest.content.question_asked.v1"),
        f"evt.{r}.pub.membership.community_created.v1":
            ("content-membership", "guild.membership.community_created.v1"),
        f"evt.{r}.pub.matching.mentoring_proposed.v1":
            ("matching-mentoring", "guild.matching.mentoring_proposed.v1"),
        f"personal.{r}.membership.member_confidential.v1.m1":
            ("matching-confidential", "guild.membership.member_confidential.v1"),
        f"evt.{r}.local.matching.experts_suggested.v1":
            ("notifications-alerts", "guild.matching.experts_suggested.v1"),
        f"personal.{r}.membership.member_contact.v1.m1":
            ("notifications-personal", "guild.membership.member_contact.v1"),
        f"outbox.{r}.m1": ("notifications-outbox", "guild.notifications.parcel"),
    }  # fmt: skip


def request_subjects(region: str) -> list[str]:
    return [
        f"qry.{region}.membership.get_member",
        f"qry.{region}.content.get_post",
        f"cmd.{region}.matching.decline_question",
        f"qry.{region}.notifications.inbox",
    ]


HUGE = {"person_id": "huge"}


def deeply_nested(event_id: str, event_type: str) -> bytes:
    head = {"specversion": "1.0", "id": event_id, "source": "/hostile", "type": event_type}
    return json.dumps(head).encode()[:-1] + b', "data": ' + DEEPLY_NESTED + b"}"


@pytest.fixture
async def service_processes(nats_url, region, tmp_path: Path, monkeypatch):
    for name, value in FAST_RETRIES.items():
        monkeypatch.setenv(f"GUILD_{name.upper()}", str(value))
    ports = {name: free_port() for name in SERVICES}
    identities = await access.service_environments(nats_url, region)
    processes = {
        name: start_service(
            name, nats_url, region, tmp_path / f"{name}.log", ports[name], identities.get(name)
        )
        for name in SERVICES
    }
    try:
        yield ports
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


async def all_ready(ports: dict[str, int]) -> bool:
    return all([await ready(port) for port in ports.values()])


async def test_hostile_input_on_every_kind_of_subject_of_every_service_is_refused_with_a_reason(
    service_processes, nc, region
):
    await eventually(lambda: all_ready(service_processes), deadline=60, what="services ready")
    js, expected = nc.jetstream(), {}
    for n, (subject, (consumer, event_type)) in enumerate(stored_subjects(region).items()):
        for kind, body in (
            (
                "huge",
                near_max_payload(
                    nc.max_payload, event_type, HUGE, event_id=f"huge-{n}", pad="display_name"
                ),
            ),
            ("deep", deeply_nested(f"deep-{n}", event_type)),
        ):
            await js.publish(subject, body, headers={"Nats-Msg-Id": f"{kind}-{n}"})
            expected[(consumer, f"{kind}-{n}")] = subject
    replies = {
        (subject, kind): await request(nc, subject, body)
        for subject in request_subjects(region)
        for kind, body in (
            ("huge", near_max_payload(nc.max_payload, "x", HUGE, event_id="r", pad="display_name")),
            ("deep", DEEPLY_NESTED),
        )
    }

    async def all_letters() -> dict | None:
        letters = {(d.consumer, d.event_id): d for d in await dead_letters(nc, region)}
        return letters if set(expected) <= set(letters) else None

    letters = await eventually(all_letters, deadline=60, what=f"{len(expected)} dead letters")
    assert await all_ready(service_processes)
    world = World(nc, region)
    await world.company()
    await world.ask({**QUESTION, "asker_id": world.id("asker")})
    await eventually(lambda: world.inbox_items(world.id("exp2"), "question_for_you"), deadline=30)
    assert await all_ready(service_processes)

    for key in expected:
        assert letters[key].reason, key
    assert all("nested deeper than" in letters[k].reason for k in expected if "deep" in k[1])
    stored = await stream_messages(nc, Streams(region).dead_letters)
    assert max(len(data) for _, _, data in stored) < LETTER_LIMIT
    for (subject, kind), reply in replies.items():
        assert reply["ok"] is False, (subject, kind)
        assert reply["error"]["code"] in ("invalid_json", "invalid_request"), (subject, reply)
        assert reply["error"]["message"], (subject, kind)
    assert all(
        "nested deeper than" in reply["error"]["message"]
        for (_, kind), reply in replies.items()
        if kind == "deep"
    )


async def test_a_hostile_body_on_an_advisory_subject_is_dead_lettered_with_a_reason(
    nc, nats_url, region
):
    from services.membership.bootstrap import build_app
    from services.membership.settings import MembershipSettings
    from tests.helpers import running, settings_for

    stream, consumer = Streams(region).ingest_of("hr-directory"), "membership-ingest-hr-directory"
    advisory = f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{consumer}"
    async with running(build_app(settings_for(MembershipSettings, region, nats_url))):
        await nc.jetstream().publish(
            advisory, DEEPLY_NESTED, headers={"Nats-Msg-Id": "deep-advisory"}
        )
        (letter,) = await eventually(lambda: dead_letters(nc, region), what="the dead letter")
    assert letter.consumer == "membership-unsettled"
    assert "advisory is not JSON Guild reads (JSON nested deeper than 64 levels" in letter.reason
