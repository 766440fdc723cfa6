"""The reasons matching gives for asking someone say what is true of them and the question."""

from __future__ import annotations

from datetime import UTC, datetime

from services.matching.domain.profiles import Profile
from services.matching.domain.routing import Candidate, Load, TermCount, reasons

NOON_BERLIN = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # a Wednesday


def candidate(*evidence: TermCount) -> Candidate:
    profile = Profile(
        member_id="eve",
        home_region="eu",
        region="eu",
        timezone="Europe/Berlin",
        skills=(("kubernetes", "expert"), ("etcd", "advanced")),
        languages=("en",),
        revision=1,
    )
    return Candidate(profile, 1.0, evidence=evidence)


def test_a_declared_skill_matched_by_a_tag_says_the_question_is_tagged_with_it():
    said = reasons(candidate(TermCount("#kubernetes", 0, 0, "expert")), Load(), NOON_BERLIN)
    assert "knows kubernetes (expert), which the question is tagged with" in said


def test_a_declared_skill_matched_only_by_the_title_says_the_title_names_it():
    said = reasons(
        candidate(TermCount("#kubernetes", 0, 0, "expert"), TermCount("etcd", 0, 0, "advanced")),
        Load(),
        NOON_BERLIN,
    )
    assert "knows kubernetes (expert), which the question is tagged with" in said
    assert "knows etcd (advanced), which the question's title names" in said
    assert not any("tagged on the question" in reason for reason in said)


def test_a_skill_both_tagged_and_in_the_title_is_said_once_as_a_tag():
    said = reasons(
        candidate(TermCount("#etcd", 0, 0, "advanced"), TermCount("etcd", 0, 0, "advanced")),
        Load(),
        NOON_BERLIN,
    )
    assert [r for r in said if r.startswith("knows")] == [
        "knows etcd (advanced), which the question is tagged with"
    ]
