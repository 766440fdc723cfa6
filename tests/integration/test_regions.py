"""Three regions on loopback, each its own JetStream domain behind a hub (as ``guild up
--regions`` and ``deploy/nats/`` join them), each running the four services: what is
published in one region reaches the others through their sourced streams, and each member is
told through their home region's notifications."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from guild_cli.regions import LoopbackRegions
from tests import access
from tests.helpers import eventually, running, settled
from tests.slice import QUESTION, World, all_services, hire_data

pytestmark = pytest.mark.skipif(not access.enabled, reason="the regions authorize")

REGIONS = ("eu", "us", "apac")


@pytest.fixture
def regions(tmp_path: Path) -> Any:
    with LoopbackRegions(tmp_path / "regions", REGIONS, access.AUTHORITY) as topology:
        yield topology


@pytest.fixture
async def worlds(regions: LoopbackRegions) -> AsyncIterator[dict[str, World]]:
    """The world outside Guild in each region (its HR directory, portal and members' apps),
    speaking to that region's server."""
    clients = {r: await access.connect(regions.url(r), own_server=True) for r in REGIONS}
    yield {r: World(nc, r) for r, nc in clients.items()}
    for nc in clients.values():
        await nc.close()


def every_region_services(regions: LoopbackRegions) -> list[Any]:
    return [
        app
        for region in REGIONS
        for app in all_services(
            region, regions.url(region), peer_regions=[p for p in REGIONS if p != region]
        )
    ]


async def _hire_at_work(world: World, person_id: str, name: str, tz: str, skills: dict) -> str:
    await world.hire(hire_data(person_id, name, world.region, tz, skills))
    (member_id,) = await world.wait_for_members(person_id)
    await world.at_work_around_the_clock(member_id)
    return member_id


async def test_a_question_in_one_region_alerts_suitable_members_in_all_three_once(
    regions: LoopbackRegions, worlds: dict[str, World]
) -> None:
    eu, us, apac = worlds["eu"], worlds["us"], worlds["apac"]
    async with running(*every_region_services(regions)):
        fac = await _hire_at_work(
            eu, "fac", "Lena Vogel", "Europe/Berlin", {"kubernetes": "expert"}
        )
        asker = await _hire_at_work(eu, "asker", "Ana Lima", "Europe/Lisbon", {"go": "beginner"})
        experts = {
            "eu": fac,
            "us": await _hire_at_work(us, "exp-us", "Sam Lee", "America/New_York",
                                      {"kubernetes": "expert"}),
            "apac": await _hire_at_work(apac, "exp-apac", "Wei Zhang", "Asia/Singapore",
                                        {"kubernetes": "advanced"}),
        }  # fmt: skip
        community = {"actor_id": fac, "community_id": "k8s", "name": "Kubernetes Operators"}
        await eu.cmd("membership", "create_community", community)
        await eu.cmd("membership", "join_community", {"community_id": "k8s", "member_id": asker})
        for world in worlds.values():  # every region has heard of everyone and of the community
            await settled(world.nc, world.region)

        await eu.ask({**QUESTION, "asker_id": asker})

        async def alerted(region: str) -> list[dict]:
            return await worlds[region].inbox_items(experts[region], "question_for_you")

        for region in REGIONS:
            await eventually(lambda r=region: alerted(r), deadline=30, what=f"{region}'s expert")
        for world in worlds.values():
            await settled(world.nc, world.region)
        for region in REGIONS:
            assert len(await alerted(region)) == 1, region
        assert await eu.inbox_items(asker, "question_for_you") == []
