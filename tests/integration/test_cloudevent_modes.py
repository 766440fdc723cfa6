"""External systems may publish CloudEvents in binary mode (ce-* headers) or structured mode."""

from __future__ import annotations

import json

from tests.helpers import eventually, publish_raw, request
from tests.slice import World, hire_data


async def test_a_binary_mode_hire_is_registered_like_a_structured_one(services, nc, region):
    data = hire_data("bin-1", "Zoë Ångström", "eu", "Europe/Stockholm", {"rust": "advanced"})
    await publish_raw(
        nc,
        f"ingest.{region}.hr-directory.hr.person_hired.v1",
        json.dumps(data).encode(),
        headers={
            "ce-specversion": "1.0",
            "ce-id": "hr%20event%201",
            "ce-source": "/hr-directory",
            "ce-type": "guild.ingest.hr.person_hired.v1",
            "ce-time": "2026-11-25T09:00:00Z",
            "content-type": "application/json",
            "Nats-Msg-Id": "hr-event-1",
        },
    )

    (member_id,) = await World(nc, region).wait_for_members("bin-1")

    async def member():
        reply = await request(
            nc,
            f"qry.{region}.membership.get_member",
            {"viewer_id": member_id, "member_id": member_id},
        )
        return reply["result"] if reply["ok"] else None

    found = await eventually(member, what="binary-mode hire registered")
    assert found["display_name"] == "Zoë Ångström"
    assert found["profile"]["skills"] == [{"name": "rust", "level": "advanced"}]
