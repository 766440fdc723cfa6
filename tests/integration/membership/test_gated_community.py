"""An approval-gated community: a member asks, the facilitator is alerted, approves, and the
member has joined; a denied request tells the member why."""

from __future__ import annotations

from shared.contracts import membership as m
from shared.naming import Streams
from tests.helpers import events_of_type, eventually, settled
from tests.integration.membership.test_communities import create, hire_people


async def test_request_facilitator_alerted_approve_member_joined(services, world, nc, region):
    fac, ana, ben, _ = await hire_people(world)
    await create(world, "guarded", access="gated")
    refused = await world.refused(
        "cmd", "membership", "join_community", {"member_id": ana, "community_id": "guarded"}
    )
    assert refused["code"] == "approval_required"
    asked = await world.cmd(
        "membership",
        "request_to_join",
        {"member_id": ana, "community_id": "guarded", "message": "I run Go services in Berlin"},
    )
    assert asked["status"] == "pending"

    (alert,) = await eventually(
        lambda: world.inbox_items(fac, "join_request"), what="facilitator alerted"
    )
    assert alert["title"] == "Ana asks to join Guarded"
    assert alert["reasons"] == ["you facilitate Guarded"]
    pending = await world.qry(
        "membership", "join_requests", {"viewer_id": fac, "community_id": "guarded"}
    )
    assert [(r["member_id"], r["message"]) for r in pending] == [
        (ana, "I run Go services in Berlin")
    ]
    refused = await world.refused(
        "qry", "membership", "join_requests", {"viewer_id": ben, "community_id": "guarded"}
    )
    assert refused["code"] == "forbidden"

    approved = await world.cmd(
        "membership",
        "decide_join_request",
        {"actor_id": fac, "community_id": "guarded", "member_id": ana, "approve": True},
    )
    assert approved["already_member"] is False
    members = await world.qry(
        "membership", "community_members", {"viewer_id": ana, "community_id": "guarded"}
    )
    assert ana in [e["member_id"] for e in members["items"]]
    assert (
        await world.qry(
            "membership", "join_requests", {"viewer_id": fac, "community_id": "guarded"}
        )
        == []
    )
    (told,) = await eventually(lambda: world.inbox_items(ana, "join_decision"))
    assert told["title"] == "You are now a member of Guarded"

    await settled(nc, region)
    events = Streams(region).events
    joined = [
        e
        for e in await events_of_type(nc, events, m.MemberJoinedV1.TYPE)
        if e["data"]["member"]["member_id"] == ana
    ]
    assert len(joined) == 1
    assert joined[0]["data"]["access"] == "gated"
    (requested,) = await events_of_type(nc, events, m.JoinRequestedV1.TYPE)
    assert requested["data"]["member"]["member_id"] == ana
    assert [f["member_id"] for f in requested["data"]["facilitators"]] == [fac]
    assert "I run Go services" not in str(requested)  # the message stays with membership
    decided = await events_of_type(nc, events, m.JoinRequestDecidedV1.TYPE)
    assert [(d["data"]["approved"], d["data"]["decided_by"]) for d in decided] == [(True, fac)]


async def test_a_denied_request_tells_the_member_why(services, world):
    fac, _, ben, _ = await hire_people(world)
    await create(world, "guarded", access="gated")
    await world.cmd("membership", "request_to_join", {"member_id": ben, "community_id": "guarded"})
    await world.cmd(
        "membership",
        "decide_join_request",
        {
            "actor_id": fac,
            "community_id": "guarded",
            "member_id": ben,
            "approve": False,
            "reason": "this one is for the platform team",
        },
    )
    (told,) = await eventually(lambda: world.inbox_items(ben, "join_decision"))
    assert told["body"] == (
        "Your request to join Guarded was declined: this one is for the platform team"
    )
    members = await world.qry(
        "membership", "community_members", {"viewer_id": ben, "community_id": "guarded"}
    )
    assert ben not in [e["member_id"] for e in members["items"]]
    refused = await world.refused(
        "cmd",
        "membership",
        "decide_join_request",
        {"actor_id": fac, "community_id": "guarded", "member_id": ben, "approve": True},
    )
    assert refused["code"] == "conflict"
