"""Members over a real nats-server: profiles, snoozing, suggested skills, the confidential flag,
HR changes and departures, and commands repeated with the same request_id."""

from __future__ import annotations

import json

from shared.contracts import membership as m
from shared.contracts.content import SkillSuggestedV1
from shared.naming import Streams
from tests.helpers import events_of_type, eventually, settled
from tests.integration.membership.test_communities import create, hire_people
from tests.slice import hire_data

PROFILE = {
    "about": "I keep our Go services fast and boring.",
    "working_hours": {"start": "08:30", "end": "16:30", "days": [1, 2, 3, 4]},
    "languages": ["en", "pt"],
    "skills": [{"name": "go", "level": "expert"}, {"name": "Kubernetes", "level": "advanced"}],
    "interests": ["observability"],
    "mentoring_offer": {"topics": ["go"], "capacity": 2},
    "mentoring_wish": {"topics": ["leadership"], "goals": "lead a team within a year"},
    "open_to_move": True,
}


async def test_a_member_updates_their_profile_and_others_see_only_the_public_part(
    services, world, nc, region
):
    _, ana, ben, _ = await hire_people(world)
    own = await world.cmd("membership", "update_profile", {**PROFILE, "member_id": ana})
    assert own["about"] == PROFILE["about"]
    assert own["open_to_move"] is True
    assert own["mentoring_goals"] == "lead a team within a year"
    assert own["profile"]["skills"] == [
        {"name": "go", "level": "expert"},
        {"name": "kubernetes", "level": "advanced"},
    ]
    seen = await world.qry("membership", "get_member", {"viewer_id": ben, "member_id": ana})
    assert seen["display_name"] == "Ana"
    for private in ("email", "about", "mentoring_goals", "open_to_move", "pending_skills"):
        assert seen[private] is None
    assert seen["profile"]["mentoring_offer"] == {"topics": ["go"], "capacity": 2}
    assert seen["profile"]["working_hours"]["start"] == "08:30:00"

    await settled(nc, region)
    public = json.dumps(await events_of_type(nc, Streams(region).events, m.MemberUpdatedV1.TYPE))
    assert ana in public
    for secret in ("fast and boring", "lead a team", "open_to_move", "ana@example.com"):
        assert secret not in public
    confidential = await events_of_type(nc, Streams(region).personal, m.MemberConfidentialV1.TYPE)
    assert confidential[-1]["data"]["open_to_move"] is True


async def test_snoozing_shows_in_the_public_profile_until_resumed(services, world):
    _, ana, _, _ = await hire_people(world)
    snoozed = await world.cmd("membership", "snooze", {"member_id": ana, "until": "2099-01-01"})
    assert (snoozed["profile"]["status"], snoozed["profile"]["snoozed_until"]) == (
        "snoozed",
        "2099-01-01",
    )
    refused = await world.refused(
        "cmd", "membership", "snooze", {"member_id": ana, "until": "2000-01-01"}
    )
    assert refused["code"] == "conflict"
    resumed = await world.cmd("membership", "resume", {"member_id": ana})
    assert resumed["profile"]["status"] == "active"


async def test_an_accepted_answer_suggests_a_skill_the_member_confirms_or_rejects(
    services, world, nc, region
):
    fac, ana, _, _ = await hire_people(world)
    await create(world, "golang")
    await world.content_sees(fac, "golang")
    question = await eventually(lambda: _post_question(world, fac), what="question posted")
    answer = await world.cmd(
        "content",
        "post_answer",
        {
            "actor_id": ana,
            "question_id": question["post_id"],
            "body": "Use errgroup with a context.",
        },
    )
    await world.cmd("content", "accept_answer", {"actor_id": fac, "answer_id": answer["post_id"]})

    async def pending():
        own = await world.qry("membership", "get_member", {"viewer_id": ana, "member_id": ana})
        return own["pending_skills"] if len(own["pending_skills"]) == 2 else None

    suggestions = await eventually(pending, what="skill suggestions")
    assert {s["skill"] for s in suggestions} == {"concurrency", "channels"}  # go: declared
    assert "was accepted" in suggestions[0]["reason"]
    # one message for the acceptance, saying that its topics are suggested: not one per skill
    (told,) = await eventually(lambda: world.inbox_items(ana, "answer_accepted"))
    assert "(go, concurrency, channels) are suggested for your skills" in told["body"]
    await settled(nc, region)
    kinds = [i["kind"] for i in await world.inbox(ana)]
    assert kinds.count("answer_accepted") == 1
    assert "skill_suggestion" not in kinds  # before: one more message per suggested skill
    confirmed = await world.cmd(
        "membership",
        "decide_skill",
        {"member_id": ana, "skill": "concurrency", "confirm": True, "level": "advanced"},
    )
    assert {"name": "concurrency", "level": "advanced"} in confirmed["profile"]["skills"]
    rejected = await world.cmd(
        "membership", "decide_skill", {"member_id": ana, "skill": "channels", "confirm": False}
    )
    assert rejected["pending_skills"] == []
    suggested = await events_of_type(nc, Streams(region).events, SkillSuggestedV1.TYPE)
    assert {(e["data"]["member"]["member_id"], e["data"]["skill"]) for e in suggested} == {
        (ana, "go"),
        (ana, "concurrency"),
        (ana, "channels"),
    }
    assert "channels" not in [s["name"] for s in rejected["profile"]["skills"]]


