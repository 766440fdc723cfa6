"""After an erasure, no service keeps a dead letter naming the erased member: an event about
them that a service could not read (dead-lettered by membership, content, matching and
notifications alike) goes with their other data."""

from __future__ import annotations

import uuid

from shared.contracts.membership import MemberRegisteredV1
from tests.helpers import dead_letters, eventually, publish_event, settled
from tests.slice import hire_data

SERVICES = {"content", "matching", "notifications"}


async def test_an_erasure_takes_every_services_dead_letters_about_the_member(
    services, world, nc, region
):
    await world.hire(hire_data("zed", "Zed Zulu", "eu", "Europe/Berlin", {"go": "advanced"}))
    (zed,) = await world.wait_for_members("zed")
    unreadable = {
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": "/guild/eu/membership",
        "type": MemberRegisteredV1.TYPE, "time": "2026-11-25T09:00:00Z",
        "data": {"member": {"member_id": zed, "home_region": region}, "broken": True},
    }  # fmt: skip
    await publish_event(nc, MemberRegisteredV1.subject_in(region), unreadable)

    async def naming_zed() -> set[str]:
        return {d.service for d in await dead_letters(nc, region) if zed in d.body}

    async def every_service_gave_up() -> bool:
        return await naming_zed() >= SERVICES

    await eventually(every_service_gave_up, what="each service to dead-letter the event")
    await world.erase("zed")
    await settled(nc, region)
    assert await naming_zed() == set()
