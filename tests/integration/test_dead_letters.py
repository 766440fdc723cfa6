"""Bad input never stops a service: each bad message lands in the dead-letter stream with its
reason, and the valid messages around it are processed."""

from __future__ import annotations

import json

from nats.aio.client import Client

from services.membership.bootstrap import build_app
from services.membership.settings import MembershipSettings
from tests.helpers import (
    cloudevent,
    dead_letters,
    eventually,
    publish_event,
    publish_raw,
    request,
    running,
    settings_for,
)
from tests.slice import World


async def registered(nc: Client, region: str, person_id: str) -> bool:
    """The HR person hired is a member, found by their member id (membership draws it)."""
    member_id = await World(nc, region).member_of(person_id)
    if member_id is None:
        return False
    reply = await request(
        nc, f"qry.{region}.membership.get_member", {"viewer_id": member_id, "member_id": member_id}
    )
    return bool(reply["ok"])


def hire(person_id: str) -> dict:
    return {
        "person_id": person_id,
        "display_name": f"Person {person_id}",
        "email": f"{person_id}@example.com",
        "region": "eu",
        "timezone": "Europe/Paris",
        "skills": [{"name": "python", "level": "advanced"}],
    }


async def test_bad_messages_are_dead_lettered_with_reasons_and_good_ones_processed(
    nc, nats_url, region
):
    subject = f"ingest.{region}.hr-directory.hr.person_hired.v1"
    bad_schema = cloudevent(
        "guild.ingest.hr.person_hired.v1",
        {**hire("p-bad"), "timezone": "Mars/Olympus", "email": "nope"},
        event_id="bad-schema",
    )
    unknown = cloudevent("guild.ingest.hr.person_promoted.v1", hire("p-x"), event_id="unknown-type")
    app = build_app(settings_for(MembershipSettings, region, nats_url))
    async with running(app):
        await publish_event(nc, subject, cloudevent("guild.ingest.hr.person_hired.v1", hire("p-1")))
        await publish_raw(nc, subject, b"this is not json", headers={"Nats-Msg-Id": "not-json"})
        await publish_raw(nc, subject, b'{"hello": "world"}', headers={"Nats-Msg-Id": "no-ce"})
        await publish_event(nc, subject, bad_schema)
        await publish_event(nc, f"ingest.{region}.hr-directory.hr.person_promoted.v1", unknown)
        await publish_event(nc, subject, cloudevent("guild.ingest.hr.person_hired.v1", hire("p-2")))

        async def four_letters():
            letters = await dead_letters(nc, region)
            return letters if len(letters) >= 4 else None

        letters = {letter.event_id: letter for letter in await eventually(four_letters)}

        for person in ("p-1", "p-2"):
            assert await eventually(lambda p=person: registered(nc, region, p), what=person)
        assert app.status()["ready"]

    assert set(letters) == {"not-json", "no-ce", "bad-schema", "unknown-type"}
    assert "body is not JSON" in letters["not-json"].reason
    assert letters["not-json"].original_body() == b"this is not json"
    assert "no 'specversion'" in letters["no-ce"].reason
    assert "schema violation" in letters["bad-schema"].reason
    assert (
        "data.timezone: Value error, 'Mars/Olympus' is not an IANA timezone"
        in letters["bad-schema"].reason
    )
    assert "data.email: String should match pattern" in letters["bad-schema"].reason
    assert (
        "unknown event type 'guild.ingest.hr.person_promoted.v1'" in letters["unknown-type"].reason
    )
    for letter in letters.values():
        assert letter.consumer == "membership-ingest-hr-directory"
        assert letter.deliveries == 1  # poison is not retried
    assert json.loads(letters["bad-schema"].body)["id"] == "bad-schema"
