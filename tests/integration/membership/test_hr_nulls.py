"""An HR change with an explicit null leaves that field as it was: a null is never stored on
a member, so the member stays readable and later changes still apply."""

from __future__ import annotations

from services.membership.bootstrap import build_app
from services.membership.settings import MembershipSettings
from tests.helpers import dead_letters, eventually, running, settings_for, settled
from tests.slice import World, hire_data

CHANGED = "guild.ingest.hr.person_changed.v1"


async def test_an_explicit_null_in_an_hr_change_leaves_the_field_unchanged(nc, nats_url, region):
    world = World(nc, region)
    async with running(build_app(settings_for(MembershipSettings, region, nats_url))):
        await world.hire(hire_data("ana", "Ana", "eu", "Europe/Lisbon", {"go": "expert"}))
        (ana,) = await world.wait_for_members("ana")
        await world.publish(CHANGED, {"person_id": "ana", "timezone": None, "title": None},
                            event_id="nulls", msg_id=True, source="/hr-directory")  # fmt: skip
        await world.publish(CHANGED, {"person_id": "ana", "region": "us"},
                            event_id="moved", msg_id=True, source="/hr-directory")  # fmt: skip

        async def moved() -> dict | None:
            reply = await world.reply(
                "qry", "membership", "get_member", {"viewer_id": ana, "member_id": ana}
            )
            assert reply["ok"], reply
            profile = reply["result"]["profile"]
            return profile if profile["region"] == "us" else None

        profile = await eventually(moved, what="the later change applied")
        await settled(nc, region)
    assert profile["timezone"] == "Europe/Lisbon"
    assert await dead_letters(nc, region) == []
