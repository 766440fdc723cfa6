"""Resources, openings and content over a real nats-server: requests matched to offers first
come first served within their limits; openings told only to the member they fit, never to
their manager chain; new content recommended to the members it fits, not to everyone."""

from __future__ import annotations

from datetime import date, timedelta

from shared.contracts import content as c
from shared.contracts import matching as x
from shared.contracts import membership as m
from shared.naming import Service, Streams
from tests.helpers import stream_messages
from tests.integration.matching.conftest import Matching


async def _offer(matching: Matching, post_id: str, quantity: int, regions: list[str]) -> None:
    now = matching.clock.now
    await matching.publish(
        c.ResourceOfferedV1(
            post=matching._post(post_id, "resource_offer", "golang", "fac"),
            resource_kind="licence_seats",
            item="GoLand seat",
            quantity=quantity,
            expires_at=now + timedelta(days=30),
            allowed_regions=regions,
            allowed_legal_entities=[],
            offered_at=now,
        ),
        Service.CONTENT,
    )


async def _request(matching: Matching, post_id: str, who: str) -> None:
    matching.clock.advance(minutes=1)
    await matching.publish(
        c.ResourceRequestedV1(
            post=matching._post(post_id, "resource_request", "golang", who),
            resource_kind="licence_seats",
            item="GoLand seat",
            quantity=1,
            needed_by=None,
            requested_at=matching.clock.now,
        ),
        Service.CONTENT,
    )
    await matching.settled()


async def test_requests_are_matched_to_offers_first_requested_first_served(matching):
    await matching.community("golang")
    for person, place in (("fac", "eu"), ("ana", "eu"), ("ben", "eu"), ("dan", "us")):
        await matching.member(person, place)
    await matching.settled()
    await _request(matching, "r-dan", "dan")  # first, but the offer is for Europe only
    await _request(matching, "r-ana", "ana")
    await _request(matching, "r-ben", "ben")
    await _offer(matching, "o1", 1, ["eu"])
    await matching.settled()
    matched = await matching.published(x.ResourceMatchedV1)
    assert [(e["offer"]["post_id"], e["request"]["post_id"]) for e in matched] == [("o1", "r-ana")]

    await _offer(matching, "o2", 5, ["eu"])
    await matching.settled()
    matched = await matching.published(x.ResourceMatchedV1)
    assert [(e["offer"]["post_id"], e["request"]["post_id"]) for e in matched] == [
        ("o1", "r-ana"),
        ("o2", "r-ben"),
    ]
    assert "r-dan" not in {e["request"]["post_id"] for e in matched}
    ana = [i for i in await matching.inbox("ana") if i["kind"] == "resource_matched"]
    fac = [i for i in await matching.inbox("fac") if i["kind"] == "resource_matched"]
    assert len(ana) == 1
    assert len(fac) == 2


async def _confidential(
    matching: Matching, member_id: str, open_to_move: bool, chain: list[str]
) -> None:
    await matching.publish(
        m.MemberConfidentialV1(
            member_id=member_id, open_to_move=open_to_move, manager_chain=chain, revision=1
        ),
        Service.MEMBERSHIP,
        key=member_id,
    )


async def _job(matching: Matching, post_id: str, poster: str) -> None:
    await matching.publish(
        c.JobPostedV1(
            post=matching._post(post_id, "job", "golang", poster),
            title="Staff Go engineer",
            skills=["go", "grpc"],
            location="remote",
            closing_date=date(2027, 1, 31),
            posted_at=matching.clock.now,
        ),
        Service.CONTENT,
    )


async def test_an_opening_reaches_only_the_member_it_fits_and_never_their_manager_chain(
    matching, nc, region
):
    await matching.community("golang")
    go = [{"name": "go", "level": "advanced"}]
    for person in ("ana", "ben", "boss", "bigboss", "hr"):
        await matching.member(person, skills=go)
    await matching.settled()
    await _confidential(matching, "ana", True, ["boss", "bigboss"])
    await _confidential(matching, "ben", False, ["boss", "bigboss"])
    await matching.settled()
    await _job(matching, "job-hr", "hr")
    await _job(matching, "job-boss", "boss")  # ana's own manager: telling ana would tell him

    matched = await matching.published(x.JobMatchedV1)
    assert [(e["member"]["member_id"], e["job"]["post_id"]) for e in matched] == [("ana", "job-hr")]
    assert "only you see this" in " ".join(matched[0]["reasons"])
    (told,) = [i for i in await matching.inbox("ana") if i["kind"] == "job_matched"]
    assert "Staff Go engineer" in told["title"]
    for manager in ("boss", "bigboss"):
        assert not [i for i in await matching.inbox(manager) if i["kind"] == "job_matched"]
    # nothing others can read says who matched: no public or local event names ana with it
    for _, _, body in await stream_messages(nc, Streams(region).events):
        assert not (b"job-hr" in body and b"ana" in body), body[:300]


async def test_new_content_is_recommended_to_the_members_it_fits_not_to_everyone(matching):
    await matching.community("golang")
    await matching.member("author", skills=[{"name": "go", "level": "expert"}])
    await matching.member("fan", interests=["go"])
    await matching.member("dev", skills=[{"name": "go", "level": "intermediate"}])
    await matching.member("javanese", skills=[{"name": "java", "level": "expert"}])
    await matching.settled()
    await matching.publish(
        c.PracticePublishedV1(
            post=matching._post("p1", "practice", "golang", "author"),
            title="Structured concurrency in Go",
            summary="errgroup everywhere",
            tags=["go"],
            published_at=matching.clock.now,
        ),
        Service.CONTENT,
    )

    (recommended,) = await matching.published(x.ContentRecommendedV1)
    recipients = [r["member"]["member_id"] for r in recommended["recipients"]]
    assert recipients == ["fan", "dev"]  # follows go first, then works with it
    assert recommended["recipients"][0]["reasons"] == ["you follow go"]
    assert [i["kind"] for i in await matching.inbox("fan")] == ["content_recommended"]
    assert await matching.inbox("javanese") == []
