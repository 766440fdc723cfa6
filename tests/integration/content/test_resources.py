"""Sharing resources: an offer of two seats, three requests, two handed over in order, the
third told it was not possible, the offer closed; an expired offer cannot be claimed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.contracts import content as c
from shared.naming import Streams
from tests.helpers import events_of_type, eventually, settled
from tests.integration.content.test_posts import post


async def test_two_seats_three_claims_served_in_order_third_declined(
    community, cast, world, nc, region
):
    offer = await post(
        world,
        "offer_resource",
        {
            "actor_id": cast.fac,
            "community_id": community,
            "resource_kind": "licence_seats",
            "item": "GoLand seat",
            "quantity": 2,
            "details": "Spare seats until next renewal.",
        },
    )
    positions = []
    for claimant in (cast.ana, cast.ben, cast.cho):
        claimed = await post(
            world, "claim_resource", {"actor_id": claimant, "offer_id": offer["post_id"]}
        )
        positions.append((claimant, claimed["status"], claimed["position"]))
    assert positions == [(cast.ana, "open", 1), (cast.ben, "open", 2), (cast.cho, "open", 3)]
    again = await world.cmd(
        "content", "claim_resource", {"actor_id": cast.ana, "offer_id": offer["post_id"]}
    )
    assert again["position"] == 1  # claiming twice keeps the first place
    refused = await world.refused(
        "cmd", "content", "hand_over", {"actor_id": cast.ana, "offer_id": offer["post_id"]}
    )
    assert refused["code"] == "forbidden"

    first = await world.cmd(
        "content", "hand_over", {"actor_id": cast.fac, "offer_id": offer["post_id"]}
    )
    second = await world.cmd(
        "content", "hand_over", {"actor_id": cast.fac, "offer_id": offer["post_id"]}
    )
    assert [
        (first["claimant_id"], first["remaining"]),
        (second["claimant_id"], second["remaining"]),
    ] == [(cast.ana, 1), (cast.ben, 0)]
    closed = await world.refused(
        "cmd", "content", "hand_over", {"actor_id": cast.fac, "offer_id": offer["post_id"]}
    )
    assert closed["code"] == "conflict"
    assert "closed (handed_over)" in closed["message"]

    (declined,) = await eventually(
        lambda: world.inbox_items(cast.cho, "claim_declined"), what="the third claimant told"
    )
    assert "not possible" in declined["body"]
    assert await eventually(lambda: world.inbox_items(cast.ana, "claim_served"))
    detail = await world.qry(
        "content", "get_post", {"viewer_id": cast.fac, "post_id": offer["post_id"]}
    )
    assert [(cl["claimant_id"], cl["status"]) for cl in detail["claims"]] == [
        (cast.ana, "handed_over"),
        (cast.ben, "handed_over"),
        (cast.cho, "declined"),
    ]
    assert detail["post"]["details"]["closed"] == "handed_over"
    others_view = await world.qry(
        "content", "get_post", {"viewer_id": cast.dan, "post_id": offer["post_id"]}
    )
    assert others_view["claims"] is None  # only the offerer and facilitators see the queue

    await settled(nc, region)
    events = Streams(region).events
    claimed = await events_of_type(nc, events, c.ResourceClaimedV1.TYPE)
    assert [(e["data"]["claimant"]["member_id"], e["data"]["position"]) for e in claimed] == [
        (cast.ana, 1),
        (cast.ben, 2),
        (cast.cho, 3),
    ]
    handed = await events_of_type(nc, events, c.ResourceHandedOverV1.TYPE)
    assert [(e["data"]["claimant"]["member_id"], e["data"]["remaining"]) for e in handed] == [
        (cast.ana, 1),
        (cast.ben, 0),
    ]
    (no,) = await events_of_type(nc, events, c.ResourceClaimDeclinedV1.TYPE)
    assert no["data"]["claimant"]["member_id"] == cast.cho
    (done,) = await events_of_type(nc, events, c.ResourceOfferClosedV1.TYPE)
    assert (done["data"]["reason"], done["data"]["handed_over"]) == ("handed_over", 2)


async def test_an_expired_offer_cannot_be_claimed_and_its_queue_is_told(community, cast, world):
    soon = datetime.now(UTC) + timedelta(seconds=1)
    offer = await post(
        world,
        "offer_resource",
        {
            "actor_id": cast.fac,
            "community_id": community,
            "resource_kind": "hardware",
            "item": "Raspberry Pi 5",
            "quantity": 1,
            "expires_at": soon.isoformat(),
        },
    )
    await post(world, "claim_resource", {"actor_id": cast.ben, "offer_id": offer["post_id"]})

    async def refused_as_expired():
        reply = await world.reply(
            "cmd", "content", "claim_resource", {"actor_id": cast.ana, "offer_id": offer["post_id"]}
        )
        return reply["error"] if not reply["ok"] and reply["error"]["code"] == "expired" else None

    error = await eventually(refused_as_expired, what="claims refused once expired")
    assert "expired" in error["message"]
    # the housekeeping sweep (every 0.2 s in tests) closes it and tells who was waiting
    (told,) = await eventually(lambda: world.inbox_items(cast.ben, "claim_declined"))
    assert "expired" in told["body"]


async def test_offers_limited_to_regions_or_legal_entities_refuse_others(community, cast, world):
    offer = await post(
        world,
        "offer_resource",
        {
            "actor_id": cast.fac,
            "community_id": community,
            "resource_kind": "compute",
            "item": "GPU hours",
            "quantity": 5,
            "allowed_regions": ["eu"],
            "allowed_legal_entities": ["ACME GmbH"],
        },
    )
    ok = await post(world, "claim_resource", {"actor_id": cast.ana, "offer_id": offer["post_id"]})
    assert ok["status"] == "open"
    by_region = await world.refused(
        "cmd", "content", "claim_resource", {"actor_id": cast.ben, "offer_id": offer["post_id"]}
    )
    assert (by_region["code"], by_region["message"]) == (
        "forbidden",
        "the offer is for members in eu",
    )
    by_entity = await world.refused(
        "cmd", "content", "claim_resource", {"actor_id": cast.dan, "offer_id": offer["post_id"]}
    )
    assert by_entity["message"] == "the offer is for members of ACME GmbH"


async def test_closing_an_offer_declines_the_claims_still_waiting(
    community, cast, world, nc, region
):
    offer = await post(
        world,
        "offer_resource",
        {
            "actor_id": cast.fac,
            "community_id": community,
            "resource_kind": "other",
            "item": "Conference ticket",
            "quantity": 1,
        },
    )
    await post(world, "claim_resource", {"actor_id": cast.ana, "offer_id": offer["post_id"]})
    closed = await world.cmd(
        "content", "close_offer", {"actor_id": cast.fac, "offer_id": offer["post_id"]}
    )
    assert closed["details"]["closed"] == "closed"
    (told,) = await eventually(lambda: world.inbox_items(cast.ana, "claim_declined"))
    assert "the offerer closed the offer" in told["body"]
    late = await world.refused(
        "cmd", "content", "claim_resource", {"actor_id": cast.ben, "offer_id": offer["post_id"]}
    )
    assert (late["code"], late["message"]) == ("conflict", "the offer is closed (closed)")
    await settled(nc, region)
    (done,) = await events_of_type(nc, Streams(region).events, c.ResourceOfferClosedV1.TYPE)
    assert (done["data"]["reason"], done["data"]["handed_over"]) == ("closed", 0)
