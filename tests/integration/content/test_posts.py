"""Every kind of post, over a real nats-server: published, answered, voted on, edited,
deleted (with a tombstone), flagged and moderated."""

from __future__ import annotations

from shared.contracts import content as c
from shared.naming import Streams
from tests.helpers import events_of_type, eventually, settled


async def post(world, command: str, payload: dict) -> dict:
    """Post as soon as content has heard of the author (it learns of members from events)."""

    async def attempt():
        reply = await world.reply("cmd", "content", command, payload)
        if not reply["ok"] and reply["error"]["code"] == "forbidden":
            return None
        assert reply["ok"], reply
        return reply["result"]

    return await eventually(attempt, what=f"{command} accepted")


async def test_each_kind_of_post_is_stored_and_published(community, cast, world, nc, region):
    practice = await post(
        world,
        "post_practice",
        {
            "actor_id": cast.ana,
            "community_id": community,
            "title": "Structured logging in Go",
            "body": "Use slog with a JSON handler...",
            "tags": ["go", "logging"],
        },
    )
    software = await world.cmd(
        "content",
        "announce_software",
        {
            "actor_id": cast.ben,
            "community_id": community,
            "title": "retryx: retries done right",
            "repository_url": "https://git.example.com/platform/retryx",
            "language": "Go",
            "licence": "internal",
            "maintainer_ids": [cast.ben],
            "tags": ["go", "resilience"],
        },
    )
    job = await world.cmd(
        "content",
        "post_job",
        {
            "actor_id": cast.fac,
            "community_id": community,
            "title": "Staff engineer, platform",
            "description": "Lead our Go platform.",
            "skills": ["go", "kubernetes"],
            "location": "remote",
            "closing_date": "2099-01-31",
        },
    )
    request = await world.cmd(
        "content",
        "request_resource",
        {
            "actor_id": cast.cho,
            "community_id": community,
            "resource_kind": "hardware",
            "item": "ARM test board",
            "quantity": 1,
            "needed_by": "2099-02-01",
        },
    )
    assert practice["kind"] == "practice"
    assert software["details"]["repository_url"] == "https://git.example.com/platform/retryx"
    assert job["details"]["location"] == "remote"
    assert request["details"]["item"] == "ARM test board"
    await settled(nc, region)
    events = Streams(region).events
    for contract in (
        c.PracticePublishedV1,
        c.SoftwareAnnouncedV1,
        c.JobPostedV1,
        c.ResourceRequestedV1,
    ):
        (event,) = await events_of_type(nc, events, contract.TYPE)
        assert event["data"]["post"]["visibility"] == "public"
        assert event["data"]["post"]["community_id"] == community


async def test_a_question_is_answered_accepted_voted_and_commented(
    community, cast, world, nc, region
):
    question = await post(
        world,
        "post_question",
        {
            "actor_id": cast.ana,
            "community_id": community,
            "title": "errgroup or channels?",
            "text": "For a bounded fan-out, which do you prefer?",
            "tags": ["go"],
        },
    )
    first = await post(
        world,
        "post_answer",
        {
            "actor_id": cast.ben,
            "question_id": question["post_id"],
            "body": "errgroup with SetLimit.",
        },
    )
    await post(
        world,
        "post_answer",
        {"actor_id": cast.cho, "question_id": question["post_id"], "body": "A semaphore channel."},
    )
    await world.cmd(
        "content", "vote", {"actor_id": cast.cho, "post_id": first["post_id"], "value": 1}
    )
    await world.cmd(
        "content", "vote", {"actor_id": cast.fac, "post_id": first["post_id"], "value": 1}
    )
    refused = await world.refused(
        "cmd", "content", "vote", {"actor_id": cast.ben, "post_id": first["post_id"], "value": 1}
    )
    assert refused["code"] == "conflict"  # not on your own post
    await world.cmd("content", "endorse", {"actor_id": cast.fac, "post_id": first["post_id"]})
    refused = await world.refused(
        "cmd", "content", "accept_answer", {"actor_id": cast.cho, "answer_id": first["post_id"]}
    )
    assert refused["code"] == "forbidden"  # only the asker
    await world.cmd(
        "content", "accept_answer", {"actor_id": cast.ana, "answer_id": first["post_id"]}
    )
    await post(
        world,
        "add_comment",
        {
            "actor_id": cast.fac,
            "post_id": question["post_id"],
            "body": "Great thread, adding it to the FAQ.",
        },
    )

    detail = await world.qry(
        "content", "get_post", {"viewer_id": cast.dan, "post_id": question["post_id"]}
    )
    assert detail["post"]["answers"] == 2
    assert detail["post"]["accepted_answer_id"] == first["post_id"]
    answers = {a["author_id"]: a for a in detail["answers"]}
    assert (answers[cast.ben]["score"], answers[cast.ben]["endorsements"]) == (2, 1)
    assert [cm["body"] for cm in detail["comments"]] == ["Great thread, adding it to the FAQ."]

    assert await eventually(lambda: world.inbox_items(cast.ana, "answer"))
    assert await eventually(lambda: world.inbox_items(cast.ben, "answer_accepted"))
    assert await eventually(lambda: world.inbox_items(cast.ben, "endorsement"))
    assert await eventually(lambda: world.inbox_items(cast.ana, "comment"))
    await settled(nc, region)
    events = Streams(region).events
    answered = await events_of_type(nc, events, c.AnswerPostedV1.TYPE)
    assert sorted(e["data"]["first_answer"] for e in answered) == [False, True]
    (accepted,) = await events_of_type(nc, events, c.AnswerAcceptedV1.TYPE)
    assert accepted["data"]["answer"]["author"]["member_id"] == cast.ben
    (comment,) = await events_of_type(nc, events, c.CommentAddedV1.TYPE)
    assert (comment["data"]["on_post_id"], comment["data"]["on_post_author"]["member_id"]) == (
        question["post_id"],
        cast.ana,
    )
    (endorsed,) = await events_of_type(nc, events, c.PostEndorsedV1.TYPE)
    assert (endorsed["data"]["endorsed_by"], endorsed["data"]["post"]["post_id"]) == (
        cast.fac,
        first["post_id"],
    )


