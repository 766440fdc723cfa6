"""Routing with its writes pipelined and read from memory, over a real nats-server: questions
handled at once share members' budgets; a question redelivered after a crash between storing
its routes and telling the people asks the same people, once; a restart rebuilds how much
everyone was asked from the bucket and the snapshot."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from typing import Any

import pytest

from services.matching.handlers.questions import when_question_posted_route_it
from services.matching.store.buckets import MatchingStore
from shared.contracts import content as c
from shared.contracts import matching as x
from shared.envelope import Envelope, new_envelope
from shared.naming import Service, source
from tests.integration.matching.conftest import Matching

GO = ["go", "concurrency"]


@pytest.fixture
def matching_settings() -> dict[str, Any]:
    return {"questions_per_day": 1}


async def _experts(matching: Matching, *names: str) -> None:
    await matching.community("golang")
    await matching.member("ana")
    for name in names:
        await matching.member(name, skills=[{"name": "go", "level": "expert"}])
    await matching.settled()


def _posted(matching: Matching, question_id: str) -> Envelope[c.QuestionPostedV1]:
    data = c.QuestionPostedV1(
        question_id=question_id,
        community_id="golang",
        community_name="Golang",
        visibility="public",
        asker={"member_id": "ana", "home_region": matching.region},
        title=f"Goroutines leak in {question_id}",
        text="How do I find the goroutine that leaks?",
        tags=GO,
        posted_at=matching.clock.now,
    )
    return new_envelope(
        event_id=str(uuid.uuid4()),
        source=source(matching.region, Service.CONTENT),
        event_type=data.TYPE,
        data=data,
        region=matching.region,
    )


def _suggested(events: list[dict[str, Any]], question_id: str) -> list[list[str]]:
    return [
        [s["member"]["member_id"] for s in e["suggestions"]]
        for e in events
        if e["question_id"] == question_id
    ]


async def test_two_questions_handled_at_once_do_not_ask_a_member_beyond_their_budget(matching):
    await _experts(matching, "ben")  # the only expert at work; asked once a day at most

    await asyncio.gather(
        *(when_question_posted_route_it(_posted(matching, q), matching.deps) for q in ("q1", "q2"))
    )

    events = await matching.published(x.ExpertsSuggestedV1)
    asked = [q for q in ("q1", "q2") if _suggested(events, q) == [["ben"]]]
    assert len(asked) == 1, events
    (waiting,) = [e for e in events if e["question_id"] != asked[0]]
    assert [(w["member"]["member_id"], w["why"]) for w in waiting["waiting"]] == [
        ("ben", "asked enough today")
    ]
    assert set(matching.store.model.routes_of("ben")) == set(asked)


@pytest.mark.parametrize("matching_settings", [{}])
async def test_a_question_is_routed_without_waiting_for_any_read_model_to_follow(matching):
    await _experts(matching, "ben", "eve")
    for follower in matching.store.followers:
        await follower.stop()  # nothing follows the buckets any more

    await when_question_posted_route_it(_posted(matching, "q1"), matching.deps)
    await when_question_posted_route_it(_posted(matching, "q2"), matching.deps)

    events = await matching.published(x.ExpertsSuggestedV1)
    assert [sorted(s) for s in _suggested(events, "q1")] == [["ben", "eve"]]
    assert set(matching.store.model.routed_about("q2")) == {"ben", "eve"}
    assert matching.store.model.load("ben", matching.clock.now).last_day == 2
    assert matching.store.open_routing.get("q2") is not None


@dataclass
class CrashBeforeTelling:
    """Matching's publisher, failing as a process killed after its routes were stored and
    before ``experts_suggested`` went out would."""

    events: Any

    async def publish(self, *args: Any, **kwargs: Any) -> None:
        raise ConnectionError("killed before the event went out")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.events, name)


@pytest.mark.parametrize("matching_settings", [{}])
async def test_a_question_redelivered_after_a_crash_asks_the_same_people_once(matching):
    await _experts(matching, "ben", "eve", "kim", "lea", "max")
    event = _posted(matching, "q1")
    crashing = replace(matching.deps, events=CrashBeforeTelling(matching.deps.events))
    with pytest.raises(ConnectionError):
        await when_question_posted_route_it(event, crashing)
    routed = set(matching.store.model.routed_about("q1"))
    assert len(routed) == 3  # stored before the event that tells them

    await when_question_posted_route_it(event, matching.deps)  # the redelivery
    await when_question_posted_route_it(event, matching.deps)  # and one more, once done

    suggested = _suggested(await matching.published(x.ExpertsSuggestedV1), "q1")
    assert len(suggested) == 1
    assert set(suggested[0]) == routed
    assert set(matching.store.model.routed_about("q1")) == routed
    assert {m: r.wave for m, r in matching.store.model.routed_about("q1").items()} == dict.fromkeys(
        routed, 1
    )


@dataclass
class RecordNotStored:
    """Matching's questions bucket, its create failing as it does when nats-server is gone."""

    questions: Any

    async def create(self, *args: Any) -> None:
        raise ConnectionError("no PubAck for the question record")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.questions, name)


