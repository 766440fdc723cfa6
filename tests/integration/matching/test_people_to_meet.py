"""People to meet over a real nats-server: rounds per community across regions, no pair
repeated within the window, snooze and opt-out respected, times inside both working hours."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from shared.contracts import matching as x
from tests.integration.matching.conftest import Matching

LATE_SEOUL = {"start": "10:00", "end": "18:00", "days": [1, 2, 3, 4, 5]}


async def _community(matching: Matching) -> dict[str, dict]:
    await matching.community("golang")
    people = {
        "a1": ("eu", {}),
        "a2": ("eu", {}),
        "a3": ("eu", {}),
        "b1": ("us", {}),
        "b2": ("us", {}),
        "c1": ("apac", {"working_hours": LATE_SEOUL}),
        "snoozer": ("eu", {"status": "snoozed", "snoozed_until": date(2027, 6, 1)}),
        "private": ("us", {"open_to_intros": False}),
    }
    profiles = {}
    for person, (place, extra) in people.items():
        profiles[person] = await matching.member(person, place, **extra)
    await matching.settled()
    for person, profile in profiles.items():
        await matching.join(person, "golang", profile)
    await matching.settled()
    return profiles


def _inside_working_hours(moment: datetime, timezone: str, start: int = 9, end: int = 17) -> bool:
    local = moment.astimezone(ZoneInfo(timezone))
    return local.isoweekday() <= 5 and start <= local.hour + local.minute / 60 <= end


@pytest.mark.parametrize("matching_settings", [{"meeting_memory_rounds": 2}])
async def test_rounds_pair_across_regions_without_repeats_inside_both_working_hours(matching):
    profiles = await _community(matching)
    rounds: list[set[frozenset[str]]] = []
    for _ in range(4):
        await matching.sweep()
        await matching.sweep()  # a second run in the same period proposes nothing more
        events = await matching.published(x.MeetingProposedV1)
        number = max(e["round"] for e in events)
        rounds.append(
            {
                frozenset(m["member_id"] for m in e["members"])
                for e in events
                if e["round"] == number
            }
        )
        matching.clock.advance(days=14)

    assert all(rounds), rounds
    for i, pairs in enumerate(rounds):
        for earlier in rounds[max(0, i - 2) : i]:
            assert not pairs & earlier  # no pair again within two rounds
    everyone = set().union(*(set().union(*r) for r in rounds))
    assert not {"snoozer", "private"} & everyone

    for event in await matching.published(x.MeetingProposedV1):
        ids = [m["member_id"] for m in event["members"]]
        assert event["meeting_times"], event
        for slot in event["meeting_times"]:
            for member_id in ids:
                timezone = profiles[member_id]["timezone"]
                start = 10 if member_id == "c1" else 9
                assert _inside_working_hours(
                    datetime.fromisoformat(slot["start"]), timezone, start, start + 8
                )
                assert _inside_working_hours(
                    datetime.fromisoformat(slot["end"]), timezone, start, start + 8
                )
                assert f"({timezone})" in slot["local"][member_id]
    told = [i for i in await matching.inbox("c1") if i["kind"] == "meeting_proposed"]
    assert told
    assert "Asia/Seoul" in told[0]["body"]


async def test_a_newcomer_gets_people_to_meet_at_once(matching):
    profiles = await _community(matching)
    newcomer = await matching.member("new", "us", skills=[{"name": "go", "level": "beginner"}])
    await matching.settled()
    await matching.join("new", "golang", newcomer)
    intros = [
        e for e in await matching.published(x.IntrosProposedV1) if e["member"]["member_id"] == "new"
    ]
    assert len(intros) == 1
    proposed = [p["member"]["member_id"] for p in intros[0]["proposals"]]
    assert proposed
    assert not {"snoozer", "private", "new"} & set(proposed)
    assert profiles[proposed[0]]["region"] != "us"  # another region first
    assert all(p["meeting_times"] for p in intros[0]["proposals"] if p["region"] != "apac")
