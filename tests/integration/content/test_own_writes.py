"""Content's writes read from memory, over a real nats-server: a question asked is stored and
published with every bucket follower stopped (nothing waits for one); copies of one event
handled at once store one post and one event; a redelivery after a failure half-way through
the writes leaves one post and one event; two reactions of one member racing both count."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from nats.aio.client import Client

from services.content.bootstrap import build_app
from services.content.domain.model import CommunityInfo, Joined, MemberInfo
from services.content.handlers import Deps
from services.content.handlers.ingest import when_question_asked_publish_it
from services.content.handlers.posts import endorse, vote
from services.content.settings import ContentSettings
from services.content.store.buckets import ContentStore
from shared.contracts import content as c
from shared.contracts.ingest import QuestionAskedV1
from shared.envelope import Envelope, new_envelope
from shared.ids import derived_id
from shared.naming import Streams
from tests.fakes import KilledBeforePublishing
from tests.helpers import events_of_type, eventually, running, settings_for, settled

SOURCE = "/chatbot/eu"
PEOPLE = ("ana", "ben")


@dataclass
class Content:
    nc: Client
    region: str
    deps: Deps

    @property
    def store(self) -> ContentStore:
        return self.deps.store

    async def posted(self) -> list[dict[str, Any]]:
        """Every ``question_posted`` stored so far."""
        await settled(self.nc, self.region)
        stream = Streams(self.region).for_scope(c.QuestionPostedV1.SCOPE)
        return [e["data"] for e in await events_of_type(self.nc, stream, c.QuestionPostedV1.TYPE)]


@pytest.fixture
async def content(nc: Client, nats_url: str, region: str) -> AsyncIterator[Content]:
    """Content in this process, knowing the public community 'golang' with ana and ben in it."""
    settings = settings_for(ContentSettings, region, nats_url)
    store = ContentStore.for_region(region)
    app = build_app(settings, store=store)
    deps = Deps(store=store, events=app.events, region=region, clock=_now)
    async with running(app):
        await store.communities.put("golang", CommunityInfo("golang", "Gophers", "public"))
        for person in PEOPLE:
            await store.members.put(person, MemberInfo(person, region, region))
            await store.joined.put(f"golang.{person}", Joined("golang", person, region, _now()))
        await eventually(_knows_everyone(store), what="content knows the community and its members")
        yield Content(nc, region, deps)


def _now() -> datetime:
    return datetime.now(UTC)


def _knows_everyone(store: ContentStore) -> Any:
    async def probe() -> bool:
        return store.community("golang") is not None and all(
            store.is_member("golang", p) and store.people.get(p) for p in PEOPLE
        )

    return probe


def _asked(content: Content, ref: str) -> Envelope[QuestionAskedV1]:
    """A ``question_asked`` as a chat bot publishes it (each copy its own envelope id)."""
    data = QuestionAskedV1(
        question_ref=ref,
        community_id="golang",
        asker_id="ana",
        title=f"Why does {ref} leak goroutines?",
        text="It grows by one per request.",
        tags=["go"],
    )
    return new_envelope(
        event_id=str(uuid.uuid4()),
        source=SOURCE,
        event_type=data.TYPE,
        data=data,
        region=content.region,
    )


def _post_id(ref: str) -> str:
    return derived_id("question", SOURCE, ref)


async def test_a_question_is_stored_and_published_with_every_follower_stopped(content):
    for follower in content.store.followers:
        await follower.stop()  # nothing follows the buckets any more: a wait would never end

    # the deadline bounds a hang (a wait for a follower), it is not a speed requirement
    await asyncio.wait_for(when_question_asked_publish_it(_asked(content, "q1"), content.deps), 15)
    view = await asyncio.wait_for(
        vote(c.Vote(actor_id="ben", post_id=_post_id("q1"), value=1), content.deps), 15
    )

    assert view.score == 1  # the reply reads its own write, from memory
    assert _post_id("q1") in content.store.index.pos
    assert (await content.store.post(_post_id("q1"))) is not None
    assert [p["question_id"] for p in await content.posted()] == [_post_id("q1")]


async def test_copies_of_one_question_handled_at_once_store_one_post_and_one_event(content):
    copies = [_asked(content, "q1") for _ in range(5)]

    await asyncio.gather(*(when_question_asked_publish_it(e, content.deps) for e in copies))
    await when_question_asked_publish_it(copies[0], content.deps)  # and a redelivery later

    stored = await content.store.post(_post_id("q1"))
    assert stored is not None
    assert stored.revision > 0
    assert [p["question_id"] for p in await content.posted()] == [_post_id("q1")]


async def test_a_redelivery_after_the_event_failed_publishes_the_stored_post_once(content):
    event = _asked(content, "q1")
    crashing = replace(content.deps, events=KilledBeforePublishing(content.deps.events))
    with pytest.raises(ConnectionError):
        await when_question_asked_publish_it(event, crashing)
    stored = await content.store.post(_post_id("q1"))
    assert stored is not None  # the post goes first

    await when_question_asked_publish_it(event, content.deps)  # the redelivery
    await when_question_asked_publish_it(event, content.deps)  # and one more, once done

    (posted,) = await content.posted()
    assert posted["question_id"] == _post_id("q1")
    assert datetime.fromisoformat(posted["posted_at"]) == stored.value.posted_at
    assert (await content.store.post(_post_id("q1"))) == stored


async def test_a_redelivery_after_the_post_failed_stores_it_and_publishes_once(
    content, monkeypatch
):
    async def no_puback(*args: Any) -> None:
        raise ConnectionError("no PubAck for the post")

    event = _asked(content, "q1")
    monkeypatch.setattr(content.store.posts, "create", no_puback)
    with pytest.raises(ConnectionError):
        await when_question_asked_publish_it(event, content.deps)
    monkeypatch.undo()
    assert await content.store.post(_post_id("q1")) is None
    assert await content.posted() == []

    await when_question_asked_publish_it(event, content.deps)  # the redelivery

    assert await content.store.post(_post_id("q1")) is not None
    assert [p["question_id"] for p in await content.posted()] == [_post_id("q1")]
    at = content.store.index.pos[_post_id("q1")]
    assert content.store.index.state[at] == 0  # the index holds the post, not the taken-back one


async def test_a_vote_and_an_endorsement_of_one_member_racing_both_count(content):
    await when_question_asked_publish_it(_asked(content, "q1"), content.deps)
    post_id = _post_id("q1")

    await asyncio.gather(
        vote(c.Vote(actor_id="ben", post_id=post_id, value=1), content.deps),
        endorse(c.Endorse(actor_id="ben", post_id=post_id), content.deps),
    )

    stored = await content.store.reactions.get(f"{post_id}.ben")
    assert stored is not None
    assert (stored.value.vote, stored.value.endorsed) == (1, True)
    await settled(content.nc, content.region)
    assert content.store.votes.score[post_id] == 1
    assert content.store.votes.endorsements[post_id] == 1
