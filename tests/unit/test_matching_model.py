"""Matching's index: who fits a question, who should meet whom."""

from __future__ import annotations

from datetime import date

from services.matching.domain.model import ExpertiseIndex, Profile

TODAY = date(2026, 11, 25)


def profile(member_id, skills, *, region="eu", home="eu", revision=1, communities=()):
    return Profile(
        member_id=member_id,
        home_region=home,
        region=region,
        timezone="Europe/Berlin",
        skills=tuple(skills),
        languages=("en",),
        revision=revision,
        communities=frozenset(communities),
    )


def index_of(*profiles):
    index = ExpertiseIndex()
    for p in profiles:
        index.upsert(p)
    return index


def test_experts_are_ranked_by_declared_level_on_the_question_tags():
    index = index_of(
        profile("a", [("kubernetes", "beginner")]),
        profile("b", [("kubernetes", "expert")]),
        profile("c", [("java", "expert")]),
    )
    ranked = index.rank_experts(
        tags=["kubernetes"], text="", asker_id="x", home_region="eu", limit=5, today=TODAY
    )
    assert [s.member_id for s in ranked] == ["b", "a"]
    assert ranked[0].reasons == ("knows kubernetes (expert): tagged on the question",)


def test_the_asker_is_never_suggested_even_as_the_best_fit():
    index = index_of(profile("asker", [("go", "expert")]), profile("other", [("go", "beginner")]))
    ranked = index.rank_experts(
        tags=["go"], text="", asker_id="asker", home_region="eu", limit=5, today=TODAY
    )
    assert [s.member_id for s in ranked] == ["other"]


def test_skills_mentioned_in_the_text_count_with_their_own_reason():
    index = index_of(profile("a", [("etcd", "expert")]))
    ranked = index.rank_experts(
        tags=["kubernetes"],
        text="How to rotate etcd certificates?",
        asker_id="x",
        home_region="eu",
        limit=5,
        today=TODAY,
    )
    assert ranked[0].reasons == ("knows etcd (expert): mentioned in the question",)


def test_only_members_homed_in_this_region_are_suggested_here():
    index = index_of(
        profile("here", [("go", "advanced")]), profile("there", [("go", "expert")], home="us")
    )
    ranked = index.rank_experts(
        tags=["go"], text="", asker_id="x", home_region="eu", limit=5, today=TODAY
    )
    assert [s.member_id for s in ranked] == ["here"]


def test_an_older_revision_arriving_late_does_not_overwrite_a_newer_profile():
    index = index_of(profile("a", [("go", "expert")], revision=5))
    index.upsert(profile("a", [("go", "beginner")], revision=3))
    assert index.profiles["a"].level_of("go") == "expert"
    index.upsert(profile("a", [("rust", "advanced")], revision=6))
    assert (
        index.rank_experts(
            tags=["go"], text="", asker_id="x", home_region="eu", limit=5, today=TODAY
        )
        == []
    )


def test_joining_keeps_communities_across_profile_updates():
    index = index_of(profile("a", [("go", "expert")], revision=2))
    index.join(profile("a", [], revision=0), "c1")
    index.upsert(profile("a", [("go", "expert")], revision=3))
    assert index.profiles["a"].communities == {"c1"}


def test_intros_prefer_people_from_other_regions_in_the_same_community():
    index = index_of(
        profile("new", [("go", "beginner")], region="apac", communities=["c"]),
        profile("same-region", [("go", "expert")], region="apac", communities=["c"]),
        profile("far", [("go", "expert")], region="us", communities=["c"]),
        profile("elsewhere", [("go", "expert")], region="eu", communities=["other"]),
    )
    intros = index.propose_intros(member_id="new", community_id="c", limit=5, today=TODAY)
    assert [i.member_id for i in intros] == ["far", "same-region"]
    assert "works in us (Europe/Berlin)" in intros[0].reasons


def test_nobody_snoozed_is_asked_or_introduced_before_their_date():
    index = index_of(
        profile("new", [("go", "beginner")], communities=["c"]),
        profile("snoozer", [("go", "expert")], communities=["c"]),
    )
    snoozed = index.profiles["snoozer"].__class__(
        **{**index.profiles["snoozer"].__dict__, "snoozed_until": date(2026, 12, 1)}
    )
    index.upsert(snoozed)
    assert (
        index.rank_experts(
            tags=["go"], text="", asker_id="new", home_region="eu", limit=5, today=TODAY
        )
        == []
    )
    assert index.propose_intros(member_id="new", community_id="c", limit=5, today=TODAY) == []
    later = date(2026, 12, 1)
    assert index.rank_experts(
        tags=["go"], text="", asker_id="new", home_region="eu", limit=5, today=later
    )


def test_a_private_community_question_goes_to_its_members_only():
    index = index_of(
        profile("inside", [("go", "beginner")], communities=["secret"]),
        profile("outside", [("go", "expert")]),
    )
    ranked = index.rank_experts(
        tags=["go"],
        text="",
        asker_id="x",
        home_region="eu",
        limit=5,
        today=TODAY,
        only_community="secret",
    )
    assert [s.member_id for s in ranked] == ["inside"]
