"""A move that cannot be carried out is dead-lettered with its reason, and the member stays
where they are: a region that is no peer, or no handover keyring to seal their data with."""

from __future__ import annotations

import pytest

from services.membership.bootstrap import build_app
from services.membership.settings import MembershipSettings
from shared.contracts.ingest import PersonMovedV1
from shared.sealing import new_key_line
from tests.helpers import dead_letters, eventually, running, settings_for, settled
from tests.slice import World, hire_data


@pytest.mark.parametrize(
    ("peers", "keys", "reason"),
    [
        ([], new_key_line("h1"), "region 'us' is not a peer of this region"),
        (["us"], None, "no handover keyring"),
    ],
)
async def test_a_move_that_cannot_be_carried_out_is_dead_lettered_saying_why(
    nc, nats_url, region, peers, keys, reason
):
    world = World(nc, region)
    settings = settings_for(MembershipSettings, region, nats_url, peer_regions=peers,
                            handover_keys=keys)  # fmt: skip
    async with running(build_app(settings)):
        await world.hire(hire_data("ana", "Ana Lima", region, "Europe/Lisbon", {"go": "expert"}))
        (ana,) = await world.wait_for_members("ana")
        moved = await world.move("ana", "us", timezone="America/New_York")

        async def letters() -> list:
            return [d for d in await dead_letters(nc, region) if d.event_id == moved["id"]]

        (letter,) = await eventually(letters, what="the refused move's dead letter")
        await settled(nc, region)
        reply = await world.reply("qry", "membership", "get_member",
                                  {"viewer_id": ana, "member_id": ana})  # fmt: skip
    assert reason in letter.reason, letter.reason
    assert letter.event_type == PersonMovedV1.TYPE
    assert reply["result"]["profile"]["home_region"] == region  # still homed here
