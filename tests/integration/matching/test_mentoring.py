"""Mentoring over a real nats-server: capacity is never exceeded, the assignment serves the
most mentees, answers change the next proposals."""

from __future__ import annotations

from collections import Counter

import pytest

from shared.contracts import matching as x
from tests.integration.matching.conftest import Matching

CAPACITY = {"m1": 1, "m2": 2}


async def _people(matching: Matching) -> None:
    await matching.member("m1", mentoring_offer={"topics": ["go"], "capacity": 1})
    await matching.member("m2", "us", mentoring_offer={"topics": ["go", "k8s"], "capacity": 2})
    await matching.member("e1", mentoring_wish_topics=["go"])
    await matching.member("e2", "us", mentoring_wish_topics=["go"])
    await matching.member("e3", "us", mentoring_wish_topics=["k8s"])
    await matching.member("e4", "apac", mentoring_wish_topics=["go"])
    await matching.settled()


def _holding(matching: Matching) -> Counter[str]:
    now, expiry = matching.clock.now, matching.deps.policy.mentoring_expiry
    return Counter(
        m.mentor_id
        for m in matching.store.mentorships.items.values()
        if m.holds_a_place(now, expiry)
    )


@pytest.mark.parametrize("matching_settings", [{"mentoring_expiry_days": 3}])
async def test_proposals_respect_capacity_and_answers_change_the_next_ones(matching):
    await _people(matching)
    await matching.sweep()
    proposed = await matching.published(x.MentoringProposedV1)
    pairs = {(p["mentor"]["member_id"], p["mentee"]["member_id"]) for p in proposed}
    assert len(pairs) == 3  # three places for four mentees
    assert ("m2", "e3") in pairs  # the only mentor for k8s keeps a place for e3
    assert all(_holding(matching)[m] <= c for m, c in CAPACITY.items())
    first = proposed[0]
    assert first["reasons"]
    assert "wished for and offered" in first["reasons"][0]

    # a mentee declines: never proposed that mentor again; the freed place goes to someone
    declined_pair = next(p for p in pairs if p[0] == "m1")
    proposal = f"{declined_pair[0]}--{declined_pair[1]}"
    state = await matching.command(
        "answer_mentoring",
        {"member_id": declined_pair[1], "proposal_id": proposal, "accept": False},
    )
    assert state["state"] == "declined"
    # the other two are accepted by both sides
    for mentor, mentee in pairs - {declined_pair}:
        key = f"{mentor}--{mentee}"
        await matching.command(
            "answer_mentoring", {"member_id": mentor, "proposal_id": key, "accept": True}
        )
        agreed = await matching.command(
            "answer_mentoring", {"member_id": mentee, "proposal_id": key, "accept": True}
        )
        assert agreed["state"] == "agreed"
    refused = await matching.refused(
        "answer_mentoring", {"member_id": "e4", "proposal_id": key, "accept": True}
    )
    assert refused["code"] == "forbidden"

    for _ in range(3):  # more sweeps, days apart: proposals expire, places are reused
        matching.clock.advance(days=4)
        await matching.sweep()
        assert all(_holding(matching)[m] <= c for m, c in CAPACITY.items())
    later = await matching.published(x.MentoringProposedV1)
    again = [(p["mentor"]["member_id"], p["mentee"]["member_id"]) for p in later[3:]]
    assert declined_pair not in again
    assert again
    assert all(mentor == "m1" for mentor, _ in again)
    answered = await matching.published(x.MentoringAnsweredV1)
    assert [a["state"] for a in answered].count("agreed") == 2
    inbox = [i["kind"] for i in await matching.inbox("e3")]
    assert "mentoring_proposed" in inbox
    assert "mentoring_agreed" in inbox