@pytest.mark.parametrize("matching_settings", [{}])
async def test_a_question_whose_record_was_not_stored_is_stored_and_routed_when_redelivered(
    matching,
):
    await _experts(matching, "ben", "eve")
    event = _posted(matching, "q1")
    failing = replace(matching.store, questions=RecordNotStored(matching.store.questions))
    with pytest.raises(ConnectionError):
        await when_question_posted_route_it(event, replace(matching.deps, store=failing))
    assert await matching.store.questions.get("q1") is None

    await when_question_posted_route_it(event, matching.deps)  # the redelivery

    assert (await matching.store.questions.get("q1")) is not None
    suggested = _suggested(await matching.published(x.ExpertsSuggestedV1), "q1")
    assert [sorted(s) for s in suggested] == [["ben", "eve"]]
    assert matching.store.open_routing.get("q1") is not None


@pytest.mark.parametrize("matching_settings", [{"questions_per_day": 2}])
async def test_a_restart_rebuilds_how_much_everyone_was_asked(matching, nc):
    await _experts(matching, "ben", "eve")
    for number in (1, 2):
        await when_question_posted_route_it(_posted(matching, f"q{number}"), matching.deps)
    await matching.store.follower("members").save_snapshot()
    matching.clock.advance(hours=1)
    await when_question_posted_route_it(_posted(matching, "q3"), matching.deps)  # after it
    await matching.settled()
    now = matching.clock.now
    before = {m: matching.store.model.load(m, now) for m in ("ben", "eve")}
    assert before["ben"].last_day == 2  # over budget: q3 waits for them

    restarted = await _restarted(matching, nc)
    try:
        assert restarted.follower("members").restored_from_snapshot
        assert {m: restarted.model.load(m, now) for m in ("ben", "eve")} == before
        assert restarted.model.routed_about("q3") == matching.store.model.routed_about("q3")
        fresh = replace(matching.deps, store=restarted)
        await when_question_posted_route_it(_posted(matching, "q4"), fresh)
        (wave,) = [
            e for e in await matching.published(x.ExpertsSuggestedV1) if e["question_id"] == "q4"
        ]
        assert wave["suggestions"] == []
        assert {w["why"] for w in wave["waiting"]} == {"asked enough today"}
    finally:
        for follower in restarted.followers:
            await follower.stop()


async def _restarted(matching: Matching, nc: Any) -> MatchingStore:
    """Matching's store as a new process builds it: from the snapshot and the buckets."""
    store = MatchingStore.for_region(matching.region)
    js = nc.jetstream()
    for kv in store.kv_stores():
        await kv.bind(js)
    for follower in store.followers:
        await follower.start(js)
    return store
