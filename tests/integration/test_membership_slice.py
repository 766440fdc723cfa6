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
            f"ingest.{region}.hr.person_hired.v1",
            cloudevent("guild.ingest.hr.person_hired.v1", HIRE),
        )

        async def member():
            reply = await request(
                nc,
                f"qry.{region}.membership.get_member",
                {"viewer_id": "e-1001", "member_id": "e-1001"},
            )
            return reply if reply["ok"] else None

        view = (await eventually(member, what="member stored"))["result"]
        assert view["display_name"] == "Lena Vogel"
        assert view["profile"]["skills"][0] == {"name": "kubernetes", "level": "expert"}

        created = await request(
            nc,
            f"cmd.{region}.membership.create_community",
            {
                "actor_id": "e-1001",
                "community_id": "k8s",
                "name": "Kubernetes Operators",
                "topics": ["kubernetes"],
            },
        )
        assert created["ok"], created
        joined = await request(
            nc,
            f"cmd.{region}.membership.join_community",
            {"community_id": "k8s", "member_id": "e-1001"},
        )
        assert joined == {
            "ok": True,
            "result": {"community_id": "k8s", "member_id": "e-1001", "already_member": True},
        }

    streams = Streams(region)
    registered = await events_of_type(nc, streams.events, MemberRegisteredV1.TYPE)
    assert [e["data"]["member"]["member_id"] for e in registered] == ["e-1001"]
    assert "Lena" not in json.dumps(registered)  # no personal data in public events
    contact = await events_of_type(nc, streams.personal, MemberContactV1.TYPE)
    assert contact[0]["data"]["display_name"] == "Lena Vogel"
    joined_events = await events_of_type(nc, streams.events, MemberJoinedV1.TYPE)
    assert joined_events[0]["data"]["role"] == "facilitator"
