"""Communities over a real nats-server: create, update, archive; join, leave, roles."""

from __future__ import annotations

from shared.contracts import membership as m
from shared.naming import Streams
from tests.helpers import events_of_type, settled
from tests.slice import hire_data

PEOPLE = ("fac", "ana", "ben", "dan")


async def hire_people(world, *people: str) -> list[str]:
    """Hire ``people`` (HR ids; :data:`PEOPLE` if none) and return their member ids."""
    for person in people or PEOPLE:
        await world.hire(
            hire_data(person, person.title(), "eu", "Europe/Berlin", {"go": "advanced"})
        )
    return await world.wait_for_members(*(people or PEOPLE))


async def create(
    world, community_id: str, access: str = "public", actor: str | None = None, **extra
):
    """``actor`` (a member id; fac's if not given) creates the community."""
    return await world.cmd(
        "membership",
        "create_community",
        {
            "actor_id": actor or world.id("fac"),
            "community_id": community_id,
            "name": community_id.title(),
            "access": access,
            "topics": ["go"],
            **extra,
        },
    )


async def test_a_created_community_is_listed_with_its_facilitator_as_member(services, world):
    fac, ana, _, _ = await hire_people(world)
    view = await create(world, "golang", description="Go at the company")
    assert view["facilitator_ids"] == [fac]
    assert view["viewer_role"] == "facilitator"
    assert view["member_count"] == 1
    listed = await world.qry("membership", "list_communities", {"viewer_id": ana})
    assert [c["community_id"] for c in listed["items"]] == ["golang"]
    assert listed["next_cursor"] is None
    members = await world.qry(
        "membership", "community_members", {"viewer_id": ana, "community_id": "golang"}
    )
    assert [(e["member_id"], e["role"]) for e in members["items"]] == [(fac, "facilitator")]


async def test_creating_twice_is_harmless_but_another_definition_conflicts(services, world):
    fac, *_ = await hire_people(world)
    first = await create(world, "golang")
    assert await create(world, "golang") == first
    error = await world.refused(
        "cmd",
        "membership",
        "create_community",
        {"actor_id": fac, "community_id": "golang", "name": "Other"},
    )
    assert error["code"] == "conflict"
    error = await world.refused(
        "cmd",
        "membership",
        "create_community",
        {"actor_id": fac, "community_id": "x", "name": "X", "facilitator_ids": ["ghost"]},
    )
    assert error == {
        "code": "not_found",
        "message": "facilitators are not members: ghost",
        "details": [],
    }


async def test_only_facilitators_update_or_archive_and_archived_takes_no_members(
    services, world, nc, region
):
    fac, ana, _, _ = await hire_people(world)
    await create(world, "golang")
    refused = await world.refused(
        "cmd",
        "membership",
        "update_community",
        {"actor_id": ana, "community_id": "golang", "name": "Mine"},
    )
    assert refused["code"] == "forbidden"
    updated = await world.cmd(
        "membership",
        "update_community",
        {"actor_id": fac, "community_id": "golang", "name": "Gophers", "topics": ["go", "grpc"]},
    )
    assert (updated["name"], updated["topics"]) == ("Gophers", ["go", "grpc"])
    archived = await world.cmd(
        "membership", "archive_community", {"actor_id": fac, "community_id": "golang"}
    )
    assert archived["archived"] is True
    refused = await world.refused(
        "cmd", "membership", "join_community", {"member_id": ana, "community_id": "golang"}
    )
    assert refused["code"] == "conflict"
    assert "archived" in refused["message"]
    listed = await world.qry("membership", "list_communities", {"viewer_id": ana})
    assert listed["items"] == []
    with_archived = await world.qry(
        "membership", "list_communities", {"viewer_id": ana, "include_archived": True}
    )
    assert [c["name"] for c in with_archived["items"]] == ["Gophers"]
    await settled(nc, region)
    updates = await events_of_type(nc, Streams(region).events, m.CommunityUpdatedV1.TYPE)
    assert [(u["data"]["changed"], u["data"]["archived"]) for u in updates] == [
        (["name", "topics"], False),
        (["archived"], True),
    ]


async def test_join_leave_and_the_last_facilitator_leaving(services, world, nc, region):
    fac, ana, _, _ = await hire_people(world)
    await create(world, "golang")
    joined = await world.cmd(
        "membership", "join_community", {"member_id": ana, "community_id": "golang"}
    )
    assert joined["already_member"] is False
    again = await world.cmd(
        "membership", "join_community", {"member_id": ana, "community_id": "golang"}
    )
    assert again["already_member"] is True
    mine = await world.qry("membership", "member_communities", {"viewer_id": ana, "member_id": ana})
    assert [c["community_id"] for c in mine] == ["golang"]
    await world.cmd("membership", "leave_community", {"member_id": fac, "community_id": "golang"})
    view = await world.qry(
        "membership", "get_community", {"viewer_id": ana, "community_id": "golang"}
    )
    assert view["needs_facilitator"] is True
    assert view["facilitator_ids"] == []
    refused = await world.refused(
        "cmd", "membership", "leave_community", {"member_id": fac, "community_id": "golang"}
    )
    assert refused["code"] == "conflict"
    await settled(nc, region)
    left = await events_of_type(nc, Streams(region).events, m.MemberLeftV1.TYPE)
    assert [(e["data"]["member"]["member_id"], e["data"]["reason"]) for e in left] == [
        (fac, "left")
    ]


async def test_facilitators_add_members_and_change_roles(services, world, nc, region):
    fac, ana, ben, _ = await hire_people(world)
    await create(world, "golang")
    refused = await world.refused(
        "cmd",
        "membership",
        "add_member",
        {"actor_id": ana, "community_id": "golang", "member_id": ben},
    )
    assert refused["code"] == "forbidden"
    await world.cmd(
        "membership",
        "add_member",
        {"actor_id": fac, "community_id": "golang", "member_id": ana},
    )
    view = await world.cmd(
        "membership",
        "change_role",
        {"actor_id": fac, "community_id": "golang", "member_id": ana, "role": "facilitator"},
    )
    assert view["facilitator_ids"] == [fac, ana]
    members = await world.qry(
        "membership", "community_members", {"viewer_id": ben, "community_id": "golang"}
    )
    assert {e["member_id"]: e["role"] for e in members["items"]} == {
        fac: "facilitator",
        ana: "facilitator",
    }
    await settled(nc, region)
    changed = await events_of_type(nc, Streams(region).events, m.RoleChangedV1.TYPE)
    assert [(e["data"]["member"]["member_id"], e["data"]["role"]) for e in changed] == [
        (ana, "facilitator")
    ]
    assert await world.inbox_items(ana, "role_changed")


async def test_members_page_through_a_large_community(services, world):
    fac, *people = await hire_people(world, "fac", *(f"p{n:02d}" for n in range(25)))
    await create(world, "big")
    for person in people:
        await world.cmd(
            "membership", "join_community", {"member_id": person, "community_id": "big"}
        )
    seen, cursor = [], None
    while True:
        page = await world.qry(
            "membership",
            "community_members",
            {"viewer_id": fac, "community_id": "big", "limit": 10, "cursor": cursor},
        )
        seen += [e["member_id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [fac, *people]
    refused = await world.refused(
        "qry",
        "membership",
        "community_members",
        {"viewer_id": fac, "community_id": "big", "cursor": "%%%"},
    )
    assert refused["code"] == "invalid_request"