async def _post_question(world, actor_id: str):
    reply = await world.reply(
        "cmd",
        "content",
        "post_question",
        {
            "actor_id": actor_id,
            "community_id": "golang",
            "title": "Cancel goroutines cleanly?",
            "text": "How do you stop a fan-out of goroutines on the first error?",
            "tags": ["go", "concurrency", "channels"],
        },
    )
    return reply["result"] if reply["ok"] else None


async def test_hr_changes_update_the_member_and_the_manager_chains_below(
    services, world, nc, region
):
    for person, manager in (("ceo", None), ("cto", "ceo"), ("lead", "cto"), ("dev", "lead")):
        await world.hire(
            {
                **hire_data(person, person.upper(), "eu", "Europe/Berlin", {}),
                **({"manager_id": manager} if manager else {}),
            }
        )
    ceo, _, lead, dev = await world.wait_for_members("ceo", "cto", "lead", "dev")
    await world.publish(
        "guild.ingest.hr.person_changed.v1",
        {"person_id": "lead", "manager_id": "ceo", "region": "us", "timezone": "America/Chicago"},
        event_id=None,
        msg_id=True,
        source="/hr-directory",
    )

    async def chain_of_dev():
        confidential = await events_of_type(
            nc, Streams(region).personal, m.MemberConfidentialV1.TYPE
        )
        chains = [e["data"]["manager_chain"] for e in confidential if e["data"]["member_id"] == dev]
        return chains[-1] if chains and chains[-1] == [lead, ceo] else None

    assert await eventually(chain_of_dev, what="dev's chain after lead moved") == [lead, ceo]
    moved = await world.qry("membership", "get_member", {"viewer_id": lead, "member_id": lead})
    assert (moved["profile"]["region"], moved["profile"]["timezone"]) == ("us", "America/Chicago")


async def test_a_departure_hands_facilitation_on_and_flags_communities_left_without(
    services, world, nc, region
):
    fac, ana, ben, _ = await hire_people(world)
    await create(world, "handed")
    await create(world, "orphaned")
    await world.cmd("membership", "join_community", {"member_id": ana, "community_id": "handed"})
    await world.publish(
        "guild.ingest.hr.person_departed.v1",
        {"person_id": "fac", "departed_on": "2026-11-30", "successor_id": "ana"},
        event_id=None,
        msg_id=True,
        source="/hr-directory",
    )

    async def departed():
        reply = await world.reply(
            "qry", "membership", "get_member", {"viewer_id": ben, "member_id": fac}
        )
        return reply["error"]["code"] == "not_found" if not reply["ok"] else False

    await eventually(departed, what="departure processed")
    handed = await world.qry(
        "membership", "get_community", {"viewer_id": ben, "community_id": "handed"}
    )
    assert handed["facilitator_ids"] == [ana]
    orphaned = await world.qry(
        "membership", "get_community", {"viewer_id": ben, "community_id": "orphaned"}
    )
    assert (orphaned["facilitator_ids"], orphaned["needs_facilitator"]) == ([], True)
    await settled(nc, region)
    events = Streams(region).events
    deactivated = await events_of_type(nc, events, m.MemberDeactivatedV1.TYPE)
    assert [e["data"]["member"]["member_id"] for e in deactivated] == [fac]
    left = await events_of_type(nc, events, m.MemberLeftV1.TYPE)
    assert sorted((e["data"]["community_id"], e["data"]["reason"]) for e in left) == [
        ("handed", "departed"),
        ("orphaned", "departed"),
    ]


async def test_a_command_repeated_with_its_request_id_changes_nothing_more(
    services, world, nc, region
):
    fac, ana, _, _ = await hire_people(world)
    payload = {"actor_id": fac, "community_id": "once", "name": "Once", "request_id": "r-1"}
    first = await world.reply("cmd", "membership", "create_community", payload)
    second = await world.reply("cmd", "membership", "create_community", payload)
    assert first == second
    assert first["ok"]
    conflict = await world.refused(
        "cmd", "membership", "create_community", {**payload, "name": "Twice"}
    )
    assert conflict["code"] == "conflict"
    assert "request_id" in conflict["message"]
    joins = [{"member_id": ana, "community_id": "once", "request_id": "j-1"}] * 2
    replies = [await world.reply("cmd", "membership", "join_community", p) for p in joins]
    assert replies[0] == replies[1]
    assert replies[0]["result"]["already_member"] is False
    await settled(nc, region)
    created = await events_of_type(nc, Streams(region).events, m.CommunityCreatedV1.TYPE)
    assert len(created) == 1