async def test_edits_deletion_and_moderation(community, cast, world, nc, region):
    article = await post(
        world,
        "post_practice",
        {
            "actor_id": cast.ana,
            "community_id": community,
            "title": "Linting",
            "body": "Use vet.",
            "tags": ["go"],
        },
    )
    refused = await world.refused(
        "cmd",
        "content",
        "edit_post",
        {"actor_id": cast.ben, "post_id": article["post_id"], "title": "Mine"},
    )
    assert refused["code"] == "forbidden"
    edited = await world.cmd(
        "content",
        "edit_post",
        {
            "actor_id": cast.ana,
            "post_id": article["post_id"],
            "title": "Linting Go code",
            "tags": ["go", "linting"],
        },
    )
    assert (edited["title"], edited["tags"]) == ("Linting Go code", ["go", "linting"])
    found = await world.qry("content", "search_posts", {"viewer_id": cast.ben, "tags": ["linting"]})
    assert [p["post_id"] for p in found["items"]] == [article["post_id"]]

    await world.cmd(
        "content",
        "flag_post",
        {"actor_id": cast.ben, "post_id": article["post_id"], "reason": "outdated advice"},
    )
    (flag,) = await eventually(lambda: world.inbox_items(cast.fac, "flag"))
    assert "outdated advice" in flag["body"]
    refused = await world.refused(
        "cmd",
        "content",
        "moderate_post",
        {"actor_id": cast.ben, "post_id": article["post_id"], "hidden": True},
    )
    assert refused["code"] == "forbidden"
    await world.cmd(
        "content",
        "moderate_post",
        {"actor_id": cast.fac, "post_id": article["post_id"], "hidden": True, "reason": "outdated"},
    )
    hidden = await world.refused(
        "qry", "content", "get_post", {"viewer_id": cast.ben, "post_id": article["post_id"]}
    )
    assert hidden["code"] == "not_found"
    own = await world.qry(
        "content", "get_post", {"viewer_id": cast.ana, "post_id": article["post_id"]}
    )
    assert own["post"]["hidden"] is True
    assert await eventually(lambda: world.inbox_items(cast.ana, "moderation"))
    await world.cmd(
        "content",
        "moderate_post",
        {"actor_id": cast.fac, "post_id": article["post_id"], "hidden": False},
    )
    assert await world.qry(
        "content", "get_post", {"viewer_id": cast.ben, "post_id": article["post_id"]}
    )

    await world.cmd("content", "delete_post", {"actor_id": cast.ana, "post_id": article["post_id"]})
    gone = await world.refused(
        "qry", "content", "get_post", {"viewer_id": cast.ana, "post_id": article["post_id"]}
    )
    assert gone["code"] == "not_found"
    listed = await world.qry(
        "content", "community_posts", {"viewer_id": cast.ana, "community_id": community}
    )
    assert listed["items"] == []
    await settled(nc, region)
    events = Streams(region).events
    (edit,) = await events_of_type(nc, events, c.PostEditedV1.TYPE)
    assert (edit["data"]["changed"], edit["data"]["title"]) == (
        ["tags", "title"],
        "Linting Go code",
    )
    (flagged,) = await events_of_type(nc, events, c.PostFlaggedV1.TYPE)
    assert (flagged["data"]["reason"], flagged["data"]["facilitators"][0]["member_id"]) == (
        "outdated advice",
        cast.fac,
    )
    moderated = await events_of_type(nc, events, c.PostModeratedV1.TYPE)
    assert [e["data"]["hidden"] for e in moderated] == [True, False]
    (tombstone,) = await events_of_type(nc, events, c.PostDeletedV1.TYPE)
    assert tombstone["data"]["post"]["post_id"] == article["post_id"]
    assert tombstone["data"]["deleted_by"] == cast.ana


async def test_a_catalogue_entry_published_into_guild_becomes_an_announcement_once(
    community, cast, world, nc, region
):
    entry = {
        "catalogue_ref": "lib-7",
        "community_id": community,
        "author_id": cast.ben,
        "title": "pgxpool helpers",
        "repository_url": "https://git.example.com/db/pgxh",
        "language": "Go",
        "licence": "MIT",
        "tags": ["go", "postgres"],
    }
    first = await world.publish(
        "guild.ingest.content.software_catalogued.v1",
        entry,
        event_id=None,
        msg_id=True,
        source="/code-catalogue",
    )
    await world.publish(
        "guild.ingest.content.software_catalogued.v1",
        entry,
        event_id=None,
        msg_id=True,
        source="/code-catalogue",
    )  # sent again

    async def announced():
        page = await world.qry(
            "content",
            "community_posts",
            {"viewer_id": cast.ana, "community_id": community, "kind": "software"},
        )
        return page["items"]

    (item,) = await eventually(announced, what="announcement stored")
    assert item["details"]["licence"] == "MIT"
    assert first["id"]
    await settled(nc, region)
    assert len(await events_of_type(nc, Streams(region).events, c.SoftwareAnnouncedV1.TYPE)) == 1
