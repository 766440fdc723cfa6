"""Matching's decisions without I/O: the ranking, who is asked now, mentoring assignment,
pairing and meeting slots."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from pydantic import TypeAdapter

from services.matching.domain.meetings import pair_key, pair_round, shared_slots
from services.matching.domain.mentoring import assign, fit
from services.matching.domain.profiles import Hours, MentoringOffer, Profile
from services.matching.domain.records import Evidence, Routed, evidence_key, profile_key
from services.matching.domain.routing import Budget, Candidate, Load, RouteLog, choose
from services.matching.index.members import CACHED_POSTINGS, MemberModel, Postings, largest

NOON_BERLIN = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # a Wednesday
TZ = {"eu": "Europe/Berlin", "us": "America/New_York", "apac": "Asia/Seoul"}
PROFILE = TypeAdapter(Profile)
EVIDENCE = TypeAdapter(Evidence)


def person(member_id: str, region: str = "eu", *, skills=(), home="eu", revision=1, **fields):
    return Profile(
        member_id=member_id,
        home_region=home,
        region=region,
        timezone=TZ[region],
        skills=tuple(skills),
        languages=("en",),
        revision=revision,
        **fields,
    )


def model_of(*profiles: Profile, answers=()) -> MemberModel:
    model = MemberModel()
    for p in profiles:
        model.apply(profile_key(p.member_id), PROFILE.dump_json(p))
    for number, (member_id, terms) in enumerate(answers):
        evidence = Evidence(at=NOON_BERLIN - timedelta(days=3), terms=tuple(terms), kind="answer")
        model.apply(evidence_key(member_id, f"a{number}", "answer"), EVIDENCE.dump_json(evidence))
    return model


def ranked_ids(model: MemberModel, terms, **mask) -> list[str]:
    ranked = model.rank(terms, NOON_BERLIN.timestamp(), model.mask(**mask), 10)
    return [r.member_id for r in ranked]


@pytest.mark.parametrize("size", [0, 7, 50, 3_201, 100_000])
def test_largest_finds_the_same_top_values_as_a_full_sort(size):
    rng = np.random.default_rng(size)
    values = np.round(rng.normal(size=size), 2)  # many ties, as equal scores are
    values[rng.random(size) < 0.3] = -5.0  # a large block of one value
    for k in (1, 50):
        found = np.sort(values[largest(values, k)])
        assert np.array_equal(found, np.sort(values)[::-1][: min(k, size)][::-1])
    assert len(largest(values, 0)) == 0


def test_kept_totals_of_a_common_term_follow_new_and_retracted_evidence():
    postings = Postings()
    for number in range(CACHED_POSTINGS):
        postings.add(0, number % 100, 1.0, 1)
    postings.keep_totals()
    assert len(postings.positive(0)[0]) == 100
    postings.add(0, 500, 2.0, 1)  # a member new to the term
    postings.add(0, 7, -20.0, -1)  # every answer of member 7 retracted
    members, totals = postings.positive(0)
    assert 500 in members
    assert 7 not in members
    assert totals[list(members).index(500)] == 2.0
    assert members.dtype == np.intp


def test_declared_level_orders_people_who_never_answered_and_blank_profiles_come_last():
    model = model_of(
        person("blank"),
        person("beginner", skills=[("go", "beginner")]),
        person("expert", skills=[("go", "expert"), ("java", "expert")]),
    )
    assert ranked_ids(model, ["#go", "goroutine"]) == ["expert", "beginner", "blank"]


def test_answers_on_the_question_terms_outrank_declared_skills_alone():
    model = model_of(
        person("declared", skills=[("go", "expert")]),
        person("answerer"),
        answers=[("answerer", ["#go", "channel"])] * 3,
    )
    assert ranked_ids(model, ["#go", "channel"])[0] == "answerer"


def test_the_asker_other_regions_and_people_outside_a_private_community_are_masked():
    inside = replace(person("inside", skills=[("go", "beginner")]), communities=frozenset({"k"}))
    model = model_of(
        person("asker", skills=[("go", "expert")]),
        inside,
        person("outside", skills=[("go", "expert")]),
        person("elsewhere", skills=[("go", "expert")], home="us"),
    )
    assert ranked_ids(model, ["#go"], home_region="eu", community_id="k", excluding=["asker"]) == [
        "inside"
    ]
    assert set(ranked_ids(model, ["#go"], home_region="eu", excluding=["asker"])) == {
        "inside",
        "outside",
    }


def test_an_older_profile_arriving_late_changes_nothing():
    model = model_of(person("a", skills=[("go", "expert")], revision=2))
    model.apply(profile_key("a"), PROFILE.dump_json(person("a", revision=1)))
    assert model.profile("a").skills == (("go", "expert"),)


def test_a_snapshot_restores_the_same_ranking():
    model = model_of(
        person("a", skills=[("go", "expert")]), person("b"), answers=[("b", ["#go", "channel"])]
    )
    copy = MemberModel()
    copy.restore(model.snapshot())
    assert ranked_ids(copy, ["#go", "channel"]) == ranked_ids(model, ["#go", "channel"])


# ------------------------------------------------------------------ who is asked now


def test_only_people_at_work_and_within_budget_are_chosen_spread_across_regions():
    people = [
        person("eu1"),
        person("eu2"),
        person("eu3"),
        person("us1", "us"),
        person("apac1", "apac", working_hours=Hours(time(19), time(23))),
    ]
    candidates = [Candidate(p, score) for p, score in zip(people, [5, 4, 3, 1, 2], strict=True)]
    busy = {"eu1": Load(last_day=3, oldest_today=NOON_BERLIN - timedelta(hours=2))}
    chosen, held = choose(candidates, busy, now=NOON_BERLIN, how_many=2, budget=Budget())
    assert [c.profile.member_id for c in chosen] == [
        "eu2",
        "apac1",
    ]  # 2 beats 3 halved for a 2nd eu pick
    why = {h.member_id: h.why for h in held}
    assert why == {"eu1": "asked enough today", "us1": "outside working hours"}


def test_rotation_and_responses_lower_people_asked_often_or_who_ignore():
    routes = {
        f"q{i}": Routed(at=NOON_BERLIN - timedelta(days=2), wave=1, outcome="ignored")
        for i in range(4)
    }
    load = RouteLog(routes).load(NOON_BERLIN)
    assert load.last_week == 4
    assert load.ignored == 4
    assert load.rotation * load.response < 0.1
    candidates = [Candidate(person("often"), 5.0), Candidate(person("fresh"), 1.0)]
    chosen, _ = choose(candidates, {"often": load}, now=NOON_BERLIN, how_many=1, budget=Budget())
    assert [c.profile.member_id for c in chosen] == ["fresh"]


# ------------------------------------------------------------------ mentoring


def first_come_first_served(mentees, mentors, places):
    """The baseline: each mentee in turn takes the best mentor with a place left."""
    left, pairs = dict(places), []
    for mentee in mentees:
        fits = [
            f
            for m in mentors
            if left[m.member_id] > 0 and (f := fit(m, mentee, NOON_BERLIN)) is not None
        ]
        if fits:
            best = max(fits, key=lambda f: f.score)
            left[best.mentor.member_id] -= 1
            pairs.append(best)
    return pairs


def test_the_assignment_serves_more_mentees_than_first_come_first_served():
    broad = person("broad", mentoring_offer=MentoringOffer(("go", "k8s"), 1))
    narrow = person("narrow", "us", mentoring_offer=MentoringOffer(("go",), 1))
    early = person("early", mentoring_wish=("go",))  # could take either; asks first
    late = person("late", mentoring_wish=("k8s",))  # only broad can help
    places = {"broad": 1, "narrow": 1}
    baseline = first_come_first_served([early, late], [broad, narrow], places)
    assert len(baseline) == 1  # early took broad (closer hours); late gets nobody
    best = assign([early, late], [broad, narrow], places, excluded=(), week_of=NOON_BERLIN)
    assert {(f.mentee.member_id, f.mentor.member_id) for f in best} == {
        ("early", "narrow"),
        ("late", "broad"),
    }


def test_capacity_and_declined_pairs_are_respected():
    mentor = person("m", mentoring_offer=MentoringOffer(("go",), 2))
    mentees = [person(f"e{i}", mentoring_wish=("go",)) for i in range(5)]
    chosen = assign(mentees, [mentor], {"m": 2}, excluded={"m--e0"}, week_of=NOON_BERLIN)
    assert len(chosen) == 2
    assert "e0" not in {f.mentee.member_id for f in chosen}
    assert assign(mentees, [mentor], {"m": 0}, excluded=(), week_of=NOON_BERLIN) == []


# ------------------------------------------------------------------ people to meet


def test_pairs_avoid_recent_pairs_and_meeting_slots_fall_inside_both_working_hours():
    members = [person("a"), person("b", "us"), person("c"), person("d", "us")]
    first = pair_round(members, recent_pairs=(), community_name="Go", start=NOON_BERLIN, seed="k.1")
    keys = {p.key for p in first}
    assert len(first) == 2
    assert all(p.first.region != p.second.region for p in first)
    second = pair_round(
        members, recent_pairs=keys, community_name="Go", start=NOON_BERLIN, seed="k.2"
    )
    assert not keys & {p.key for p in second}
    for slot in shared_slots(person("a"), person("b", "us"), NOON_BERLIN):
        for tz in ("Europe/Berlin", "America/New_York"):
            local_start, local_end = (
                slot.start.astimezone(ZoneInfo(tz)),
                slot.end.astimezone(ZoneInfo(tz)),
            )
            assert time(9) <= local_start.time()
            assert local_end.time() <= time(17)
    assert pair_key("b", "a") == pair_key("a", "b")
