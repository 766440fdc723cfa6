"""A private community exists only for its members: a non-member who asks in every way the
API allows gets nothing of it, while a member sees it all; and its events say it is private."""

from __future__ import annotations

import json

from shared.naming import Streams
from tests.helpers import eventually, settled, stream_messages
from tests.integration.content.test_posts import post
from tests.slice import hire_data


async def test_a_non_member_gets_nothing_of_a_private_community(services, world, nc, region):
    for person in ("fac", "ana", "dan"):
        await world.hire(
            hire_data(
                person,
                person.title(),
                "eu",
                "Europe/Berlin",
                {"go": "expert", "security": "expert"},
            )
        )
    fac, ana, dan = await world.wait_for_members("fac", "ana", "dan")
    await world.cmd(
        "membership",
        "create_community",
        {
            "actor_id": fac,
            "community_id": "secret",
            "name": "Red Team",
            "access": "private",
            "topics": ["security"],
        },
    )
    await world.cmd(
        "membership",
        "add_member",
        {"actor_id": fac, "community_id": "secret", "member_id": ana},
    )
    await world.content_sees(ana, "secret")
    where = {"community_id": "secret"}
    question = await post(
        world,
        "post_question",
        {
            **where,
            "actor_id": ana,
            "title": "Pivoting through the build farm?",
            "text": "...",
            "tags": ["security", "go"],
        },
    )
    practice = await post(
        world,
        "post_practice",
        {
            **where,
            "actor_id": fac,
            "title": "Phishing drill playbook",
            "body": "...",
            "tags": ["security"],
        },
    )
    offer = await post(
        world,
        "offer_resource",
        {
            **where,
            "actor_id": fac,
            "resource_kind": "licence_seats",
            "item": "Burp Suite seat",
            "quantity": 1,
        },
    )
    answer = await post(
        world,
        "post_answer",
        {"actor_id": fac, "question_id": question["post_id"], "body": "Start from the runners."},
    )
    posts = [question["post_id"], practice["post_id"], offer["post_id"], answer["post_id"]]

    async def nothing(kind: str, service: str, name: str, payload: dict) -> None:
        reply = await world.reply(kind, service, name, payload)
        if reply["ok"]:
            assert "secret" not in json.dumps(reply["result"]), (name, reply)
            assert "Red Team" not in json.dumps(reply["result"]), (name, reply)
        else:
            assert reply["error"]["code"] == "not_found", (name, reply)

    outsider, member = {"viewer_id": dan}, {"viewer_id": ana}
    queries = [
        ("qry", "membership", "get_community", where),
        ("qry", "membership", "list_communities", {"include_archived": True}),
        ("qry", "membership", "community_members", where),
        ("qry", "membership", "member_communities", {"member_id": ana}),
        ("qry", "membership", "get_member", {"member_id": ana}),
        ("qry", "content", "community_posts", where),
        ("qry", "content", "search_posts", {"tags": ["security"]}),
        ("qry", "content", "unanswered_questions", {}),
        ("qry", "content", "unanswered_questions", where),
        ("qry", "content", "member_posts", {"author_id": ana}),
        ("qry", "content", "member_posts", {"author_id": fac}),
        *[("qry", "content", "get_post", {"post_id": p}) for p in posts],
    ]
    for kind, service, name, payload in queries:
        await nothing(kind, service, name, {**outsider, **payload})
    assert (await world.refused("qry", "membership", "join_requests", {**outsider, **where}))[
        "code"
    ] == "not_found"
    assert (await world.refused("qry", "content", "pulse", {"viewer_id": dan, **where}))[
        "code"
    ] == "not_found"
    for name, payload in [
        ("join_community", {"member_id": dan, **where}),
        ("request_to_join", {"member_id": dan, **where}),
    ]:
        assert (await world.refused("cmd", "membership", name, payload))["code"] == "not_found"
    for name, payload in [
        ("post_answer", {"question_id": question["post_id"], "body": "me too"}),
        ("add_comment", {"post_id": practice["post_id"], "body": "hi"}),
        ("vote", {"post_id": practice["post_id"], "value": 1}),
        ("claim_resource", {"offer_id": offer["post_id"]}),
        ("flag_post", {"post_id": practice["post_id"], "reason": "curious"}),
        ("post_question", {**where, "title": "May I?", "text": "...", "tags": ["go"]}),
    ]:
        assert (await world.refused("cmd", "content", name, {"actor_id": dan, **payload}))[
            "code"
        ] == "not_found", name

    # the same questions from a member see everything (so the checks above can fail)
    listed = await world.qry("content", "community_posts", {**member, **where})
    assert {p["post_id"] for p in listed["items"]} == {
        question["post_id"],
        practice["post_id"],
        offer["post_id"],
    }
    mine = await world.qry("membership", "member_communities", {**member, "member_id": ana})
    assert [c["community_id"] for c in mine] == ["secret"]
    found = await world.qry("content", "search_posts", {**member, "tags": ["security"]})
    assert len(found["items"]) == 2

    # nobody outside was alerted about the private question, though dan knows security best
    await settled(nc, region)
    assert await world.inbox_items(dan, "question_for_you") == []

    about_secret = []
    for _, _, body in await stream_messages(nc, Streams(region).events):
        document = json.loads(body)
        data = json.dumps(document["data"])
        if '"secret"' in data and document["type"].startswith(
            ("guild.membership", "guild.content")
        ):
            about_secret.append(document)
    types = {d["type"] for d in about_secret}
    assert {
        "guild.membership.community_created.v1",
        "guild.membership.member_joined.v1",
        "guild.content.question_posted.v1",
        "guild.content.practice_published.v1",
        "guild.content.resource_offered.v1",
        "guild.content.answer_posted.v1",
    } <= types
    for document in about_secret:
        assert '"visibility": "private"' in json.dumps(document["data"]), document["type"]
    assert await eventually(lambda: world.inbox_items(ana, "answer"))
