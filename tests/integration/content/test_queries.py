"""Content's queries: a community's latest posts by kind, tag search, unanswered questions, a
member's posts, a post with its answers; paginated. And the weekly pulse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.content.bootstrap import build_app as build_content
from services.content.domain.model import week_of
from services.content.settings import ContentSettings
from shared.contracts import content as c
from shared.naming import Streams
from tests.helpers import events_of_type, eventually, running, settings_for
from tests.integration.content.conftest import PEOPLE, Cast
from tests.integration.content.test_posts import post
from tests.slice import all_services, hire_data


async def seed_posts(world, community: str, cast: Cast) -> list[str]:
    questions = []
    for n in range(5):
        q = await post(
            world,
            "post_question",
            {
                "actor_id": cast.ana if n % 2 else cast.ben,
                "community_id": community,
                "title": f"Question {n}?",
                "text": "...",
                "tags": ["go", f"topic{n % 2}"],
            },
        )
        questions.append(q["post_id"])
    await post(
        world,
        "post_practice",
        {
            "actor_id": cast.cho,
            "community_id": community,
            "title": "Practice A",
            "body": "...",
            "tags": ["go"],
        },
    )
    await post(
        world, "post_answer", {"actor_id": cast.cho, "question_id": questions[1], "body": "A"}
    )
    return questions


async def titles(world, query: str, payload: dict) -> list[str]:
    page = await world.qry("content", query, payload)
    return [p["title"] for p in page["items"]]


async def test_queries_list_newest_first_filter_and_page(community, cast, world):
    questions = await seed_posts(world, community, cast)
    assert await titles(
        world, "community_posts", {"viewer_id": cast.dan, "community_id": community}
    ) == ["Practice A", "Question 4?", "Question 3?", "Question 2?", "Question 1?", "Question 0?"]
    assert await titles(
        world,
        "community_posts",
        {"viewer_id": cast.dan, "community_id": community, "kind": "practice"},
    ) == ["Practice A"]
    assert await titles(
        world, "search_posts", {"viewer_id": cast.dan, "tags": ["go", "topic1"]}
    ) == [
        "Question 3?",
        "Question 1?",
    ]
    assert await titles(world, "unanswered_questions", {"viewer_id": cast.dan}) == [
        "Question 4?",
        "Question 3?",
        "Question 2?",
        "Question 0?",
    ]
    assert await titles(world, "member_posts", {"viewer_id": cast.dan, "author_id": cast.ana}) == [
        "Question 3?",
        "Question 1?",
    ]

    pages, cursor = [], None
    while True:
        page = await world.qry(
            "content",
            "community_posts",
            {"viewer_id": cast.dan, "community_id": community, "limit": 4, "cursor": cursor},
        )
        pages.append([p["title"] for p in page["items"]])
        if (cursor := page["next_cursor"]) is None:
            break
    assert pages == [
        ["Practice A", "Question 4?", "Question 3?", "Question 2?"],
        ["Question 1?", "Question 0?"],
    ]
    detail = await world.qry(
        "content", "get_post", {"viewer_id": cast.dan, "post_id": questions[1]}
    )
    assert [a["body"] for a in detail["answers"]] == ["A"]


async def test_the_pulse_counts_a_week_and_is_published_for_facilitators(community, cast, world):
    questions = await seed_posts(world, community, cast)
    this_week = week_of(datetime.now(UTC))
    refused = await world.refused(
        "qry", "content", "pulse", {"viewer_id": cast.ana, "community_id": community}
    )
    assert refused["code"] == "forbidden"
    figures = await world.qry(
        "content", "pulse", {"viewer_id": cast.fac, "community_id": community}
    )
    assert figures["week"] == this_week
    assert figures["new_members_by_region"] == {"apac": 1, "eu": 2, "us": 1}
    assert (figures["questions_asked"], figures["questions_answered"]) == (5, 1)
    assert figures["unanswered_questions"] == 4
    assert figures["median_minutes_to_first_answer"] is not None
    assert [h["member"]["member_id"] for h in figures["most_helpful"]] == [cast.cho]
    assert questions


async def test_last_weeks_pulse_is_published_once_a_week_begins(nats_url, nc, region, world):
    """With the content service's clock a week ahead, its housekeeping publishes the pulse of
    the (then) previous week, once, and facilitators get it."""
    apps = all_services(region, nats_url)
    apps[1] = build_content(
        settings_for(ContentSettings, region, nats_url),
        clock=lambda: datetime.now(UTC) + timedelta(days=7),
    )
    async with running(*apps):
        for person, (home, tz, _) in PEOPLE.items():
            await world.hire(hire_data(person, person.title(), home, tz, {}))
        await world.wait_for_members(*PEOPLE)
        await world.cmd(
            "membership",
            "create_community",
            {"actor_id": world.id("fac"), "community_id": "weekly", "name": "Weekly"},
        )

        async def pulses():
            return await events_of_type(nc, Streams(region).events, c.CommunityPulseV1.TYPE)

        (pulse,) = await eventually(pulses, what="the weekly pulse")
        assert pulse["data"]["figures"]["week"] == week_of(datetime.now(UTC))
        assert await eventually(lambda: world.inbox_items(world.id("fac"), "pulse"))
        assert len(await pulses()) == 1
