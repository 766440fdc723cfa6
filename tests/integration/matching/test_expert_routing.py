"""Expert routing over a real nats-server: who is alerted now, who waits, and why."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from shared.contracts import matching as x
from tests.integration.matching.conftest import Matching

GO_QUESTION = ("How do I cancel a goroutine that blocks on a channel?", ["go", "concurrency"])


async def _people(matching: Matching) -> None:
    """ana asks; ben and eve are in Europe (at work now), cho in Seoul and dan in New York
    (not at work now); out is a Go expert in Europe who is in no private community."""
    expert = [{"name": "go", "level": "expert"}]
    await matching.community("golang", facilitators=("fac",))
    await matching.community("secret", private=True, facilitators=("fac",))
    profiles = {
        "ana": await matching.member("ana", skills=expert),
        "ben": await matching.member("ben", skills=[{"name": "go", "level": "advanced"}]),
        "eve": await matching.member("eve", skills=[{"name": "go", "level": "beginner"}]),
        "cho": await matching.member("cho", "apac", skills=expert),
        "dan": await matching.member("dan", "us", skills=expert),
        "out": await matching.member("out", skills=expert),
        "fac": await matching.member("fac"),
    }
    for person in ("ana", "eve", "cho"):
        await matching.join(person, "secret", profiles[person])
    # ben answered a Go question before, and it was accepted
    await matching.question("q0", "eve", "Closing a channel twice panics", ["go"])
    await matching.answer("a0", "q0", "ben", "Closing a channel twice panics", ["go"])
    await matching.settled()


def _ids(refs: list[dict]) -> list[str]:
    return [r["member"]["member_id"] for r in refs]


async def test_the_asker_and_people_outside_a_private_community_are_never_suggested(matching):
    await _people(matching)
    await matching.question("q1", "ana", *GO_QUESTION)
    await matching.question("q2", "ana", *GO_QUESTION, community_id="secret", private=True)

    waves = {e["question_id"]: e for e in await matching.published(x.ExpertsSuggestedV1)}
    public, private = waves["q1"], waves["q2"]
    assert "ana" not in _ids(public["suggestions"]) + _ids(public["waiting"])
    assert set(_ids(public["suggestions"])) == {"ben", "eve", "out"}
    assert _ids(private["suggestions"]) == ["eve"]  # the only member of secret at work
    assert _ids(private["waiting"]) == ["cho"]  # a member, but 20:00 in Seoul
    assert not {"ben", "out", "dan", "ana"} & set(
        _ids(private["suggestions"]) + _ids(private["waiting"])
    )


async def test_only_people_at_work_are_alerted_with_reasons_they_can_read(matching):
    await _people(matching)
    await matching.question("q1", "ana", *GO_QUESTION)

    (wave,) = [
        e for e in await matching.published(x.ExpertsSuggestedV1) if e["question_id"] == "q1"
    ]
    by_id = {s["member"]["member_id"]: s for s in wave["suggestions"]}
    assert set(by_id) == {"ben", "eve", "out"}  # Europe, 12:00 on a Wednesday
    waiting = {w["member"]["member_id"]: w for w in wave["waiting"]}
    assert {"cho", "dan"} <= set(waiting)
    assert waiting["dan"]["why"] == "outside working hours"
    # dan starts at 09:00 in New York (14:00 UTC); cho at 09:00 in Seoul (00:00 UTC)
    assert datetime.fromisoformat(waiting["dan"]["not_before"]).hour == 14
    assert datetime.fromisoformat(waiting["cho"]["not_before"]).hour == 0
    assert "answered 1 question on go" in by_id["ben"]["reasons"]
    assert "working hours now (12:00 your time)" in by_id["ben"]["reasons"]  # told to ben
    assert "knows go (beginner), which the question is tagged with" in by_id["eve"]["reasons"]
    alert = [i for i in await matching.inbox("ben") if i["kind"] == "question_for_you"]
    assert alert
    assert "answered 1 question on go" in alert[0]["reasons"]


@pytest.mark.parametrize("matching_settings", [{"experts_per_question": 1, "questions_per_day": 1}])
async def test_budgets_rotate_questions_and_hold_the_rest_until_a_day_has_passed(matching):
    await _people(matching)
    for number in range(1, 6):
        await matching.question(f"b{number}", "ana", *GO_QUESTION)
        await matching.settled()
    waves = await matching.published(x.ExpertsSuggestedV1)
    asked = Counter(member for w in waves for member in _ids(w["suggestions"]))
    assert max(asked.values()) == 1  # a budget of one question a day, q0 included
    assert set(asked) <= {"ana", "ben", "eve", "out", "fac"}  # at work (Europe)
    routed = {w["question_id"] for w in waves if w["suggestions"]}
    unrouted = [f"b{n}" for n in range(1, 6) if f"b{n}" not in routed]
    assert unrouted, "five questions for at most four people who know go"
    (notice,) = [w for w in waves if w["question_id"] == unrouted[0]]
    assert notice["suggestions"] == []  # nobody now: who it waits for, and when
    why = {w["member"]["member_id"]: w["why"] for w in notice["waiting"]}
    assert "asked enough today" in why.values()
    assert why["dan"] == "outside working hours"
    held = matching.store.open_routing.get(unrouted[0])
    assert held is not None
    assert held.waves == ()
    assert held.next_at is not None

    matching.clock.advance(days=1)
    await matching.sweep()
    later = [
        w
        for w in await matching.published(x.ExpertsSuggestedV1)
        if w["question_id"] == unrouted[0] and w["suggestions"]
    ]
    assert len(later) == 1
    assert len(later[0]["suggestions"]) == 1


@pytest.mark.parametrize("matching_settings", [{"experts_per_question": 2}])
async def test_a_declined_question_is_never_sent_again_to_the_same_person(matching):
    await _people(matching)
    await matching.question("q1", "ana", *GO_QUESTION)
    (wave,) = [
        e for e in await matching.published(x.ExpertsSuggestedV1) if e["question_id"] == "q1"
    ]
    first = _ids(wave["suggestions"])[0]
    reply = await matching.command("decline_question", {"member_id": first, "question_id": "q1"})
    assert reply == {"question_id": "q1", "member_id": first, "declined": True}
    never = await matching.command("decline_question", {"member_id": "dan", "question_id": "q1"})
    assert never["declined"] is False  # dan was not alerted about it

    matching.clock.advance(hours=5)
    await matching.sweep()
    later = [
        e
        for e in await matching.published(x.ExpertsSuggestedV1)
        if e["question_id"] == "q1" and e["wave"] > 1
    ]
    assert later
    assert all(first not in _ids(w["suggestions"]) for w in later)
    assert matching.store.model.routes_of(first)["q1"].outcome == "declined"
