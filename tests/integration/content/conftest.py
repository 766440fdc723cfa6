from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.slice import hire_data

PEOPLE = {
    "fac": ("eu", "Europe/Berlin", "ACME GmbH"),
    "ana": ("eu", "Europe/Lisbon", "ACME GmbH"),
    "ben": ("us", "America/Chicago", "ACME Inc"),
    "cho": ("apac", "Asia/Seoul", "ACME KK"),
    "dan": ("eu", "Europe/Paris", "ACME SAS"),
}


@dataclass(frozen=True)
class Cast:
    """The member ids membership gave the HR people of :data:`PEOPLE`."""

    fac: str
    ana: str
    ben: str
    cho: str
    dan: str


@pytest.fixture
async def community(services, world):
    """A public community 'golang' facilitated by fac, with ana, ben and cho as members (dan
    is not); content knows all of it."""
    for person, (region, tz, entity) in PEOPLE.items():
        await world.hire(
            {
                **hire_data(person, person.title(), region, tz, {"go": "advanced"}),
                "legal_entity": entity,
            }
        )
    await world.wait_for_members(*PEOPLE)
    await world.cmd(
        "membership",
        "create_community",
        {
            "actor_id": world.id("fac"),
            "community_id": "golang",
            "name": "Gophers",
            "topics": ["go"],
        },
    )
    for person in ("ana", "ben", "cho"):
        await world.cmd(
            "membership",
            "join_community",
            {"member_id": world.id(person), "community_id": "golang"},
        )
    await world.content_sees(world.id("fac"), "golang")
    return "golang"


@pytest.fixture
def cast(community, world) -> Cast:
    """The member ids of the people the community fixture hired."""
    return Cast(**{person: world.id(person) for person in PEOPLE})
