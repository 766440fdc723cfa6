"""Three regions on loopback, each its own JetStream domain behind a hub (as ``guild up
--regions`` and ``deploy/nats/`` join them), each running the four services: what is
published in one region reaches the others through their sourced streams, and each member is
told through their home region's notifications."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from nats.js.errors import KeyNotFoundError

from guild_cli.provisioning import provision_streams
from guild_cli.receivers import HttpReceiver
from guild_cli.regions import LoopbackRegions
from shared.contracts.matching import (
    ExpertsSuggestedV1,
    MatchingHandoverTakenV1,
    MatchingHandoverV1,
)
from shared.contracts.membership import MemberHandoverV1, MemberMovedV1
from shared.contracts.notifications import NotificationsHandoverTakenV1, NotificationsHandoverV1
from shared.naming import Service, Streams, bucket_name, handover_subject
from shared.sealing import new_key_line
from tests import access
from tests.helpers import events_of_type, eventually, running, settled
from tests.integration.test_deleting_keys import raw_hits
from tests.slice import AROUND_THE_CLOCK, QUESTION, World, all_services, hire_data

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
    for region in REGIONS:  # every region's streams before any sources another's, as guild up
        peers = [p for p in REGIONS if p != region]
        await provision_streams(regions.url(region), region, regions.admin_credentials(region),
                                peers)  # fmt: skip
    clients = {r: await access.connect(regions.url(r), own_server=True) for r in REGIONS}
    yield {r: World(nc, r) for r, nc in clients.items()}
    for nc in clients.values():
        await nc.close()


HANDOVER_KEYS = new_key_line("h1")
"""The handover keyring every region holds (a move seals the member's data with it)."""


def every_region_services(regions: LoopbackRegions, **overrides: Any) -> list[Any]:
    return [
        app
        for region in REGIONS
        for app in all_services(
            region,
            regions.url(region),
            peer_regions=[p for p in REGIONS if p != region],
            handover_keys=HANDOVER_KEYS,
            **overrides,
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


async def test_no_region_stores_another_regions_members_personal_data(
    regions: LoopbackRegions, worlds: dict[str, World]
) -> None:
    """Names and e-mail addresses stay in their member's home region: after members of each
    region have been hired, alerted and told of each other, no file of another region's
    JetStream store holds them."""
    people = {"eu": ("Lena Vogel", "fac"), "us": ("Sam Lee", "exp-us"),
              "apac": ("Wei Zhang", "exp-apac")}  # fmt: skip
    async with running(*every_region_services(regions)):
        ids = {}
        for region, (name, person) in people.items():
            tz = {"eu": "Europe/Berlin", "us": "America/New_York", "apac": "Asia/Singapore"}
            ids[region] = await _hire_at_work(
                worlds[region], person, name, tz[region], {"kubernetes": "expert"}
            )
        community = {"actor_id": ids["eu"], "community_id": "k8s", "name": "Kubernetes Operators"}
        await worlds["eu"].cmd("membership", "create_community", community)
        for world in worlds.values():
            await settled(world.nc, world.region)
        await worlds["us"].ask({**QUESTION, "asker_id": ids["us"], "community_id": "k8s"})
        await eventually(
            lambda: worlds["apac"].inbox_items(ids["apac"], "question_for_you"),
            deadline=30, what="apac's expert alerted to the question asked in us",
        )  # fmt: skip
        for world in worlds.values():
            await settled(world.nc, world.region)
    for world in worlds.values():
        await world.nc.drain()
    regions.stop()
    for region, server in regions.servers.items():
        for other, (name, person) in people.items():
            if other == region:
                continue
            for personal in (name, f"{person}@example.com"):
                assert raw_hits(server.store_dir, personal) == [], (region, personal)
    for region, (name, _) in people.items():  # where they belong, they are
        assert raw_hits(regions.servers[region].store_dir, name), region


async def test_a_region_cut_off_keeps_working_and_catches_up_once_the_link_returns(
    regions: LoopbackRegions, worlds: dict[str, World]
) -> None:
    async with running(*every_region_services(regions)):
        experts = {}
        tz = {"eu": "Europe/Berlin", "us": "America/New_York", "apac": "Asia/Singapore"}
        for region in REGIONS:
            experts[region] = await _hire_at_work(
                worlds[region], f"exp-{region}", f"Expert {region}", tz[region],
                {"kubernetes": "expert"},
            )  # fmt: skip
        asker = await _hire_at_work(worlds["eu"], "asker", "Ana Lima", "Europe/Lisbon", {})
        community = {"actor_id": experts["eu"], "community_id": "k8s", "name": "Kubernetes"}
        await worlds["eu"].cmd("membership", "create_community", community)
        await worlds["eu"].cmd("membership", "join_community",
                               {"community_id": "k8s", "member_id": asker})  # fmt: skip
        for world in worlds.values():
            await settled(world.nc, world.region)

        regions.hub.stop()  # every region cut off from the others
        await worlds["eu"].ask({**QUESTION, "asker_id": asker})
        await worlds["us"].ask(
            {**QUESTION, "question_ref": "q-us", "title": "Which etcd backup schedule?",
             "asker_id": experts["us"]}
        )  # fmt: skip
        # each side keeps working alone: eu's expert hears of eu's question
        await eventually(
            lambda: worlds["eu"].inbox_items(experts["eu"], "question_for_you"),
            deadline=30, what="eu's expert alerted while cut off",
        )  # fmt: skip
        assert await worlds["apac"].inbox_items(experts["apac"], "question_for_you") == []

        regions.hub.start()  # the link returns: the regions' streams catch up

        async def told_both(region: str) -> bool:
            items = await worlds[region].inbox_items(experts[region], "question_for_you")
            return len(items) >= (1 if region == "us" else 2)  # us asked one of the two

        for region in REGIONS:
            await eventually(lambda r=region: told_both(r), deadline=60, what=f"{region} caught up")
        for world in worlds.values():
            await settled(world.nc, world.region)
        for region in REGIONS:
            items = await worlds[region].inbox_items(experts[region], "question_for_you")
            titles = sorted(item["title"] for item in items)
            assert len(titles) == len(set(titles)), (region, titles)  # each once


async def test_a_member_homed_elsewhere_joins_a_community_that_its_home_region_administers(
    regions: LoopbackRegions, worlds: dict[str, World]
) -> None:
    """A member homed in us joins a public community homed in eu through us, and asks to join
    a gated one; eu's facilitator sees the request in eu and approves it there; us makes them
    a member. Changing the community through us is refused, naming eu."""
    eu, us = worlds["eu"], worlds["us"]
    async with running(*every_region_services(regions)):
        fac = await _hire_at_work(eu, "fac", "Lena Vogel", "Europe/Berlin", {"sre": "expert"})
        sam = await _hire_at_work(us, "sam", "Sam Lee", "America/New_York", {"sre": "advanced"})
        for community_id, access_kind in (("sre", "public"), ("sre-core", "gated")):
            await eu.cmd("membership", "create_community", {
                "actor_id": fac, "community_id": community_id, "name": community_id.upper(),
                "access": access_kind})  # fmt: skip
        await settled(us.nc, "us")

        joined = await us.cmd("membership", "join_community",
                              {"community_id": "sre", "member_id": sam})  # fmt: skip
        assert joined["already_member"] is False
        request = {"community_id": "sre-core", "member_id": sam, "message": "hi"}
        asked = await us.cmd("membership", "request_to_join", request)
        assert asked["status"] == "pending"

        async def eu_members() -> list[str]:
            page = await eu.qry("membership", "community_members",
                                {"viewer_id": fac, "community_id": "sre"})  # fmt: skip
            return [m["member_id"] for m in page["items"] if m["member_id"] == sam]

        async def eu_requests() -> list[dict]:
            return await eu.qry("membership", "join_requests",
                                {"viewer_id": fac, "community_id": "sre-core"})  # fmt: skip

        await eventually(eu_members, deadline=30, what="eu knows sam joined sre")
        (seen,) = await eventually(eu_requests, deadline=30, what="sam's request in eu")
        assert seen["member_id"] == sam
        assert seen["message"] == ""  # the text stays in us
        decision = {"actor_id": fac, "community_id": "sre-core", "member_id": sam, "approve": True}
        await eu.cmd("membership", "decide_join_request", decision)

        async def sams_communities() -> set[str]:
            found = await us.qry("membership", "member_communities",
                                 {"viewer_id": sam, "member_id": sam})  # fmt: skip
            names = {c["community_id"] for c in found}
            return names if names == {"sre", "sre-core"} else set()

        await eventually(sams_communities, deadline=30, what="sam in both through us")
        refused = await us.refused("cmd", "membership", "update_community", {
            "actor_id": fac, "community_id": "sre", "description": "changed from us"})  # fmt: skip
        assert refused["code"] == "wrong_region", refused
        assert "'eu'" in refused["message"], refused

        # a request from someone erased in their region goes from the community's region too
        ola = await _hire_at_work(us, "ola", "Ola Berg", "America/Chicago", {"sre": "expert"})
        await us.cmd("membership", "request_to_join", {**request, "member_id": ola})
        await eventually(eu_requests, deadline=30, what="ola's request in eu")
        await us.erase("ola")

        async def no_requests_left() -> bool:
            return await eu_requests() == []

        await eventually(no_requests_left, deadline=30, what="ola's request gone from eu")


async def test_a_member_who_moves_region_has_their_data_there_and_erased_behind(
    regions: LoopbackRegions, worlds: dict[str, World]
) -> None:
    """Ana, homed in eu, moves to us (an HR transfer): us holds her record, memberships,
    preferences, channels and inbox under the same member id, and her community homed in eu
    still counts her; no file of eu's (or apac's) JetStream store holds her name, e-mail
    address or channel address any more."""
    eu, us = worlds["eu"], worlds["us"]
    async with (
        HttpReceiver() as receiver,  # her webhook: whatever reaches it before the move
        running(*every_region_services(regions, allow_loopback_receivers=True)),
    ):
        fac = await _hire_at_work(eu, "fac", "Lena Vogel", "Europe/Berlin", {"sre": "expert"})
        ana = await _hire_at_work(eu, "ana", "Ana Lima", "Europe/Lisbon", {"sre": "advanced"})
        await eu.cmd("membership", "create_community",
                     {"actor_id": fac, "community_id": "sre", "name": "SRE"})  # fmt: skip
        await eu.cmd("membership", "join_community", {"community_id": "sre", "member_id": ana})
        practice = await eu.cmd("content", "post_practice", {
            "actor_id": ana, "community_id": "sre", "title": "Error budgets that work",
            "body": "Spend them on purpose."})  # fmt: skip
        hook = {"member_id": ana, "kind": "webhook", "address": f"{receiver.url}/ana"}
        added = await eu.cmd("notifications", "add_endpoint", hook)
        preferences = {"digest": "weekly", "quiet_hours": {"start": "21:00", "end": "07:00"}}
        await eu.cmd("notifications", "set_preferences",
                     {"member_id": ana, "preferences": preferences})  # fmt: skip
        for world in worlds.values():
            await settled(world.nc, world.region)

        await eu.move("ana", "us", timezone="America/New_York")

        async def homed_in_us() -> dict | None:
            reply = await us.reply("qry", "membership", "get_member",
                                   {"viewer_id": ana, "member_id": ana})  # fmt: skip
            return reply["result"] if reply.get("ok") else None

        moved = await eventually(homed_in_us, deadline=30, what="ana's record in us")
        assert moved["profile"]["home_region"] == "us"
        assert moved["profile"]["timezone"] == "America/New_York"
        assert (moved["display_name"], moved["communities"]) == ("Ana Lima", ["sre"])

        async def gone_from_eu() -> bool:
            reply = await eu.reply("qry", "membership", "get_member",
                                   {"viewer_id": ana, "member_id": ana})  # fmt: skip
            return not reply.get("ok")

        await eventually(gone_from_eu, deadline=30, what="ana's record gone from eu")
        page = await eu.qry("membership", "community_members",
                            {"viewer_id": fac, "community_id": "sre"})  # fmt: skip
        assert ana in [m["member_id"] for m in page["items"]]

        async def preferences_in_us() -> bool:
            held = await us.qry("notifications", "preferences", {"member_id": ana})
            return held["digest"] == "weekly" and held["quiet_hours"]["start"] == "21:00:00"

        await eventually(preferences_in_us, deadline=30, what="ana's preferences in us")
        channels = await us.qry("notifications", "endpoints", {"member_id": ana})
        assert channels["endpoints"] == [added["endpoint"]]
        (welcome,) = await us.inbox_items(ana, "welcome")
        assert "SRE" in welcome["title"], welcome

        async def no_channels_left_in_eu() -> bool:
            left = await eu.qry("notifications", "endpoints", {"member_id": ana})
            return left["endpoints"] == []

        await eventually(no_channels_left_in_eu, deadline=30, what="ana's channel gone from eu")
        # her post still names eu as her home: what it brings her reaches her through us
        await eu.cmd("content", "endorse", {"actor_id": fac, "post_id": practice["post_id"]})
        await eventually(lambda: us.inbox_items(ana, "endorsement"), deadline=30,
                         what="the endorsement of her earlier post, in us")  # fmt: skip
        for world in worlds.values():
            await settled(world.nc, world.region)
        assert await eu.inbox(ana) == []
        moved_events = await events_of_type(eu.nc, Streams("eu").events, MemberMovedV1.TYPE)
        assert [e["data"]["from_region"] for e in moved_events] == ["eu"]  # us said so, once
        for confirmation in (NotificationsHandoverTakenV1, MatchingHandoverTakenV1):
            taken = await events_of_type(eu.nc, Streams("eu").events, confirmation.TYPE)
            assert [e["data"]["part"] for e in taken] == [1], confirmation.TYPE
        # each service's handover went through eu's HANDOVER stream and us's (sourced), and
        # was erased on both sides; apac never had one
        carried = {"eu": 3, "us": 3, "apac": 0}
        for region, world in worlds.items():
            info = await world.nc.jetstream().stream_info(Streams(region).handover)
            assert (info.state.last_seq, info.state.messages) == (carried[region], 0), region
        for service in (MemberHandoverV1, NotificationsHandoverV1, MatchingHandoverV1):
            subject = handover_subject("eu", "us", service.TYPE, ana)
            for region in ("eu", "us"):
                info = await worlds[region].nc.jetstream().stream_info(
                    Streams(region).handover, subjects_filter=subject)  # fmt: skip
                assert not info.state.subjects, (region, subject)
    for world in worlds.values():
        await world.nc.drain()
    regions.stop()
    for region in ("eu", "apac"):
        for personal in ("Ana Lima", "ana@example.com"):
            hits = raw_hits(regions.servers[region].store_dir, personal)
            assert hits == [], (region, personal, hits)
    assert raw_hits(regions.servers["us"].store_dir, "Ana Lima")


async def _in_community(world: World, viewer: str, community_id: str, member: str) -> bool:
    page = await world.qry("membership", "community_members",
                           {"viewer_id": viewer, "community_id": community_id})  # fmt: skip
    return member in [m["member_id"] for m in page["items"]]


async def _told_both(
    worlds: dict[str, World], one: tuple[str, str], other: tuple[str, str], kind: str
) -> None:
    for region, member in (one, other):
        await eventually(lambda r=region, m=member: worlds[r].inbox_items(m, kind),
                         deadline=30, what=f"{kind} for {member} in {region}")  # fmt: skip


async def test_mentors_people_to_meet_resources_and_jobs_match_across_regions(
    regions: LoopbackRegions, worlds: dict[str, World]
) -> None:
    """A mentee in eu is proposed a mentor homed in us; a newcomer in eu is proposed to meet a
    member homed in us first; a licence offered in us for eu fits a request in eu; a job
    posted in us reaches, alone, an eu member open to a move. Each is told through their home
    region."""
    eu, us = worlds["eu"], worlds["us"]
    async with running(*every_region_services(regions, chores_interval=0.5)):
        fac = await _hire_at_work(eu, "fac", "Lena Vogel", "Europe/Berlin", {"sre": "expert"})
        sam = await _hire_at_work(us, "sam", "Sam Lee", "America/New_York", {"sre": "expert"})
        ana = await _hire_at_work(eu, "ana", "Ana Lima", "Europe/Lisbon", {"sre": "beginner"})
        await eu.cmd("membership", "create_community",
                     {"actor_id": fac, "community_id": "sre", "name": "SRE"})  # fmt: skip
        await us.cmd("membership", "update_profile", {
            "member_id": sam, "mentoring_offer": {"topics": ["sre"], "capacity": 1}})  # fmt: skip
        await eu.cmd("membership", "update_profile", {"member_id": ana, "open_to_move": True,
                     "mentoring_wish": {"topics": ["sre"], "goals": "on call"}})  # fmt: skip
        for world in worlds.values():
            await settled(world.nc, world.region)
        await us.cmd("membership", "join_community", {"community_id": "sre", "member_id": sam})
        await eventually(lambda: _in_community(eu, fac, "sre", sam), deadline=30,
                         what="eu knows sam joined")  # fmt: skip
        await settled(eu.nc, "eu")
        await eu.cmd("membership", "join_community", {"community_id": "sre", "member_id": ana})

        (intros,) = await eventually(lambda: eu.inbox_items(ana, "people_to_meet"),
                                     deadline=30, what="ana's people to meet")  # fmt: skip
        # the colleague in another region first, named where they are from: not by name
        assert intros["body"].startswith("- A colleague from us:"), intros
        assert "Sam Lee" not in intros["body"]
        await _told_both(worlds, ("eu", ana), ("us", sam), "mentoring_proposed")

        offer = {"actor_id": sam, "community_id": "sre", "resource_kind": "licence_seats",
                 "item": "PagerDuty seat", "quantity": 2, "allowed_regions": ["eu"]}  # fmt: skip
        await us.cmd("content", "offer_resource", offer)
        await settled(eu.nc, "eu")
        await eu.cmd("content", "request_resource", {
            "actor_id": ana, "community_id": "sre", "resource_kind": "licence_seats",
            "item": "PagerDuty seat", "quantity": 1})  # fmt: skip
        await _told_both(worlds, ("eu", ana), ("us", sam), "resource_matched")

        await us.cmd("content", "post_job", {
            "actor_id": sam, "community_id": "sre", "title": "Senior SRE, Lisbon",
            "description": "Run the platform.", "skills": ["sre"], "location": "eu",
            "closing_date": "2099-01-01"})  # fmt: skip
        (job,) = await eventually(lambda: eu.inbox_items(ana, "job_matched"), deadline=30,
                                  what="the job match in ana's region")  # fmt: skip
        assert job["title"] == "An opening for you: Senior SRE, Lisbon"
        for world in worlds.values():
            await settled(world.nc, world.region)
        assert await us.inbox_items(sam, "job_matched") == []


async def _routing_open(world: World, question_id: str) -> bool:
    """Whether the region's matching still routes the question (its routing state is kept)."""
    routing = await world.nc.jetstream().key_value(
        bucket_name(Service.MATCHING, "routing", world.region))  # fmt: skip
    try:
        await routing.get(question_id)
    except KeyNotFoundError:
        return False
    return True


async def test_the_region_at_work_asks_now_the_one_off_work_waits_and_an_answer_stops_all(
    regions: LoopbackRegions, worlds: dict[str, World]
) -> None:
    """Follow the sun: a question asked in eu alerts apac's expert, at work, at once; us's
    expert is off for days, so us holds its wave for when they start (and says so), without
    asking anyone else's members; apac's answer ends the routing in every region, so us never
    asks them."""
    eu, us, apac = worlds["eu"], worlds["us"], worlds["apac"]
    async with running(*every_region_services(regions, chores_interval=0.5)):
        fac = await _hire_at_work(eu, "fac", "Lena Vogel", "Europe/Berlin", {"go": "expert"})
        asker = await _hire_at_work(eu, "asker", "Ana Lima", "Europe/Lisbon", {"go": "beginner"})
        awake = await _hire_at_work(apac, "exp-apac", "Wei Zhang", "Asia/Singapore",
                                    {"kubernetes": "expert"})  # fmt: skip
        asleep = await _hire_at_work(us, "exp-us", "Sam Lee", "America/New_York",
                                     {"kubernetes": "expert"})  # fmt: skip
        in_three_days = datetime.now(ZoneInfo("America/New_York")) + timedelta(days=3)
        await us.cmd("membership", "update_profile", {"member_id": asleep, "working_hours": {
            **AROUND_THE_CLOCK, "days": [in_three_days.isoweekday()]}})  # fmt: skip
        community = {"actor_id": fac, "community_id": "k8s", "name": "Kubernetes Operators"}
        await eu.cmd("membership", "create_community", community)
        for world in worlds.values():
            await settled(world.nc, world.region)
        for world, member in ((eu, asker), (apac, awake), (us, asleep)):
            await world.cmd("membership", "join_community",
                            {"community_id": "k8s", "member_id": member})  # fmt: skip
        for world in worlds.values():
            await settled(world.nc, world.region)

        await eu.ask({**QUESTION, "asker_id": asker})
        await eventually(lambda: apac.inbox_items(awake, "question_for_you"), deadline=30,
                         what="apac's expert, at work, alerted")  # fmt: skip

        async def us_waits() -> list[dict]:
            # local events: us's own matching's, never sourced from the other regions
            return await events_of_type(us.nc, Streams("us").events, ExpertsSuggestedV1.TYPE)

        (notice,) = await eventually(us_waits, deadline=30, what="us's wave held")
        assert notice["data"]["suggestions"] == []
        (waiting,) = notice["data"]["waiting"]
        assert waiting["member"]["member_id"] == asleep
        assert datetime.fromisoformat(waiting["not_before"]) > datetime.now(UTC) + timedelta(days=1)
        question_id = notice["data"]["question_id"]
        assert await _routing_open(us, question_id)

        answer = {"actor_id": awake, "question_id": question_id, "body": "One peer at a time."}
        # apac's content does not hold the question: it says which region does
        refused = await apac.refused("cmd", "content", "post_answer", answer)
        assert refused["code"] == "wrong_region", refused
        assert "'eu'" in refused["message"], refused
        refused = await apac.refused("qry", "content", "get_post",
                                     {"viewer_id": awake, "post_id": question_id})  # fmt: skip
        assert refused["code"] == "wrong_region", refused
        await eu.cmd("content", "post_answer", answer)  # where the question lives
        for world in worlds.values():
            await eventually(lambda w=world: _closed(w, question_id), deadline=30,
                             what=f"routing ended in {world.region}")  # fmt: skip
        for world in worlds.values():
            await settled(world.nc, world.region)
        assert await us.inbox_items(asleep, "question_for_you") == []
        assert len(await apac.inbox_items(awake, "question_for_you")) == 1


async def _closed(world: World, question_id: str) -> bool:
    return not await _routing_open(world, question_id)
