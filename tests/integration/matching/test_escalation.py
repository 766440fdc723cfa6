"""Escalation over a real nats-server: the next region waking up, then the facilitators; and
nothing more once the question is answered."""

from __future__ import annotations

import pytest

from shared.contracts import matching as x
from tests.integration.matching.conftest import Matching

TITLE, TAGS = "Why does our gRPC stream stall behind a proxy?", ["grpc"]


async def _team(matching: Matching) -> None:
    expert = [{"name": "grpc", "level": "expert"}]
    await matching.community("golang", facilitators=("fac",))
    await matching.member("ana")
    await matching.member("fac")
    await matching.member("ben", skills=expert)
    await matching.member("dan", "us", skills=expert)
    await matching.member("cho", "apac", skills=expert)
    await matching.settled()


def _waves(events: list[dict], question_id: str) -> list[tuple[int, list[str], bool]]:
    return [
        (e["wave"], [s["member"]["member_id"] for s in e["suggestions"]], e["facilitators"])
        for e in events
        if e["question_id"] == question_id
    ]


@pytest.mark.parametrize("matching_settings", [{"experts_per_question": 2}])
async def test_a_short_wave_is_topped_up_when_the_next_region_wakes_and_stops_once_answered(
    matching,
):
    await _team(matching)
    await matching.question("q1", "ana", TITLE, TAGS)  # 11:00 UTC: only Europe is at work
    assert _waves(await matching.published(x.ExpertsSuggestedV1), "q1") == [(1, ["ben"], False)]
    assert matching.store.open_routing.get("q1").next_at.hour == 14  # 09:00 in New York

    matching.clock.advance(hours=2)  # 13:00: not due yet
    await matching.sweep()
    matching.clock.advance(hours=1)  # 14:00: New York starts work
    await matching.sweep()
    assert _waves(await matching.published(x.ExpertsSuggestedV1), "q1") == [
        (1, ["ben"], False),
        (2, ["dan"], False),
    ]

    matching.clock.advance(minutes=30)
    await matching.answer("a1", "q1", "dan", TITLE, TAGS)
    await matching.settled()
    assert matching.store.open_routing.get("q1") is None  # routing ended
    for _ in range(4):  # Seoul wakes up, hours pass, the facilitators' turn would come
        matching.clock.advance(hours=6)
        await matching.sweep()
    assert len(_waves(await matching.published(x.ExpertsSuggestedV1), "q1")) == 2
    routes = {m: matching.store.model.routes_of(m)["q1"].outcome for m in ("ben", "dan")}
    assert routes == {"ben": "ignored", "dan": "answered"}


@pytest.mark.parametrize(
    "matching_settings",
    [{"experts_per_question": 1, "escalate_after_minutes": 60, "expert_waves": 2}],
)
async def test_an_unanswered_question_reaches_the_next_people_then_the_facilitators(matching):
    await _team(matching)
    await matching.member("eve", skills=[{"name": "grpc", "level": "beginner"}])
    await matching.settled()
    await matching.question("q1", "ana", TITLE, TAGS)
    await matching.settled()
    for _ in range(5):
        matching.clock.advance(minutes=61)
        await matching.sweep()

    waves = _waves(await matching.published(x.ExpertsSuggestedV1), "q1")
    assert waves == [(1, ["ben"], False), (2, ["eve"], False), (3, ["fac"], True)]
    (last,) = [e for e in await matching.published(x.ExpertsSuggestedV1) if e["wave"] == 3]
    assert last["suggestions"][0]["reasons"][0] == "you facilitate Golang"
    assert matching.store.open_routing.get("q1") is None  # nothing more after facilitators
    alert = [i for i in await matching.inbox("fac") if i["kind"] == "question_for_you"]
    assert len(alert) == 1
