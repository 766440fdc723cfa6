"""Membership on a real nats-server: HR hires become members, joins publish events."""

from __future__ import annotations

import json

from services.membership.bootstrap import build_app
from services.membership.settings import MembershipSettings
from shared.contracts.membership import MemberContactV1, MemberJoinedV1, MemberRegisteredV1
from shared.naming import Streams
from tests.helpers import (
    cloudevent,
    events_of_type,
    eventually,
    publish_event,
    request,
    running,
    settings_for,
)
from tests.slice import World

HIRE = {
    "person_id": "e-1001",
    "display_name": "Lena Vogel",
    "email": "lena.vogel@example.com",
    "region": "eu",
    "timezone": "Europe/Berlin",
    "skills": [{"name": "Kubernetes", "level": "expert"}, {"name": "go", "level": "advanced"}],
}


async def test_a_hire_becomes_a_member_who_can_join_a_community(nc, nats_url, region):
    app = build_app(settings_for(MembershipSettings, region, nats_url))
    async with running(app):
        await publish_event(
            nc,
            f"ingest.{region}.hr-directory.hr.person_hired.v1",
            cloudevent("guild.ingest.hr.person_hired.v1", HIRE),
        )

        (member_id,) = await World(nc, region).wait_for_members("e-1001")
        assert member_id != "e-1001"  # Guild's own id, not the HR one

        async def member():
            reply = await request(
                nc,
                f"qry.{region}.membership.get_member",
                {"viewer_id": member_id, "member_id": member_id},
            )
            return reply if reply["ok"] else None

        view = (await eventually(member, what="member stored"))["result"]
        assert view["display_name"] == "Lena Vogel"
        assert view["profile"]["skills"][0] == {"name": "kubernetes", "level": "expert"}

        created = await request(
            nc,
            f"cmd.{region}.membership.create_community",
            {
                "actor_id": member_id,
                "community_id": "k8s",
                "name": "Kubernetes Operators",
                "topics": ["kubernetes"],
            },
        )
        assert created["ok"], created
        joined = await request(
            nc,
            f"cmd.{region}.membership.join_community",
            {"community_id": "k8s", "member_id": member_id},
        )
        assert joined == {
            "ok": True,
            "result": {"community_id": "k8s", "member_id": member_id, "already_member": True},
        }

    streams = Streams(region)
    registered = await events_of_type(nc, streams.events, MemberRegisteredV1.TYPE)
    assert [e["data"]["member"]["member_id"] for e in registered] == [member_id]
    for personal in ("Lena", "e-1001"):  # no personal data (nor the HR id) in public events
        assert personal not in json.dumps(registered)
    contact = await events_of_type(nc, streams.personal, MemberContactV1.TYPE)
    assert contact[0]["data"]["display_name"] == "Lena Vogel"
    assert (contact[0]["data"]["member_id"], contact[0]["data"]["person_id"]) == (
        member_id,
        "e-1001",
    )
    joined_events = await events_of_type(nc, streams.events, MemberJoinedV1.TYPE)
    assert joined_events[0]["data"]["role"] == "facilitator"
